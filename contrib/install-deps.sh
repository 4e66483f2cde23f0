#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# install-deps.sh - install the Debian 12 packages slurm-checkpoint needs to
# build, test (unit and integration) and run the demo, and to build the
# Debian and RPM packages (contrib/build-debs.sh, rpmbuild).  Idempotent:
# when every package is installed already it does nothing (no apt-get
# update).
# Quiet unless something fails.  Run as root, or as a user with sudo.
set -eu

PACKAGES="build-essential autoconf automake libtool pkg-config make
libslurm-dev slurm-wlm-basic-plugins-dev slurm-wlm slurmctld slurmd slurm-client
munge libmunge-dev
libjansson-dev libcurl4-openssl-dev libcmocka-dev libxxhash-dev xxhash nettle-dev
libsystemd-dev
util-linux procps psmisc iproute2 passwd jq python3 coreutils findutils grep sed
strace
clang libclang-rt-dev valgrind gnuplot-nox
nginx openssl python3-botocore
debootstrap
debhelper dh-python lintian rpm"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "install-deps.sh: not root and no sudo; install:$missing" >&2
	exit 1
fi

log=$(mktemp /tmp/install-deps.XXXXXX)
trap 'rm -f "$log"' EXIT
echo "install-deps.sh: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
   ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing >>"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps.sh: apt-get failed (log above)" >&2
	exit 1
fi
