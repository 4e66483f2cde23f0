#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1242-timelimit-update: "scheckpoint show" tells the job when slurmckptd
# will take its final checkpoint (FinalCheckpoint=) and the end time it
# acts on (EndTime=, slurmctld's), and both follow "scontrol update
# TimeLimit=": a --time=10 job is due 5 minutes (the lead) before its end;
# cut to one minute, it is due 20 s before the new end (max_wait + 10 s),
# and is checkpointed and requeued then.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/tl.out
j=$(submit --time=10 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$APPS/counter.sh" 600) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
app_started "$out" || fail "job $j did not start counting"

# shown <field>: the field of "scheckpoint show <job>".
shown() {
	as_user "$SCHECKPOINT" show "$j" 2>&1 | tr ' ' '\n' | sed -n "s/^$1=//p"
}
# due_at <end> <lead>: <end> less <lead> seconds, as both print times.
due_at() {
	date -d "@$(($(date -d "$1" +%s) - $2))" +%Y-%m-%dT%H:%M:%S
}
_end_is() { [ "$(shown EndTime)" = "$(job_field "$j" EndTime)" ]; }
wait_for 30 _end_is || fail "EndTime $(shown EndTime), slurmctld says $(job_field "$j" EndTime)"
end=$(shown EndTime)
[ "$(shown FinalCheckpoint)" = "$(due_at "$end" 300)" ] ||
	fail "FinalCheckpoint=$(shown FinalCheckpoint), want $(due_at "$end" 300) (EndTime=$end less the 5:00 lead)"
ok "--time=10: EndTime=$end FinalCheckpoint=$(shown FinalCheckpoint)"

scontrol update JobId="$j" TimeLimit=1 || fail "scontrol update TimeLimit=1"
_end_moved() { [ "$(shown EndTime)" != "$end" ] && _end_is; }
wait_for 30 _end_moved || fail "EndTime still $(shown EndTime) after the update (slurmctld: $(job_field "$j" EndTime))"
end=$(shown EndTime)
final=$(shown FinalCheckpoint)
[ "$final" = "$(due_at "$end" 20)" ] ||
	fail "FinalCheckpoint=$final after TimeLimit=1, want $(due_at "$end" 20) (EndTime=$end less max_wait + 10 s)"
ok "TimeLimit=1: EndTime=$end FinalCheckpoint=$final"

wait_for 90 grep -qs "$j.batch deadline: final checkpoint done.*requeued" "$ckdir/checkpoint.log" ||
	fail "no deadline checkpoint and requeue: $(cat "$ckdir/checkpoint.log" 2>&1)"
at=$(grep "$j.batch deadline: final checkpoint" "$ckdir/checkpoint.log" | cut -c1-19)
late=$(($(date -d "${at}Z" +%s) - $(date -d "$final" +%s)))
[ "$late" -ge 0 ] || fail "the deadline checkpoint was logged at $at, before $final"
ok "checkpointed and requeued at the new deadline (logged ${late} s after $final)"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
