#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1333-criu-batch-srun: with method criu, a batch script that runs its
# application with srun cannot be dumped (srun holds connected TCP
# sockets: "inet: Connected TCP socket"), its srun step can.  "scheckpoint
# create <job>" commits the srun step's image and exits 0; the batch step
# is said once (checkpoint.log, scheckpoint error) to be undumpable and
# why, not failed again at every checkpoint.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
export CKPT_MAX_WAIT=${CKPT_MAX_WAIT:-120}
cluster_start 1
criu_method_start

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/bs.out
j=$(submit --checkpoint=0 --checkpoint-method=criu --checkpoint-dir="$ckdir" \
	--chdir="$CLUSTER_WORK" -o "$out" --wrap "srun -n1 $APPS/memcount.sh 300") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 20 grep -q '^tick=3$' "$out" || fail "the srun step does not count: $(tail -n 3 "$out")"
ok "job $j: a batch script running srun memcount.sh, method criu"

for k in 1 2; do
	msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) ||
		fail "create $j ($k): exit $?: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
	echo "$msg" | grep -q "$ckdir/$j.0.ckpt" || fail "create $j ($k) did not commit $j.0: $msg"
done
image_verify "$ckdir/$j.0.ckpt" || fail "$ckdir/$j.0.ckpt does not verify"
[ -e "$ckdir/$j.ckpt" ] && fail "an image of the batch step: $(ls "$ckdir")"
[ -e "$ckdir/$j.ckpt.partial" ] && fail "the batch step's staging was left behind"
ok "create $j twice: exit 0, $j.0.ckpt seq $(manifest_get "$ckdir/$j.0.ckpt" .seq)"

n=$(grep -c " $j.batch failed: CRIU cannot dump it: .*connected TCP socket" "$ckdir/checkpoint.log")
[ "$n" = 1 ] || fail "the batch step was said $n times: $(grep "$j.batch" "$ckdir/checkpoint.log")"
msg=$(as_user "$SCHECKPOINT" error "$j.batch" 2>&1) || fail "error $j.batch: $msg"
echo "$msg" | grep -q "connected TCP socket" || fail "error $j.batch: $msg"
ok "said once: $(grep " $j.batch failed" "$ckdir/checkpoint.log" | cut -d' ' -f2- | cut -c1-160)"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
