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
#      configure --enable-werror, make, then (TEST_PACKAGES=1) make dist,
#      contrib/build-debs.sh and dpkg -i of the packages, and make -j1
#      check against that Slurm and the installed packages' files, with
#      the tests of CKPT_SKIP_TESTS left out
#   6. ./build: make -j1 check (unit tests and, as root, the integration
#      tests against a private Slurm cluster), while steps 7 to 9 run one
#      after the other beside it, at the lowest CPU priority (nice 19):
#   7. ./build-asan: configure --enable-sanitizers --disable-integration,
#                    make -j2, make check (the unit tests under ASan/UBSan)
#   8. ./build-asan: make -j2 distcheck DISTCHECK_CONFIGURE_FLAGS=
#                    --enable-werror (the tarball: complete, builds out of
#                    a read-only tree, passes the unit tests, installs and
#                    uninstalls under a prefix; a couple of minutes; output
#                    in ./build-asan/distcheck.out (./build-dist/ with
#                    SKIP_ASAN=1); a failure counts as one)
#      Then contrib/build-debs.sh of that tarball: the Debian packages for
#      the host's Slurm, with lintian --pedantic (SKIP_DEBS=1 leaves it
#      out; output in build-asan/debs.out)
#   9. ./build-fuzz: configure CC=clang --enable-fuzzing, make fuzz (the
#                    libFuzzer targets, FUZZ_SECONDS each, default 20; one
#                    .trs per target)
#  10. waits for steps 7 to 9 (their output then) and step 5
#  11. tests/system/node.sh in a booted sid root filesystem (contrib/
#      rootfs.sh boot): the packages installed with apt, one plugstack
#      line, systemctl enable --now slurmckptd, a job checkpointed (with
#      criu too) under the unit's sandbox, a reload (SYSTEM_SUITES: the
#      suites, default "sid"; empty: none)
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
# job, no SPANK, no CRIU; the same on every Slurm),
# MATRIX_CRASH_ITERATIONS and MATRIX_RENAME_ITERATIONS (1060-crash's
# CRASH_ITERATIONS and RENAME_ITERATIONS on those suites, 20 and 5), BUILD_DIR (the host build's directory, default build),
# TEST_PACKAGES=1 (set for the root filesystems' runs: the integration
# tests run against the Debian packages built from make dist's tarball by
# contrib/build-debs.sh and installed with dpkg -i, not the build tree).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
jobs=${JOBS:-2}
build_errors=0
build_dir=${BUILD_DIR:-build}
matrix=${SLURM_MATRIX-trixie sid}
rootfs_cache=${ROOTFS_CACHE:-/var/cache/slurm-checkpoint/rootfs}
matrix_skip=${MATRIX_SKIP_TESTS-1070-load}
# 1060-crash's kills there (its crash recovery is the daemon's own, the
# same on every Slurm): 20 and 5, against 50 and 10 on the host.
matrix_crash=${MATRIX_CRASH_ITERATIONS:-20}
matrix_rename=${MATRIX_RENAME_ITERATIONS:-5}
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

# TEST_PACKAGES=1 (the root filesystems' runs): the Debian packages made
# from this build's tarball are installed here, and the integration tests
# run against the installed files (CKPT_INSTALLED=1), not the build tree.
# The root filesystem is an overlay (contrib/rootfs.sh): they are gone
# when the run ends.
if [ "${TEST_PACKAGES:-0}" = 1 ] && [ "$host_built" = 1 ]; then
	say "$build_dir: make dist; contrib/build-debs.sh; dpkg -i (output in $build_dir/debs.out)"
	rm -rf "$build_dir/debs" "$build_dir"/slurm-checkpoint-*.tar.gz
	if (cd "$build_dir" && make dist >dist.out 2>&1) &&
		DEB_BUILD_OPTIONS=nocheck contrib/build-debs.sh \
			"$(ls "$build_dir"/slurm-checkpoint-*.tar.gz)" \
			"$build_dir/debs" >"$build_dir/debs.out" 2>&1 &&
		dpkg -i "$build_dir"/debs/*.deb >>"$build_dir/debs.out" 2>&1; then
		ls -l "$build_dir"/debs/*.deb
		export CKPT_INSTALLED=1
	else
		tail -n 60 "$build_dir/dist.out" "$build_dir/debs.out"
		echo "test.sh: $build_dir: the packages were not built or installed" >&2
		build_errors=$((build_errors + 1))
		host_built=0
	fi
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
		TEST_PACKAGES=1 SLURM_MATRIX= JOBS="$jobs" \
		CRASH_ITERATIONS="$matrix_crash" RENAME_ITERATIONS="$matrix_rename" \
		BUILD_DIR="build-$suite" CKPT_SKIP_TESTS="$matrix_skip" \
		bash contrib/test.sh >"build-$suite/test.out" 2>&1 &
	suite_pid[$suite]=$!
done

# Steps 7 to 9, in the background at the lowest CPU priority while the
# integration tests run (they wait for daemons and jobs far more than they
# compute; the tests themselves wait longer on a busy machine, they do not
# fail).  Output in $build_dir/tail.out, printed when they are done; the
# number of steps that failed in $build_dir/tail.errors.
tail_steps() {
	local build_errors=0
	if [ "${SKIP_ASAN:-0}" != 1 ]; then
		build build-asan --enable-werror --enable-unit-tests \
			--enable-sanitizers --disable-integration ||
			build_errors=$((build_errors + 1))
	fi

	# The tarball's own build and unit tests (make distcheck); its tests'
	# .trs files are not counted below, a failure is.
	# From a directory of its own: the host's check runs in $build_dir.
	local dc=build-asan
	if [ "${SKIP_DISTCHECK:-0}" != 1 ] && [ "${SKIP_ASAN:-0}" = 1 ]; then
		dc=build-dist
		mkdir -p "$dc"
		(cd "$dc" && "$top/configure" >configure.out 2>&1) ||
			{ cat "$dc/configure.out"; dc=; }
	fi
	if [ "${SKIP_DISTCHECK:-0}" != 1 ] && [ -f "$dc/Makefile" ]; then
		say "$dc: make -j$jobs distcheck"
		if (cd "$dc" &&
			make -j"$jobs" distcheck \
				DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
				>distcheck.out 2>&1); then
			tail -n 4 "$dc/distcheck.out"
		else
			tail -n 80 "$dc/distcheck.out"
			echo "test.sh: $dc: make distcheck failed" >&2
			build_errors=$((build_errors + 1))
		fi
	elif [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
		echo "test.sh: no configured directory for make distcheck" >&2
		build_errors=$((build_errors + 1))
	fi

	# The Debian packages of this machine's Slurm from that tarball,
	# checked by lintian (contrib/build-debs.sh; the root filesystems'
	# runs build theirs and test them installed).
	if [ "${SKIP_DISTCHECK:-0}" != 1 ] && [ "${SKIP_DEBS:-0}" != 1 ] &&
		[ -n "$dc" ] && ls "$dc"/slurm-checkpoint-*.tar.gz >/dev/null 2>&1; then
		say "$dc: contrib/build-debs.sh (lintian; output in $dc/debs.out)"
		rm -rf "$dc/debs"
		if DEB_BUILD_OPTIONS=nocheck contrib/build-debs.sh \
			"$(ls "$dc"/slurm-checkpoint-*.tar.gz | head -n1)" \
			"$dc/debs" >"$dc/debs.out" 2>&1; then
			grep -E '^build-debs.sh: (lintian|/)' "$dc/debs.out"
		else
			tail -n 60 "$dc/debs.out"
			echo "test.sh: $dc: the Debian packages failed" >&2
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

	echo "$build_errors" >"$build_dir/tail.errors"
}

mkdir -p "$build_dir"
rm -f "$build_dir/tail.errors"
(renice -n 19 "$BASHPID" >/dev/null; tail_steps) >"$build_dir/tail.out" 2>&1 &
tail_pid=$!
[ "$host_built" = 1 ] && check "$build_dir"
wait "$tail_pid"
cat "$build_dir/tail.out"
build_errors=$((build_errors + $(cat "$build_dir/tail.errors" 2>/dev/null || echo 1)))

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

# 11. The packages under systemd: in a booted root filesystem (contrib/
# rootfs.sh boot), apt installs them, one plugstack line and systemctl
# enable --now slurmckptd make a node, and a job is checkpointed, with
# criu too, under the unit's sandbox (tests/system/node.sh).  On the
# suites of SYSTEM_SUITES (default sid: its CRIU works on this kernel).
for suite in ${SYSTEM_SUITES-sid}; do
	case " $matrix " in *" $suite "*) ;; *) continue ;; esac
	d=build-$suite/tests/system
	mkdir -p "$d"
	rm -f "$d/node.trs"
	say "build-$suite: tests/system/node.sh in the booted $suite root filesystem"
	if ! ls "build-$suite"/debs/*.deb >/dev/null 2>&1; then
		echo "test.sh: build-$suite/debs: no packages to test" >&2
		build_errors=$((build_errors + 1))
		continue
	fi
	timeout -k 30 600 contrib/rootfs.sh boot "$rootfs_cache/$suite" "$top" \
		tests/system/node.sh "build-$suite/debs" >"$d/node.log" 2>&1
	rc=$?
	grep -E '^(ok|not ok)' "$d/node.log"
	{
		sed -n 's/^ok .*/:test-result: PASS/p; s/^not ok .*/:test-result: FAIL/p' "$d/node.log"
		if [ "$rc" = 0 ] && grep -q '^ok' "$d/node.log"; then
			echo ":global-test-result: PASS"
		else
			echo ":global-test-result: FAIL"
		fi
	} >"$d/node.trs"
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
