#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1450-restart: "scheckpoint vacate" checkpoints a counter on c2 and ends the
# job; the image holds the saved job (slurm-job.json, slurm-job.script, in
# the manifest).  "scheckpoint restart <job> ImageDir=<dir> StickToNodes"
# submits it again under a new job id, on c2, resuming from the image, and
# it counts on to the end.  Refused: the other user, a job still in the
# queue, a job with no image.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 2

N=30
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/rs.out
j=$(submit -w c2 --checkpoint=0 --checkpoint-dir="$ckdir" -J counter \
	-o "$out" "$APPS/counter.sh" $N) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
sleep 3
ok "job $j running on $(job_field "$j" NodeList)"

msg=$(as_user "$SCHECKPOINT" restart "$j" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "restart of running job $j: exit $rc: $msg"
echo "$msg" | grep -q 'still in the queue.*scheckpoint requeue' || fail "restart of a running job: $msg"
ok "restart of a running job refused: $msg"

msg=$(as_user "$SCHECKPOINT" vacate "$j" MaxWait=60 2>&1) || fail "vacate $j: $msg"
state=$(job_wait_done "$j" 30) || fail "job $j did not end after vacate"
[ "$state" = CANCELLED ] || fail "job $j is $state after vacate"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "$img does not verify"
count=$(cat "$img/count")
[ "$count" -gt 0 ] && [ "$count" -lt $N ] || fail "count $count in $img"
for f in slurm-job.json slurm-job.script; do
	jq -e --arg f $f '[.files[].path] | index($f)' "$img/manifest.json" >/dev/null ||
		fail "$f is not in the manifest of $img"
done
[ "$(jq -r .user_id "$img/slurm-job.json")" = "$(id -u "$CKPT_USER")" ] || fail "slurm-job.json: $(cat "$img/slurm-job.json")"
[ "$(jq -r .nodes "$img/slurm-job.json")" = c2 ] || fail "slurm-job.json nodes: $(jq -r .nodes "$img/slurm-job.json")"
cmp -s "$img/slurm-job.script" "$APPS/counter.sh" || fail "slurm-job.script differs from the script submitted"
[ "$(stat -c %U "$img/slurm-job.json")" = "$CKPT_USER" ] || fail "slurm-job.json is owned by $(stat -c %U "$img/slurm-job.json")"
ok "vacate: job $state, image seq $(manifest_get "$img" .seq) at count $count holds the job and its script (owned by $CKPT_USER, in the manifest)"

before=$(squeue -h -o %i | wc -l)
msg=$(as_other "$SCHECKPOINT" restart "$j" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "restart by $CKPT_OTHER: exit $rc: $msg"
[ "$(squeue -h -o %i | wc -l)" = "$before" ] || fail "restart by $CKPT_OTHER submitted a job: $(squeue)"
ok "restart by $CKPT_OTHER refused: $msg"

msg=$(as_user "$SCHECKPOINT" --json restart "$j" ImageDir="$ckdir" StickToNodes 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "restart $j: exit $rc: $msg"
nj=$(echo "$msg" | jq -r .job_id) || fail "restart --json: $msg"
[ -n "$nj" ] && [ "$nj" != "$j" ] && [ "$nj" != null ] || fail "restart gave job '$nj': $msg"
job_wait_state "$nj" RUNNING 30 || fail "restarted job $nj did not start"
node=$(job_field "$nj" NodeList)
[ "$node" = c2 ] || fail "restarted job $nj runs on '$node', not on c2 (StickToNodes)"
[ "$(job_field "$nj" JobName)" = counter ] || fail "restarted job's name: $(job_field "$nj" JobName)"
ok "restart: new job $nj on $node (StickToNodes)"
state=$(job_wait_done "$nj" 30 "$out") || fail "job $nj did not finish"
[ "$state" = COMPLETED ] || fail "job $nj: $state: $(tail -5 "$out")"
grep -q "^restart_dir=$img\$" "$out" || fail "the second run had no SLURM_RESTART_DIR=$img: $(grep restart_dir "$out")"
grep -q "^start=$count\$" "$out" || fail "the second run did not resume at $count: $(grep start= "$out")"
grep -q "^final=$N\$" "$out" || fail "no final=$N: $(tail -3 "$out")"
[ "$(grep -c '^start=' "$out")" = 2 ] || fail "output not appended: $(grep start= "$out")"
ok "job $nj resumed at $count from $img and counted to $N ($state; output appended to $out)"

msg=$(SLURM_CHECKPOINT_DIR=$ckdir as_user "$SCHECKPOINT" restart "$nj" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "restart of $nj (no image): exit $rc: $msg"
echo "$msg" | grep -q "no image $ckdir/$nj.ckpt" || fail "restart with no image: $msg"
ok "restart of a job with no image (ImageDir from SLURM_CHECKPOINT_DIR) refused: $msg"

msg=$(env -u SLURM_CHECKPOINT_DIR runuser -u "$CKPT_USER" -- "$SCHECKPOINT" restart "$j" 2>&1)
[ $? -eq 2 ] || fail "restart without ImageDir: $msg"
ok "restart without ImageDir= is a usage error: $msg"

msg=$(as_user "$SCHECKPOINT" restart "$j.0" ImageDir="$ckdir" 2>&1)
[ $? -eq 2 ] || fail "restart of a step: $msg"
ok "restart of a step is a usage error: $msg"

# root restarts it as its owner (dropping to the image's owner first).
msg=$("$SCHECKPOINT" restart "$j" ImageDir="$ckdir" 2>&1) || fail "restart by root: $msg"
rj=${msg##* }
echo "$msg" | grep -q '^Submitted batch job [0-9][0-9]*$' || fail "restart by root said: $msg"
[ "$(job_field "$rj" UserId)" = "$CKPT_USER($(id -u "$CKPT_USER"))" ] || fail "job $rj of root's restart: UserId=$(job_field "$rj" UserId)"
scancel "$rj"
ok "restart by root: $msg, as $(job_field "$rj" UserId)"
