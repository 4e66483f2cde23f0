#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1230-exit-code: checkpoint-and-exit.  The application writes its state
# into $SLURM_CHECKPOINT_DIR and exits with the code given by
# --checkpoint-exit-code; the helper commits the image (reason exit-code)
# and requeues the job, which resumes from it and finishes.  A bad code is
# refused by sbatch.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/exit.out

msg=$(as_user sbatch --checkpoint=0 --checkpoint-exit-code=300 --wrap true 2>&1) &&
	fail "sbatch accepted --checkpoint-exit-code=300"
echo "$msg" | grep -q "invalid --checkpoint-exit-code '300'" || fail "unclear message: $msg"
ok "--checkpoint-exit-code=300 refused: $(echo "$msg" | head -n1)"

j=$(submit --checkpoint=0 --checkpoint-exit-code=85 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/exitckpt.sh" 20 10) || fail "sbatch failed"
ok "job $j submitted"
wait_for 40 grep -qs '^exiting=10' "$out" || fail "the application did not exit: $(cat "$out")"
wait_for 20 grep -qs "exit-code: final checkpoint done.*requeued (restart count 1)" "$ckdir/checkpoint.log" ||
	fail "no commit and requeue after the exit code: $(cat "$ckdir/checkpoint.log" 2>&1)"
grep -q 'reason=exit-code' "$ckdir/checkpoint.log" || fail "commit reason is not exit-code: $(cat "$ckdir/checkpoint.log")"
[ "$(jq -r .reason "$ckdir/$j.ckpt/manifest.json")" = exit-code ] || fail "manifest reason"
[ "$(cat "$ckdir/$j.ckpt/count")" = 10 ] || fail "image holds $(cat "$ckdir/$j.ckpt/count")"
ok "image $j.ckpt committed (reason exit-code, count 10), job requeued"

state=$(job_wait_done "$j" 90) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx 'start=10' "$out" || fail "second run did not resume at 10: $(grep start= "$out")"
grep -qx 'final=20' "$out" || fail "no final=20"
lost=$(($(grep -c '^tick=' "$out") - 20))
[ "$lost" -eq 0 ] || fail "$lost ticks repeated"
ok "resumed at 10 and completed with final=20 (work lost: $lost s)"
wait_for 20 test ! -e "$ckdir/$j.ckpt.partial" ||
	fail "the completed job left $j.ckpt.partial: $(ls -la "$ckdir")"
ok "the completed job left no staging directory"
