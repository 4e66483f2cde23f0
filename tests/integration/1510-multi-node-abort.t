#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1510-multi-node-abort: a three-node step whose tasks on node index 2 stop
# answering: the whole checkpoint is aborted (the leader sends ABORT to every
# follower), scheckpoint create and error and checkpoint.log name the node,
# the previous image is kept, verified and used by the requeued job.  A
# PREPARE sealed in a user's MUNGE credential is refused by a follower.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

CKPT_MAX_WAIT=4 cluster_start 3
mn_helpers_start || fail "the per-node helpers did not start"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mute=$CLUSTER_WORK/mute
out=$CLUSTER_WORK/mn.out
script=$CLUSTER_WORK/mn.sh
cat >"$script" <<EOS
#!/bin/bash
srun -l -N3 -n3 "$APPS/mncount.sh" 300 "$mute"
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -N3 -n3 --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$script") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
_ticked() { [ "$(grep -c ': tick=3$' "$out")" -ge 3 ]; }
wait_for 30 _ticked || fail "the tasks did not count to 3: $(cat "$out")"
bh=$(job_field "$j" BatchHost)
sck() { as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "$bh")" "$SCHECKPOINT" "$@"; }
img=$ckdir/$j.0.ckpt

msg=$(sck create "$j.0" MaxWait=60 2>&1) || fail "the first create failed: $msg"
image_verify "$img" || fail "$img does not verify"
seq=$(manifest_get "$img" .seq)
declare -A cnt host
for k in 0 1 2; do
	cnt[$k]=$(cat "$img/node.$k/count.$k")
	host[$k]=$(cat "$img/node.$k/node.$k.host")
done
ok "image seq $seq of 3 parts: counts ${cnt[0]} ${cnt[1]} ${cnt[2]} on ${host[0]} ${host[1]} ${host[2]}"

# A follower's helper does not checkpoint the step: it says who does, and
# scheckpoint (with the ports) goes on to the leader.
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "${host[1]}")" "$SCHECKPOINT" create "$j.0" 2>&1)
[ $? -eq 1 ] || fail "the follower ${host[1]} answered create $j.0: $msg"
echo "$msg" | grep -q "node index 0" || fail "the follower's refusal does not name the leader: $msg"
ok "follower ${host[1]}: $msg"
ports=$(for n in c1 c2 c3; do printf '%s:%s,' "$n" "${PORT[$n]}"; done)
sleep 2	# so that the next image holds other counts than seq 1
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "${host[1]}")" SLURM_CHECKPOINT_PORTS="${ports%,}" \
	"$SCHECKPOINT" create "$j.0" MaxWait=60 2>&1) || fail "create $j.0 through the ports: $msg"
[ "$(manifest_get "$img" .seq)" -gt "$seq" ] || fail "create $j.0 through the ports committed nothing: $msg"
seq=$(manifest_get "$img" .seq)
c_first=${cnt[0]}
for k in 0 1 2; do cnt[$k]=$(cat "$img/node.$k/count.$k"); done
[ "${cnt[0]}" -gt "$c_first" ] || fail "seq $seq holds count ${cnt[0]}, as seq 1 did"
ok "from the follower's node with SLURM_CHECKPOINT_PORTS, the leader committed seq $seq: $msg"

# A user's credential is not a helper's.
req=$(printf '{"v":1,"op":"prepare","job":%s,"step":0,"to":"%s"}' "$j" "${host[1]}")
as_user munge -S "$CLUSTER_DIR/munge/munged.sock" -s "$req" -o "$CLUSTER_WORK/cred" ||
	fail "munge could not encode"
chmod 0644 "$CLUSTER_WORK/cred"
msg=$(python3 "$APPS/frame.py" "${PORT[${host[1]}]}" "$CLUSTER_WORK/cred" 2>&1)
echo "$msg" | grep -q 'permission denied' || fail "a user's PREPARE: $msg"
grep -q "peer request for $j.0 from uid $(id -u "$CKPT_USER") refused" "$(mn_log "${host[1]}")" ||
	fail "${host[1]}'s helper did not log the refusal"
[ "$(grep -c "$j.0: PREPARE from the leader" "$(mn_log "${host[1]}")")" = 2 ] ||
	fail "a user's PREPARE started a part on ${host[1]}"
ok "a PREPARE in a user's credential refused by ${host[1]}: $msg"

echo 2 >"$mute"
chmod 0644 "$mute"
start=$SECONDS
msg=$(sck create "$j.0" MaxWait=60 2>&1)
rc=$?
took=$((SECONDS - start))
[ $rc -ne 0 ] || fail "create with node index 2 muted succeeded: $msg"
echo "$msg" | grep -q "node ${host[2]} (index 2): task 2 did not acknowledge within 4 s" ||
	fail "create's error does not name node ${host[2]}: $msg"
ok "create aborted after $took s: $msg"
grep -q "$j.0 failed: node ${host[2]} (index 2)" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not name the node: $(tail -n 3 "$ckdir/checkpoint.log")"
msg=$(sck error "$j.0" 2>&1) || fail "scheckpoint error $j.0: $msg"
echo "$msg" | grep -q "node ${host[2]} (index 2)" || fail "scheckpoint error does not name the node: $msg"
ok "checkpoint.log and scheckpoint error name node ${host[2]}: $msg"
for k in 1 2; do
	wait_for 5 grep -q "$j.0: ABORT from the leader" "$(mn_log "${host[$k]}")" ||
		fail "node index $k (${host[$k]}) got no ABORT: $(grep "$j.0" "$(mn_log "${host[$k]}")" | tail -n 4)"
done
grep -q "$j.0: part node.1 PREPARED" "$(mn_log "${host[1]}")" || fail "node index 1 did not prepare its part"
grep -q "$j.0: part node.2 FAILED" "$(mn_log "${host[2]}")" || fail "node index 2 did not fail its part"
ok "index 1 PREPARED, index 2 FAILED, both got ABORT"
[ "${cnt[0]}" -ge 3 ] || fail "nothing counted before the first image"
[ "$(manifest_get "$img" .seq)" = "$seq" ] || fail "the image changed: seq $(manifest_get "$img" .seq)"
image_verify "$img" || fail "$img no longer verifies"
ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left: $(ls "$ckdir")"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the failed checkpoint"
ok "previous image seq $seq kept and verified, no staging left, job still running"

# A follower that cannot be reached: the leader aborts at once, and the
# part already asked of node index 1 (whose tasks are slow now) is killed.
echo "1 2" >"$mute"
mn_helper_kill "${host[2]}"
msg=$(sck create "$j.0" MaxWait=60 2>&1)
[ $? -ne 0 ] || fail "create without the helper of ${host[2]} succeeded: $msg"
echo "$msg" | grep -q "node ${host[2]} (index 2): slurmckptd at .*Connection refused" ||
	fail "create's error does not say that ${host[2]} is unreachable: $msg"
# The ABORT and the end of the PREPARE's connection reach node index 1
# together, in either order: both kill the part worker.
wait_for 5 grep -qE "$j.0: (ABORT from the leader: part worker killed|the leader closed its PREPARE connection: part aborted)" "$(mn_log "${host[1]}")" ||
	fail "the part of node index 1 was not killed: $(grep "$j.0" "$(mn_log "${host[1]}")" | tail -n 4)"
wait_for 5 grep -q "$j.0: part node.1 FAILED: worker killed by signal 9" "$(mn_log "${host[1]}")" ||
	fail "the killed part did not end: $(grep "$j.0" "$(mn_log "${host[1]}")" | tail -n 4)"
[ "$(manifest_get "$img" .seq)" = "$seq" ] || fail "the image changed: seq $(manifest_get "$img" .seq)"
ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left: $(ls "$ckdir")"
ok "helper of ${host[2]} down: aborted at once, node index 1's part worker killed: $msg"
mn_helper_start "${host[2]}" || fail "the helper of ${host[2]} did not start again"
wait_for 10 grep -q "re-adopted\|slurmstepd reconnected\|step $j.0" "$(mn_log "${host[2]}")" ||
	note "helper of ${host[2]}: $(tail -n 3 "$(mn_log "${host[2]}")")"

scontrol requeue "$j" || fail "scontrol requeue $j failed"
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
# The count is taken on each try: the tasks may start a moment after the
# job is RUNNING again.
_starts() { [ "$(grep -c ': start=' "$out")" -ge 6 ]; }
wait_for 20 _starts || fail "the tasks did not start again: $(cat "$out")"
for k in 0 1 2; do
	s=$(sed -n "s/^$k: start=//p" "$out" | tail -n1)
	[ "$s" = "${cnt[$k]}" ] || fail "task $k resumed at '$s', image seq $seq has ${cnt[$k]}"
	[ "$(sed -n "s/^$k: restart_dir=//p" "$out" | tail -n1)" = "$img/node.$k" ] ||
		fail "task $k: restart_dir $(sed -n "s/^$k: restart_dir=//p" "$out" | tail -n1)"
done
ok "requeued job resumed from the kept image seq $seq: ${cnt[0]} ${cnt[1]} ${cnt[2]}"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
mn_helpers_stop
