#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# localstage.sh - the pause of a checkpoint with and without node-local
# staging (issue 7), side by side in one run: runs
# tests/integration/1620-local-pause.t with a larger image and more
# rounds, and prints its figure lines.
#
#   sudo tests/bench/localstage.sh [MiB] [rounds]     (default 1024, 7)
#
# Needs root, a built tree (./build or the source tree) and the Slurm
# packages, like the integration tests.  What is measured: slurmckptd's
# paused= (request to the last task's answer) for an application that
# writes <MiB> MiB with dd conv=fsync into $SLURM_CHECKPOINT_DIR, first
# straight into a checkpoint directory on this host's disk, its writes
# throttled to LOCAL_BENCH_MBPS (100) MB/s (--checkpoint-local=no), then into a tmpfs under /dev/shm with the flush
# to that directory in the background; medians and their ratio.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=${top_builddir:-$top_srcdir/build}
[ -x "$top_builddir/helper/slurmckptd" ] || top_builddir=$top_srcdir
export top_srcdir top_builddir
LOCAL_BENCH_MIB=${1:-1024} LOCAL_BENCH_ROUNDS=${2:-7} \
	bash "$top_srcdir/tests/integration/1620-local-pause.t" 2>&1 |
	grep -E '^(# figure|# shared|ok|not ok)'
exit "${PIPESTATUS[0]}"
