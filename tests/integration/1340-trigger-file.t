#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1340-trigger-file: --checkpoint-trigger, for codes that poll for a file
# instead of catching a signal.  A counter with no signal handler (the
# checkpoint signal would end it) looks for CHKPT in its working
# directory; slurmckptd creates the file there, as the user, the counter
# writes its state and removes the file, the image is committed; the job
# is requeued and resumes from it.  A second job, whose program never
# looks for its (absolute) trigger file, fails its checkpoint after
# max_wait, and the file is not left behind to fire later.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_MAX_WAIT=4
cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
wd=$(user_dir "$CLUSTER_WORK/run")
N=25
out=$CLUSTER_WORK/poll.out
j=$(submit --checkpoint=0:05 --checkpoint-trigger=CHKPT --checkpoint-dir="$ckdir" \
	--requeue --open-mode=append --chdir="$wd" -o "$out" \
	"$APPS/pollcount.sh" CHKPT "$N") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 commits_at_least "$ckdir" "$j.batch" 2 ||
	fail "fewer than 2 commits: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 5 "$out")"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j"): signalled?"
grep -q '^ckpt=' "$out" || fail "the counter never saw CHKPT: $(tail -n 5 "$out")"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image does not verify"
[ -s "$img/count" ] || fail "no count in the image: $(ls -a "$img")"
[ "$(stat -c %U "$wd/CHKPT" 2>/dev/null || echo gone)" != root ] ||
	fail "the trigger file was created as root"
ok "trigger CHKPT created in the working directory, answered, image committed (count $(cat "$img/count"))"

sleep 2
scontrol requeue "$j" || fail "scontrol requeue"
state=$(job_wait_done "$j" $((N + 90))) || fail "job $j did not finish: $(tail -n 5 "$out")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 10 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N"
start=$(sed -n 's/^start=//p' "$out" | tail -n1)
[ "$(grep -c '^start=' "$out")" -eq 2 ] && [ "$start" -gt 0 ] ||
	fail "did not resume: $(grep '^start=' "$out")"
ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
ok "requeued and resumed at $start from the image, final=$N"

# A trigger nobody answers: the checkpoint fails, the file is removed.
trig=$CLUSTER_WORK/run/never
out2=$CLUSTER_WORK/never.out
j2=$(submit --checkpoint=0 --checkpoint-trigger="$trig" --checkpoint-dir="$ckdir" \
	--chdir="$wd" -o "$out2" "$APPS/pollcount.sh" CHKPT 60) || fail "sbatch 2 failed"
job_wait_state "$j2" RUNNING 20 || fail "job $j2 did not start"
app_started "$out2" || fail "job $j2's app did not start: $(cat "$out2")"
as_user "$SCHECKPOINT" create "$j2" >"$CLUSTER_WORK/sc.out" 2>&1 &&
	fail "a checkpoint nobody answered succeeded: $(cat "$CLUSTER_WORK/sc.out")"
grep -q "did not acknowledge" "$CLUSTER_WORK/sc.out" ||
	fail "scheckpoint: $(cat "$CLUSTER_WORK/sc.out")"
[ ! -e "$trig" ] || fail "the unanswered trigger file $trig was left behind"
[ "$(job_state "$j2")" = RUNNING ] || fail "job $j2 is $(job_state "$j2")"
ok "unanswered trigger: checkpoint failed after max_wait ($(cat "$CLUSTER_WORK/sc.out")), file removed"
scancel "$j2"
