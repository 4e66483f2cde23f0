#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1241-deadline-late: a job whose time limit is shorter than twice the lead
# (--time=1, lead 5:00 by default) is checkpointed at its deadline as late
# as its checkpoint cost allows (before any was measured, the max_wait of
# its steps plus 10 s: 20 s here), not at half of its limit; checkpoint.log
# says how much of the run was kept ("useful N of 60 s (P%)"), and the job
# resumes from that image.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=60
out=$CLUSTER_WORK/late.out
j=$(submit --time=1 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/counter.sh" $N) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
ok "job $j: counter.sh $N, --time=1, default lead"

wait_for 90 grep -qs "$j.batch deadline: final checkpoint done.*requeued" "$ckdir/checkpoint.log" ||
	fail "no deadline checkpoint and requeue: $(cat "$ckdir/checkpoint.log" 2>&1)"
line=$(grep "$j.batch deadline: final checkpoint" "$ckdir/checkpoint.log")
pct=$(echo "$line" | sed -n 's/.*; useful [0-9]* of 60 s (\([0-9]*\)%)$/\1/p')
[ -n "$pct" ] || fail "no useful fraction in: $line"
# Half the limit would be 50%; max_wait (10 s) + 10 s before the end is 66%.
[ "$pct" -ge 60 ] || fail "the deadline checkpoint came at $pct% of the limit: $line"
ok "$(echo "$line" | cut -d' ' -f2-)"

state=$(job_wait_done "$j" 150) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(grep '^start=' "$out" | tail -n1)" != start=0 ] || fail "the second run started from 0"
ok "job $j resumed (runs started at $(sed -n 's/^start=//p' "$out" | tr '\n' ' ')) and completed"
