#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0400-requeue-resume: the counter (batch script, --checkpoint=0:05) is
# requeued after two commits; it runs again with SLURM_RESTART_COUNT=1, gets
# the newest image in SLURM_RESTART_DIR, resumes at its count and finishes:
# no number skipped, at most one interval counted twice.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=30
INTERVAL=5
out=$CLUSTER_WORK/counter.out
j=$(submit --checkpoint=0:0$INTERVAL --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/counter.sh" "$N") || fail "sbatch failed"
ok "job $j submitted"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"

wait_for 30 commits_at_least "$ckdir" "$j.batch" 2 ||
	fail "fewer than 2 commits after 30 s: $(cat "$ckdir/checkpoint.log" 2>&1; cat "$out")"
sleep 2  # something to lose: a couple of ticks after the last commit
scontrol requeue "$j" || fail "scontrol requeue $j failed"
ok "requeued job $j after $(committed_count "$ckdir" "$j.batch") commits"

# The first run ends; the newest image then is what the second run must get.
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still RUNNING 20 s after the requeue"
note "state after requeue: $(job_state "$j") reason $(job_field "$j" Reason)"
newest=$ckdir/$j.ckpt
image_verify "$newest" || fail "newest image $newest does not verify"
want_seq=$(manifest_get "$newest" .seq)
want_count=$(cat "$newest/count")
ok "first run ended; newest image seq $want_seq, count $want_count"

# Second run: a requeued job waits cred_expire (10 s) before it is eligible.
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
[ "$(job_field "$j" Restarts)" = 1 ] || fail "Restarts=$(job_field "$j" Restarts)"
wait_for 10 grep -q '^restart_count=1' "$out" || fail "second run did not print restart_count=1: $(cat "$out")"
wait_for 10 grep -q '^start=[1-9]' "$out" || fail "second run did not resume: $(cat "$out")"
rdir=$(sed -n 's/^restart_dir=//p' "$out" | tail -n1)
start=$(sed -n 's/^start=//p' "$out" | tail -n1)
ok "second run: restart_count=1, SLURM_RESTART_DIR=$rdir, start=$start"
[ "$start" = "$want_count" ] || fail "resumed at $start, the newest image (seq $want_seq) has $want_count"
[ -f "$rdir/manifest.json" ] || fail "SLURM_RESTART_DIR $rdir has no manifest.json"
[ "$(jq -r .seq "$rdir/manifest.json" 2>/dev/null)" = "$want_seq" ] ||
	fail "SLURM_RESTART_DIR $rdir is not seq $want_seq (a newer image may have rotated it: $(ls "$ckdir"))"
ok "resumed from the newest image (seq $want_seq, count $want_count)"

state=$(job_wait_done "$j" 30 "$out") || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
ok "job completed with final=$N"

# Every number 1..N counted, none skipped; the repeated ones <= one interval.
ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
dups=$(($(echo "$ticks" | wc -l) - N))
[ "$dups" -ge 0 ] && [ "$dups" -le $((INTERVAL + 3)) ] ||
	fail "$dups numbers counted twice (interval $INTERVAL s)"
ok "1..$N all counted, $dups counted twice (<= interval + 3)"
grep -c '^start=' "$out" | grep -qx 2 || fail "expected two runs in the output: $(grep '^start=' "$out")"
ok "two runs in the output (start=0, start=$start)"
