#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1511-multi-node-ended: a two-node step whose task on node index 1 ends
# early (it counts to 8, the other to 300).  The periodic checkpoints that
# come after are skipped, not failed: no image of the whole step can be
# made any more, checkpoint.log says "skipped" and names the node, no
# error is recorded for the step, and the last image stays and verifies.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

cluster_start 2
mn_helpers_start || fail "the per-node helpers did not start"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/mn.out
script=$CLUSTER_WORK/mn.sh
cat >"$script" <<EOS
#!/bin/bash
srun -l -N2 -n2 bash -c '[ "\$SLURM_NODEID" = 1 ] && exec "$APPS/mncount.sh" 8; exec "$APPS/mncount.sh" 300'
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -N2 -n2 --checkpoint=0:03 --checkpoint-dir="$ckdir" -o "$out" "$script") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
img=$ckdir/$j.0.ckpt
wait_for 30 grep -q '^1: final=8$' "$out" || fail "the task of node index 1 did not end: $(cat "$out")"
image_verify "$img" || fail "no image of both nodes before node 1's task ended: $(cat "$ckdir/checkpoint.log" 2>&1)"
seq=$(manifest_get "$img" .seq)
ok "job $j: node index 1's task ended at 8; last image seq $seq"

wait_for 20 grep -q " $j.0 skipped: node .* (index 1) has no tasks of the step any more" "$ckdir/checkpoint.log" ||
	fail "no skipped periodic checkpoint: $(tail -n 5 "$ckdir/checkpoint.log")"
sleep 4	# one more interval
# (One that raced with the task's exit may have failed before that.)
late=$(awk -v s=" $j.0 skipped" -v f=" $j.0 failed" 'index($0, s) { n = 1 } n && index($0, f)' "$ckdir/checkpoint.log")
[ -z "$late" ] || fail "a checkpoint after node 1's task had gone failed: $late"
image_verify "$img" || fail "$img does not verify after the skips"
[ "$(manifest_get "$img" .seq)" = "$seq" ] || fail "the image changed: seq $(manifest_get "$img" .seq)"
bh=$(job_field "$j" BatchHost)
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$(mn_sock "$bh")" "$SCHECKPOINT" error "$j.0" 2>&1) ||
	fail "error $j.0: $msg"
echo "$msg" | grep -q "error_code=0 error_msg=none" || fail "an error was recorded: $msg"
ok "$(grep -m1 " $j.0 skipped" "$ckdir/checkpoint.log" | cut -d' ' -f2-); no error; image seq $seq kept"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
