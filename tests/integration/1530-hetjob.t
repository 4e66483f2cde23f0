#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1530-hetjob: a heterogeneous job (-N1 : -N1) whose script runs one srun
# step over both components (--het-group=0,1).  Each component's part is
# a step of its own job (<component job>.0) on its own node: it registers
# with that node's slurmckptd, its image is named after its component's
# job id, and its manifest names the node it ran on, not one taken from
# the step's node list at the component's node index.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

cluster_start 2
mn_helpers_start || fail "the per-node helpers did not start"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/het.out
script=$CLUSTER_WORK/het.sh
cat >"$script" <<EOS
#!/bin/bash
srun --het-group=0,1 -l "$APPS/mncount.sh" 300
EOS
chown "$CKPT_USER:" "$script"
j=$(submit --checkpoint=0:04 --checkpoint-dir="$ckdir" -o "$out" -w c1 -N1 : -w c2 -N1 "$script") ||
	fail "sbatch of the heterogeneous job failed"
_both() { [ "$(squeue -h -j "$j" -t R -o %A | wc -l)" -eq 2 ]; }
wait_for 30 _both || fail "the components of $j do not run: $(squeue -h -j "$j" -o '%i %A %t %N')"
declare -A comp
while read -r id node; do comp[$node]=$id; done < <(squeue -h -j "$j" -o '%A %N')
[ -n "${comp[c1]:-}" ] && [ -n "${comp[c2]:-}" ] || fail "components: $(squeue -h -j "$j" -o '%A %N')"
ok "job $j: components ${comp[c1]} on c1 and ${comp[c2]} on c2"

for n in c1 c2; do
	img=$ckdir/${comp[$n]}.0.ckpt
	wait_for 30 test -f "$img/manifest.json" ||
		fail "no image $img: $(cat "$ckdir/checkpoint.log" 2>&1)"
	image_verify "$img" || fail "$img does not verify"
	[ "$(manifest_get "$img" .node)" = "$n" ] || fail "$img names node $(manifest_get "$img" .node), not $n"
	grep -q "step ${comp[$n]}.0 registered" "$(mn_log "$n")" ||
		fail "${comp[$n]}.0 did not register with $n's slurmckptd: $(grep registered "$(mn_log "$n")")"
	other=c1
	[ "$n" = c1 ] && other=c2
	grep -q "step ${comp[$n]}.0 registered" "$(mn_log "$other")" &&
		fail "${comp[$n]}.0 registered with $other's slurmckptd too"
done
ok "each component checkpointed on its own node: $(grep -h ' committed ' "$ckdir/checkpoint.log" | grep -o '[0-9]*\.0 seq=[0-9]* .*node=c[12]' | sed 's/ committed.*node=/ on /' | sort -u | tr '\n' ';')"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
