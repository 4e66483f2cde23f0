#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1520-multi-node-node-fail: a two-node step on a three-node cluster
# (SlurmdTimeout=10) checkpoints periodically; then its node index 1 dies:
# its slurmd, its slurmckptd and its tasks are killed.  The leader's next
# checkpoints fail naming that node (the last image stays); slurmctld sees
# the node down and requeues the job (--requeue), which runs again on the
# remaining nodes and resumes from the last committed image: each rank from
# its own part, node index 1 now on another host.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

CLUSTER_CONF_EXTRA="SlurmdTimeout=10" cluster_start 3
[ "$(scontrol show config | sed -n 's/^SlurmdTimeout *= *\([0-9]*\).*/\1/p')" = 10 ] ||
	fail "SlurmdTimeout is not 10: $(scontrol show config | grep SlurmdTimeout)"
mn_helpers_start || fail "the per-node helpers did not start"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/mn.out
script=$CLUSTER_WORK/mn.sh
cat >"$script" <<EOS
#!/bin/bash
srun -l -N2 -n2 "$APPS/mncount.sh" 300
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -N2 -n2 --checkpoint=0:04 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$script") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
img=$ckdir/$j.0.ckpt
wait_for 40 commits_at_least "$ckdir" "$j.0" 2 ||
	fail "fewer than 2 commits of $j.0: $(cat "$ckdir/checkpoint.log" 2>&1; cat "$out")"
h0=$(cat "$img/node.0/node.0.host")
h1=$(cat "$img/node.1/node.1.host")
ok "job $j on $(job_field "$j" NodeList): $(committed_count "$ckdir" "$j.0") commits, node.0 on $h0, node.1 on $h1"

mn_node_kill "$h1"
ok "node $h1 killed: slurmd, slurmckptd and the step's processes"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 90 _not_running "$j" || fail "job $j still RUNNING 90 s after $h1 died"
note "job $j: $(job_state "$j") ($(job_field "$j" Reason)); $h1: $(sinfo -h -n "$h1" -o %t)"
grep -q "$j.0 failed: node $h1 (index 1)" "$ckdir/checkpoint.log" ||
	fail "no failed checkpoint naming $h1 in checkpoint.log: $(tail -n 5 "$ckdir/checkpoint.log")"
ok "the leader's checkpoints without $h1 failed, naming it: $(grep "$j.0 failed: node $h1" "$ckdir/checkpoint.log" | tail -n1 | cut -d' ' -f2-)"
image_verify "$img" || fail "$img does not verify"
seq=$(manifest_get "$img" .seq)
c0=$(cat "$img/node.0/count.0")
c1=$(cat "$img/node.1/count.1")
ok "last committed image seq $seq: count.0=$c0 count.1=$c1"

job_wait_state "$j" RUNNING 90 || fail "job $j did not run again"
nodes=$(job_field "$j" NodeList)
[ "$(job_field "$j" Restarts)" -ge 1 ] || fail "Restarts=$(job_field "$j" Restarts)"
_starts() { [ "$(grep -c ': start=' "$out")" -ge 4 ]; }
wait_for 20 _starts || fail "the tasks did not start again: $(cat "$out")"
new1=$(sed -n 's/^1: nodeid=1 host=\([^ ]*\).*/\1/p' "$out" | tail -n1)
[ -n "$new1" ] && [ "$new1" != "$h1" ] || fail "node index 1 is on '$new1' again (NodeList $nodes)"
for k in 0 1; do
	s=$(sed -n "s/^$k: start=//p" "$out" | tail -n1)
	r=$(sed -n "s/^$k: restart_dir=//p" "$out" | tail -n1)
	want=$([ $k = 0 ] && echo "$c0" || echo "$c1")
	[ "$r" = "$img/node.$k" ] || fail "task $k: SLURM_RESTART_DIR=$r, want $img/node.$k"
	[ "$s" = "$want" ] || fail "task $k resumed at '$s', the image seq $seq has $want"
done
ok "requeued onto $nodes: rank 0 resumed at $c0, rank 1 (now on $new1) at $c1, from seq $seq"
wait_for 30 grep -q "$j.0: PREPARE from the leader: part node.1" "$(mn_log "$new1")" ||
	fail "the new node index 1 ($new1) was never asked for its part"
ok "the new follower $new1 takes part in the step's checkpoints"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
mn_helpers_stop
