#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1072-worker-shares: one user's steps that never answer a checkpoint
# cannot take the workers another user's final checkpoints need (issue 13,
# finding 5).  max_workers=2, so max_user_workers is 1.  ckptother runs two
# jobs that catch the checkpoint signal and never acknowledge (each
# checkpoint holds its worker for max_wait=300 s): only one of them gets a
# worker, the other waits its turn.  ckptuser's job with --time=2 runs two
# srun steps; at the deadline (lead=1:00) both final checkpoints are
# committed, one after the other (the second waits for the user's own
# worker, ahead of any periodic checkpoint), and the job is requeued.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CKPT_PLUGIN_ARGS="lead=1:00"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_MAX_WAIT=300 CKPT_HELPER_CONF="max_workers=2" cluster_start 1

odir=$CLUSTER_DIR/other
mkdir -p "$odir" && chown "$CKPT_OTHER:" "$odir" || fail "cannot make $odir"
hostile=()
for i in 1 2; do
	h=$(as_other sbatch --parsable --checkpoint=0:05 --checkpoint-dir="$odir" \
		-o "$odir/catcher$i.out" "$APPS/catcher.sh" "$odir/caught$i") ||
		fail "sbatch as $CKPT_OTHER failed"
	hostile+=("${h%%;*}")
done
for h in "${hostile[@]}"; do
	job_wait_state "$h" RUNNING 20 || fail "job $h of $CKPT_OTHER did not start"
done
_hanging() { grep -q "checkpoint of ${hostile[0]}.batch (periodic) started\|checkpoint of ${hostile[1]}.batch (periodic) started" "$CLUSTER_DIR/slurmckptd.log"; }
wait_for 30 _hanging || fail "no checkpoint of $CKPT_OTHER's jobs started: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
ok "$CKPT_OTHER's jobs ${hostile[*]} catch the signal and never acknowledge"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=170
out=$CLUSTER_WORK/victim.out
j=$(submit --time=2 --ntasks=2 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" --wrap "
srun --exact -n1 -o $CLUSTER_WORK/step0.out $APPS/counter.sh $N &
srun --exact -n1 -o $CLUSTER_WORK/step1.out $APPS/counter.sh $N &
wait") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
ok "job $j of $CKPT_USER: two srun steps, --time=2"

wait_for 150 grep -qs "$j.batch deadline: final checkpoint done" "$ckdir/checkpoint.log" ||
	fail "no deadline checkpoint of job $j: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 20 "$CLUSTER_DIR/slurmckptd.log")"
done_line=$(grep "$j.batch deadline: final checkpoint done" "$ckdir/checkpoint.log" | head -n 1)
echo "$done_line" | grep -q "(2 committed, 0 failed" ||
	fail "the final checkpoints did not all commit: $done_line; $(grep -E 'too many|max_user_workers|waits for a worker' "$CLUSTER_DIR/slurmckptd.log" | tail -n 3)"
echo "$done_line" | grep -q "requeued" || fail "job $j not requeued: $done_line"
for s in 0 1; do
	grep -q " $j.$s seq=.*committed.* reason=deadline" "$ckdir/checkpoint.log" ||
		fail "step $j.$s not committed with reason deadline: $(cat "$ckdir/checkpoint.log")"
done
waited=$(grep -c "$j\.[01]: deadline checkpoint waits for a worker" "$CLUSTER_DIR/slurmckptd.log")
[ "$waited" -ge 1 ] || fail "no final checkpoint waited for the user's worker: $(grep "$j\." "$CLUSTER_DIR/slurmckptd.log" | tail -n 5)"
ok "${done_line#* }; $waited final checkpoint(s) waited for a worker"

started=0
for h in "${hostile[@]}"; do
	started=$((started + $(grep -c "checkpoint of $h.batch (periodic) started" "$CLUSTER_DIR/slurmckptd.log")))
done
[ "$started" -eq 1 ] || fail "$started checkpoints of $CKPT_OTHER's jobs ran at once (max_user_workers=1)"
ok "$CKPT_OTHER held one worker, never two"
scancel "$j" "${hostile[@]}"
