#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1220-no-requeue-hold: the helper's actions when a job may not, or may no
# longer, be requeued; and what its polling costs slurmctld.
#  A: --no-requeue, submitted with --time=10 and shortened to one minute
#     with `scontrol update TimeLimit=1` (the helper must follow it): it is
#     checkpointed before the new limit, not requeued (checkpoint.log says
#     why), times out, and its image is kept.
#  B: max_requeue=1 on the plugstack line, --time=1: requeued once at its
#     first deadline, then held at its second, with the reason in
#     checkpoint.log, in slurmckptd's log and in AdminComment;
#     `scontrol release` lets it resume from its image.
#  While both run, sdiag counts the job information requests in a quiet
#  window: one per poll_interval for all jobs, not one per job.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
CKPT_PLUGIN_ARGS="lead=0:20 max_requeue=1"
CKPT_POLL=2
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
outa=$CLUSTER_WORK/a.out
outb=$CLUSTER_WORK/b.out
a=$(submit --time=10 --no-requeue --checkpoint=0 --checkpoint-dir="$ckdir" \
	-o "$outa" "$APPS/counter.sh" 600) || fail "sbatch (A) failed"
b=$(submit --time=1 --requeue --checkpoint=0 --checkpoint-dir="$ckdir" \
	--open-mode=append -o "$outb" "$APPS/counter.sh" 600) || fail "sbatch (B) failed"
job_wait_state "$a" RUNNING 20 || fail "job $a did not start"
job_wait_state "$b" RUNNING 20 || fail "job $b did not start"
scontrol update JobId="$a" TimeLimit=1 || fail "scontrol update TimeLimit"
ok "job $a (--no-requeue, limit now 1 minute) and job $b (max_requeue=1) running"

# --- the polling cost: both jobs registered, nothing else asking ----------
wait_for 20 grep -qs "step $b.batch registered" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "job $b not registered"
sdiag --reset >/dev/null || fail "sdiag --reset"
window=20
sleep "$window"
rpcs=$(sdiag | sed -n 's/^[[:space:]]*REQUEST_JOB_INFO[[:space:]]*( *[0-9]*) count:\([0-9]*\).*/\1/p')
rpcs=${rpcs:-0}
want=$((window / CKPT_POLL))
[ "$rpcs" -ge $((want / 2)) ] && [ "$rpcs" -le $((want + 2)) ] ||
	fail "$rpcs REQUEST_JOB_INFO in $window s with poll_interval=$CKPT_POLL and 2 jobs (want about $want)"
ok "slurmctld cost: $rpcs REQUEST_JOB_INFO in $window s for 2 jobs with poll_interval=$CKPT_POLL: $((rpcs * 3600 / window)) per node per hour; $((3600 / 10)) per hour with the default poll_interval=10"

# --- A: checkpointed, not requeued, image kept ----------------------------
wait_for 90 grep -qs "$a.batch deadline: final checkpoint done.*not requeued: the job may not be requeued" \
	"$ckdir/checkpoint.log" ||
	fail "job $a: no deadline checkpoint with 'not requeued': $(cat "$ckdir/checkpoint.log" 2>&1)"
ok "job $a: $(grep " $a.batch deadline" "$ckdir/checkpoint.log" | head -n1 | cut -d' ' -f2-)"
state=$(job_wait_done "$a" 90) || fail "job $a did not end"
[ "$state" = TIMEOUT ] || fail "job $a ended $state"
[ "$(job_field "$a" Restarts)" = 0 ] || fail "job $a was requeued"
[ "$(jq -r .reason "$ckdir/$a.ckpt/manifest.json")" = deadline ] || fail "no deadline image for $a"
image_verify "$ckdir/$a.ckpt" || fail "image $a.ckpt does not verify"
saved=$(cat "$ckdir/$a.ckpt/count")
counted=$(grep -c '^tick=' "$outa")
ok "job $a: TIMEOUT, not requeued, image $a.ckpt (reason deadline, count $saved) kept"
ok "work lost by job $a: $((counted - saved)) s of $counted counted (the last lead time; resumable with --restart-dir); without slurm-checkpoint: $counted s"

# --- B: requeued once, then held ------------------------------------------
wait_for 90 grep -qs "$b.batch deadline: final checkpoint done.*requeued (restart count 1)" \
	"$ckdir/checkpoint.log" || fail "job $b: no first requeue: $(cat "$ckdir/checkpoint.log")"
ok "job $b: first deadline: requeued (restart count 1)"
wait_for 150 grep -qs "$b.batch deadline: final checkpoint done.*requeued and held: restart count 1 reached max_requeue=1" \
	"$ckdir/checkpoint.log" || fail "job $b: not held: $(cat "$ckdir/checkpoint.log")"
job_wait_state "$b" PENDING 30 || fail "job $b is not pending"
reason=$(job_field "$b" Reason)
comment=$(scontrol -o show job "$b" | grep -o 'AdminComment=.*held after [0-9]* requeues* (max_requeue=1)')
# Slurm 22.05 says job_requeued_in_held_state, later ones JobHeldAdmin.
case $reason in *[Hh]eld*) ;; *) fail "job $b: reason $reason, not held" ;; esac
[ -n "$comment" ] || fail "job $b: no AdminComment: $(scontrol -o show job "$b")"
grep -q "job $b: .*requeued and held" "$CLUSTER_DIR/slurmckptd.log" || fail "not in slurmckptd's log"
ok "job $b held: Reason=$reason, ${comment%% Comment=*}"

before=$(sed -n 's/^ckpt=//p' "$outb" | tail -n1)
scontrol release "$b" || fail "scontrol release $b"
job_wait_state "$b" RUNNING 60 || fail "job $b did not run again after release"
wait_for 30 grep -qs "^start=$before\$" "$outb" ||
	fail "job $b did not resume from $before: $(grep '^start=' "$outb")"
runs=$(grep -c '^start=' "$outb")
[ "$runs" -eq 3 ] || fail "$runs runs"
ok "job $b released: run 3 resumed at $before (runs started at $(sed -n 's/^start=//p' "$outb" | tr '\n' ' '))"
scancel "$b"
job_wait_done "$b" 30 >/dev/null || fail "job $b did not end after scancel"
