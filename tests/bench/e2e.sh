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
	until wait $!; do :; done
	count=$((count + 1))
	echo "tick=$count"
done
echo "final=$count"
EOF
	chmod 0755 "$CLUSTER_WORK/recipe.sh"
}

# _e2e_ticks <output>: seconds of work counted, all runs together
_e2e_ticks() { grep -c '^tick=' "$1"; }

bench_e2e() {
	local ck t0 v j st
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
	# poll all three; each one's wall time is from submission to its end
	local -A end=()
	while [ ${#end[@]} -lt 3 ] && [ $((SECONDS - t0)) -lt 900 ]; do
		for v in ckpt none recipe; do
			[ -z "${end[$v]:-}" ] && _job_finished "${jid[$v]}" && end[$v]=$((SECONDS - t0))
		done
		sleep 2
	done
	for v in ckpt none recipe; do
		j=${jid[$v]}
		st=$(job_state "$j")
		[ -n "${end[$v]:-}" ] || st="$st(unfinished)"
		res "e2e_state_$v" "$st"
		res "e2e_wall_$v" "${end[$v]:-$((SECONDS - t0))}"
		res "e2e_restarts_$v" "$(job_field "$j" Restarts)"
		if grep -qx "final=$E2E_N" "${out[$v]}"; then
			res "e2e_lost_$v" "$(($(_e2e_ticks "${out[$v]}") - E2E_N))"
		else
			res "e2e_lost_$v" "$(_e2e_ticks "${out[$v]}")"
		fi
		note "e2e $v: $st after $(get "e2e_wall_$v") s, $(get "e2e_restarts_$v") requeue(s), lost $(get "e2e_lost_$v") s"
	done
	echo "$PLUG_LINE" >"$CLUSTER_DIR/plugstack.conf"
}
