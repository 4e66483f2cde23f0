#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1311-method-lingering: whatever a method's command starts dies with it
# (issue 13, finding 6).  The "linger" method's checkpoint command starts
# a process in a session of its own and hangs: when the checkpoint times
# out (max_wait), and when slurmckptd stops in the middle of one (its
# worker dies with it), no process of the command is left.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

# max_wait: long enough for the command to start its process on a busy
# machine, short enough for the test.
CKPT_MAX_WAIT=20 cluster_start 1

mdir=$CLUSTER_DIR/methods
mkdir -p "$mdir/bin"
cp "$top_srcdir"/tests/integration/methods/linger "$mdir/bin/"
chmod 755 "$mdir" "$mdir/bin" "$mdir/bin/linger"
printf 'checkpoint=%s\n' "$mdir/bin/linger" >"$mdir/linger.method"
chmod 644 "$mdir/linger.method"
helper_stop
CKPT_HELPER_CONF="method_dir=$mdir"
helper_start || fail "slurmckptd did not start with method_dir=$mdir"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/plain.out
j=$(submit --checkpoint=0 --checkpoint-method=linger --checkpoint-dir="$ckdir" \
	--chdir="$CLUSTER_WORK" -o "$out" "$APPS/plaincount.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
app_started "$out" ||
	fail "job $j's app did not start: $(cat "$out"; tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"

_lingering() { pgrep -u "$CKPT_USER" -f '^sleep 3001$' >/dev/null; }
_gone() { ! _lingering; }

# 1. The checkpoint times out.
as_user "$SCHECKPOINT" create "$j" >"$CLUSTER_WORK/create.out" 2>&1 &
create=$!
wait_for 30 _lingering || fail "the method's command did not start its process: $(cat "$CLUSTER_WORK/create.out")"
ok "the method's command runs and has started 'sleep 3001' in a session of its own (pid $(pgrep -u "$CKPT_USER" -f '^sleep 3001$'))"
wait "$create" && fail "a checkpoint whose command hangs succeeded"
wait_for 30 _gone || fail "after the timeout, the command's process is still there: $(ps -o pid,sid,args -u "$CKPT_USER")"
ok "checkpoint timed out ($(tail -n 1 "$CLUSTER_WORK/create.out")); nothing the command started is left"

# 2. slurmckptd stops while a checkpoint runs: its worker dies with it.
as_user "$SCHECKPOINT" create "$j" >/dev/null 2>&1 &
create=$!
wait_for 30 _lingering || fail "the method's command did not start its process again"
helper_stop
wait "$create"
wait_for 30 _gone || fail "slurmckptd stopped, but the command's process is still there: $(ps -o pid,sid,args -u "$CKPT_USER")"
ok "slurmckptd stopped during a checkpoint: nothing the command started is left"
pgrep -u "$CKPT_USER" -f '^sleep 3600$' >/dev/null && fail "the command itself is still there"
ok "the command itself is gone too"
