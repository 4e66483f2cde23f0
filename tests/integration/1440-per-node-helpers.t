#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1440-per-node-helpers: two slurmd on one host (c1, c2), each with its own
# slurmckptd: the plugstack line's socket=...%n.sock names each node's, and
# each helper has its own TCP port.  A job on c1 registers with c1's helper
# only, one on c2 with c2's; scheckpoint from the login side, with
# SLURM_CHECKPOINT_PORTS=c1:P1,c2:P2, reaches the right one for each job.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 2

helper_stop
sed -i "s|socket=$CLUSTER_DIR/ckptd.sock|socket=$CLUSTER_DIR/ckptd.%n.sock|" "$CLUSTER_DIR/plugstack.conf"
grep -q 'ckptd.%n.sock' "$CLUSTER_DIR/plugstack.conf" || fail "plugstack.conf: $(cat "$CLUSTER_DIR/plugstack.conf")"
declare -A PORT PID
for n in c1 c2; do
	PORT[$n]=$(free_port) || fail "no free port"
	# Each helper saves its own steps: a state_dir of its own.
	printf 'poll_interval=2\nport=%s\nmunge_socket=%s\nstate_dir=%s\n' "${PORT[$n]}" \
		"$CLUSTER_DIR/munge/munged.sock" "$CLUSTER_DIR/ckptd-state.$n" \
		>"$CLUSTER_DIR/slurmckptd.$n.conf"
	CKPT_CLUSTER_DIR=$CLUSTER_DIR setsid "$CLUSTER_DIR/bin/slurmckptd" \
		-f "$CLUSTER_DIR/slurmckptd.$n.conf" -s "$CLUSTER_DIR/ckptd.$n.sock" -v \
		</dev/null >>"$CLUSTER_DIR/slurmckptd.$n.log" 2>&1 &
	PID[$n]=$!
	wait_for 10 test -S "$CLUSTER_DIR/ckptd.$n.sock" || fail "helper of $n: $(tail "$CLUSTER_DIR/slurmckptd.$n.log")"
done
stop_helpers() { _kill_pids "${PID[c1]}" "${PID[c2]}"; }
ok "one slurmckptd per node: c1 port ${PORT[c1]}, c2 port ${PORT[c2]}"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
declare -A JOB
for n in c1 c2; do
	JOB[$n]=$(submit -w $n --checkpoint=0 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/$n.out" \
		"$APPS/counter.sh" 120) || fail "sbatch -w $n failed"
done
for n in c1 c2; do
	job_wait_state "${JOB[$n]}" RUNNING 20 || fail "job ${JOB[$n]} did not start on $n"
	wait_for 10 grep -q '^start=' "$CLUSTER_WORK/$n.out" || fail "the app on $n did not start"
done
for n in c1 c2; do
	o=$([ $n = c1 ] && echo c2 || echo c1)
	wait_for 5 grep -q "step ${JOB[$n]}.batch registered" "$CLUSTER_DIR/slurmckptd.$n.log" ||
		fail "job ${JOB[$n]} did not register with $n's helper"
	grep -q "step ${JOB[$n]}.batch registered" "$CLUSTER_DIR/slurmckptd.$o.log" &&
		fail "job ${JOB[$n]} (on $n) registered with $o's helper"
done
ok "job ${JOB[c1]} registered with c1's helper only, job ${JOB[c2]} with c2's"

login() {
	as_user env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
		SLURM_CHECKPOINT_PORTS="c1:${PORT[c1]},c2:${PORT[c2]}" "$SCHECKPOINT" "$@"
}
for n in c1 c2; do
	j=${JOB[$n]}
	msg=$(login create "$j" MaxWait=60 2>&1) || fail "create $j (on $n) from the login side: $msg"
	[ "$(manifest_get "$ckdir/$j.ckpt" .node)" = $n ] || fail "image of $j made on $(manifest_get "$ckdir/$j.ckpt" .node)"
	grep -q "TCP request from" "$CLUSTER_DIR/slurmckptd.$n.log" || fail "$n's helper got no TCP request"
	ok "create $j on $n over TCP port ${PORT[$n]}: $msg"
done
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/ckptd.c1.sock" "$SCHECKPOINT" show "${JOB[c2]}" 2>&1)
[ $? -eq 1 ] || fail "c1's helper answered for c2's job: $msg"
ok "without the ports, c1's helper knows nothing of c2's job: $msg"

scancel "${JOB[c1]}" "${JOB[c2]}"
for n in c1 c2; do job_wait_done "${JOB[$n]}" 20 >/dev/null || fail "job ${JOB[$n]} not cancelled"; done
stop_helpers
