#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1460-imagedir: "scheckpoint create|vacate <job> ImageDir=<dir>" commits the
# image into <dir> (a rename of the staging directory on the same
# filesystem, a copy onto a tmpfs of the test's own), with rotation there;
# the step's own directory gets no image, only a checkpoint.log line saying
# where it went.  A root-owned ImageDir is refused and nothing is written;
# a relative one, or ImageDir= for able, is a usage error.  requeue
# ImageDir= commits there, then requeues the job.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v mount >/dev/null || skip "no mount"

sck() { as_user timeout 60 "$SCHECKPOINT" "$@"; }

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
other=$(user_dir "$CLUSTER_DIR/elsewhere")
tmpfs=$(user_dir "$CLUSTER_DIR/tmpfs")
mount -t tmpfs -o size=4m,mode=0755,uid="$(id -u "$CKPT_USER")",gid="$(id -g "$CKPT_USER")" \
	ckpttest "$tmpfs" || skip "cannot mount a tmpfs on $tmpfs"
trap 'rc=$?; umount -l "$tmpfs" 2>/dev/null; (exit $rc); cluster_stop' EXIT
[ "$(stat -c %d "$tmpfs")" != "$(stat -c %d "$ckdir")" ] || fail "the tmpfs is not another filesystem"

out=$CLUSTER_WORK/imagedir.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 120) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
sleep 2
ok "job $j running, checkpoint dir $ckdir"

# Same filesystem: the staging directory is renamed into ImageDir.
msg=$(sck create "$j" ImageDir="$other" 2>&1) || fail "create ImageDir=$other: exit $?: $msg"
echo "$msg" | grep -qF "$other/$j.ckpt" || fail "the reply does not name $other/$j.ckpt: $msg"
image_verify "$other/$j.ckpt" || fail "$other/$j.ckpt does not verify"
[ "$(manifest_get "$other/$j.ckpt" .seq)" = 1 ] || fail "seq in $other: $(manifest_get "$other/$j.ckpt" .seq)"
[ -s "$other/$j.ckpt/count" ] || fail "no count in $other/$j.ckpt"
[ -f "$other/$j.ckpt/slurm-job.json" ] || fail "the saved job is not in $other/$j.ckpt"
[ "$(stat -c %U "$other/$j.ckpt/count")" = "$CKPT_USER" ] || fail "$other/$j.ckpt/count is not $CKPT_USER's"
grep -q "$j.batch seq=1 committed" "$other/checkpoint.log" || fail "no commit in $other/checkpoint.log: $(cat "$other/checkpoint.log" 2>&1)"
ok "create ImageDir=$other: $msg"
[ -z "$(ls -A "$ckdir" | grep -v '^checkpoint.log$')" ] || fail "$ckdir has more than its log: $(ls -A "$ckdir")"
grep -qF "$j.batch seq=1 committed to ImageDir $other/$j.ckpt reason=create" "$ckdir/checkpoint.log" ||
	fail "$ckdir/checkpoint.log does not say where the image went: $(cat "$ckdir/checkpoint.log" 2>&1)"
ok "$ckdir: no image, no staging left, its log names $other/$j.ckpt"

js=$(as_user "$SCHECKPOINT" --json create "$j" ImageDir="$other" MaxWait=30) || fail "create --json ImageDir=: exit $?: $js"
[ "$(echo "$js" | jq -r '.image')" = "$other/$j.ckpt" ] || fail "--json image: $js"
[ "$(manifest_get "$other/$j.ckpt" .seq)" = 2 ] || fail "second image in $other is not seq 2"
[ -d "$other/$j.ckpt.1" ] && image_verify "$other/$j.ckpt.1" || fail "seq 1 not kept as $other/$j.ckpt.1: $(ls "$other")"
ok "create --json ImageDir=: seq 2 in $other, seq 1 rotated to $j.ckpt.1"

# Another filesystem: rename fails with EXDEV, the tree is copied.
msg=$(sck create "$j" ImageDir="$tmpfs" 2>&1) || fail "create ImageDir=$tmpfs (tmpfs): exit $?: $msg"
echo "$msg" | grep -qF "$tmpfs/$j.ckpt" || fail "the reply does not name $tmpfs/$j.ckpt: $msg"
image_verify "$tmpfs/$j.ckpt" || fail "$tmpfs/$j.ckpt does not verify"
[ -s "$tmpfs/$j.ckpt/count" ] && [ -f "$tmpfs/$j.ckpt/slurm-job.json" ] || fail "$tmpfs/$j.ckpt lacks files: $(ls -la "$tmpfs/$j.ckpt")"
[ "$(stat -c %U "$tmpfs/$j.ckpt/count")" = "$CKPT_USER" ] || fail "the copy is not $CKPT_USER's"
[ -z "$(ls -A "$ckdir" | grep -v '^checkpoint.log$')" ] || fail "the staging dir is left in $ckdir: $(ls -A "$ckdir")"
[ -z "$(ls -A "$tmpfs" | grep -v -e '^checkpoint.log$' -e "^$j.ckpt\$")" ] || fail "debris in $tmpfs: $(ls -A "$tmpfs")"
ok "create ImageDir=$tmpfs (another filesystem, copied): $msg"

# Refused: a directory the user cannot write; nothing written there.
rootdir=$CLUSTER_DIR/rootdir
mkdir -p "$rootdir" && chmod 0755 "$rootdir"
for d in "$rootdir" /root; do
	before=$(ls -A "$d")
	msg=$(sck create "$j" ImageDir="$d" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "create ImageDir=$d: exit $rc (want 1): $msg"
	echo "$msg" | grep -q "ImageDir=$d" || fail "the error does not name ImageDir=$d: $msg"
	echo "$msg" | grep -q "Permission denied" || fail "the error does not say Permission denied: $msg"
	[ "$(ls -A "$d")" = "$before" ] || fail "something was written into $d: $(ls -A "$d")"
	ok "create ImageDir=$d refused: $msg"
done
[ -z "$(ls -A "$ckdir" | grep -v '^checkpoint.log$')" ] || fail "refused creates left $(ls -A "$ckdir")"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the refusals"
ok "refusals: no image or staging in $ckdir, job still running"

msg=$(sck create "$j" ImageDir=relative/dir 2>&1)
[ $? -eq 2 ] || fail "ImageDir=relative: not a usage error: $msg"
msg=$(sck able "$j" ImageDir="$other" 2>&1)
[ $? -eq 2 ] || fail "able ImageDir=: not a usage error: $msg"
ok "ImageDir= relative, or for able: usage errors (exit 2)"

# Without ImageDir= the image goes to the step's own directory as usual.
msg=$(sck create "$j" 2>&1) || fail "create: exit $?: $msg"
echo "$msg" | grep -qF "$ckdir/$j.ckpt" || fail "plain create: $msg"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
[ "$(manifest_get "$other/$j.ckpt" .seq)" = 2 ] || fail "plain create changed $other"
ok "plain create: $ckdir/$j.ckpt, $other untouched"
msg=$(sck create "$j" ImageDir="$ckdir" 2>&1) || fail "create ImageDir=<its own dir>: exit $?: $msg"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" = 2 ] && image_verify "$ckdir/$j.ckpt" ||
	fail "ImageDir=$ckdir (its own): no verifying seq 2: $(ls -A "$ckdir")"
ok "create ImageDir=<the step's own dir>: seq 2 there"

# vacate ImageDir=: the last image there, then the job ends.
msg=$(sck vacate "$j" ImageDir="$other" 2>&1) || fail "vacate ImageDir=: exit $?: $msg"
echo "$msg" | grep -qF "$other/$j.ckpt" || fail "vacate reply: $msg"
[ "$(manifest_get "$other/$j.ckpt" .seq)" = 3 ] || fail "vacate: no seq 3 in $other"
image_verify "$other/$j.ckpt" || fail "vacate image does not verify"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end after vacate"
ok "vacate ImageDir=$other: seq 3 there, job ended"

# requeue ImageDir=: the image there, then the job runs again.
ck2=$(user_dir "$CLUSTER_DIR/ckpt2")
out2=$CLUSTER_WORK/requeue.out
j2=$(submit --checkpoint=0 --checkpoint-dir="$ck2" --requeue --open-mode=append \
	-o "$out2" "$APPS/counter.sh" 300) || fail "sbatch of the requeue job failed"
job_wait_state "$j2" RUNNING 20 || fail "job $j2 did not start"
wait_for 10 grep -q '^start=' "$out2" || fail "job $j2's app did not start: $(cat "$out2" 2>&1)"
msg=$(sck requeue "$j2" ImageDir="$other" MaxWait=30 2>&1) || fail "requeue ImageDir=: exit $?: $msg"
echo "$msg" | grep -q "committed: $other/$j2.ckpt .*job requeued" || fail "requeue reply: $msg"
image_verify "$other/$j2.ckpt" || fail "$other/$j2.ckpt does not verify"
[ "$(manifest_get "$other/$j2.ckpt" .reason)" = requeue ] || fail "reason $(manifest_get "$other/$j2.ckpt" .reason)"
[ -e "$ck2/$j2.ckpt" ] && fail "requeue ImageDir= also wrote $ck2/$j2.ckpt"
job_wait_state "$j2" RUNNING 60 || fail "job $j2 did not run again"
[ "$(job_field "$j2" Restarts)" = 1 ] || fail "Restarts=$(job_field "$j2" Restarts)"
ok "requeue ImageDir=$other: $msg"
scancel "$j2"
job_wait_done "$j2" 20 >/dev/null || fail "job $j2 not cancelled"
