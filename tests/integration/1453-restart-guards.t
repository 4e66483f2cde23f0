#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1453-restart-guards: what "scheckpoint restart" carries over and what it
# refuses.  A job submitted with --no-requeue and -o <dir>/pat-%j.out is
# vacated and restarted: the new job has Requeue=0 and writes on in the
# first job's file (%j is the old id).  While that restart is in the queue
# a second one is refused (checkpoint.log records each restart), unless
# Force.  A job that COMPLETED is refused unless Force.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
sck() { as_user "$SCHECKPOINT" "$@"; }

j=$(submit --no-requeue --checkpoint=0 --checkpoint-dir="$ckdir" \
	-o "$CLUSTER_WORK/pat-%j.out" "$APPS/counter.sh" 300) || fail "sbatch failed"
out=$CLUSTER_WORK/pat-$j.out
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
app_started "$out" || fail "job $j's app did not start: $(cat "$out" 2>&1)"
sleep 2
msg=$(sck vacate "$j" MaxWait=60 2>&1) || fail "vacate $j: $msg"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end after vacate"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
ok "job $j (--no-requeue, -o pat-%j.out) vacated"

msg=$(sck restart "$j" ImageDir="$ckdir" 2>&1) || fail "restart $j: exit $?: $msg"
r1=${msg##* }
echo "$msg" | grep -q '^Submitted batch job [0-9][0-9]*$' || fail "restart $j said: $msg"
[ "$(job_field "$r1" Requeue)" = 0 ] || fail "job $r1: Requeue=$(job_field "$r1" Requeue), not 0 as job $j had"
job_wait_state "$r1" RUNNING 20 || fail "job $r1 did not start"
wait_for 20 grep -q "^restart_dir=$ckdir/$j.ckpt\$" "$out" ||
	fail "job $r1 did not write on in $out: $(cat "$out")"
[ ! -e "$CLUSTER_WORK/pat-$r1.out" ] || fail "job $r1 wrote a new file pat-$r1.out"
grep -q "^[^ ]* $j.batch restarted as job $r1 from $ckdir/$j.ckpt\$" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log: $(tail -3 "$ckdir/checkpoint.log")"
ok "restart $j: job $r1 with Requeue=0, writing on in pat-$j.out; noted in checkpoint.log"

before=$(squeue -h -o %i | wc -l)
msg=$(sck restart "$j" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "second restart of $j: exit $rc: $msg"
echo "$msg" | grep -q "job $r1, restarted from job $j before, is in the queue.*Force" ||
	fail "second restart of $j: $msg"
[ "$(squeue -h -o %i | wc -l)" = "$before" ] || fail "the refused restart submitted a job: $(squeue)"
ok "second restart refused while $r1 runs: $msg"

msg=$(sck restart "$j" ImageDir="$ckdir" Force 2>&1) || fail "restart $j Force: exit $?: $msg"
r2=${msg##* }
echo "$msg" | grep -q '^Submitted batch job [0-9][0-9]*$' || fail "restart $j Force said: $msg"
scancel "$r1" "$r2"
job_wait_done "$r1" 30 >/dev/null && job_wait_done "$r2" 30 >/dev/null || fail "jobs $r1 $r2 not cancelled"
ok "restart $j Force: job $r2"

# A job that completes, with an image taken on the way.
c=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/c.out" \
	"$APPS/counter.sh" 8) || fail "sbatch failed"
app_started "$CLUSTER_WORK/c.out" || fail "job $c did not start"
msg=$(sck create "$c" 2>&1) || fail "create $c: $msg"
state=$(job_wait_done "$c" 40) || fail "job $c did not end"
[ "$state" = COMPLETED ] || fail "job $c: $state"
msg=$(sck restart "$c" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "restart of completed $c: exit $rc: $msg"
echo "$msg" | grep -q "job $c completed.*Force" || fail "restart of completed $c: $msg"
ok "restart of COMPLETED job $c refused: $msg"
msg=$(sck restart "$c" ImageDir="$ckdir" Force 2>&1) || fail "restart $c Force: exit $?: $msg"
scancel "${msg##* }"
ok "restart $c Force: $msg"
