#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0100-cluster: the harness itself.  A private cluster starts; a plain job (no
# --checkpoint) runs as ckptuser and completes; srun works; sbatch --help shows
# the plugin's options; teardown leaves no process of the cluster behind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

STATEFILE=$(mktemp /tmp/ckpt-0100.XXXXXX)
# The cluster lives in a subshell so that the teardown can be checked after.
# (Its teardown prints no plan: this shell does, after the last case.)
(
	cluster_start 1
	ok "cluster started: $(sinfo -h -o '%N %t' | tr '\n' ' ')"
	echo "$CLUSTER_DIR" >"$STATEFILE"
	cat "$CLUSTER_DIR"/*.pid "$CLUSTER_DIR"/munge/munged.pid 2>/dev/null | tr -dc '0-9\n' >>"$STATEFILE"

	jobid=$(submit -o "$CLUSTER_WORK/plain-%j.out" --wrap 'id -un; echo plain-job-ran') ||
		fail "sbatch of a plain job failed"
	ok "plain job $jobid submitted"
	state=$(job_wait_done "$jobid" 30) || fail "plain job $jobid did not finish"
	[ "$state" = COMPLETED ] || fail "plain job $jobid ended $state"
	out=$CLUSTER_WORK/plain-$jobid.out
	grep -qx plain-job-ran "$out" || fail "plain job output lacks its line: $(cat "$out" 2>&1)"
	grep -qx "$CKPT_USER" "$out" || fail "plain job did not run as $CKPT_USER: $(cat "$out")"
	[ "$(stat -c %U "$out")" = "$CKPT_USER" ] || fail "output file not owned by $CKPT_USER"
	ok "plain job completed as $CKPT_USER"

	h=$(as_user srun -n1 hostname 2>&1) || fail "srun -n1 hostname failed: $h"
	[ "$h" = "$(hostname)" ] || fail "srun -n1 hostname printed '$h'"
	ok "srun -n1 hostname: $h"

	# A job still running at teardown: cluster_stop must end it too.
	long=$(submit -o /dev/null --wrap 'sleep 300') || fail "sbatch of a long job failed"
	job_wait_state "$long" RUNNING 20 || fail "long job $long did not start"
	ok "long job $long running (left for the teardown)"

	help=$(as_user sbatch --help 2>&1)
	echo "$help" | grep -q -- '--checkpoint=' || fail "sbatch --help does not show --checkpoint"
	echo "$help" | grep -q -- '--checkpoint-dir=' || fail "sbatch --help does not show --checkpoint-dir"
	echo "$help" | grep -q -- '--restart-dir=' || fail "sbatch --help does not show --restart-dir"
	ok "sbatch --help shows --checkpoint, --checkpoint-dir, --restart-dir"
	help=$(as_user srun --help 2>&1)
	echo "$help" | grep -q -- '--checkpoint=' || fail "srun --help does not show --checkpoint"
	ok "srun --help shows --checkpoint"

	require_helper
	ok "slurmckptd running (pid $CLUSTER_HELPER_PID)"
	echo "$_T_NUM" >"$STATEFILE.n"
)
rc=$?

STATE=$(cat "$STATEFILE" 2>/dev/null)
_T_NUM=$(cat "$STATEFILE.n" 2>/dev/null || echo 0)
rm -f "$STATEFILE" "$STATEFILE.n"
[ $rc -eq 0 ] || exit $rc
dir=$(echo "$STATE" | head -n1)
[ -n "$dir" ] || fail "no cluster directory recorded"
[ ! -e "$dir" ] || fail "cluster directory $dir left behind"
for pid in $(echo "$STATE" | tail -n +2); do
	if kill -0 "$pid" 2>/dev/null; then
		fail "pid $pid ($(tr '\0' ' ' </proc/$pid/cmdline)) survived the teardown"
	fi
done
CLUSTER_DIR=$dir
left=$(cluster_pids)
[ -z "$left" ] || fail "processes of the cluster survived: $left"
ok "teardown left no daemon and no directory"
