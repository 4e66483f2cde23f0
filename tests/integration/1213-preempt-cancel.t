#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1213-preempt-cancel: a partition whose preempted jobs are cancelled
# (PreemptMode=CANCEL, GraceTime=30), where Slurm would end a preempted
# job for good whatever its --requeue.  A --checkpoint job submitted with
# --requeue is checkpointed at the preemption and requeued by slurmckptd
# within the grace time (before slurmctld cancels it), and resumes from
# its image; the same counter without --checkpoint is cancelled and its
# work lost.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
GRACE=30
CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=$GRACE PreemptMode=CANCEL MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=CANCEL"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=50
out=$CLUSTER_WORK/cancel.out
base=$CLUSTER_WORK/baseline.out
j=$(submit -p low -n 2 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/counter.sh" "$N") || fail "sbatch failed"
b=$(submit -p low -n 2 --requeue --open-mode=append -o "$base" \
	"$APPS/counter.sh" "$N") || fail "sbatch (baseline) failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
job_wait_state "$b" RUNNING 20 || fail "baseline job $b did not start"
wait_for 30 grep -qs '^tick=10$' "$out" || fail "job $j does not count: $(cat "$out")"
ok "job $j (--checkpoint=0 --requeue) and baseline $b count in partition low (PreemptMode=CANCEL)"

t0=$(date +%s)
h=$(submit -p high -n 4 --wrap "sleep 5") || fail "sbatch (high) failed"
wait_for "$GRACE" grep -qs "preemption: final checkpoint done.*requeued (restart count 1)" \
	"$ckdir/checkpoint.log" ||
	fail "not checkpointed and requeued within the grace time: $(cat "$ckdir/checkpoint.log" 2>&1)"
t1=$(date +%s)
count=$(cat "$ckdir/$j.ckpt/count")
ok "checkpointed at $count and requeued $((t1 - t0)) s after the preempting job: $(grep 'preemption: final' "$ckdir/checkpoint.log" | cut -d' ' -f2-)"

bstate=$(job_wait_done "$b" $((GRACE + 60))) || fail "baseline $b did not end"
[ "$bstate" = PREEMPTED ] || [ "$bstate" = CANCELLED ] || fail "baseline $b ended $bstate"
job_wait_done "$h" 120 >/dev/null || fail "high job $h did not run"
state=$(job_wait_done "$j" 60 "$out") || fail "job $j did not finish: $(job_state "$j")"
# 24.11 calls a job that a preemption once touched PREEMPTED even when its
# later run completes (exit code 0, final= printed): both are its end.
[ "$state" = COMPLETED ] || [ "$state" = PREEMPTED ] ||
	fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "start=$count" "$out" || fail "job $j did not resume at $count: $(grep start= "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(job_field "$j" ExitCode)" = 0:0 ] || fail "job $j exit code $(job_field "$j" ExitCode)"
ok "job $j resumed at $count and ended ($state, exit code $(job_field "$j" ExitCode)); the baseline was $bstate at count $(sed -n 's/^tick=//p' "$base" | tail -n1), its work lost"
