#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1000-full-disk: the checkpoint directory is a 2 MiB tmpfs of the test's own.
# A checkpoint that outgrows it fails cleanly: scheckpoint create says "No
# space left on device", checkpoint.log records it, no staging directory is
# left, the previous image is untouched and verifies, the job keeps running,
# a later (smaller) checkpoint succeeds, and after a requeue the job resumes
# from the newest good image.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v mount >/dev/null || skip "no mount"

# scheckpoint create, bounded: a helper that never replies fails the test
# (exit 124) instead of hanging it.
ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

CKPT_KEEP=2 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mount -t tmpfs -o size=2m,mode=0755,uid="$(id -u "$CKPT_USER")",gid="$(id -g "$CKPT_USER")" \
	ckpttest "$ckdir" || skip "cannot mount a tmpfs on $ckdir"
# Unmount before cluster_stop removes the cluster directory (lazily: the
# job may still hold the directory open); keep the test's exit status.
trap 'rc=$?; umount -l "$ckdir" 2>/dev/null; (exit $rc); cluster_stop' EXIT
ok "2 MiB tmpfs mounted on $ckdir"

mode=$CLUSTER_WORK/mode
echo blob:102400 >"$mode"
chmod 0644 "$mode"
out=$CLUSTER_WORK/full.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/hostile.sh" "$mode") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"

img=$ckdir/$j.ckpt
for i in 1 2; do
	sleep 1
	msg=$(ckcreate "$j" 2>&1) || fail "create $i: $msg"
done
image_verify "$img" || fail "$img does not verify"
seq=$(manifest_get "$img" .seq)
count=$(cat "$img/count")
[ "$(image_count "$ckdir" "$j.ckpt")" -eq 2 ] || fail "want 2 images: $(ls "$ckdir")"
ok "two 100 KiB images committed (newest seq $seq, count $count)"

echo blob:4194304 >"$mode"
msg=$(ckcreate "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "create of a 4 MiB image into 2 MiB: exit $rc (want 1): $msg"
echo "$msg" | grep -q 'No space left on device' || fail "message does not say 'No space left on device': $msg"
echo "$msg" | grep -q 'needs room for keep+1 = 3 images of the step' ||
	fail "message does not say how much room a checkpoint needs: $msg"
ok "create fails: $msg"
grep -q "$j.batch failed: .*No space left on device" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not record it: $(cat "$ckdir/checkpoint.log")"
ok "checkpoint.log: $(grep -m1 'No space' "$ckdir/checkpoint.log")"
ls -d "$ckdir"/*.partial 2>/dev/null && fail "staging debris left: $(ls -a "$ckdir")"
ok "no staging directory left"
image_verify "$img" || fail "$img no longer verifies"
[ "$(manifest_get "$img" .seq)" = "$seq" ] || fail "the newest image changed: seq $(manifest_get "$img" .seq)"
[ "$(cat "$img/count")" = "$count" ] || fail "the newest image's count changed"
[ "$(image_count "$ckdir" "$j.ckpt")" -eq 2 ] || fail "images lost: $(ls "$ckdir")"
ok "previous image intact (seq $seq) and verifies"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the failed checkpoint"
require_helper
ok "job $j still RUNNING, slurmckptd alive"

sleep 2
echo ok >"$mode"
msg=$(ckcreate "$j" 2>&1) || fail "a small checkpoint after the full disk failed: $msg"
image_verify "$img" || fail "$img does not verify"
seq=$(manifest_get "$img" .seq)
count=$(cat "$img/count")
ok "the next small checkpoint succeeds: seq $seq, count $count"

# Fill the filesystem with something else, fail once more, then restart.
echo blob:4194304 >"$mode"
ckcreate "$j" >/dev/null 2>&1 && fail "second oversized create succeeded"
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_restarted() { grep -q "^restart_dir=" "$out"; }
wait_for 50 _restarted || fail "job $j did not restart: $(cat "$out")"
grep -qx "restart_dir=$img" "$out" || fail "restarted from $(grep restart_dir= "$out"), want $img"
got=$(sed -n '/^restart_dir=/,$p' "$out" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$count" ] || fail "resumed at '$got', the newest good image holds $count"
ok "after a requeue the job resumed from $img at $count"
scancel "$j"
