#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1210-preempt: two partitions, "low" (PriorityTier=1, GraceTime=30,
# PreemptMode=REQUEUE) and "high" (PriorityTier=10).  A counter with
# --checkpoint=0 runs in "low" on c1, the same counter without
# --checkpoint on c2; a job in "high" that needs both nodes preempts them.
# The checkpointed job must be checkpointed and requeued well inside the
# grace time (the helper does not wait for it to run out), and finish
# later from its image; the baseline is requeued by Slurm at the end of
# the grace time and starts again from zero.  The work lost by each is
# printed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
GRACE=30
CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=$GRACE PreemptMode=REQUEUE MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=REQUEUE"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 2

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=60
out=$CLUSTER_WORK/counter.out
base=$CLUSTER_WORK/baseline.out
ncpu=$(scontrol -o show node c1 | tr ' ' '\n' | sed -n 's/^CPUTot=//p')
[ -n "$ncpu" ] || fail "cannot read c1's CPUs"

j=$(submit -p low -w c1 -n "$ncpu" --checkpoint=0 --checkpoint-dir="$ckdir" \
	--requeue --open-mode=append -o "$out" "$APPS/counter.sh" "$N") || fail "sbatch failed"
b=$(submit -p low -w c2 -n "$ncpu" --requeue --open-mode=append -o "$base" \
	"$APPS/counter.sh" "$N") || fail "sbatch (baseline) failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
job_wait_state "$b" RUNNING 20 || fail "baseline job $b did not start"
wait_for 30 grep -qs '^tick=15$' "$out" || fail "job $j does not count: $(cat "$out")"
ok "job $j (--checkpoint=0) on c1 and baseline $b on c2 running in partition low"

# The high-priority job needs every CPU of both nodes.
t0=$(date +%s)
h=$(submit -p high -N 2 -n $((2 * ncpu)) --wrap "sleep 10") || fail "sbatch (high) failed"
wait_for "$GRACE" grep -qs "preemption: final checkpoint done.*requeued (restart count 1)" \
	"$ckdir/checkpoint.log" ||
	fail "no preemption checkpoint and requeue within the grace time ($GRACE s): $(cat "$ckdir/checkpoint.log" 2>&1)"
t1=$(date +%s)
grep -q 'committed.* reason=preemption' "$ckdir/checkpoint.log" ||
	fail "no image committed with reason preemption"
ok "checkpointed and requeued $((t1 - t0)) s after the preempting job $h was submitted (grace time $GRACE s): $(grep 'preemption: final' "$ckdir/checkpoint.log" | cut -d' ' -f2-)"

# Slurm itself requeues the baseline only when the grace time is over.
[ "$(job_field "$b" Restarts)" = 0 ] ||
	fail "baseline was requeued before the grace time ran out"

state=$(job_wait_done "$h" 120) || fail "high job $h did not run"
[ "$state" = COMPLETED ] || fail "high job $h ended $state"
state=$(job_wait_done "$j" 180) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
bstate=$(job_wait_done "$b" 180) || fail "baseline job $b did not finish"
[ "$bstate" = COMPLETED ] || fail "baseline job $b ended $bstate"
brestarts=$(job_field "$b" Restarts)
[ "$brestarts" -ge 1 ] || fail "baseline job was never preempted"

# Slurm 24.11 requeues a job that was requeued by a preemption once more
# when it next COMPLETES, checkpointed or not (the baseline too; 22.05 and
# 26.05 do not).  Such a run of Slurm's own is not the helper's doing:
# when the baseline had one, only the first two runs of job $j are checked.
starts=$(sed -n 's/^start=//p' "$out" | tr '\n' ' ')
runs=$(grep -c '^start=' "$out")
if [ "$runs" -ne 2 ]; then
	[ "$brestarts" -ge 2 ] && [ "$runs" -le $((brestarts + 1)) ] || fail "runs: $starts"
	note "Slurm requeued the baseline $((brestarts - 1)) more time(s) after it COMPLETED, and job $j with it (runs at $starts): the first two runs are checked"
	awk '/^start=/ { n++ } n <= 2' "$out" >"$out.first2"
	out=$out.first2
fi
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(grep '^start=' "$out" | tail -n1)" != start=0 ] || fail "the second run started from 0"
ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
lost=$(($(echo "$ticks" | wc -l) - N))
[ "$lost" -ge 0 ] && [ "$lost" -le 3 ] || fail "$lost seconds of work repeated"
ok "job $j resumed (runs started at $starts) and completed with final=$N"

if [ "$brestarts" -ge 2 ]; then
	awk '/^start=/ { n++ } n <= 2' "$base" >"$base.first2"
	base=$base.first2
fi
blost=$(($(grep -c '^tick=' "$base") - N))
[ "$(grep '^start=' "$base" | tail -n1)" = start=0 ] || fail "baseline resumed?"
ok "work lost to preemption: $lost s with slurm-checkpoint; baseline without it: $blost s (restarted from 0)"
