#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1630-local-multi-node: node-local staging of a step over two nodes (one
# slurmckptd per slurmd, local=<dir>/%n so that each node of this host has
# its own).  Each node's tasks write their part into the node-local
# N.partial (SLURM_CHECKPOINT_DIR there, not in the shared directory); when
# they have answered, that node's helper commits the part locally, copies
# it into the shared N.partial/node.<k>, and only then answers the leader's
# PREPARE; the leader commits one image over both parts.  checkpoint.log
# holds each node's pause and flush.  After "scheckpoint requeue" every rank
# resumes at its part's count: from the shared node.<k>, or from the node's
# local copy of that very part.  A part whose local copy differs from the
# committed one is not taken.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

LOCAL=$(mktemp -d /tmp/ckpt-local.XXXXXX) || fail "mktemp"
chmod 0755 "$LOCAL"
CKPT_PLUGIN_ARGS="local=$LOCAL/%n" cluster_start 2
trap 'rc=$?; rm -rf "$LOCAL"; (exit $rc); cluster_stop' EXIT
mn_helpers_start || fail "the per-node helpers did not start"
ok "two nodes, one slurmckptd each, plugstack local=$LOCAL/%n"

uid=$(id -u "$CKPT_USER")
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/lmn.out
script=$CLUSTER_WORK/lmn.sh
cat >"$script" <<EOS
#!/bin/bash
srun -l -N2 -n2 "$APPS/mncount.sh" 300
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -N2 -n2 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append -o "$out" "$script") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
_two_started() { [ "$(grep -c ': start=' "$out")" -ge 2 ]; }
wait_for 20 _two_started || fail "the tasks did not start: $(cat "$out")"
for k in 0 1; do
	d=$(sed -n "s/^$k: nodeid=$k host=\(c[12]\) ckptdir=//p" "$out" | head -n1)
	h=c$((k + 1))
	[ "$d" = "$LOCAL/$h/$uid/$j/$j.0.ckpt.partial" ] ||
		fail "task $k: SLURM_CHECKPOINT_DIR=$d, want the node-local $LOCAL/$h/$uid/$j/$j.0.ckpt.partial"
done
ok "each node's tasks stage in their own node's local directory"

img=$ckdir/$j.0.ckpt
sleep 3
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock c1)" "$SCHECKPOINT" create "$j.0" MaxWait=60 2>&1) ||
	fail "scheckpoint create $j.0: $msg"
image_verify "$img" || fail "$img does not verify"
files=$(mn_parts "$img")
[ "$files" = "node.0/count.0 node.0/node.0.host node.1/count.1 node.1/node.1.host " ] ||
	fail "$img lists '$files', want both parts"
seq=$(manifest_get "$img" .seq)
for k in 0 1; do
	h=c$((k + 1))
	limg=$LOCAL/$h/$uid/$j/$j.0.ckpt
	[ -f "$limg/manifest.json" ] || fail "no local image of node $h's part: $(ls -la "$LOCAL/$h/$uid/$j" 2>&1)"
	image_verify "$limg" || fail "$limg does not verify"
	[ "$(manifest_get "$limg" .seq)" = "$seq" ] || fail "$limg has seq $(manifest_get "$limg" .seq), the image $seq"
	cmp -s "$limg/count.$k" "$img/node.$k/count.$k" || fail "$limg/count.$k differs from $img/node.$k/count.$k"
	grep -q "$j.0 seq=$seq tasks released paused=[0-9]*ms staged in $LOCAL/$h/$uid/$j, flushing" "$ckdir/checkpoint.log" ||
		fail "checkpoint.log has no release line of node $h: $(cat "$ckdir/checkpoint.log")"
	grep -q "$j.0 seq=$seq node.$k flushed paused=[0-9]*ms flush=[0-9]*ms" "$ckdir/checkpoint.log" ||
		fail "checkpoint.log has no flush line of node.$k: $(cat "$ckdir/checkpoint.log")"
done
ls -d "$ckdir"/*.partial "$LOCAL"/c?/"$uid"/"$j"/*.partial >/dev/null 2>&1 &&
	fail "staging left: $(ls "$ckdir" "$LOCAL"/c?/"$uid"/"$j")"
ok "seq $seq: one image over both parts, each node's part also committed locally; $(grep -o "$j.0 seq=$seq node.[01] flushed.*" "$ckdir/checkpoint.log" | tr '\n' ';')"

msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "$(job_field "$j" BatchHost)")" \
	"$SCHECKPOINT" requeue "$j" MaxWait=60 2>&1) || fail "scheckpoint requeue $j: $msg"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 30 _not_running "$j" || fail "job $j still RUNNING after the requeue"
# While the job waits to run again: a local part that differs from the
# committed one is not used.  node.1's newest local copy is changed (as the
# user), so c2's rank must read the shared part.
as_user chmod u+w "$LOCAL/c2/$uid/$j/$j.0.ckpt" "$LOCAL/c2/$uid/$j/$j.0.ckpt/count.1" ||
	fail "cannot make the local copy writable"
as_user sh -c "echo 999999 >'$LOCAL/c2/$uid/$j/$j.0.ckpt/count.1'" || fail "cannot change the local copy"

seq=$(manifest_get "$img" .seq)
declare -A cnt=()
for k in 0 1; do cnt[$k]=$(cat "$img/node.$k/count.$k"); done
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
_four_started() { [ "$(grep -c ': start=' "$out")" -ge 4 ]; }
wait_for 20 _four_started || fail "the tasks did not start again: $(cat "$out")"
for k in 0 1; do
	s=$(sed -n "s/^$k: start=//p" "$out" | tail -n1)
	rdir=$(sed -n "s/^$k: restart_dir=//p" "$out" | tail -n1)
	[ "$s" = "${cnt[$k]}" ] || fail "task $k resumed at '$s' from $rdir, the committed part has ${cnt[$k]}"
	case $rdir in
	"$img/node.$k" | "$LOCAL/c$((k + 1))/$uid/$j/$j.0.ckpt") ;;
	*) fail "task $k: SLURM_RESTART_DIR=$rdir, want $img/node.$k or the local copy" ;;
	esac
	from[$k]=$rdir
done
[ "${from[1]}" = "$img/node.1" ] || fail "task 1 read the changed local copy ${from[1]}"
ok "requeued: rank 0 resumed at ${cnt[0]} from ${from[0]}, rank 1 at ${cnt[1]} from the shared part (its local copy was changed)"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
mn_helpers_stop
