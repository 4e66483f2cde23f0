# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# e2e.sh - sourced by tests/bench/run.sh: work lost at a time limit.
#
# Three copies of the same job, side by side on one cluster, each counting
# to E2E_N seconds of work with --time=2 (less than the work needs):
#   ckpt    --checkpoint=0 (deadline checkpoint lead=1:00 before the limit,
#           then requeued by slurmckptd: tests/integration/1200-time-limit.t)
#   none    no checkpointing: killed at its limit (TIMEOUT)
#   recipe  the hand-made recipe: --signal=B:USR2@60, a bash trap that saves
#           the count and runs `scontrol requeue $SLURM_JOB_ID`
# Work lost = seconds counted more than once (or, for none, all of them).

E2E_N=${E2E_N:-170}

_e2e_recipe() {
	cat >"$CLUSTER_WORK/recipe.sh" <<'EOF'
#!/bin/bash
# recipe.sh <state-file> <N>: the hand-made checkpoint/requeue recipe
state=$1 n=$2 count=0
[ -s "$state" ] && count=$(cat "$state")
echo "start=$count"
save() {
	echo "$count" >"$state.tmp" && mv "$state.tmp" "$state"
	echo "ckpt=$count"
	scontrol requeue "$SLURM_JOB_ID"
	exit 0
}
trap save USR2
while [ "$count" -lt "$n" ]; do
	sleep 1 &
	# wait returns early (>128) when a trap runs: wait again while the
	# sleep lives.  Not "until wait $!": once the trap's own commands
	# have reaped the sleep, wait fails for ever and the loop spins.
	while kill -0 $! 2>/dev/null; do wait $!; done
	count=$((count + 1))
	echo "tick=$count"
done
echo "final=$count"
EOF
	chmod 0755 "$CLUSTER_WORK/recipe.sh"
}

# _e2e_ticks <output>: seconds of work counted, all runs together
_e2e_ticks() { grep -c '^tick=' "$1"; }

# _e2e_done <job>: ended for good (PREEMPTED, on the way to a requeue, is
# not an end here)
_e2e_done() { _job_finished "$1" && [ "$(job_state "$1")" != PREEMPTED ]; }

# _e2e_collect <key> <N> <t0>: waits (up to 900 s) for the caller's jobs
# ${jid[ckpt|none|recipe]}, writing into ${out[...]}, to end; records
# <key>_state/wall/restarts/lost_<variant> (wall: from t0 to its end; lost:
# seconds counted more than once, or all of them when it never finished)
# and, for the recipe, how many times its trap ran.
_e2e_collect() {
	local key=$1 n=$2 t0=$3 v j st lost
	local -A end=()
	while [ ${#end[@]} -lt 3 ] && [ $((SECONDS - t0)) -lt 900 ]; do
		for v in ckpt none recipe; do
			[ -z "${end[$v]:-}" ] && _e2e_done "${jid[$v]}" && end[$v]=$((SECONDS - t0))
		done
		sleep 2
	done
	for v in ckpt none recipe; do
		j=${jid[$v]}
		st=$(job_state "$j")
		[ -n "${end[$v]:-}" ] || st="$st(unfinished)"
		res "${key}_state_$v" "$st"
		res "${key}_wall_$v" "${end[$v]:-$((SECONDS - t0))}"
		res "${key}_restarts_$v" "$(job_field "$j" Restarts)"
		lost=$(_e2e_ticks "${out[$v]}")
		grep -qx "final=$n" "${out[$v]}" && lost=$((lost - n))
		res "${key}_lost_$v" "$lost"
		[ "$v" = recipe ] && res "${key}_trap_recipe" "$(grep -c '^ckpt=' "${out[$v]}")"
		note "$key $v: $st after $(get "${key}_wall_$v") s, $(get "${key}_restarts_$v") requeue(s), lost $lost s; runs started at $(sed -n 's/^start=//p' "${out[$v]}" | tr '\n' ' ')"
	done
}

bench_e2e() {
	local ck t0 v
	local -A jid=() out=()
	ck=$(user_dir "$CLUSTER_DIR/e2e-ckpt")
	_e2e_recipe
	# the deadline lead 1:00 (instead of the default 5:00) for a 2-minute job
	echo "$PLUG_LINE lead=1:00" >"$CLUSTER_DIR/plugstack.conf"
	for v in ckpt none recipe; do out[$v]=$CLUSTER_WORK/e2e.$v.out; done
	t0=$SECONDS
	jid[ckpt]=$(submit --time=2 --checkpoint=0 --checkpoint-dir="$ck" --requeue \
		--open-mode=append -o "${out[ckpt]}" "$APPS/counter.sh" "$E2E_N") || return 1
	jid[none]=$(submit --time=2 --requeue -o "${out[none]}" "$APPS/counter.sh" "$E2E_N") || return 1
	jid[recipe]=$(submit --time=2 --requeue --open-mode=append --signal=B:USR2@60 \
		-o "${out[recipe]}" "$CLUSTER_WORK/recipe.sh" "$CLUSTER_WORK/recipe.state" "$E2E_N") || return 1
	note "e2e: jobs ${jid[ckpt]} (checkpoint), ${jid[none]} (none), ${jid[recipe]} (recipe), N=$E2E_N s of work, --time=2"
	_e2e_collect e2e "$E2E_N" "$t0"
	echo "$PLUG_LINE" >"$CLUSTER_DIR/plugstack.conf"
}

# ------------------------------------------------------------ preempt ------
# Work lost to a preemption: the same three jobs, each alone on its own
# node of partition "low" (PriorityTier=1, GraceTime=E2E_GRACE,
# PreemptMode=REQUEUE; the cluster of tests/integration/1210-preempt.t),
# counting to E2E_PN seconds of work, no time limit.  Once each has
# counted E2E_PAT seconds a job in "high" (PriorityTier=10) that needs
# every node preempts all three at once.
#   ckpt    --checkpoint=0: slurmckptd sees PreemptTime, checkpoints and
#           requeues at once (it does not wait for the grace time to end)
#   none    no checkpointing: Slurm requeues it once the grace time is over
#   recipe  --signal=B:USR2@60 + trap + scontrol requeue, as for the limit
# Run twice, on two clusters: as configured by default, where Slurm 22.05
# sends preempted jobs SIGTERM, and to their steps only (never to the
# batch shell, where the recipe's trap is), and with
# SlurmctldParameters=preempt_send_user_signal (PreemptParameters=
# send_user_signal from Slurm 23.02 on), where the job's --signal
# is sent instead at the start of the grace time.  Results: preempt_* and
# preempt_usersig_* keys.
E2E_PN=${E2E_PN:-120}
E2E_PAT=${E2E_PAT:-30}
E2E_GRACE=${E2E_GRACE:-30}

# _preempt_round <key> [slurm.conf lines]
_preempt_round() {
	local key=$1 extra=${2:-} ck ncpu t0 v h
	local -A jid=() out=()
	cluster_stop >/dev/null
	CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=$E2E_GRACE PreemptMode=REQUEUE MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
	CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=REQUEUE${extra:+
$extra}"
	cluster_start 3
	ck=$(user_dir "$CLUSTER_DIR/e2e-ckpt")
	_e2e_recipe
	ncpu=$(scontrol -o show node c1 | tr ' ' '\n' | sed -n 's/^CPUTot=//p')
	[ -n "$ncpu" ] || { note "preempt: cannot read c1's CPUs"; return 1; }
	for v in ckpt none recipe; do out[$v]=$CLUSTER_WORK/preempt.$v.out; done
	t0=$SECONDS
	jid[ckpt]=$(submit -p low -w c1 -n "$ncpu" --checkpoint=0 --checkpoint-dir="$ck" --requeue \
		--open-mode=append -o "${out[ckpt]}" "$APPS/counter.sh" "$E2E_PN") || return 1
	jid[none]=$(submit -p low -w c2 -n "$ncpu" --requeue --open-mode=append -o "${out[none]}" \
		"$APPS/counter.sh" "$E2E_PN") || return 1
	jid[recipe]=$(submit -p low -w c3 -n "$ncpu" --requeue --open-mode=append --signal=B:USR2@60 \
		-o "${out[recipe]}" "$CLUSTER_WORK/recipe.sh" "$CLUSTER_WORK/recipe.state" "$E2E_PN") || return 1
	for v in ckpt none recipe; do
		wait_for 120 grep -qs "^tick=$E2E_PAT\$" "${out[$v]}" ||
			{ note "preempt $v: job ${jid[$v]} does not count: $(tail -n 3 "${out[$v]}")"; return 1; }
	done
	h=$(submit -p high -N 3 -n $((3 * ncpu)) -o /dev/null --wrap "sleep 10") || return 1
	note "preempt ($key): jobs ${jid[ckpt]} (checkpoint), ${jid[none]} (none), ${jid[recipe]} (recipe), preempted by $h after $E2E_PAT s of $E2E_PN s of work; GraceTime=$E2E_GRACE${extra:+, $extra}"
	_e2e_collect "$key" "$E2E_PN" "$t0"
	cluster_stop >/dev/null
}

bench_preempt() {
	local usersig="PreemptParameters=send_user_signal" v
	# 23.02 moved SlurmctldParameters=preempt_send_user_signal there.
	v=$(slurmctld -V | awk '{ print $2 }')
	if [ "$(printf '%s\n' "$v" 23.02 | sort -V | head -n1)" != 23.02 ]; then
		usersig="SlurmctldParameters=preempt_send_user_signal"
	fi
	_preempt_round preempt || return 1
	_preempt_round preempt_usersig "$usersig"
}
