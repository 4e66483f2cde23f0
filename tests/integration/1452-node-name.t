#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1452-node-name: which slurmckptd the plugin (root, in slurmstepd) talks to
# is not the user's to choose (issue 13, finding 7).  The plugstack line's
# socket= has %n (the node name) in a directory anyone may write, as /tmp
# is.  A job that exports SLURMD_NODENAME=evil, while the user listens on
# evil's socket there, still registers with its node's real slurmckptd
# (slurmstepd's own node name), and is checkpointed; when the user listens
# on the node's own socket path while slurmckptd is down, the plugin finds
# the listener is not root and sends it nothing: the step is not started
# and says why.  The user's listener logs every connection and message.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

run=$CLUSTER_DIR/run
mkdir -p "$run"
chmod 1777 "$run"
ln -s ../ckptd.sock "$run/c1.sock"
sed -i "s|socket=$CLUSTER_DIR/ckptd.sock|socket=$run/%n.sock|" "$CLUSTER_DIR/plugstack.conf"
grep -qF "socket=$run/%n.sock" "$CLUSTER_DIR/plugstack.conf" || fail "plugstack.conf: $(cat "$CLUSTER_DIR/plugstack.conf")"

# fake <socket> <log>: the user's own "slurmckptd", in the background.
fake() {
	as_user python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen(16)
log = open(sys.argv[2], "a", buffering=1)
log.write("listening\n")
while True:
    c, _ = s.accept()
    log.write("connection\n")
    c.settimeout(10)
    try:
        d = c.recv(65536)
    except OSError:
        d = b""
    if d:
        log.write("message %s\n" % d[:300].decode("utf-8", "replace"))
    c.close()
' "$1" "$2" </dev/null >/dev/null 2>&1 &
	wait_for 10 grep -q listening "$2" || fail "the user's listener on $1 did not start"
}

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
flog=$CLUSTER_WORK/fake.log
fake "$run/evil.sock" "$flog"
ok "$CKPT_USER listens on $run/evil.sock"

out=$CLUSTER_WORK/evil.out
j=$(submit --export=ALL,SLURMD_NODENAME=evil --checkpoint=0 --checkpoint-dir="$ckdir" \
	-o "$out" "$APPS/counter.sh" 60) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start: $(cat "$out" 2>&1)"
wait_for 10 grep -q '^start=' "$out" || fail "job $j's app did not start: $(cat "$out" 2>&1)"
msg=$(as_user "$SCHECKPOINT" create "$j" MaxWait=60 2>&1) ||
	fail "create $j: exit $?: $msg; job output: $(cat "$out" 2>&1)"
image_verify "$ckdir/$j.ckpt" || fail "job $j: no valid image"
! grep -q '^message' "$flog" || fail "the plugin spoke to $CKPT_USER's listener: $(cat "$flog")"
scancel "$j"
ok "job $j with SLURMD_NODENAME=evil registered with c1's slurmckptd and was checkpointed; the user's listener got nothing"

# slurmckptd down; the user listens on c1's own socket path.
pkill -u "$CKPT_USER" -x python3
helper_stop
rm -f "$run/c1.sock"
: >"$flog"
fake "$run/c1.sock" "$flog"
out=$CLUSTER_WORK/down.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 60) ||
	fail "sbatch failed"
# Not started: the node drains (no slurmckptd of root's there) and the
# job goes back to the queue.
_back() { [ "$(job_field "$j" Restarts)" -ge 1 ] || _job_finished "$j"; }
wait_for 60 _back || fail "job $j was neither requeued nor ended: $(job_state "$j")"
wait_for 10 grep -q "not root's socket" "$out" ||
	fail "job $j does not say why it did not start: $(cat "$out" 2>&1)"
! grep -q '^message' "$flog" || fail "the plugin spoke to $CKPT_USER's listener: $(cat "$flog")"
! grep -q '^start=' "$out" || fail "job $j's step started: $(cat "$out")"
ok "with the user listening on c1's socket path, job $j's step did not start and said: $(grep -o "slurmckptd is not running.*" "$out" | head -n 1)"
scancel "$j"
scontrol update nodename=c1 state=resume >/dev/null 2>&1
pkill -u "$CKPT_USER" -x python3
