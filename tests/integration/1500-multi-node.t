#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1500-multi-node: a two-node and then a three-node step (srun -N2 / -N3 under
# sbatch, one slurmckptd per slurmd) checkpoint into one image per step:
# <job>.0.ckpt holds node.0 .. node.<n-1>, one part per node, under ONE
# manifest; every follower's helper was asked (PREPARE) and the leader (node
# index 0) committed.  "scheckpoint requeue" checkpoints and requeues the
# job; when it runs again each rank finds its own part in SLURM_RESTART_DIR
# (<image>/node.<k>) and resumes from its own count.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

cluster_start 3
mn_helpers_start || fail "the per-node helpers did not start"
ok "one slurmckptd per node: c1 ${PORT[c1]}, c2 ${PORT[c2]}, c3 ${PORT[c3]}"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=300

# run_case <nodes>
run_case() {
	local nn=$1 j out script img k bh files want c s rdir
	out=$CLUSTER_WORK/mn$nn.out
	script=$CLUSTER_WORK/mn$nn.sh
	cat >"$script" <<EOS
#!/bin/bash
srun -l -N$nn -n$nn "$APPS/mncount.sh" $N
EOS
	chown "$CKPT_USER:" "$script"
	j=$(submit -N"$nn" -n"$nn" --checkpoint=0:04 --checkpoint-dir="$ckdir" --requeue \
		--open-mode=append -o "$out" "$script") || fail "sbatch -N$nn failed"
	job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
	img=$ckdir/$j.0.ckpt
	wait_for 40 test -f "$img/manifest.json" ||
		fail "no image $img after 40 s: $(ls -la "$ckdir"; cat "$ckdir/checkpoint.log" 2>&1; cat "$out")"
	image_verify "$img" || fail "$img does not verify"
	want=
	for ((k = 0; k < nn; k++)); do
		want="${want}node.$k/count.$k node.$k/node.$k.host "
		[ -d "$img/node.$k" ] || fail "$img has no node.$k: $(ls "$img")"
	done
	files=$(mn_parts "$img")
	[ "$files" = "$(echo "$want" | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')" ] ||
		fail "$img lists '$files', want one part per node: $want"
	[ "$(find "$ckdir/$j.0.ckpt" -name manifest.json | wc -l)" = 1 ] || fail "more than one manifest in $img"
	find "$img" -name '.done.*' | grep -q . && fail "acknowledgements left in $img"
	# Each part was written on its own host.
	hosts=
	for ((k = 0; k < nn; k++)); do hosts="$hosts$(cat "$img/node.$k/node.$k.host") "; done
	[ "$(echo "$hosts" | tr ' ' '\n' | sed '/^$/d' | sort -u | wc -l)" = "$nn" ] ||
		fail "the parts of $img come from hosts '$hosts', want $nn distinct"
	ok "$nn-node step: $img (seq $(manifest_get "$img" .seq)) holds $files, hosts $hosts"

	bh=$(job_field "$j" BatchHost)
	lead=$(echo "$hosts" | cut -d' ' -f1)
	grep -q "checkpoint of $j.0 committed" "$(mn_log "$lead")" ||
		fail "the leader $lead did not commit $j.0: $(grep "$j.0" "$(mn_log "$lead")" | tail -n 5)"
	for ((k = 1; k < nn; k++)); do
		h=$(echo "$hosts" | cut -d' ' -f$((k + 1)))
		grep -q "$j.0: PREPARE from the leader: part node.$k" "$(mn_log "$h")" ||
			fail "the helper of $h (node index $k) was not asked for its part"
		grep -q "checkpoint of $j.0 committed" "$(mn_log "$h")" &&
			fail "follower $h committed $j.0 itself"
	done
	ok "$nn-node step: leader $lead committed, every follower was asked for its part"
	wait_for 20 commits_at_least "$ckdir" "$j.0" 2 ||
		fail "fewer than 2 commits of $j.0: $(cat "$ckdir/checkpoint.log")"

	msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "$bh")" "$SCHECKPOINT" requeue "$j" MaxWait=60 2>&1) ||
		fail "scheckpoint requeue $j: $msg"
	ok "scheckpoint requeue $j (batch host $bh): $msg"
	_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
	wait_for 30 _not_running "$j" || fail "job $j still RUNNING after the requeue"
	image_verify "$img" || fail "$img does not verify after the requeue"
	declare -A cnt=()
	for ((k = 0; k < nn; k++)); do cnt[$k]=$(cat "$img/node.$k/count.$k"); done
	seq=$(manifest_get "$img" .seq)
	job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
	_starts() { [ "$(grep -c ': start=' "$out")" -ge $((2 * nn)) ]; }
	wait_for 20 _starts || fail "the tasks did not start again: $(cat "$out")"
	for ((k = 0; k < nn; k++)); do
		s=$(sed -n "s/^$k: start=//p" "$out" | tail -n1)
		rdir=$(sed -n "s/^$k: restart_dir=//p" "$out" | tail -n1)
		[ "$rdir" = "$img/node.$k" ] || fail "task $k: SLURM_RESTART_DIR=$rdir, want $img/node.$k"
		[ "$s" = "${cnt[$k]}" ] || fail "task $k resumed at '$s', its part has ${cnt[$k]}"
	done
	ok "$nn-node step resumed from seq $seq: every rank from its own part ($(for k in "${!cnt[@]}"; do printf '%s=%s ' "$k" "${cnt[$k]}"; done))"
	ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left: $(ls "$ckdir")"
	scancel "$j"
	job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
}

run_case 2
run_case 3
mn_helpers_stop
