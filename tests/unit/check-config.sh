#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check-config.sh - "slurmckptd --check-config" reads what start-up reads
# (the configuration file, the method files, the offsite settings),
# starts nothing, prints "configuration OK" and exits 0, or names the
# file and line at fault and exits 1.  The shipped example configuration
# passes as it stands.
#
# Run by "make check" with top_srcdir and top_builddir exported; TAP
# output; exit 0/1.
if [ -z "$BASH_VERSION" ]; then
	exec bash "$0" "$@"
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
daemon=$top_builddir/helper/slurmckptd
[ -x "$daemon" ] || { echo "1..0 # SKIP $daemon not built"; exit 0; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"
n=0
failed=0

# check <name> <expected exit> <expected output (ERE)> <args...>
check() {
	local name=$1 want=$2 re=$3 out rc
	shift 3
	n=$((n + 1))
	out=$("$daemon" --check-config "$@" 2>&1)
	rc=$?
	if [ "$rc" = "$want" ] && [[ $out =~ $re ]]; then
		echo "ok $n - $name: $out"
	else
		echo "not ok $n - $name: exit $rc, want $want; output: $out"
		failed=1
	fi
}

mkdir -m 0755 "$tmp/methods"
conf() {	# conf <name> <lines...>: a configuration file with method_dir
	local f=$tmp/$1.conf
	shift
	printf 'method_dir = %s\n' "$tmp/methods" >"$f"
	printf '%s\n' "$@" >>"$f"
	echo "$f"
}

check "good" 0 "configuration OK \(0 method\(s\)\)" \
	-f "$(conf good 'max_workers = 8' 'poll_interval = 5')"
check "unknown key" 1 "bad.conf:3: unknown key 'bogus'" \
	-f "$(conf bad 'max_workers = 8' 'bogus = 1')"
check "out of range" 1 "range.conf:2: invalid max_workers '900000'" \
	-f "$(conf range 'max_workers = 900000')"
check "missing file" 1 "nonexistent.conf: No such file or directory" \
	-f "$tmp/nonexistent.conf"
check "an unknown offsite kind" 1 "offsite" \
	-f "$(conf offsite 'offsite_url = https://store.example/ckpt' 'offsite_kind = ftp')"
mkdir -m 0755 "$tmp/textfile"
check "metrics_file in a good directory" 0 "configuration OK" \
	-f "$(conf metrics 'metrics_file = '"$tmp/textfile/ckpt.prom")"
check "metrics_file in a missing directory" 1 \
	"metrics_file=.*/nowhere: No such file or directory" \
	-f "$(conf metrics-missing 'metrics_file = '"$tmp/nowhere/ckpt.prom")"
mkdir "$tmp/open" && chmod 0777 "$tmp/open"
check "metrics_file in a world-writable directory" 1 "writable by anyone" \
	-f "$(conf metrics-open 'metrics_file = '"$tmp/open/ckpt.prom")"
check "metrics_file relative" 1 "invalid metrics_file" \
	-f "$(conf metrics-rel 'metrics_file = ckpt.prom')"
check "the shipped example" 0 "configuration OK" \
	-f "$top_srcdir/etc/slurmckptd.conf.example"

# Method files: root's own directory (the daemon refuses any other).
if [ "$(id -u)" = 0 ]; then
	printf 'checkpoint=/bin/true\n' >"$tmp/methods/site.method"
	check "a method" 0 "configuration OK \(1 method\(s\)\)" \
		-f "$(conf meth)"
	printf 'restart=/bin/true\n' >"$tmp/methods/broken.method"
	check "a method without checkpoint=" 1 "broken.method" \
		-f "$(conf meth2)"
	rm "$tmp/methods/broken.method"
	chmod 0775 "$tmp/methods"
	check "a method directory others may write" 1 "writable by nobody else" \
		-f "$(conf meth3)"
else
	for i in 1 2 3; do
		n=$((n + 1))
		echo "ok $n # SKIP method files need root"
	done
fi
echo "1..$n"
exit $failed
