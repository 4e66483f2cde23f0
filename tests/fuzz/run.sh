#!/bin/bash
# run.sh <build-dir> - build the libFuzzer targets of tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) directly against common/*.c (and the
# parsers of helper/), out of tree in <build-dir>, and run each for a
# bounded time.
#
#   FUZZ_SECONDS (20)   seconds per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS        the targets to run (default: all fuzz_*.c here)
#   CC_FUZZ (clang)     the compiler
#
# A dictionary tests/fuzz/<name>.dict (fuzz_<name>) is used when present.
# Each run starts from the committed seed corpus tests/fuzz/corpus/<name>/ (for fuzz_<name>)
# (copied into <build-dir>/corpus/fuzz_<target>/, where new inputs accumulate
# across runs; the committed corpus is never written).  Any crash, leak,
# sanitizer report, timeout (10 s per input) or out-of-memory is a failure;
# the input that caused it is left in <build-dir>/crash-<target>-*.
#
# For each target it writes <build-dir>/<target>.log and an automake-style
# <build-dir>/<target>.trs (":test-result: PASS|FAIL|SKIP"), so that
# contrib/test.sh counts the results with the other tests, and prints one
# line of figures: executions, seconds, corpus size.  Exit status 0 only when
# every target passed (77 when clang or its fuzzer runtime is missing).
set -uo pipefail

bdir=${1:?usage: run.sh <build-dir>}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
secs=${FUZZ_SECONDS:-20}
cc=${CC_FUZZ:-clang}
mkdir -p "$bdir" || exit 1
bdir=$(cd "$bdir" && pwd)

# Which of common/*.c each target needs (errbuf.c: the error texts); a path
# with a directory is from the top of the tree.
declare -A SRCS=(
	[fuzz_timefmt]="timefmt.c kvconf.c errbuf.c"
	[fuzz_plugstack]="ckptconf.c kvconf.c timefmt.c proto.c errbuf.c"
	[fuzz_proto]="proto.c errbuf.c"
	[fuzz_manifest]="manifest.c errbuf.c"
	[fuzz_manifest_parse]="manifest.c errbuf.c"
	[fuzz_frame]="proto.c errbuf.c"
	[fuzz_index]="offsite.c kvconf.c timefmt.c errbuf.c"
	[fuzz_kvconf]="kvconf.c timefmt.c"
	[fuzz_jobspec]="scheckpoint/jobspec.c"
	[fuzz_report]="helper/report.c"
)
targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')}

trs() { # trs <target> <PASS|FAIL|SKIP>
	printf ':test-result: %s\n:global-test-result: %s\n:recheck: %s\n:copy-in-global-log: no\n' \
		"$2" "$2" "$([ "$2" = FAIL ] && echo yes || echo no)" >"$bdir/$1.trs"
}

skip_all() {
	local t
	echo "run.sh: $*: fuzzing skipped" >&2
	for t in $targets; do trs "$t" SKIP; done
	exit 77
}
command -v "$cc" >/dev/null 2>&1 || skip_all "$cc not found"
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n); int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
	>"$bdir/probe.c"
"$cc" -fsanitize=fuzzer "$bdir/probe.c" -o "$bdir/probe" >/dev/null 2>&1 ||
	skip_all "$cc has no libFuzzer runtime (libclang-rt-dev)"
# common/errbuf.c includes config.h unconditionally; nothing in common/ needs
# what configure puts there, so an empty one stands in for it.
: >"$bdir/config.h"
libs=$(pkg-config --cflags --libs jansson libxxhash) || skip_all "pkg-config: jansson or libxxhash missing"

# build <target>: one clang invocation, sources straight from common/ (or
# helper/).
build() {
	local t=$1 s srcs=()
	for s in ${SRCS[$t]:-}; do
		case $s in
		*/*) srcs+=("$top/$s") ;;
		*) srcs+=("$top/common/$s") ;;
		esac
	done
	# shellcheck disable=SC2086
	"$cc" -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -D_GNU_SOURCE -Wall -Wextra -Werror \
		-I"$top/common" -I"$top/helper" -I"$top/scheckpoint" -I"$bdir" -o "$bdir/$t" "$here/$t.c" "${srcs[@]}" $libs
}

# stat <log> <name>: one of libFuzzer's -print_final_stats=1 figures.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n1; }

failed=0
for t in $targets; do
	log=$bdir/$t.log
	rm -f "$bdir/$t.trs" "$bdir/crash-$t-"* "$bdir/leak-$t-"* "$bdir/timeout-$t-"* "$bdir/oom-$t-"*
	if ! build "$t" >"$log" 2>&1; then
		cat "$log" >&2
		echo "FAIL: $t: build failed"
		trs "$t" FAIL
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$bdir/corpus/$t"
	[ -d "$here/corpus/${t#fuzz_}" ] && cp -n "$here/corpus/${t#fuzz_}"/* "$bdir/corpus/$t/" 2>/dev/null
	dict=()
	[ -f "$here/${t#fuzz_}.dict" ] && dict=(-dict="$here/${t#fuzz_}.dict")
	start=$SECONDS
	TMPDIR=$bdir "$bdir/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 "${dict[@]}" \
		-artifact_prefix="$bdir/crash-$t-" "$bdir/corpus/$t" >>"$log" 2>&1
	rc=$?
	took=$((SECONDS - start))
	execs=$(stat "$log" number_of_executed_units)
	ncorp=$(find "$bdir/corpus/$t" -type f | wc -l)
	if [ "$rc" -ne 0 ] || ls "$bdir/crash-$t-"* >/dev/null 2>&1; then
		grep -E -A30 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -n 60 >&2
		echo "FAIL: $t: exit $rc after ${took} s; input: $(ls "$bdir/crash-$t-"* 2>/dev/null | head -n1)"
		trs "$t" FAIL
		failed=$((failed + 1))
	else
		echo "PASS: $t: ${execs:-?} executions in ${took} s, corpus $ncorp inputs (seed $(find "$here/corpus/${t#fuzz_}" -type f 2>/dev/null | wc -l))"
		trs "$t" PASS
	fi
done
[ "$failed" -eq 0 ]
