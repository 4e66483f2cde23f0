#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1214-preempt-resubmit: a partition whose preempted jobs are cancelled at
# once (PreemptMode=CANCEL, no GraceTime): there is no time for a final
# checkpoint and slurmctld never requeues.  A counter with
# --checkpoint-resubmit, checkpointed every 10 s, is submitted again
# from its newest image by slurmckptd (as its user, with "scheckpoint
# restart") and completes in the new job, having lost only what it did
# after that image; the same counter without the option is left
# cancelled, and nothing is submitted for it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=0 PreemptMode=CANCEL MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=CANCEL"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
# counter.sh's default count: scheckpoint restart does not keep a batch
# script's arguments (slurmctld does not give them back).
N=30
out=$CLUSTER_WORK/resubmit.out
plain=$CLUSTER_WORK/plain.out
j=$(submit -p low -n 2 --checkpoint=0:10 --checkpoint-resubmit \
	--checkpoint-dir="$ckdir" --open-mode=append -o "$out" \
	"$APPS/counter.sh") || fail "sbatch failed"
p=$(submit -p low -n 2 --checkpoint=0:10 --checkpoint-dir="$ckdir" \
	--open-mode=append -o "$plain" "$APPS/counter.sh") ||
	fail "sbatch (without --checkpoint-resubmit) failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
job_wait_state "$p" RUNNING 20 || fail "job $p did not start"
wait_for 60 grep -qs "^[^ ]* $j.batch seq=1 committed" "$ckdir/checkpoint.log" ||
	fail "no periodic image of job $j: $(cat "$ckdir/checkpoint.log" 2>&1)"
wait_for 60 grep -qs "^[^ ]* $p.batch seq=1 committed" "$ckdir/checkpoint.log" ||
	fail "no periodic image of job $p: $(cat "$ckdir/checkpoint.log" 2>&1)"
ok "jobs $j (--checkpoint-resubmit) and $p have a periodic image"

h=$(submit -p high -n 4 --wrap "sleep 5") || fail "sbatch (high) failed"
state=$(job_wait_done "$j" 60) || fail "job $j was not preempted: $(job_state "$j")"
[ "$state" = PREEMPTED ] || [ "$state" = CANCELLED ] || fail "job $j ended $state"
wait_for 60 grep -qs "$j.batch cancelled by a preemption: resubmitted" "$ckdir/checkpoint.log" ||
	fail "job $j not resubmitted: $(cat "$ckdir/checkpoint.log"; grep "job $j" "$CLUSTER_DIR/slurmckptd.log")"
new=$(sed -n "s/.* $j\.batch restarted as job \([0-9]*\) .*/\1/p" "$ckdir/checkpoint.log" | tail -n1)
[ -n "$new" ] || fail "no 'restarted as job' line: $(cat "$ckdir/checkpoint.log")"
count=$(cat "$ckdir/$j.ckpt/count")
ok "job $j $state by the preemption, resubmitted as job $new from its image (count $count): $(grep "$j.batch cancelled" "$ckdir/checkpoint.log" | cut -d' ' -f2-)"

job_wait_done "$h" 120 >/dev/null || fail "high job $h did not run"
state=$(job_wait_done "$new" 60 "$out") || fail "job $new did not finish: $(job_state "$new")"
[ "$state" = COMPLETED ] || fail "job $new ended $state: $(tail -n 5 "$out")"
grep -qx "start=$count" "$out" || fail "job $new did not start at $count: $(grep start= "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
ok "job $new resumed at $count and COMPLETED"

pstate=$(job_state "$p")
grep -q "$p.batch cancelled by a preemption" "$ckdir/checkpoint.log" &&
	fail "job $p (no --checkpoint-resubmit) was resubmitted: $(cat "$ckdir/checkpoint.log")"
grep -q "$p.batch restarted as job" "$ckdir/checkpoint.log" &&
	fail "job $p was restarted: $(cat "$ckdir/checkpoint.log")"
ok "job $p without --checkpoint-resubmit: $pstate, nothing submitted"
