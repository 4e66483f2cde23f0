#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# keys-agree.sh - every configuration key lives in three places: the
# parser's table in C, the man page, and the commented example in etc/.
# This test checks that the three agree, both ways, for the plugstack.conf
# arguments (common/ckptconf.c, spank-checkpoint(8),
# etc/plugstack.conf.example) and for slurmckptd's configuration file
# (helper/*.c, slurmckptd(8), etc/slurmckptd.conf.example), and for its
# method files (helper/method.c, slurmckptd(8) METHODS, etc/example.method).
#
# Run by "make check" with top_srcdir exported; TAP output; exit 0/1.

# make may run this with /bin/sh (dash on Debian): go on in bash.
if [ -z "$BASH_VERSION" ]; then
	exec bash "$0" "$@"
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

n=0
failed=0
lines=()

ok() {		# ok <0|1> <description> [diagnostic]
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		lines+=("ok $n - $2")
	else
		lines+=("not ok $n - $2")
		[ -n "$3" ] && lines+=("# $3")
		failed=1
	fi
}

# Keys of a kv_key table: rows like `{ "keep", KV_UINT, ...`.
table_keys() {
	grep -hE '^[[:space:]]*\{[[:space:]]*"[a-z_]+",[[:space:]]*KV_' "$@" |
		sed -E 's/^[[:space:]]*\{[[:space:]]*"([a-z_]+)".*/\1/' | sort -u
}

# Keys documented in section $2 of man page $1: the tag line after each
# .TP, written \fBkey\fR=, \fBkey= or key=.
man_keys() {
	awk -v sect="$2" '
		/^\.SH/ {
			s = $0
			sub(/^\.SH[ \t]+/, "", s)
			gsub(/"/, "", s)
			in_sect = (s == sect)
			next
		}
		!in_sect { next }
		/^\.TP/ { tag = 1; next }
		tag {
			tag = 0
			l = $0
			sub(/^\\fB/, "", l)
			if (match(l, /^[a-z_]+(\\fR)?=/)) {
				k = substr(l, 1, RLENGTH)
				sub(/(\\fR)?=$/, "", k)
				print k
			}
		}
	' "$1" | sort -u
}

# Keys of a commented example: lines "#   key=value".
example_keys() {
	grep -E '^#   [a-z_]+=' "$1" | sed -E 's/^#   ([a-z_]+)=.*/\1/' | sort -u
}

in_list() {	# in_list <word> <newline-separated list>
	grep -qxF -- "$1" <<<"$2"
}

# check <what> <table keys> <man page> <section> <example file>
check() {
	local what=$1 keys=$2 man=$3 sect=$4 example=$5
	local mkeys ekeys k

	if [ ! -r "$man" ]; then
		ok 1 "$what: $man exists" "missing: $man"
		mkeys=""
	else
		mkeys=$(man_keys "$man" "$sect")
	fi
	if [ ! -r "$example" ]; then
		ok 1 "$what: $example exists" "missing: $example"
		ekeys=""
	else
		ekeys=$(example_keys "$example")
	fi

	for k in $keys; do
		in_list "$k" "$mkeys"
		ok $? "$what: key $k documented in ${man#"$top_srcdir"/} ($sect)" \
			"add a .TP entry \\fB$k\\fR=... to the $sect section"
		in_list "$k" "$ekeys"
		ok $? "$what: key $k in ${example#"$top_srcdir"/}" \
			"add a comment line '#   $k=<default>'"
	done
	for k in $mkeys; do
		in_list "$k" "$keys"
		ok $? "$what: documented key $k is in the parser's table" \
			"${man#"$top_srcdir"/} documents $k, the C table does not have it"
	done
	for k in $ekeys; do
		in_list "$k" "$keys"
		ok $? "$what: example key $k is in the parser's table" \
			"${example#"$top_srcdir"/} shows $k, the C table does not have it"
	done
}

# section <who> <what the sources are> <man page> <man section> <example>
#         <source files...>: read a table's keys from its sources and check
#         them against its man page and example file.
section() {
	local who=$1 what=$2 man=$3 sect=$4 example=$5 keys
	shift 5
	if [ $# -eq 0 ] || [ ! -r "$1" ]; then
		ok 1 "$who: read the keys from $what" \
			"$what does not exist: cannot read the $who's keys"
		return
	fi
	keys=$(table_keys "$@")
	[ -n "$keys" ]
	ok $? "$who: read the keys from $what" \
		"no rows like '{ \"key\", KV_...' found in $what"
	[ -n "$keys" ] && check "$who" "$keys" "$man" "$sect" "$example"
}

# --- plugstack.conf arguments ------------------------------------------
section plugin common/ckptconf.c "$top_srcdir/doc/spank-checkpoint.8" \
	"ADMIN ARGUMENTS" "$top_srcdir/etc/plugstack.conf.example" \
	"$top_srcdir/common/ckptconf.c"

# --- slurmckptd.conf ------------------------------------------------------
# (helper/method.c holds the keys of method files, checked below.)
shopt -s nullglob
hsrc=()
for f in "$top_srcdir"/helper/*.c; do
	[ "${f##*/}" = method.c ] || hsrc+=("$f")
done
shopt -u nullglob
section helper "helper/*.c" "$top_srcdir/doc/slurmckptd.8" \
	"CONFIGURATION FILE" "$top_srcdir/etc/slurmckptd.conf.example" \
	"${hsrc[@]}"

# --- <name>.method files --------------------------------------------------
section method helper/method.c "$top_srcdir/doc/slurmckptd.8" \
	"METHODS" "$top_srcdir/etc/example.method" \
	"$top_srcdir/helper/method.c"

# --- the commands etc/example.method names are installed -----------------
# Its active lines name commands under the default prefix's
# $(pkglibexecdir); each must be one "make install" puts there
# (dist_pkglibexec_SCRIPTS of Makefile.am), or the daemon refuses the
# method file as it stands.
missing=
for cmd in $(sed -nE \
	's|^[a-z_]+=/usr/local/libexec/slurm-checkpoint/([^/]+)$|\1|p' \
	"$top_srcdir/etc/example.method"); do
	sed -n '/^dist_pkglibexec_SCRIPTS/,/[^\\]$/p' \
		"$top_srcdir/Makefile.am" | grep -qE "/$cmd( |\\\\|$)" ||
		missing="$missing $cmd"
done
ok "$([ -z "$missing" ]; echo $?)" \
	"etc/example.method names only installed commands" \
	"not installed by Makefile.am:$missing"

echo "1..$n"
printf '%s\n' "${lines[@]}"
exit $failed
