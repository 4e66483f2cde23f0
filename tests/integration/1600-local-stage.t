#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1600-local-stage: node-local staging (local= on the plugstack line).  The
# local directory is a 4 MiB tmpfs of the test's own, owned by root.  The
# tasks get SLURM_CHECKPOINT_DIR there; each checkpoint is committed there,
# then flushed to the shared checkpoint directory and committed under the
# same seq; checkpoint.log holds the pause and the flush times; keep= applies
# to the local copies too.  A checkpoint that outgrows the local tmpfs fails
# cleanly (both previous images intact, the error recorded, the job running).
# After a requeue on the same node the job resumes from the local copy (kept
# while the job is requeued); when the job ends for good, it is removed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v mount >/dev/null || skip "no mount"

ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

LOCAL=$(mktemp -d /tmp/ckpt-local.XXXXXX) || fail "mktemp"
chmod 0755 "$LOCAL"
mount -t tmpfs -o size=4m,mode=0755 ckptlocal "$LOCAL" || { rmdir "$LOCAL"; skip "cannot mount a tmpfs on $LOCAL"; }
CKPT_KEEP=2 CKPT_PLUGIN_ARGS="local=$LOCAL" cluster_start 1
trap 'rc=$?; umount -l "$LOCAL" 2>/dev/null; rmdir "$LOCAL" 2>/dev/null; (exit $rc); cluster_stop' EXIT
ok "4 MiB tmpfs on $LOCAL, plugstack: local=$LOCAL"

uid=$(id -u "$CKPT_USER")
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
chmod 0644 "$mode"
out=$CLUSTER_WORK/local.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/hostile.sh" "$mode") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"

[ "$(stat -c '%u %a' "$LOCAL/$uid")" = "$uid 700" ] ||
	fail "$LOCAL/$uid is $(stat -c '%U %a' "$LOCAL/$uid" 2>&1), want $CKPT_USER 700"
ok "$LOCAL/$uid: the user's, mode 0700"

limg=$LOCAL/$uid/$j/$j.ckpt
img=$ckdir/$j.ckpt
for i in 1 2 3; do
	sleep 1
	msg=$(ckcreate "$j" 2>&1) || fail "create $i: $msg"
done
image_verify "$limg" || fail "local $limg does not verify"
image_verify "$img" || fail "shared $img does not verify"
seq=$(manifest_get "$img" .seq)
count=$(cat "$img/count")
[ "$seq" = 3 ] && [ "$(manifest_get "$limg" .seq)" = 3 ] ||
	fail "seq: shared $seq, local $(manifest_get "$limg" .seq), want 3 and 3"
[ "$(cat "$limg/count")" = "$count" ] || fail "local count $(cat "$limg/count"), shared $count"
ok "three checkpoints: seq 3 committed locally and in $ckdir (count $count)"
[ "$(image_count "$LOCAL/$uid/$j" "$j.ckpt")" -eq 2 ] ||
	fail "keep=2 locally: $(ls "$LOCAL/$uid/$j")"
[ "$(image_count "$ckdir" "$j.ckpt")" -eq 2 ] || fail "keep=2 shared: $(ls "$ckdir")"
ok "keep=2 applies to the local copies too: $(ls "$LOCAL/$uid/$j" | tr '\n' ' ')"
ls -d "$ckdir/$j.ckpt.partial" 2>/dev/null && fail "the tasks wrote into the shared directory"
line=$(grep -m1 "$j.batch seq=3 flushed paused=[0-9]*ms flush=[0-9]*ms" "$ckdir/checkpoint.log") ||
	fail "checkpoint.log has no flush line: $(cat "$ckdir/checkpoint.log")"
grep -q "$j.batch seq=3 tasks released paused=[0-9]*ms staged in $LOCAL/$uid/$j" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log has no release line: $(cat "$ckdir/checkpoint.log")"
ok "checkpoint.log: $line"

# ImageDir= (another filesystem than the local tmpfs): the staging is
# copied there and committed there only, the local images stay as they are.
other=$(user_dir "$CLUSTER_WORK/other")
msg=$(ckcreate "$j" ImageDir="$other" 2>&1) || fail "create ImageDir=$other: $msg"
image_verify "$other/$j.ckpt" || fail "$other/$j.ckpt does not verify"
[ "$(manifest_get "$limg" .seq)" = 3 ] && [ "$(manifest_get "$img" .seq)" = 3 ] ||
	fail "ImageDir= changed the local or shared image"
ls -d "$LOCAL/$uid/$j"/*.partial "$ckdir"/*.partial 2>/dev/null && fail "staging left after ImageDir="
ok "create ImageDir=$other: committed there from the local staging, seq 3 stays local and shared"

# A full local disk: the tasks' 8 MiB do not fit in 4 MiB.
echo blob:8388608 >"$mode"
msg=$(ckcreate "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "create of an 8 MiB image into a 4 MiB local dir: exit $rc (want 1): $msg"
echo "$msg" | grep -q 'No space left on device' || fail "message does not say 'No space left on device': $msg"
ok "create fails: $msg"
grep -q "$j.batch failed: .*No space left on device" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not record it: $(cat "$ckdir/checkpoint.log")"
ls -d "$LOCAL/$uid/$j"/*.partial "$ckdir"/*.partial 2>/dev/null && fail "staging debris left"
for i in "$limg" "$img"; do
	image_verify "$i" || fail "$i no longer verifies"
	[ "$(manifest_get "$i" .seq)" = "$seq" ] || fail "$i changed: seq $(manifest_get "$i" .seq)"
	[ "$(cat "$i/count")" = "$count" ] || fail "$i: count changed"
done
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the failed checkpoint"
require_helper
ok "previous local and shared images intact (seq $seq), job RUNNING, no debris"

echo ok >"$mode"
sleep 2
msg=$(ckcreate "$j" 2>&1) || fail "a small checkpoint after the full disk failed: $msg"
seq=$(manifest_get "$img" .seq)
count=$(cat "$img/count")
[ "$(manifest_get "$limg" .seq)" = "$seq" ] || fail "local seq $(manifest_get "$limg" .seq), shared $seq"
ok "the next checkpoint succeeds: seq $seq, count $count"

sleep 2
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_restarted() { sed -n '/^restart_dir=/,$p' "$out" | grep -q "^start="; }
wait_for 60 _restarted || fail "job $j did not restart: $(cat "$out")"
grep -qx "restart_dir=$limg" "$out" || fail "restarted from $(grep restart_dir= "$out"), want the local $limg"
got=$(sed -n '/^restart_dir=/,$p' "$out" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$count" ] || fail "resumed at '$got', the newest image holds $count"
grep -q "$j.batch restarted (restart count 1) from $limg seq=$seq" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not say it restarted from $limg: $(tail -n3 "$ckdir/checkpoint.log")"
ok "after a requeue on the same node the job resumed from the local copy $limg at $count"

# The job ends for good: its local space is freed, the shared images stay.
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
_freed() { [ ! -e "$LOCAL/$uid/$j" ]; }
wait_for 30 _freed || fail "$LOCAL/$uid/$j still there after the job ended: $(ls -R "$LOCAL/$uid" | head)"
[ -d "$LOCAL/$uid" ] || fail "$LOCAL/$uid was removed too"
image_verify "$img" || fail "$img does not verify after the job ended"
ok "job ended ($(job_state "$j")): $LOCAL/$uid/$j removed, shared $img kept"
