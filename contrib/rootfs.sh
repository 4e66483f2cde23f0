#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# rootfs.sh - a Debian root filesystem with another Slurm release, for
# building and testing slurm-checkpoint against it on this machine (root).
#
#   contrib/rootfs.sh make <suite> <dir>
#       Create <dir> with debootstrap (minbase) from this machine's Debian
#       mirror and install the packages below into it.  Nothing is done when
#       <dir> was made by this script from the same suite and package list;
#       otherwise it is made again.  trixie: Slurm 24.11, CRIU 4.1;
#       sid: Slurm 26.05, CRIU 4.2.
#   contrib/rootfs.sh boot <dir> <srcdir> <command...>
#       The same namespaces (and a cgroup and UTS namespace), but systemd
#       is their init: the command runs inside once systemd has started
#       (systemctl is-system-running --wait), and systemd dies with it.
#       For the packages' test under systemd (tests/system/node.sh).
#       Units that would act on the machine itself (sysctl, modules,
#       udev, clock, consoles) are masked, /sys is read-only, and Slurm's
#       and munge's units are masked until the command unmasks them.
#   contrib/rootfs.sh run <dir> <srcdir> <command...>
#       Run the command inside <dir>, with <srcdir> bound on /src (the
#       command starts there), in mount, pid, network and IPC namespaces of
#       its own: its root is <dir> (pivot_root: CRIU needs a real root, a
#       chroot is not enough), /proc is its own pid namespace's, and its
#       loopback is its own, so its Slurm daemons' ports cannot meet those
#       of the host or of another root filesystem.  Its exit status is the
#       command's; every process it started dies with it.  <dir> itself is
#       not changed: the command sees it through an overlay whose upper
#       layer is a tmpfs of the namespace, so what it installs or writes
#       outside /src and /tmp (packages, users) is gone when it ends, and
#       the next run starts from the same clean root filesystem.  /tmp is
#       <dir>.tmp, on the disk (the tests' clusters are there, and clean
#       up after themselves).
#
# Environment: ROOTFS_MIRROR (the first deb.debian.org-like URI of
# /etc/apt/sources*, else http://deb.debian.org/debian).
set -euo pipefail

PACKAGES="build-essential autoconf automake libtool pkg-config make
libslurm-dev slurm-wlm-basic-plugins-dev slurmctld slurmd slurm-client
munge libmunge-dev
libjansson-dev libcurl4-openssl-dev libcmocka-dev libxxhash-dev xxhash nettle-dev
util-linux procps psmisc iproute2 passwd jq python3 coreutils findutils grep
sed strace criu python3-pycriu valgrind nginx openssl python3-botocore curl
libsystemd-dev systemd-dev debhelper dh-python"

die() {
	echo "rootfs.sh: $*" >&2
	exit 1
}

mirror() {
	local m
	if [ -n "${ROOTFS_MIRROR:-}" ]; then
		echo "$ROOTFS_MIRROR"
		return
	fi
	m=$(grep -hoE '(URIs:|^deb) +https?://[^ ]*/debian/?( |$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		grep -v security | head -n1 | awk '{print $2}')
	echo "${m:-http://deb.debian.org/debian}"
}

# The stamp says what the root filesystem was made of.
stamp() {
	printf 'suite=%s\nmirror=%s\npackages=%s\n' "$1" "$(mirror)" \
		"$(echo $PACKAGES)"
}

apt_in() {
	local dir=$1
	shift
	chroot "$dir" env DEBIAN_FRONTEND=noninteractive LC_ALL=C apt-get \
		-o Acquire::Check-Valid-Until=false -o Acquire::Retries=3 -q "$@"
}

make_rootfs() {
	local suite=$1 dir=$2 tmp log
	[ "$(id -u)" -eq 0 ] || die "make needs root"
	if [ -f "$dir/.rootfs-stamp" ] &&
		[ "$(cat "$dir/.rootfs-stamp")" = "$(stamp "$suite")" ]; then
		return 0
	fi
	command -v debootstrap >/dev/null ||
		die "debootstrap not found (contrib/install-deps.sh installs it)"
	tmp=$dir.new
	log=$dir.log
	rm -rf "$tmp"
	mkdir -p "$(dirname "$dir")"
	echo "rootfs.sh: making $dir ($suite; log in $log)" >&2
	debootstrap --variant=minbase "$suite" "$tmp" "$(mirror)" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "debootstrap $suite failed"; }
	# Packages' scripts must not start their daemons in here.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 0755 "$tmp/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
	# shellcheck disable=SC2086
	if ! apt_in "$tmp" update >>"$log" 2>&1 ||
		! apt_in "$tmp" install -y --no-install-recommends $PACKAGES >>"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "apt-get install in the $suite root filesystem failed"
	fi
	apt_in "$tmp" clean >>"$log" 2>&1 || true
	stamp "$suite" >"$tmp/.rootfs-stamp"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

# Inside the new namespaces: make <dir> the root and run the command.
enter() {
	local dir=$1 src=$2
	shift 2
	mount --make-rprivate /
	# The clean root filesystem, read-only below a tmpfs: /mnt is the
	# host's, but this namespace's mounts on it are this namespace's.
	mount -t tmpfs -o mode=0755 rootfs-upper /mnt
	mkdir /mnt/upper /mnt/work /mnt/root
	mount -t overlay -o "lowerdir=$dir,upperdir=/mnt/upper,workdir=/mnt/work" \
		rootfs /mnt/root
	# /tmp on the disk, not in memory: the tests' clusters live there,
	# and 1620 compares node-local staging (tmpfs) with a disk.
	mkdir -p "$dir.tmp"
	chmod 1777 "$dir.tmp"
	mount --bind "$dir.tmp" /mnt/root/tmp
	dir=/mnt/root
	mount -t proc proc "$dir/proc"
	mount --rbind /dev "$dir/dev"
	mount -t tmpfs -o mode=1777 tmpfs "$dir/dev/shm"
	mount --rbind /sys "$dir/sys"
	mount -t tmpfs -o mode=0755 tmpfs "$dir/run"
	mkdir -p "$dir/run/lock" "$dir/src" "$dir/.oldroot"
	mount --bind "$src" "$dir/src"
	cp /etc/hosts "$dir/etc/hosts"
	grep -qw "$(hostname)" "$dir/etc/hosts" ||
		echo "127.0.1.1 $(hostname)" >>"$dir/etc/hosts"
	cd "$dir"
	pivot_root . .oldroot
	umount -l /.oldroot
	rmdir /.oldroot 2>/dev/null || true
	ip link set lo up
	# getaddrinfo(AI_ADDRCONFIG), as Slurm's daemons use it to listen,
	# finds nothing when loopback is the only interface: give the
	# namespace a private link with an address (a veth pair, both ends
	# in here; nothing leaves the namespace).
	ip link add ckpt0 type veth peer name ckpt1
	ip addr add 10.254.0.1/24 dev ckpt0
	ip link set ckpt0 up
	ip link set ckpt1 up
	cd /src
	[ "${ROOTFS_BOOT:-0}" = 1 ] && boot_init
	exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

# boot: systemd as this namespace's init.  Its own cgroup2 hierarchy (in
# the cgroup namespace), /sys read-only, and the units that would touch
# the machine's kernel or devices (sysctl, modules, udev, clock, consoles)
# masked: the container keeps to itself.
boot_init() {
	local u
	umount -l /sys/fs/cgroup 2>/dev/null
	mount -o remount,bind,ro /sys
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
	for u in systemd-sysctl.service systemd-modules-load.service \
		systemd-udevd.service systemd-udev-trigger.service \
		systemd-udevd-control.socket systemd-udevd-kernel.socket \
		systemd-timesyncd.service systemd-binfmt.service \
		console-getty.service getty@.service serial-getty@.service \
		getty.target systemd-firstboot.service \
		systemd-networkd.service systemd-resolved.service \
		slurmctld.service slurmd.service munge.service; do
		ln -sf /dev/null "/etc/systemd/system/$u"
	done
	exec env -i container=slurm-checkpoint \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin /lib/systemd/systemd \
		--system </dev/null >/dev/null 2>&1
}

# run|boot <dir> <srcdir> <command...>: dir and src set, checked.
dir_src() {
	[ $# -ge 4 ] || die "usage: rootfs.sh $1 <dir> <srcdir> <command...>"
	[ "$(id -u)" -eq 0 ] || die "$1 needs root"
	dir=$(realpath "$2")
	src=$(realpath "$3")
	[ -f "$dir/.rootfs-stamp" ] || die "$dir is not a root filesystem made by rootfs.sh"
}

case ${1:-} in
make)
	[ $# -eq 3 ] || die "usage: rootfs.sh make <suite> <dir>"
	make_rootfs "$2" "$(realpath -m "$3")"
	;;
run)
	dir_src "$@"
	shift 3
	# --kill-child: when this script dies, the namespace's init dies, and
	# with it every process in the namespace.
	exec unshare --mount --pid --net --ipc --fork --kill-child \
		"$0" _enter "$dir" "$src" "$@"
	;;
boot)
	dir_src "$@"
	[ -x "$dir/lib/systemd/systemd" ] || die "$dir has no systemd"
	shift 3
	ROOTFS_BOOT=1 unshare --mount --pid --net --ipc --uts --cgroup --fork \
		--kill-child "$0" _enter "$dir" "$src" true </dev/null >/dev/null 2>&1 &
	ns=$!
	# The end: SIGKILL to the namespace's init ends every process in it.
	init=
	trap '[ -n "$init" ] && kill -KILL "$init" 2>/dev/null; kill "$ns" 2>/dev/null; wait "$ns" 2>/dev/null' EXIT
	# The namespace's init: unshare's child, once it has become systemd.
	for _ in $(seq 1 150); do
		init=$(pgrep -P "$ns" | head -n1)
		[ "$(cat "/proc/$init/comm" 2>/dev/null)" = systemd ] && break
		sleep 0.2
	done
	[ "$(cat "/proc/$init/comm" 2>/dev/null)" = systemd ] || die "systemd did not start"
	# A command in all of its namespaces, with a clean environment.
	inside() {
		nsenter -t "$init" -m -p -n -i -u -C -r -w \
			env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 "$@"
	}
	# Up (running or degraded) within 120 s; its jobs are done then.
	# (Until its bus socket exists, systemctl cannot ask.)
	for _ in $(seq 1 240); do
		state=$(inside timeout 120 systemctl is-system-running \
			--wait 2>&1) || true
		case $state in
		running | degraded | maintenance | stopping) break ;;
		esac
		sleep 0.5
	done
	case $state in
	running | degraded) ;;
	*) die "systemd in $dir did not finish starting: $state" ;;
	esac
	rc=0
	inside bash -c 'cd /src && exec "$@"' inside "$@" || rc=$?
	kill -KILL "$init" 2>/dev/null || true
	wait "$ns" 2>/dev/null || true
	trap - EXIT
	exit "$rc"
	;;
_enter)
	shift
	enter "$@"
	;;
*)
	die "usage: rootfs.sh make <suite> <dir> | run|boot <dir> <srcdir> <command...>"
	;;
esac
