#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1410-vacate-requeue: "scheckpoint requeue" checkpoints the counter, then
# requeues it; the second run resumes from that image.  "scheckpoint vacate"
# checkpoints it, then ends the job; the image (reason vacate) is kept.
# Neither acts when the job is another user's.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/vr.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
sleep 3
ok "job $j running (no periodic images)"

msg=$(as_user "$SCHECKPOINT" requeue "$j" MaxWait=60 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "requeue $j: exit $rc: $msg"
echo "$msg" | grep -q 'committed.*job requeued' || fail "requeue message: $msg"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "$img does not verify"
seq=$(manifest_get "$img" .seq)
[ "$(manifest_get "$img" .reason)" = requeue ] || fail "reason $(manifest_get "$img" .reason)"
count=$(cat "$img/count")
ok "requeue: $msg (count $count)"
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
[ "$(job_field "$j" Restarts)" = 1 ] || fail "Restarts=$(job_field "$j" Restarts)"
wait_for 15 grep -q '^restart_count=1' "$out" || fail "no second run: $(cat "$out")"
wait_for 10 grep -q "^start=$count\$" "$out" || fail "second run did not resume at $count: $(grep start= "$out")"
ok "second run resumed at $count from seq $seq"

msg=$(as_other "$SCHECKPOINT" vacate "$j" 2>&1)
[ $? -eq 1 ] || fail "vacate by $CKPT_OTHER: $msg"
sleep 1
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after $CKPT_OTHER's vacate"
ok "vacate by $CKPT_OTHER refused: $msg"

sleep 2
msg=$(as_user "$SCHECKPOINT" vacate "$j" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "vacate $j: exit $rc: $msg"
echo "$msg" | grep -q 'committed.*job ended' || fail "vacate message: $msg"
state=$(job_wait_done "$j" 30) || fail "job $j did not end after vacate"
ok "vacate: $msg; job $state"
grep -q '^final=' "$out" && fail "the job finished counting: it was not ended"
image_verify "$img" || fail "$img does not verify after vacate"
[ "$(manifest_get "$img" .reason)" = vacate ] || fail "reason $(manifest_get "$img" .reason)"
[ "$(manifest_get "$img" .seq)" -gt "$seq" ] || fail "vacate made no newer image"
ok "image kept after vacate (seq $(manifest_get "$img" .seq), reason vacate, count $(cat "$img/count"))"
