#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test.sh - the project's test command (README, CI):
#   1. contrib/install-deps.sh (Debian 12 packages; no-op when installed)
#   2. autoreconf -fi when configure is missing or older than its inputs
#   3. the other Slurm releases: contrib/rootfs.sh makes (or finds in
#      ROOTFS_CACHE) a Debian root filesystem per suite of SLURM_MATRIX,
#      in the background while the host builds
#   4. ./build:      configure --enable-werror --enable-unit-tests (a
#                    missing cmocka fails), make -j2 (Slurm 22.05, the
#                    host's)
#   5. ./build-<suite> (trixie: Slurm 24.11; sid: 26.05), started in the
#      background once the host has built: this script again inside the
#      root filesystem (its own mount, pid and network namespaces): its
#      configure --enable-werror, make, make -j1 check against that Slurm,
#      with the tests of CKPT_SKIP_TESTS left out
#   6. ./build: make -j1 check (unit tests and, as root, the integration
#      tests against a private Slurm cluster)
#   7. ./build-asan: configure --enable-sanitizers --disable-integration,
#                    make -j2, make check (the unit tests under ASan/UBSan)
#   8. ./build:      make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=
#                    --enable-werror (the tarball: complete, builds out of
#                    a read-only tree, passes the unit tests, installs and
#                    uninstalls under a prefix; a couple of minutes; output
#                    in ./build/distcheck.out; a failure counts as one)
#   9. ./build-fuzz: configure CC=clang --enable-fuzzing, make fuzz (the
#                    libFuzzer targets, FUZZ_SECONDS each, default 20; one
#                    .trs per target)
#  10. waits for step 5
# Prints each test-suite.log summary and a last line
#   "N passed, N failed, N skipped"
# computed from the .trs files of every build.  Exit status 0 only when nothing
# failed.  Environment: JOBS (make -j for building, default 2),
# SKIP_ASAN=1 (leave step 7 out), SKIP_DEPS=1 (leave step 1 out),
# SKIP_DISTCHECK=1 (leave step 8 out),
# SKIP_FUZZ=1 (leave step 9 out), FUZZ_SECONDS (seconds per fuzz target),
# SLURM_MATRIX (the Debian suites of step 3 and 5, default "trixie sid";
# empty: the host's Slurm only), ROOTFS_CACHE (where root filesystems are
# kept between runs, default /var/cache/slurm-checkpoint/rootfs),
# MATRIX_SKIP_TESTS (tests left out on those suites, default "1070-load":
# it loads the daemon with 1,000 steps registered through its socket, no
# job, no SPANK, no CRIU; the same on every Slurm), BUILD_DIR (the host build's directory, default build).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
jobs=${JOBS:-2}
build_errors=0
build_dir=${BUILD_DIR:-build}
matrix=${SLURM_MATRIX-trixie sid}
rootfs_cache=${ROOTFS_CACHE:-/var/cache/slurm-checkpoint/rootfs}
matrix_skip=${MATRIX_SKIP_TESTS-1070-load}
# A root filesystem's run that takes longer than this is stopped (seconds).
matrix_timeout=${MATRIX_TIMEOUT:-4500}

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

# configure_make <dir> <configure args...>: configure + make in <dir>.
# Returns 1 if configure or make failed.
configure_make() {
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
	)
}

# check <dir>: make check in <dir> (failures show in .trs; .check-rc
# keeps make's status).
check() {
	local dir=$1
	(
		cd "$dir" || exit 1
		say "$dir: make -j1 check"
		make -j1 check VERBOSE=1
		echo $? >.check-rc
	)
}

build() {
	configure_make "$@" || return 1
	check "$1"
}

# The root filesystems are made while the host builds.
declare -A rootfs_pid=() suite_pid=()
if [ -n "$matrix" ]; then
	for suite in $matrix; do
		say "root filesystem $rootfs_cache/$suite (contrib/rootfs.sh make $suite; in the background)"
		mkdir -p "$rootfs_cache"
		contrib/rootfs.sh make "$suite" "$rootfs_cache/$suite" \
			>"$rootfs_cache/$suite.make.out" 2>&1 &
		rootfs_pid[$suite]=$!
	done
fi

host_built=0
if configure_make "$build_dir" --enable-werror --enable-unit-tests; then
	host_built=1
else
	build_errors=$((build_errors + 1))
fi

# Each suite: this script inside its root filesystem, in the background,
# its output in build-<suite>/test.out.
for suite in $matrix; do
	rm -rf "build-$suite/test.out"
	mkdir -p "build-$suite"
	if ! wait "${rootfs_pid[$suite]}"; then
		cat "$rootfs_cache/$suite.make.out" >&2
		echo "test.sh: the $suite root filesystem could not be made" >&2
		build_errors=$((build_errors + 1))
		continue
	fi
	say "build-$suite: contrib/test.sh inside $rootfs_cache/$suite (in the background; output in build-$suite/test.out)"
	timeout -k 30 "$matrix_timeout" contrib/rootfs.sh run "$rootfs_cache/$suite" "$top" \
		env SKIP_DEPS=1 SKIP_ASAN=1 SKIP_FUZZ=1 SKIP_DISTCHECK=1 \
		SLURM_MATRIX= JOBS="$jobs" \
		BUILD_DIR="build-$suite" CKPT_SKIP_TESTS="$matrix_skip" \
		bash contrib/test.sh >"build-$suite/test.out" 2>&1 &
	suite_pid[$suite]=$!
done

[ "$host_built" = 1 ] && check "$build_dir"
if [ "${SKIP_ASAN:-0}" != 1 ]; then
	build build-asan --enable-werror --enable-unit-tests \
		--enable-sanitizers --disable-integration ||
		build_errors=$((build_errors + 1))
fi

# The tarball's own build and unit tests (make distcheck); its tests'
# .trs files are not counted below, a failure is.
if [ "${SKIP_DISTCHECK:-0}" != 1 ] && [ "$host_built" = 1 ]; then
	say "$build_dir: make -j$jobs distcheck"
	if (cd "$build_dir" &&
		make -j"$jobs" distcheck \
			DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
			>distcheck.out 2>&1); then
		tail -n 4 "$build_dir/distcheck.out"
	else
		tail -n 80 "$build_dir/distcheck.out"
		echo "test.sh: $build_dir: make distcheck failed" >&2
		build_errors=$((build_errors + 1))
	fi
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
	say "build-fuzz: configure CC=clang --enable-fuzzing; make fuzz (FUZZ_SECONDS=${FUZZ_SECONDS:-20} per target)"
	mkdir -p build-fuzz
	find build-fuzz -maxdepth 1 -name '*.trs' -delete
	fuzz_args="CC=clang --enable-fuzzing --disable-integration"
	if (
		cd build-fuzz || exit 1
		if [ ! -f config.status ] || [ "$(cat .configure-args 2>/dev/null)" != "$fuzz_args" ]; then
			rm -f .configure-args
			# shellcheck disable=SC2086
			"$top/configure" $fuzz_args >configure.out 2>&1 || {
				cat configure.out
				exit 1
			}
			echo "$fuzz_args" >.configure-args
		fi
		make -j"$jobs" fuzz
	); then :; else
		echo "test.sh: build-fuzz: configure or make fuzz failed" >&2
		build_errors=$((build_errors + 1))
	fi
fi

for suite in "${!suite_pid[@]}"; do
	say "build-$suite: waiting for contrib/test.sh in the $suite root filesystem"
	wait "${suite_pid[$suite]}"
	rc=$?
	tail -n 5 "build-$suite/test.out"
	# 124: stopped by timeout; no result line: it did not get to the end.
	if [ "$rc" = 124 ] || ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "build-$suite/test.out"; then
		echo "test.sh: the $suite run did not finish (status $rc); its output:" >&2
		tail -n 60 "build-$suite/test.out" >&2
		build_errors=$((build_errors + 1))
	fi
done

pass=0 fail=0 skip=0
failed_tests=""
dirs="$build_dir build-asan build-fuzz"
for suite in $matrix; do
	dirs="$dirs build-$suite"
done
for d in $dirs; do
	[ -d "$d" ] || continue
	[ "$d" = build-asan ] && [ "${SKIP_ASAN:-0}" = 1 ] && continue
	[ "$d" = build-fuzz ] && [ "${SKIP_FUZZ:-0}" = 1 ] && continue
	if [ -f "$d/test-suite.log" ]; then
		say "$d/test-suite.log"
		sed -n '1,/^\.\. contents::/p' "$d/test-suite.log" | grep -v '^\.\. contents::'
	fi
	dfail=$fail
	while IFS= read -r trs; do
		res=$(sed -n 's/^:global-test-result: *//p' "$trs" | head -n1)
		name=${trs#./}
		name=${name%.trs}
		case $res in
		PASS | XFAIL) pass=$((pass + 1)) ;;
		SKIP) skip=$((skip + 1)) ;;
		*)
			fail=$((fail + 1))
			failed_tests="$failed_tests $name(${res:-no result})"
			# What CI shows of a failure is this output only.
			echo "==== $name: the last 80 lines of its log"
			tail -n 80 "${trs%.trs}.log" 2>/dev/null
			;;
		esac
	done < <(find "$d" -name '*.trs' -not -path '*/_build/*' | sort)
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
