#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0500-two-task-step: sbatch --checkpoint=0:05 of a batch script that runs
# "srun -n2 counter.sh --per-task": the step image <job>.0.ckpt holds count.0
# and count.1; after a requeue each task resumes from its own file.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=30
out=$CLUSTER_WORK/step.out
script=$CLUSTER_WORK/step.sh
cat >"$script" <<EOS
#!/bin/bash
echo "batch restart_count=\${SLURM_RESTART_COUNT:-0}"
srun -l -n2 "$APPS/counter.sh" --per-task $N
echo "batch srun exit=\$?"
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -n2 --checkpoint=0:05 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$script") || fail "sbatch failed"
ok "job $j submitted"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"

img=$ckdir/$j.0.ckpt
wait_for 30 test -f "$img/manifest.json" ||
	fail "no step image $img after 30 s: $(ls -la "$ckdir"; cat "$ckdir/checkpoint.log" 2>&1; cat "$out")"
image_verify "$img" || fail "$img does not verify"
files=$(manifest_get "$img" '.files[].path' | sort | tr '\n' ' ')
[ "$files" = "count.0 count.1 " ] || fail "$img lists '$files', expected count.0 count.1"
[ "$(manifest_get "$img" .step)" = 0 ] || fail "$img: manifest step $(manifest_get "$img" .step)"
ok "step image $img holds count.0 and count.1 (seq $(manifest_get "$img" .seq))"

wait_for 15 commits_at_least "$ckdir" "$j.0" 2 ||
	fail "fewer than 2 commits of $j.0: $(cat "$ckdir/checkpoint.log")"
# The batch shell has no trap: it is not killed, and "not checkpointable"
# is noted once in checkpoint.log, not at every interval.
n=$(grep -c "$j.batch failed: not checkpointable" "$ckdir/checkpoint.log")
[ "$n" = 1 ] || fail "$n 'not checkpointable' lines for $j.batch, want 1: $(cat "$ckdir/checkpoint.log")"
ok "untrapped batch shell noted once as not checkpointable"
# A whole-job create skips the batch shell and commits the step.
seq0=$(manifest_get "$img" .seq)
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create $j: $msg"
[ "$(manifest_get "$img" .seq)" -gt "$seq0" ] || fail "create $j did not commit $img: $msg"
ok "scheckpoint create $j: $msg"
sleep 1
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still RUNNING after the requeue"
image_verify "$img" || fail "$img does not verify after the requeue"
c0=$(cat "$img/count.0")
c1=$(cat "$img/count.1")
ok "requeued; newest step image seq $(manifest_get "$img" .seq): count.0=$c0 count.1=$c1"

job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
_starts() { [ "$(grep -c ': start=' "$out")" -ge 4 ]; }
wait_for 10 _starts || fail "the tasks did not start again: $(cat "$out")"
s0=$(sed -n 's/^0: start=//p' "$out" | tail -n1)
s1=$(sed -n 's/^1: start=//p' "$out" | tail -n1)
[ "$s0" = "$c0" ] || fail "task 0 resumed at '$s0', its file has $c0: $(grep -E 'start=|restart' "$out")"
[ "$s1" = "$c1" ] || fail "task 1 resumed at '$s1', its file has $c1: $(grep -E 'start=|restart' "$out")"
ok "task 0 resumed at $s0, task 1 at $s1"
grep -q '^0: restart_dir=' "$out" && grep -q '^1: restart_dir=' "$out" ||
	fail "SLURM_RESTART_DIR missing in a task: $(grep restart "$out")"

state=$(job_wait_done "$j" 30 "$out") || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 8 "$out")"
for t in 0 1; do
	grep -qx "$t: final=$N" "$out" || fail "task $t: no final=$N: $(tail -n 8 "$out")"
	ticks=$(sed -n "s/^$t: tick=//p" "$out")
	missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
	[ -z "$missing" ] || fail "task $t never counted: $(echo $missing)"
done
ok "both tasks reached $N with no number skipped"
ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left: $(ls "$ckdir")"
ok "no .partial left"
