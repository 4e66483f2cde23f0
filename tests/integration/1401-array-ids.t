#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1401-array-ids: scheckpoint takes a job array task as scontrol does,
# <array_job_id>_<task_id> (with .batch too): slurmctld translates it into
# the task's job id, whose image is committed and shown.  A task that has
# not started, or does not exist, is an error (exit 1); a malformed one a
# usage error (exit 2).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
sck() { as_user "$SCHECKPOINT" "$@"; }

# Tasks 1 and 2 run (at most 2 at once), task 3 waits.
a=$(submit --array=1-3%2 --checkpoint=0 --checkpoint-dir="$ckdir" \
	-o "$CLUSTER_WORK/arr_%a.out" "$APPS/counter.sh" 120) || fail "sbatch failed"
_two_running() { [ "$(squeue -h -r -j "$a" -t R -o %K | wc -l)" -eq 2 ]; }
wait_for 30 _two_running || fail "array $a: tasks not running: $(squeue -h -r -j "$a" -o '%i %A %t')"
app_started "$CLUSTER_WORK/arr_2.out" || fail "task 2 did not start: $(cat "$CLUSTER_WORK/arr_2.out" 2>&1)"
j2=$(squeue -h -r -j "$a" -t R -o '%K %A' | awk '$1 == 2 { print $2 }')
[ -n "$j2" ] || fail "no job id for ${a}_2"
ok "array $a: task 2 is job $j2"

msg=$(sck create "${a}_2" 2>&1) || fail "create ${a}_2: exit $?: $msg"
echo "$msg" | grep -qF "committed: $ckdir/$j2.ckpt (seq " || fail "create ${a}_2: $msg"
image_verify "$ckdir/$j2.ckpt" || fail "$ckdir/$j2.ckpt does not verify"
ok "create ${a}_2: $msg"

msg=$(sck show "${a}_2.batch" 2>&1) || fail "show ${a}_2.batch: exit $?: $msg"
echo "$msg" | grep -q "^StepId=$j2.batch " || fail "show ${a}_2.batch: $msg"
ok "show ${a}_2.batch names job $j2"

msg=$(sck create "${a}_3" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "create ${a}_3 (pending): exit $rc: $msg"
echo "$msg" | grep -q "${a}_3 has not started" || fail "create ${a}_3: $msg"
ok "create ${a}_3 (not started): $msg"

msg=$(sck create "${a}_9" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "create ${a}_9 (no such task): exit $rc: $msg"
echo "$msg" | grep -q "${a}_9 is not known" || fail "create ${a}_9: $msg"
ok "create ${a}_9 (no such task): $msg"

msg=$(sck create "${a}_x" 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "create ${a}_x: exit $rc (want 2): $msg"
ok "create ${a}_x: usage error"

scancel "$a"
_array_gone() { [ -z "$(squeue -h -r -j "$a" -o %i 2>/dev/null)" ]; }
wait_for 30 _array_gone || fail "array $a not cancelled"
ok "array $a cancelled"
