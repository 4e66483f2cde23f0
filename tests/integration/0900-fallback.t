#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0900-fallback: the newest image is damaged while a requeued job waits to
# run again: the job resumes from the previous image, and both its standard
# error and checkpoint.log say that the newer image was skipped and why.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_KEEP=2 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/fb.out
err=$CLUSTER_WORK/fb.err
j=$(submit --checkpoint=0:03 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" -e "$err" "$APPS/counter.sh" 40) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 commits_at_least "$ckdir" "$j.batch" 3 ||
	fail "fewer than 3 commits: $(cat "$ckdir/checkpoint.log" 2>&1)"
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still RUNNING after the requeue"

# Both images are complete now; damage the newest one (as root: it is
# read-only) before the job runs again.
newest=$ckdir/$j.ckpt
older=$(images "$ckdir" "$j.ckpt" | sed -n 2p)
[ -n "$older" ] || fail "no older image: $(ls "$ckdir")"
image_verify "$older" || fail "$older does not verify"
want=$(cat "$older/count")
printf 'X' | dd of="$newest/count" bs=1 seek=0 conv=notrunc status=none
image_verify "$newest" 2>/dev/null && fail "damaging $newest did not show"
ok "newest image damaged; previous one $older holds count $want"

job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
_restarted() { grep -q '^restart_count=1' "$out" && grep -q "^start=" <(sed -n '/^restart_count=1/,$p' "$out"); }
wait_for 10 _restarted || fail "no second start: $(cat "$out")"
got=$(sed -n '/^restart_count=1/,$p' "$out" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$want" ] || fail "resumed at '$got', the previous image holds $want: $(cat "$out")"
grep -qx "restart_dir=$older" "$out" || fail "SLURM_RESTART_DIR is not $older: $(grep restart_dir "$out")"
ok "resumed from $older at $want"
grep -q "checkpoint: $j.batch: resuming from $older; newer images did not verify: " "$err" ||
	fail "no message on stderr: $(cat "$err")"
grep -q "$j.batch restarted (restart count 1) from $older seq=.*; skipped: " "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not say what was skipped: $(cat "$ckdir/checkpoint.log")"
ok "stderr and checkpoint.log say why: $(grep -m1 'did not verify' "$err")"
scancel "$j"
