#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1061-restart-exit-code: slurmckptd is killed (SIGKILL) and restarted while
# a --checkpoint-exit-code job runs.  The re-adopted step keeps working with
# the slurmstepd whose connection died: the task's later checkpoint-and-exit
# is reported by the plugin over a new connection, the helper commits the
# image (reason exit-code) and requeues the job, which resumes and finishes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/exit.out
log=$CLUSTER_DIR/slurmckptd.log
j=$(submit --checkpoint=0 --checkpoint-exit-code=85 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/exitckpt.sh" 20 8) || fail "sbatch failed"
wait_for 20 grep -qs '^tick=2' "$out" || fail "the application did not start: $(cat "$out" 2>&1)"
helper_kill
helper_start || fail "slurmckptd did not start again"
wait_for 10 grep -q "step $j.batch re-adopted" "$log" || fail "step not re-adopted: $(tail -5 "$log")"
ok "slurmckptd killed and restarted while job $j runs; step $j.batch re-adopted"

wait_for 40 grep -qs '^exiting=8' "$out" || fail "the application did not exit: $(cat "$out")"
wait_for 20 grep -qs "exit-code: final checkpoint done.*requeued (restart count 1)" "$ckdir/checkpoint.log" ||
	fail "no commit and requeue after the exit code: $(cat "$ckdir/checkpoint.log" 2>&1)"
grep -q "step $j.batch: slurmstepd reconnected" "$log" || fail "the plugin did not reconnect: $(tail -5 "$log")"
[ "$(jq -r .reason "$ckdir/$j.ckpt/manifest.json")" = exit-code ] || fail "manifest reason"
[ "$(cat "$ckdir/$j.ckpt/count")" = 8 ] || fail "image holds $(cat "$ckdir/$j.ckpt/count")"
ok "the plugin reconnected for the exit code: image $j.ckpt committed (count 8), job requeued"

state=$(job_wait_done "$j" 90) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx 'start=8' "$out" || fail "second run did not resume at 8: $(grep start= "$out")"
grep -qx 'final=20' "$out" || fail "no final=20"
ok "resumed at 8 and completed with final=20"
require_helper
