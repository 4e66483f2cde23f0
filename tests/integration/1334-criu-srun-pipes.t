#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1334-criu-srun-pipes: a criu= method with srun's default I/O.  The
# tasks of an srun step have pipes to slurmstepd as fds 0-2; the dump
# records which (slurm-stdio, under the dump's MAC), and on the restore
# the task's new pipes are handed to criu in their place (--inherit-fd
# fd[N]:pipe:[inode]).  The restored counter goes on writing through srun
# into the job's output, and the job COMPLETES with the final count.
# Skipped unless a criu whose "criu check" passes is found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
export CKPT_MAX_WAIT=${CKPT_MAX_WAIT:-120}
cluster_start 1
criu_method_start

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=40
out=$CLUSTER_WORK/sp.out
j=$(submit --checkpoint=0 --checkpoint-method=criu --checkpoint-dir="$ckdir" --requeue \
	--open-mode=append --chdir="$CLUSTER_WORK" -o "$out" --wrap "srun -n1 $APPS/memcount.sh $N") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 20 grep -q '^tick=5$' "$out" || fail "the srun step does not count: $(tail -n 3 "$out")"
img=$ckdir/$j.0.ckpt
msg=$(as_user "$SCHECKPOINT" requeue "$j" 2>&1) ||
	fail "requeue $j: exit $?: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
image_verify "$img" || fail "$img does not verify"
grep -q '^0 pipe:\[[0-9]*\]$' "$img/criu.0/slurm-stdio" 2>/dev/null ||
	grep -q '^1 pipe:\[[0-9]*\]$' "$img/criu.0/slurm-stdio" ||
	fail "the dump does not name the task's pipes: $(cat "$img/criu.0/slurm-stdio" 2>&1)"
at=$(grep '^tick=' "$out" | tail -n1)
ok "job $j: srun step dumped at $at (pipes $(tr '\n' ' ' <"$img/criu.0/slurm-stdio")), job requeued"

state=$(job_wait_done "$j" $((N + 90))) || fail "job $j did not finish: $(job_state "$j")"
[ "$state" = COMPLETED ] ||
	fail "job $j ended $state: $(tail -n 5 "$out"; cat "$ckdir/$j.0.ckpt.restore.0/restore.log" 2>/dev/null | grep -m3 Error)"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(grep -c '^start=0$' "$out")" = 1 ] || fail "the counter started from 0 again: $(grep -v '^tick' "$out")"
ok "job $j restored through srun's new pipes: counted on from $at to final=$N ($state)"
