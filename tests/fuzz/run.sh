#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh <build-dir> - run the libFuzzer targets of tests/fuzz/, built by
# `make fuzz` in <build-dir> (configure CC=clang --enable-fuzzing: the
# targets and common/ instrumented with -fsanitize=fuzzer,address,undefined),
# each for a bounded time.  `make fuzz` calls it.
#
#   FUZZ_SECONDS (20)   seconds per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS        the targets to run (default: all fuzz_*.c here)
#
# A dictionary tests/fuzz/<name>.dict (fuzz_<name>) is used when present.
# Each run starts from the committed seed corpus tests/fuzz/corpus/<name>/ (for fuzz_<name>)
# (copied into <build-dir>/corpus/fuzz_<target>/, where new inputs accumulate
# across runs; the committed corpus is never written).  Any crash, leak,
# sanitizer report, timeout (10 s per input) or out-of-memory is a failure;
# the input that caused it is left in <build-dir>/crash-<target>-*.
#
# For each target it writes <build-dir>/<target>.log and an automake-style
# <build-dir>/<target>.trs (":test-result: PASS|FAIL"), so that
# contrib/test.sh counts the results with the other tests, and prints one
# line of figures: executions, seconds, corpus size.  Exit status 0 only when
# every target passed.
set -uo pipefail

bdir=${1:?usage: run.sh <build-dir>}
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-20}
bdir=$(cd "$bdir" && pwd) || exit 1
targets=${FUZZ_TARGETS:-$(cd "$here" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')}

trs() { # trs <target> <PASS|FAIL>
	printf ':test-result: %s\n:global-test-result: %s\n:recheck: %s\n:copy-in-global-log: no\n' \
		"$2" "$2" "$([ "$2" = FAIL ] && echo yes || echo no)" >"$bdir/$1.trs"
}

# stat <log> <name>: one of libFuzzer's -print_final_stats=1 figures.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n1; }

failed=0
for t in $targets; do
	t=${t##*/}
	log=$bdir/$t.log
	bin=$bdir/tests/fuzz/$t
	rm -f "$bdir/$t.trs" "$bdir/crash-$t-"* "$bdir/leak-$t-"* "$bdir/timeout-$t-"* "$bdir/oom-$t-"*
	if [ ! -x "$bin" ]; then
		echo "FAIL: $t: $bin not built (make fuzz, in a build configured with --enable-fuzzing)"
		trs "$t" FAIL
		failed=$((failed + 1))
		continue
	fi
	: >"$log"
	mkdir -p "$bdir/corpus/$t"
	[ -d "$here/corpus/${t#fuzz_}" ] && cp -n "$here/corpus/${t#fuzz_}"/* "$bdir/corpus/$t/" 2>/dev/null
	dict=()
	[ -f "$here/${t#fuzz_}.dict" ] && dict=(-dict="$here/${t#fuzz_}.dict")
	start=$SECONDS
	TMPDIR=$bdir "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
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
