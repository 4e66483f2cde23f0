#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1430-remote-munge: scheckpoint from the "login" side (no slurmckptd socket
# there) finds a job on node c2 through slurmctld and asks the helper over
# TCP with a MUNGE credential: create commits an image, show answers;
# another user is refused; a request without a credential, a bad one and a
# replayed one are refused and do nothing.  While munged is stopped, a
# credential waits for it in a child of slurmckptd, whose loop goes on
# answering its Unix socket.
# The harness runs one slurmckptd for all its nodes (one plugstack socket),
# so the TCP port serves c1 and c2 alike (SLURM_CHECKPOINT_PORTS=c1:P,c2:P).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 2

helper_restart_tcp
P=$HELPER_PORT
ok "slurmckptd listens on TCP port $P"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/remote.out
j=$(submit -w c2 --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 120) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
[ "$(job_field "$j" BatchHost)" = c2 ] || fail "job $j runs on $(job_field "$j" BatchHost), not c2"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
ok "job $j running on c2"

# The login side: no local socket, the ports of the nodes' helpers.
login() {
	as_user env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
		SLURM_CHECKPOINT_PORTS="c1:$P,c2:$P" "$SCHECKPOINT" "$@"
}
msg=$(login create "$j" MaxWait=60 2>&1) || fail "remote create: exit $?: $msg"
echo "$msg" | grep -qF "$ckdir/$j.ckpt" || fail "remote create: $msg"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
[ "$(manifest_get "$ckdir/$j.ckpt" .node)" = c2 ] || fail "image node $(manifest_get "$ckdir/$j.ckpt" .node)"
ok "create over TCP+MUNGE: $msg"
grep -q "TCP request from .*, uid $(id -u "$CKPT_USER")" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the helper did not log a TCP request of $CKPT_USER"
ok "the helper took the uid from the credential"
msg=$(login show "$j" 2>&1) || fail "remote show: exit $?: $msg"
echo "$msg" | grep -q "Node=c2" || fail "remote show: $msg"
ok "show over TCP: $(echo "$msg" | head -n1)"

msg=$(as_other env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
	SLURM_CHECKPOINT_PORTS="c1:$P,c2:$P" "$SCHECKPOINT" vacate "$j" 2>&1)
[ $? -eq 1 ] || fail "remote vacate by $CKPT_OTHER: $msg"
echo "$msg" | grep -q 'permission denied' || fail "remote vacate by $CKPT_OTHER: $msg"
sleep 1
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after $CKPT_OTHER's vacate"
ok "$CKPT_OTHER refused over TCP: $msg"

# Raw requests: a frame of plain JSON, garbage, and one credential twice.
raw() {	# raw <file with the frame's body>: print the reply's error or "ok"
	python3 "$APPS/frame.py" "$P" "$1"
}
req=$(printf '{"v":1,"op":"vacate","job":%s,"step":4294967295}' "$j")
printf '%s' "$req" >"$CLUSTER_WORK/plain"
msg=$(raw "$CLUSTER_WORK/plain" 2>&1)
echo "$msg" | grep -q '^authentication failed' || fail "plain JSON over TCP: $msg"
ok "request without a credential refused: $msg"
printf 'MUNGE:AAAAgarbage:' >"$CLUSTER_WORK/bad"
msg=$(raw "$CLUSTER_WORK/bad" 2>&1)
echo "$msg" | grep -q '^authentication failed' || fail "bad credential: $msg"
ok "bad credential refused: $msg"
# A request is bound to the node it is for (to=, inside the credential):
# one without, or one for another node (taken on its way there), is no
# good here.
sealed() { # sealed <file> <json>: a fresh credential of ckptuser's
	as_user munge -S "$CLUSTER_DIR/munge/munged.sock" -s "$2" -o "$1" &&
		chmod 0644 "$1"
}
sealed "$CLUSTER_WORK/unbound" "$(printf '{"v":1,"op":"show","job":%s,"step":4294967295}' "$j")" ||
	fail "munge could not encode"
msg=$(raw "$CLUSTER_WORK/unbound" 2>&1)
echo "$msg" | grep -q 'must name the node it is for' || fail "a request naming no node: $msg"
ok "a credential naming no node is refused: $msg"
sealed "$CLUSTER_WORK/elsewhere" "$(printf '{"v":1,"op":"show","job":%s,"step":4294967295,"to":"c1"}' "$j")" ||
	fail "munge could not encode"
msg=$(raw "$CLUSTER_WORK/elsewhere" 2>&1)
echo "$msg" | grep -q 'this request is for node c1' || fail "a request for another node: $msg"
ok "a credential for node c1 is refused where job $j's step is c2's: $msg"
req=$(printf '{"v":1,"op":"show","job":%s,"step":4294967295,"to":"c2"}' "$j")
sealed "$CLUSTER_WORK/cred" "$req" || fail "munge could not encode"
msg=$(raw "$CLUSTER_WORK/cred" 2>&1)
[ "$msg" = ok ] || fail "a fresh credential was refused: $msg"
msg=$(raw "$CLUSTER_WORK/cred" 2>&1)
echo "$msg" | grep -q 'replayed' || fail "a replayed credential: $msg"
ok "fresh credential accepted, its replay refused: $msg"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the refused requests"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" = "$seq" ] || fail "a refused request made an image"
ok "job $j untouched by the refused requests"

# munged stalls while a credential is being decoded: the decode waits in
# a child of slurmckptd's, and its loop goes on answering the Unix socket.
req=$(printf '{"v":1,"op":"show","job":%s,"step":4294967295,"to":"c2"}' "$j")
sealed "$CLUSTER_WORK/stalled" "$req" || fail "munge could not encode"
mpid=$(cat "$CLUSTER_DIR/munge/munged.pid") || fail "no munged pid"
kill -STOP "$mpid"
timeout 120 python3 "$APPS/frame.py" "$P" "$CLUSTER_WORK/stalled" >"$CLUSTER_WORK/stalled.out" 2>&1 &
rp=$!
sleep 2	# the frame is in, its decode waits on munged
t0=$(date +%s%N)
msg=$(as_user timeout 20 "$SCHECKPOINT" show "$j" 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$mpid"
[ $rc -eq 0 ] || fail "show over the Unix socket while munged was stopped: exit $rc after $ms ms: $msg"
wait "$rp"
[ "$(cat "$CLUSTER_WORK/stalled.out")" = ok ] ||
	fail "the stalled request, once munged went on: $(cat "$CLUSTER_WORK/stalled.out")"
ok "munged stopped: show over the Unix socket answered in $ms ms; the TCP request was answered once munged went on"

scancel "$j"
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"
