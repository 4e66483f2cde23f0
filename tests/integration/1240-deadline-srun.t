#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1240-deadline-srun: the usual job shape, a batch script without a trap
# that runs the application with srun.  At the deadline the batch step is
# not checkpointable (noted, not a failure), the srun step is checkpointed
# (<job>.0.ckpt), the job is requeued, and the srun step of the next run
# resumes from that image.  The batch step, which never had an image, says
# nothing about one at the requeue.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CKPT_PLUGIN_ARGS="lead=1:00"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=90
out=$CLUSTER_WORK/srun.out
j=$(submit --time=2 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" --wrap "srun -n1 $APPS/counter.sh $N") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
ok "job $j: batch script without a trap, srun counter.sh $N, --time=2, lead=1:00"

wait_for 100 grep -qs "$j.batch deadline: final checkpoint done (1 committed, 0 failed.*requeued (restart count 1)" \
	"$ckdir/checkpoint.log" ||
	fail "no deadline checkpoint of the srun step and requeue: $(cat "$ckdir/checkpoint.log" 2>&1)"
grep -q " $j.0 seq=.*committed.* reason=deadline" "$ckdir/checkpoint.log" ||
	fail "step $j.0 not committed with reason deadline: $(cat "$ckdir/checkpoint.log")"
ok "$(grep "$j.batch deadline" "$ckdir/checkpoint.log" | cut -d' ' -f2-)"

state=$(job_wait_done "$j" 150) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
starts=$(sed -n 's/^start=//p' "$out" | tr '\n' ' ')
[ "$(grep -c '^start=' "$out")" -eq 2 ] || fail "runs started at $starts"
[ "$(grep '^start=' "$out" | tail -n1)" != start=0 ] || fail "the srun step restarted from 0"
grep -q "^restart_dir=$ckdir/$j.0.ckpt" "$out" || fail "not resumed from $j.0.ckpt: $(grep restart_dir "$out")"
lost=$(($(grep -c '^tick=' "$out") - N))
ok "srun step resumed from $j.0.ckpt (runs started at $starts), final=$N, work lost $lost s"
! grep -F "checkpoint: $j.batch:" "$out" || fail "the batch step spoke of images it never had"
ok "the batch step, without images of its own, said nothing at its restart"
