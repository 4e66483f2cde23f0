#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1052-worker-dumpable: a worker that has become the job's user can be
# neither traced nor read by that user, even where fs.suid_dumpable=1
# (sites set it for core dumps of set-id programs; the kernel then makes
# a process that changes its uid dumpable again): /proc/<worker>/environ
# is root's and the user cannot read its environment or memory (issue 13,
# finding 10).  fs.suid_dumpable is the machine's: it is 1 only while the
# worker changes its credentials, and put back at once.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

old=$(sysctl -n fs.suid_dumpable 2>/dev/null) || skip "no fs.suid_dumpable"
CKPT_MAX_WAIT=30 cluster_start 1
trap 'sysctl -qw fs.suid_dumpable="$old"; cluster_stop' EXIT

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/noack.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/noack.sh" 120) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "first create (acknowledged): $msg"
ok "job $j: first checkpoint committed"

# The second request is never acknowledged: its worker waits max_wait.
uid=$(id -u "$CKPT_USER")
sysctl -qw fs.suid_dumpable=1 || fail "cannot set fs.suid_dumpable"
as_user "$SCHECKPOINT" create "$j" >/dev/null 2>&1 &
create=$!
_worker() {
	wpid=$(sed -n "s/.*checkpoint of $j\.batch (create) started, worker \([0-9]*\).*/\1/p" \
		"$CLUSTER_DIR/slurmckptd.log" | sed -n 2p)
	[ -n "$wpid" ] && awk -v u="$uid" '/^Uid:/ { exit !($2 == u && $3 == u && $4 == u) }' \
		"/proc/$wpid/status" 2>/dev/null
}
wait_for 20 _worker
rc=$?
sysctl -qw fs.suid_dumpable="$old"
[ $rc -eq 0 ] || fail "no worker of $j became uid $uid: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
note "worker $wpid became uid $uid with fs.suid_dumpable=1 (now $old again)"
# (/proc/<pid> itself is always its euid's; its private files are root's
# when the process is not dumpable.)
owner=$(stat -c %u "/proc/$wpid/environ") || fail "worker $wpid gone"
[ "$owner" = 0 ] || fail "/proc/$wpid/environ is uid $owner's: the worker is dumpable"
as_user cat "/proc/$wpid/environ" >/dev/null 2>&1 && fail "$CKPT_USER can read the worker's environment"
as_user dd if="/proc/$wpid/mem" bs=1 count=1 skip=4096 of=/dev/null status=none 2>/dev/null &&
	fail "$CKPT_USER can read the worker's memory"
ok "worker $wpid (uid $uid) is not dumpable: /proc/$wpid/environ is root's, its environment and memory unreadable to $CKPT_USER"
# the unacknowledged create fails at max_wait
wait "$create" && fail "the unacknowledged create succeeded"
ok "the unacknowledged checkpoint failed at max_wait; the job still runs ($(job_state "$j"))"
