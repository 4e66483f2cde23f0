#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0800-restart-dir: a new job started with --restart-dir=<image> resumes from
# that image (another job's).  A --restart-dir with nothing to resume from,
# an image that no longer matches its manifest or a checkpoint directory
# with no image of the new job, is refused: the task is not started (the
# job fails) and says why on its standard error.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ck1=$(user_dir "$CLUSTER_DIR/ck1")
ck2=$(user_dir "$CLUSTER_DIR/ck2")

# A first job leaves images behind.
j1=$(submit --checkpoint=0:03 --checkpoint-dir="$ck1" -o "$CLUSTER_WORK/j1.out" \
	"$APPS/counter.sh" 9) || fail "sbatch of the first job failed"
state=$(job_wait_done "$j1" 40) || fail "job $j1 did not finish"
[ "$state" = COMPLETED ] || fail "job $j1 ended $state: $(cat "$CLUSTER_WORK/j1.out")"
img=$ck1/$j1.ckpt
image_verify "$img" || fail "$img does not verify"
c=$(cat "$img/count")
[ "$c" -gt 0 ] || fail "$img holds count '$c'"
ok "job $j1 left $img (seq $(manifest_get "$img" .seq), count $c)"

# A new job resumes from it.
j2=$(submit --checkpoint=0 --checkpoint-dir="$ck2" --restart-dir="$img" \
	-o "$CLUSTER_WORK/j2.out" "$APPS/counter.sh" 12) || fail "sbatch --restart-dir failed"
state=$(job_wait_done "$j2" 40) || fail "job $j2 did not finish"
[ "$state" = COMPLETED ] || fail "job $j2 ended $state: $(cat "$CLUSTER_WORK/j2.out")"
grep -qx "restart_dir=$img" "$CLUSTER_WORK/j2.out" ||
	fail "job $j2 did not get SLURM_RESTART_DIR=$img: $(cat "$CLUSTER_WORK/j2.out")"
grep -qx "start=$c" "$CLUSTER_WORK/j2.out" ||
	fail "job $j2 did not start at $c: $(cat "$CLUSTER_WORK/j2.out")"
grep -qx "final=12" "$CLUSTER_WORK/j2.out" || fail "job $j2: no final=12"
grep -q "$j2.batch restarted (restart count 0) from $img seq=" "$ck2/checkpoint.log" ||
	fail "no restart line in $ck2/checkpoint.log: $(cat "$ck2/checkpoint.log" 2>&1)"
ok "job $j2 --restart-dir=$img resumed at $c, finished at 12, logged"

# A copy of the image with one byte changed no longer verifies.
bad=$CLUSTER_DIR/ck1/bad.ckpt
cp -r "$img" "$bad" && chmod -R u+w "$bad" && chown -R "$CKPT_USER:" "$bad" ||
	fail "cannot copy $img"
printf '%d\n' $((c + 100)) | dd of="$bad/count" conv=notrunc status=none
j3=$(submit --checkpoint=0 --checkpoint-dir="$ck2" --restart-dir="$bad" \
	-o "$CLUSTER_WORK/j3.out" -e "$CLUSTER_WORK/j3.err" "$APPS/counter.sh" 3) ||
	fail "sbatch --restart-dir=<corrupt> failed"
state=$(job_wait_done "$j3" 30) || fail "job $j3 did not finish"
[ "$state" = FAILED ] || fail "job $j3 with a corrupt --restart-dir ended $state"
! grep -q "^start=" "$CLUSTER_WORK/j3.out" ||
	fail "job $j3 ran: $(cat "$CLUSTER_WORK/j3.out")"
grep -q "checkpoint: $j3.batch: --restart-dir=$bad: no usable image (count: .*not started" "$CLUSTER_WORK/j3.err" ||
	fail "job $j3 did not say why: $(cat "$CLUSTER_WORK/j3.err")"
ok "corrupt image refused, job $j3 $state: $(head -n1 "$CLUSTER_WORK/j3.err")"

# The checkpoint directory itself holds no image of the new job.
j4=$(submit --checkpoint=0 --checkpoint-dir="$ck2" --restart-dir="$ck1" \
	-o "$CLUSTER_WORK/j4.out" -e "$CLUSTER_WORK/j4.err" "$APPS/counter.sh" 3) ||
	fail "sbatch --restart-dir=<checkpoint dir> failed"
state=$(job_wait_done "$j4" 30) || fail "job $j4 did not finish"
[ "$state" = FAILED ] || fail "job $j4 with --restart-dir=$ck1 ended $state"
grep -q "checkpoint: $j4.batch: --restart-dir=$ck1: no usable image (no image $j4.ckpt in $ck1).*not started" "$CLUSTER_WORK/j4.err" ||
	fail "job $j4 did not say why: $(cat "$CLUSTER_WORK/j4.err")"
ok "--restart-dir=<checkpoint dir> without the job's image refused, job $j4 $state: $(head -n1 "$CLUSTER_WORK/j4.err")"
