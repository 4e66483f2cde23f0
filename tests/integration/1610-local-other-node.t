#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1610-local-other-node: node-local staging on two nodes (local=<dir>/%n, one
# local directory per node name on this one host).  A checkpoint whose flush
# fails (the shared directory made read-only) stays committed in c1's local
# directory only.  Requeued onto the same node, the job resumes from that
# local copy, newer than the shared image; requeued onto c2, where no local
# copy exists, it resumes from the newest flushed image, never from c1's
# unflushed one; back on c1, c1's local seq 4 is not taken for c2's flushed
# seq 4 (the same number, other files).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

LOCALBASE=$(mktemp -d /tmp/ckpt-local.XXXXXX) || fail "mktemp"
chmod 0755 "$LOCALBASE"
CKPT_PLUGIN_ARGS="local=$LOCALBASE/%n" cluster_start 2
trap 'rc=$?; rm -rf "$LOCALBASE"; (exit $rc); cluster_stop' EXIT

uid=$(id -u "$CKPT_USER")
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
chmod 0644 "$mode"
out=$CLUSTER_WORK/other.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	--nodelist=c1 -o "$out" "$APPS/hostile.sh" "$mode") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
[ "$(job_field "$j" NodeList)" = c1 ] || fail "job $j runs on $(job_field "$j" NodeList), want c1"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
img=$ckdir/$j.ckpt
l1=$LOCALBASE/c1/$uid/$j/$j.ckpt
l2=$LOCALBASE/c2/$uid/$j/$j.ckpt

# fail_flush <what>: a checkpoint that commits locally but cannot flush.
fail_flush() {
	chmod 0555 "$ckdir"
	msg=$(ckcreate "$j" 2>&1) && { chmod 0755 "$ckdir"; fail "$1: create with a read-only shared directory succeeded"; }
	chmod 0755 "$ckdir"
	echo "$msg" | grep -q 'flush to .*Permission denied' || fail "$1: not a flush failure: $msg"
}

sleep 1
ckcreate "$j" >/dev/null 2>&1 || fail "create 1 failed"
[ "$(manifest_get "$img" .seq)" = 1 ] || fail "shared seq $(manifest_get "$img" .seq), want 1"
sleep 2
fail_flush "create 2"
image_verify "$l1" || fail "$l1 does not verify"
[ "$(manifest_get "$l1" .seq)" = 2 ] && [ "$(manifest_get "$img" .seq)" = 1 ] ||
	fail "local seq $(manifest_get "$l1" .seq) shared $(manifest_get "$img" .seq), want 2 and 1"
grep -q "$j.batch failed: flush to" "$ckdir/checkpoint.log" || fail "checkpoint.log does not record the flush failure"
lcount=$(cat "$l1/count")
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the failed flush"
ok "flush failed ($msg): seq 2 (count $lcount) only on c1, seq 1 shared, job RUNNING"

# Same node: the local copy is newer than the shared image.
sleep 2
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_runs() { [ "$(grep -c "^restart_dir=" "$out")" -ge "$1" ] && [ "$(grep -c "^start=" "$out")" -gt "$1" ]; }
wait_for 60 _runs 1 || fail "job $j did not restart: $(cat "$out")"
[ "$(job_field "$j" NodeList)" = c1 ] || fail "restarted on $(job_field "$j" NodeList), want c1"
grep -qx "restart_dir=$l1" "$out" || fail "restarted from $(grep restart_dir= "$out"), want the local $l1"
got=$(sed -n '/^restart_dir=/,$p' "$out" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$lcount" ] || fail "resumed at '$got', the local seq 2 holds $lcount"
ok "requeued on c1: resumed from the newer local copy (seq 2, count $got)"

# A flushed seq 3, then an unflushed seq 4 on c1.
sleep 2
ckcreate "$j" >/dev/null 2>&1 || fail "create 3 failed"
[ "$(manifest_get "$img" .seq)" = 3 ] || fail "shared seq $(manifest_get "$img" .seq), want 3"
scount=$(cat "$img/count")
sleep 2
echo blob:4096 >"$mode"	# c1's seq 4 has a file no other seq 4 has
fail_flush "create 4"
echo ok >"$mode"
[ -f "$l1/blob" ] || fail "c1's seq 4 has no blob"
[ "$(manifest_get "$l1" .seq)" = 4 ] || fail "local seq $(manifest_get "$l1" .seq), want 4"
ok "seq 3 flushed (count $scount), seq 4 (count $(cat "$l1/count")) only on c1"

# Another node: only the shared image exists there.
scontrol requeue "$j" || fail "scontrol requeue $j failed"
_pending() { [ "$(job_state "$j")" = PENDING ]; }
wait_for 20 _pending || fail "job $j not PENDING after the requeue: $(job_state "$j")"
scontrol update JobId="$j" ReqNodeList=c2 || fail "cannot move job $j to c2"
wait_for 60 _runs 2 || fail "job $j did not restart again: $(cat "$out")"
[ "$(job_field "$j" NodeList)" = c2 ] || fail "restarted on $(job_field "$j" NodeList), want c2"
rdir=$(sed -n 's/^restart_dir=//p' "$out" | tail -n1)
[ "$rdir" = "$img" ] || fail "on c2 restarted from $rdir, want the shared $img"
got=$(sed -n 's/^start=//p' "$out" | tail -n1)
[ "$got" = "$scount" ] || fail "on c2 resumed at '$got', the flushed seq 3 holds $scount"
[ -e "$l2" ] && fail "c2 has a local image before any checkpoint there: $(ls "$LOCALBASE/c2/$uid/$j")"
ok "requeued on c2: resumed from the flushed shared image (seq 3, count $got), not c1's seq 4"

# A checkpoint on c2 stages in c2's directory and flushes after c1's seq 4.
sleep 2
ckcreate "$j" >/dev/null 2>&1 || fail "create on c2 failed"
image_verify "$l2" || fail "$l2 does not verify"
[ "$(manifest_get "$img" .seq)" = "$(manifest_get "$l2" .seq)" ] || fail "c2: local and shared seq differ"
[ "$(manifest_get "$img" .node)" = c2 ] || fail "the shared image says node $(manifest_get "$img" .node)"
c2count=$(cat "$img/count")
ok "checkpoint on c2: seq $(manifest_get "$img" .seq) (count $c2count) staged in $LOCALBASE/c2 and flushed"

# Back on c1: its local seq 4 is another image than c2's flushed seq 4.
sleep 2
scontrol requeue "$j" || fail "scontrol requeue $j failed"
wait_for 20 _pending || fail "job $j not PENDING after the requeue: $(job_state "$j")"
scontrol update JobId="$j" ReqNodeList=c1 || fail "cannot move job $j to c1"
wait_for 60 _runs 3 || fail "job $j did not restart a third time: $(cat "$out")"
rdir=$(sed -n 's/^restart_dir=//p' "$out" | tail -n1)
got=$(sed -n 's/^start=//p' "$out" | tail -n1)
[ "$rdir" = "$img" ] && [ "$got" = "$c2count" ] ||
	fail "back on c1 resumed from $rdir at $got, want $img at $c2count (c1's own seq 4 is older)"
ok "back on c1: the shared seq 4 from c2 (count $got), not c1's local seq 4 of the same number"
scancel "$j"
