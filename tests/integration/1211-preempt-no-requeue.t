#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1211-preempt-no-requeue: a --no-requeue job in a partition that cancels
# preempted jobs after GraceTime=60 runs on to the end of its grace time
# (its batch script is not signalled), so its preemption checkpoint is
# taken as late as the grace time allows (max_wait 10 s + 10 s before the
# end here), not at once: the work it does after the image, all lost, is
# about 20 s, not the whole grace time.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
GRACE=60
CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=$GRACE PreemptMode=CANCEL MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=CANCEL"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/nrq.out
ncpu=$(scontrol -o show node c1 | tr ' ' '\n' | sed -n 's/^CPUTot=//p')
[ -n "$ncpu" ] || fail "cannot read c1's CPUs"

j=$(submit -p low -n "$ncpu" --no-requeue --checkpoint=0 --checkpoint-dir="$ckdir" \
	-o "$out" "$APPS/counter.sh" 600) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 grep -qs '^tick=5$' "$out" || fail "job $j does not count: $(cat "$out")"
ok "job $j (--no-requeue) running in partition low (GraceTime=$GRACE, CANCEL)"

h=$(submit -p high -n "$ncpu" --wrap "sleep 5") || fail "sbatch (high) failed"
state=$(job_wait_done "$j" $((GRACE + 60))) || fail "job $j did not end: $(job_state "$j")"
line=$(grep "$j.batch preemption: final checkpoint" "$ckdir/checkpoint.log") ||
	fail "no preemption checkpoint: $(cat "$ckdir/checkpoint.log" 2>&1)"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "$img does not verify"
saved=$(cat "$img/count")
last=$(sed -n 's/^tick=//p' "$out" | tail -n1)
lost=$((last - saved))
# At once (the grace time's start) would lose about GRACE s; as late as
# the cost allows, about 20 s (more when slurmctld ends the job late).
[ "$lost" -ge 0 ] && [ "$lost" -le $((GRACE * 2 / 3)) ] ||
	fail "image at count $saved, job counted to $last: $lost s lost ($line)"
ok "job $j $state; image at count $saved, last count $last: $lost s of the ${GRACE} s grace time lost"
job_wait_done "$h" 60 >/dev/null || fail "high job $h did not run"
