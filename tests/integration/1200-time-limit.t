#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1200-time-limit: a counter with --time=2 (minutes) and no periodic
# checkpoints (--checkpoint=0) must count to N although N is more than one
# run can do: the helper checkpoints it a lead time before its end and
# requeues it, at least twice, and each run resumes from the newest image.
# Beside it, the same job without --checkpoint times out and loses all of
# its work: both figures are printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CKPT_PLUGIN_ARGS="lead=1:00"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
# 170 s of work: three runs of about 58 s with the plugin; more than the
# baseline can do in one run even though slurmctld enforces time limits
# only every 30 s (a 2-minute job may run up to 150 s).
N=170
out=$CLUSTER_WORK/counter.out
base=$CLUSTER_WORK/baseline.out
j=$(submit --time=2 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/counter.sh" "$N") || fail "sbatch failed"
b=$(submit --time=2 --requeue -o "$base" "$APPS/counter.sh" "$N") || fail "sbatch (baseline) failed"
ok "job $j (--checkpoint=0, --time=2) and baseline job $b (no --checkpoint) submitted"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"

# Each run: the deadline checkpoint 60 s before the end, then a requeue.
for run in 1 2; do
	wait_for 150 grep -qs "deadline: final checkpoint done.*requeued (restart count $run)" \
		"$ckdir/checkpoint.log" ||
		fail "run $run: no deadline checkpoint and requeue: $(cat "$ckdir/checkpoint.log" 2>&1)"
	ok "run $run: $(grep "requeued (restart count $run)" "$ckdir/checkpoint.log" | cut -d' ' -f2-)"
done

state=$(job_wait_done "$j" 200) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
restarts=$(job_field "$j" Restarts)
[ "$restarts" -ge 2 ] || fail "only $restarts requeue(s)"
ok "job completed with final=$N after $restarts requeues"

# Every run after the first resumed from the image committed just before
# its requeue (the newest), never from the beginning.
runs=$(grep -c '^start=' "$out")
[ "$runs" -eq $((restarts + 1)) ] || fail "$runs runs in the output, $restarts restarts"
grep '^start=' "$out" | tail -n +2 | grep -q '^start=0$' && fail "a run started from 0: $(grep '^start=' "$out")"
grep -q 'committed.* reason=deadline' "$ckdir/checkpoint.log" ||
	fail "no commit with reason deadline in checkpoint.log"
ok "runs started at $(sed -n 's/^start=//p' "$out" | tr '\n' ' ')"

ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
lost=$(($(echo "$ticks" | wc -l) - N))
[ "$lost" -ge 0 ] && [ "$lost" -le $((3 * restarts)) ] ||
	fail "$lost seconds of work repeated over $restarts requeues"

# The baseline: killed at its limit, everything it counted is lost.
bstate=$(job_wait_done "$b" 60) || fail "baseline job $b did not end"
blost=$(grep -c '^tick=' "$base")
[ "$bstate" = TIMEOUT ] || fail "baseline job $b ended $bstate"
grep -q "^final=" "$base" && fail "baseline job finished?"
ok "work lost: $lost s with slurm-checkpoint over $restarts time limits; baseline without it: $blost s (TIMEOUT, N=$N never reached)"
