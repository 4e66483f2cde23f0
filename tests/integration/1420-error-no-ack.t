#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1420-error-no-ack: the app acknowledges its first checkpoint only (max_wait
# 3 s).  "scheckpoint error" then reports the failure of the second: a
# non-zero code and the message; "scheckpoint create" of it fails, exit 1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_MAX_WAIT=3 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/noack.out
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" -o "$out" "$APPS/noack.sh" 40) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
msg=$(as_user "$SCHECKPOINT" error "$j" 2>&1) || fail "error: exit $?: $msg"
echo "$msg" | grep -q "error_code=0 " || fail "an error before any checkpoint: $msg"
ok "no error at first: $msg"
wait_for 25 grep -q "$j\.batch failed" "$ckdir/checkpoint.log" ||
	fail "no failed checkpoint: $(cat "$ckdir/checkpoint.log" 2>&1)"
msg=$(as_user "$SCHECKPOINT" error "$j" 2>&1) || fail "error: exit $?: $msg"
echo "$msg" | grep -qE "^StepId=$j.batch error_code=[1-9][0-9]* error_msg=.+ Time=20" ||
	fail "error does not report the failure: $msg"
ok "error: $msg"
js=$(as_user "$SCHECKPOINT" --json error "$j") || fail "error --json: exit $?"
[ "$(echo "$js" | jq -r '.steps[0].error_code')" -gt 0 ] || fail "error --json: $js"
[ -n "$(echo "$js" | jq -r '.steps[0].error_msg')" ] || fail "error --json msg: $js"
ok "error --json: code $(echo "$js" | jq -r '.steps[0].error_code')"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1)
[ $? -eq 1 ] || fail "create of an app that does not answer succeeded: $msg"
ok "create fails with exit 1: $msg"
scancel "$j"
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"
