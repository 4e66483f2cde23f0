#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# build-debs.sh - build slurm-checkpoint's Debian packages from a release
# tarball, for the Slurm installed here (libslurm-dev):
#   contrib/build-debs.sh slurm-checkpoint-X.Y.Z.tar.gz OUTDIR
# Extracts the tarball (make dist) into a scratch directory, runs
# dpkg-buildpackage -us -uc -b there (DEB_BUILD_OPTIONS from the
# environment, e.g. nocheck: no unit tests), copies the .deb files into
# OUTDIR (made if missing) and, when lintian is installed, runs lintian
# --pedantic on the .changes: every tag is printed, and an error (E:) makes
# the script fail.  The build dependencies: debian/control's
# Build-Depends (contrib/install-deps.sh installs them on Debian 12).
# Works from any directory, as root or not; the scratch directory is
# removed at the end (KEEP_SCRATCH=1 keeps it, and prints its path).
set -eu

usage() {
	echo "usage: $0 <slurm-checkpoint-VERSION.tar.gz> <outdir>" >&2
	exit 2
}
[ $# -eq 2 ] || usage
tarball=$1
outdir=$2
[ -f "$tarball" ] ||
	{ echo "build-debs.sh: no such file: $tarball" >&2; exit 1; }
for tool in dpkg-buildpackage tar; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "build-debs.sh: $tool is missing" >&2; exit 1; }
done
mkdir -p "$outdir"
tarball=$(cd "$(dirname "$tarball")" && pwd)/$(basename "$tarball")
outdir=$(cd "$outdir" && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/build-debs.XXXXXX")
if [ "${KEEP_SCRATCH:-0}" = 1 ]; then
	trap 'echo "build-debs.sh: scratch directory kept: $scratch" >&2' EXIT
else
	trap 'rm -rf "$scratch"' EXIT
fi
tar -xzf "$tarball" -C "$scratch"
src=$(find "$scratch" -mindepth 1 -maxdepth 1 -type d | head -n 1)
[ -n "$src" ] && [ -f "$src/debian/control" ] ||
	{ echo "build-debs.sh: no debian/ in $tarball" >&2; exit 1; }

# -b: binary packages only (the tarball is the source); -us -uc:
# unsigned.  dpkg-buildpackage reads DEB_BUILD_OPTIONS itself.
(cd "$src" && dpkg-buildpackage -us -uc -b)

changes=$(find "$scratch" -maxdepth 1 -name '*.changes' | head -n 1)
debs=$(find "$scratch" -maxdepth 1 -name '*.deb')
[ -n "$debs" ] || { echo "build-debs.sh: no .deb was built" >&2; exit 1; }
for deb in $debs; do
	cp "$deb" "$outdir/"
	echo "build-debs.sh: $outdir/$(basename "$deb")"
done

command -v lintian >/dev/null 2>&1 || {
	echo "build-debs.sh: lintian is not installed: packages not checked" >&2
	exit 0
}
# lintian's exit status depends on its version's --fail-on default: the
# tags decide here.  As root, lintian wants --allow-root.
root=""
[ "$(id -u)" -ne 0 ] || root=--allow-root
tags=$(lintian $root --pedantic --display-experimental \
	"$changes" 2>&1) || true
[ -z "$tags" ] || printf '%s\n' "$tags"
if printf '%s\n' "$tags" | grep -q '^E: '; then
	echo "build-debs.sh: lintian found errors (E: above)" >&2
	exit 1
fi
echo "build-debs.sh: lintian --pedantic: no errors"
