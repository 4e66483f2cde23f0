#!/bin/bash
# test.sh - the project's test command (README, CI):
#   1. contrib/install-deps.sh (Debian 12 packages; no-op when installed)
#   2. autoreconf -fi when configure is missing or older than its inputs
#   3. ./build:      configure --enable-werror, make -j2, make -j1 check
#                    (unit tests and, as root, the integration tests against a
#                    private Slurm cluster)
#   4. ./build-asan: configure --enable-sanitizers --disable-integration,
#                    make -j2, make check (the unit tests under ASan/UBSan)
#   5. ./build-fuzz: tests/fuzz/run.sh (libFuzzer targets, FUZZ_SECONDS each,
#                    default 20; one .trs per target)
# Prints each test-suite.log summary and a last line
#   "N passed, N failed, N skipped"
# computed from the .trs files of every build.  Exit status 0 only when nothing
# failed.  Environment: JOBS (make -j for building, default 2),
# SKIP_ASAN=1 (leave step 4 out), SKIP_DEPS=1 (leave step 1 out),
# SKIP_FUZZ=1 (leave step 5 out), FUZZ_SECONDS (seconds per fuzz target).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
jobs=${JOBS:-2}
build_errors=0

say() { printf '\n==== %s\n' "$*"; }

if [ "${SKIP_DEPS:-0}" != 1 ]; then
	say "installing build dependencies (contrib/install-deps.sh)"
	contrib/install-deps.sh || { echo "test.sh: install-deps.sh failed" >&2; exit 1; }
fi

need_autoreconf=0
if [ ! -x configure ]; then
	need_autoreconf=1
else
	for f in configure.ac Makefile.am; do
		[ "$f" -nt configure ] && need_autoreconf=1
	done
	[ -f Makefile.in ] || need_autoreconf=1
fi
if [ "$need_autoreconf" = 1 ]; then
	say "autoreconf -fi"
	autoreconf -fi || { echo "test.sh: autoreconf failed" >&2; exit 1; }
fi
if [ -f config.status ]; then
	echo "test.sh: the source tree is configured in place (config.status);" \
		"run 'make distclean' here first: VPATH builds refuse it" >&2
	exit 1
fi

# build <dir> <configure args...>: configure + make in <dir>, then make check.
# Returns 1 if configure or make failed (make check failures show in .trs).
build() {
	local dir=$1
	shift
	mkdir -p "$dir" || return 1
	(
		cd "$dir" || exit 1
		# Old results would be counted: remove them first.
		find . -name '*.trs' -delete
		rm -f test-suite.log .check-rc
		say "$dir: configure $*"
		if [ ! -f config.status ] || [ "$(cat .configure-args 2>/dev/null)" != "$*" ]; then
			rm -f .configure-args
			"$top/configure" "$@" >configure.out 2>&1 || {
				cat configure.out
				echo "test.sh: $dir: configure failed" >&2
				exit 1
			}
			echo "$*" >.configure-args
		fi
		say "$dir: make -j$jobs"
		make -j"$jobs" >make.out 2>&1 || {
			grep -E -A4 'error|Error' make.out | tail -n 80
			echo "test.sh: $dir: make failed" >&2
			exit 1
		}
		grep -E 'warning:' make.out || true
		say "$dir: make -j1 check"
		make -j1 check VERBOSE=1
		echo $? >.check-rc
		exit 0
	)
}

build build --enable-werror || build_errors=$((build_errors + 1))
if [ "${SKIP_ASAN:-0}" != 1 ]; then
	build build-asan --enable-werror --enable-sanitizers --disable-integration ||
		build_errors=$((build_errors + 1))
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	say "build-fuzz: tests/fuzz/run.sh (FUZZ_SECONDS=${FUZZ_SECONDS:-20} per target)"
	find build-fuzz -maxdepth 1 -name '*.trs' -delete 2>/dev/null
	tests/fuzz/run.sh build-fuzz
fi

pass=0 fail=0 skip=0
failed_tests=""
for d in build build-asan build-fuzz; do
	[ -d "$d" ] || continue
	[ "$d" = build-asan ] && [ "${SKIP_ASAN:-0}" = 1 ] && continue
	[ "$d" = build-fuzz ] && [ "${SKIP_FUZZ:-0}" = 1 ] && continue
	if [ -f "$d/test-suite.log" ]; then
		say "$d/test-suite.log"
		sed -n '1,/^\.\. contents::/p' "$d/test-suite.log" | grep -v '^\.\. contents::'
	fi
	dfail=$fail
	while IFS= read -r trs; do
		res=$(sed -n 's/^:test-result: *//p' "$trs" | head -n1)
		name=${trs#./}
		name=${name%.trs}
		case $res in
		PASS | XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*)
			fail=$((fail + 1))
			failed_tests="$failed_tests $name(${res:-no result})"
			;;
		esac
	done < <(find "$d" -name '*.trs' | sort)
	# make check failed but no test says so: a check program did not build.
	if [ "$(cat "$d/.check-rc" 2>/dev/null || echo 0)" != 0 ] && [ "$fail" -eq "$dfail" ]; then
		fail=$((fail + 1))
		failed_tests="$failed_tests $d:make-check"
	fi
done
fail=$((fail + build_errors))
[ "$build_errors" -gt 0 ] && failed_tests="$failed_tests build($build_errors)"

echo
[ -n "$failed_tests" ] && echo "failed:$failed_tests"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
