#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1331-criu-restore: the automatic restore of a criu= method
# (slurmckptd(8), METHODS; spank/restore.c).  A counter that keeps its
# count only in memory (exec'd by the batch script) is dumped by criu,
# the job is requeued, and on its second start the plugin has the task
# restored by "criu restore --unprivileged" as the job's user: the count
# goes on from the dump inside the Slurm step, and the job COMPLETES with
# the final count.  Then an image the user has modified does not verify:
# nothing is restored from it, the task says why and starts from the
# beginning.  The restore says that the output file grew since the dump
# (those lines come again).  Skipped unless a criu whose "criu check"
# passes is found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
# A dump takes seconds on a quiet machine; on a busy one it may take
# more than the usual max_wait of 10 s, which is no failure of criu's.
export CKPT_MAX_WAIT=${CKPT_MAX_WAIT:-120}
cluster_start 1
criu_method_start

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=30

# The dump, a requeue, and the restore inside the step.
out=$CLUSTER_WORK/mem.out
criu_dumped "$out" "$ckdir" "$N"
pids=$(job_caps "$j") || fail "$pids"
ok "job $j dumped by criu at tick=$at; its processes have no capability, and no_new_privs ($pids)"
# A dump is the processes' memory: its owner's alone (0400/0500).
open=$(find "$img" -perm /077 -printf '%m %P\n' | head -n 3)
[ -z "$open" ] || fail "parts of the criu image are open to others: $open"
as_other ls "$img" >/dev/null 2>&1 && fail "$CKPT_OTHER can list the criu image"
ok "the criu image is its owner's alone: $(stat -c %a "$img")/$(stat -c %a "$img/criu.0/pstree.img")"
sleep 2
scontrol requeue "$j" || fail "scontrol requeue $j"
# No process of the restored job holds a capability (criu had
# CAP_CHECKPOINT_RESTORE; the task that stands in for the restored root
# dropped it).
wait_for 60 grep -q "restored from" "$out" ||
	fail "not restored: $(grep -v '^tick=' "$out"; cat "$ckdir/$j.ckpt.restore.0/restore.log" 2>/dev/null | grep -m3 Error)"
# The counter wrote on after the dump: the restore says its output grew.
grep -q "checkpoint: $j.batch: task 0: $out grew by [0-9]* bytes since the checkpoint" "$out" ||
	fail "the restore did not say that $out grew: $(grep -v '^tick=' "$out")"
ok "$(grep -m1 'grew by' "$out")"
sleep 1
pids=$(job_caps "$j") || fail "$pids"
ok "no process of the restored job holds a capability ($(echo $pids))"

# The restored job is dumped again (the helper dumps the task's one
# child, the restored root) and, requeued again, restored again.
_counted_on() { [ "$(sed -n '/restored from/,$ s/^tick=//p' "$out" | wc -l)" -ge 2 ]; }
wait_for 10 _counted_on || fail "the restored counter does not count: $(tail -n 3 "$out")"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) ||
	fail "scheckpoint create of the restored job: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
at2=$(sed -n 's/^tick=//p' "$out" | tail -n1)
image_verify "$img" || fail "the second image does not verify"
seq=$(manifest_get "$img" .seq)
ok "the restored job dumped again at tick=$at2 (image seq $seq)"
sleep 2
scontrol requeue "$j" || fail "second scontrol requeue $j"
_restored_twice() { [ "$(grep -c "restored from" "$out")" -ge 2 ]; }
wait_for 60 _restored_twice || fail "not restored the second time: $(grep -v '^tick=' "$out" | tail -n 5)"
state=$(job_wait_done "$j" 120) ||
	fail "job $j did not finish: $(tail -n 8 "$out"; tail -n 20 "$CLUSTER_DIR"/slurmd*.log)"
grep -q "checkpoint: $j.batch: task 0 restored from $img/criu.0" "$out" ||
	fail "not restored (job $state): $(grep -v "^tick=" "$out"; grep -h -i -E "error|spank|checkpoint" "$CLUSTER_DIR"/*.log | tail -n 15; cat "$ckdir/$j.ckpt.restore.0/restore.log" 2>/dev/null | grep -m3 Error)"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 20 "$out")"
[ "$(job_field "$j" ExitCode)" = 0:0 ] || fail "exit code $(job_field "$j" ExitCode)"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(grep -c '^start=' "$out")" -eq 1 ] || fail "the program started again from 0: $(grep -v '^tick=' "$out")"
# After the restore line, the count goes on from the dump's.
first=$(sed -n '/restored from/,$ s/^tick=//p' "$out" | head -n1)
[ "$first" -le $((at + 1)) ] && [ "$first" -gt 1 ] ||
	fail "the restored counter went on at $first, not from the dump at tick=$at"
second=$(awk '/restored from/ { n++ } n == 2 && /^tick=/ { sub("tick=", ""); print; exit }' "$out")
[ "$second" -le $((at2 + 1)) ] && [ "$second" -gt "$at" ] ||
	fail "the second restore went on at $second, not from the second dump at tick=$at2"
missing=$(comm -23 <(seq 1 "$N" | sort) <(sed -n 's/^tick=//p' "$out" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
[ "$(job_field "$j" Restarts)" = 2 ] || fail "Restarts=$(job_field "$j" Restarts)"
ok "job $j requeued twice, restored by criu in the step each time: counts on at tick=$first (dumped at $at), then at tick=$second (dumped at $at2); COMPLETED 0:0 with final=$N"

# A user-modified image: its manifest no longer matches, so nothing is
# restored from it; the task says so and starts from the beginning.
out2=$CLUSTER_WORK/mem2.out
criu_dumped "$out2" "$ckdir" "$N"
core=$(ls "$img/criu.0"/core-*.img | head -n1)
as_user sh -c "chmod u+w '$core' && printf X | dd of='$core' bs=1 seek=20 conv=notrunc 2>/dev/null" ||
	fail "could not modify $core as $CKPT_USER"
scontrol requeue "$j" || fail "scontrol requeue $j"
wait_for 60 grep -q "no usable image" "$out2" || fail "job $j did not start again: $(tail -n 8 "$out2")"
pids=$(job_caps "$j") || fail "$pids"
state=$(job_wait_done "$j" 120) || fail "job $j did not finish: $(tail -n 8 "$out2")"
grep -q "restored from" "$out2" && fail "restored from a modified image: $(grep checkpoint: "$out2")"
why=$(grep -m1 "checkpoint: $j.batch: no usable image" "$out2") ||
	fail "no message about the modified image: $(grep -v '^tick=' "$out2")"
[ "$(grep -c '^start=' "$out2")" -eq 2 ] || fail "the job did not start afresh: $(grep -v '^tick=' "$out2")"
[ "$state" = COMPLETED ] && grep -qx "final=$N" "$out2" || fail "job $j ended $state: $(tail -n 5 "$out2")"
ok "a modified image is not restored; the task starts afresh: ${why#checkpoint: }"

# A dumped pid still taken when the job starts again (here by a process
# of root's started with that very pid by apps/holdpid.c, which lives until
# criu has said so): criu fails with "File exists", the plugin tries
# again a second later, and the task is restored.
"${CC:-cc}" -O2 -o "$CLUSTER_DIR/bin/holdpid" "$APPS_SRC/holdpid.c" ||
	fail "cannot build apps/holdpid.c"
out3=$CLUSTER_WORK/mem3.out
criu_dumped "$out3" "$ckdir" "$N"
held=$(ls "$img/criu.0" | sed -n 's/^core-\([0-9]*\)\.img$/\1/p' | head -n1)
scontrol requeue "$j" || fail "scontrol requeue $j"
_gone() { [ ! -e "/proc/$held" ]; }
wait_for 20 _gone || fail "pid $held of the dump still runs after the requeue"
log3=$ckdir/$j.ckpt.restore.0/restore.log
"$CLUSTER_DIR/bin/holdpid" "$held" bash -c \
	'until grep -qs "File exists" "$1"; do sleep 0.1; done' _ "$log3" &
holder=$!
_held_or_failed() { [ -e "/proc/$held" ] || ! kill -0 "$holder" 2>/dev/null; }
wait_for 30 _held_or_failed
[ "$(ps -o ppid= -p "$held" 2>/dev/null | tr -d ' ')" = "$holder" ] ||
	{ wait "$holder"; fail "could not take pid $held (holdpid exit status $?)"; }
wait_for 60 grep -q "restored from" "$out3" ||
	fail "not restored after pid $held was freed: $(grep -v '^tick=' "$out3"; grep Error "$log3")"
wait "$holder"
retry=$(grep -m1 "trying again" "$out3") || fail "no retry said: $(grep -v '^tick=' "$out3")"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
ok "a dumped pid held at the restart: ${retry#checkpoint: }; then restored"
