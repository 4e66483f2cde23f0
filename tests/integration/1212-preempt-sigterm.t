#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1212-preempt-sigterm: a program with its own SIGTERM handler (it saves
# its count into $SLURM_CHECKPOINT_DIR and exits, apps/termcount.sh), run
# by "srun" in a batch script with --checkpoint-signal=TERM (the site
# allows TERM: signals=USR1,USR2,TERM), is preempted in a partition that
# cancels after GraceTime=30 (PreemptMode=CANCEL: slurmctld never
# requeues, and 24.11 requeues a job once more after a REQUEUE-mode
# preemption when it completes).  slurmctld sends SIGTERM at once, before
# slurmckptd can know of the preemption: what the program wrote on the
# way out is committed (nothing is sent a second time), the job is
# requeued within the grace time and resumes at the saved count.  Its
# normal end at the last run leaves no staging directory and no line of
# its own in checkpoint.log.  Before the time limit slurmckptd sends the
# SIGTERM itself, and the program's end answers it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
GRACE=30
CLUSTER_PARTITIONS="PartitionName=low Nodes=@NODES@ Default=YES PriorityTier=1 GraceTime=$GRACE PreemptMode=CANCEL MaxTime=INFINITE State=UP
PartitionName=high Nodes=@NODES@ PriorityTier=10 PreemptMode=OFF MaxTime=INFINITE State=UP"
CLUSTER_CONF_EXTRA="PreemptType=preempt/partition_prio
PreemptMode=CANCEL"
CKPT_PLUGIN_ARGS="signals=USR1,USR2,TERM"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=45
out=$CLUSTER_WORK/term.out
ncpu=$(scontrol -o show node c1 | tr ' ' '\n' | sed -n 's/^CPUTot=//p')
[ -n "$ncpu" ] || fail "cannot read c1's CPUs"
script=$CLUSTER_WORK/term.sh
cat >"$script" <<EOS
#!/bin/bash
srun -n 1 "$APPS/termcount.sh" $N
EOS
chown "$CKPT_USER:" "$script"

j=$(submit -p low -n "$ncpu" --checkpoint=0 --checkpoint-signal=TERM \
	--checkpoint-dir="$ckdir" --requeue --open-mode=append -o "$out" \
	"$script") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 grep -qs '^tick=10$' "$out" || fail "job $j does not count: $(cat "$out")"
[ -d "$ckdir/$j.0.ckpt.partial" ] ||
	fail "no staging directory for the program's own SIGTERM: $(ls "$ckdir")"
ok "job $j counts in partition low; $j.0.ckpt.partial is there before any request"

t0=$(date +%s)
h=$(submit -p high -n "$ncpu" --wrap "sleep 5") || fail "sbatch (high) failed"
wait_for "$GRACE" grep -Eqs "$j.0 .*seq=1 committed.* reason=(preemption|sigterm)" \
	"$ckdir/checkpoint.log" ||
	fail "nothing committed within the grace time: $(cat "$ckdir/checkpoint.log" 2>&1)"
# The job ends in its grace time (srun's task ended, so did the script):
# only slurmckptd's requeue brings it back.
wait_for "$GRACE" grep -Eqs "(preemption|sigterm): final checkpoint done.*; requeued \(restart count 1\)" \
	"$ckdir/checkpoint.log" ||
	fail "not requeued within the grace time: $(cat "$ckdir/checkpoint.log" 2>&1)"
t1=$(date +%s)
saved=$(sed -n 's/^saved=//p' "$out" | head -n1)
[ -n "$saved" ] || fail "the program did not get SIGTERM: $(tail -n 5 "$out")"
[ "$(cat "$ckdir/$j.0.ckpt/count")" = "$saved" ] ||
	fail "image holds $(cat "$ckdir/$j.0.ckpt/count"), the program saved $saved"
image_verify "$ckdir/$j.0.ckpt" || fail "$j.0.ckpt does not verify"
ok "what the program saved on Slurm's SIGTERM (count $saved) committed and the job requeued $((t1 - t0)) s after the preempting job (grace time $GRACE s): $(grep -E '(preemption|sigterm): final' "$ckdir/checkpoint.log" | cut -d' ' -f2-)"

state=$(job_wait_done "$h" 120) || fail "high job $h did not run"
state=$(job_wait_done "$j" 60 "$out") || fail "job $j did not finish: $(job_state "$j")"
# 24.11 calls a job that a preemption once touched PREEMPTED even when its
# later run completes: the exit code says how it ended.
[ "$state" = COMPLETED ] || [ "$state" = PREEMPTED ] ||
	fail "job $j ended $state: $(tail -n 5 "$out")"
[ "$(job_field "$j" ExitCode)" = 0:0 ] || fail "job $j exit code $(job_field "$j" ExitCode)"
grep -qx "start=$saved" "$out" || fail "the second run did not start at $saved: $(grep start= "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
lost=$(($(echo "$ticks" | wc -l) - N))
[ "$lost" -ge 0 ] && [ "$lost" -le 2 ] || fail "$lost seconds of work repeated"
ok "job $j resumed at $saved and completed with final=$N; work repeated: $lost s"

wait_for 20 test ! -e "$ckdir/$j.0.ckpt.partial" ||
	fail "$j.0.ckpt.partial left after the normal end: $(ls -a "$ckdir/$j.0.ckpt.partial")"
n=$(grep -c "$j.0 " "$ckdir/checkpoint.log")
grep -E "$j.0 (skipped|failed)" "$ckdir/checkpoint.log" &&
	fail "the normal end was logged as a checkpoint: $(cat "$ckdir/checkpoint.log")"
ok "the normal end left no staging and no checkpoint line ($n lines of $j.0 in checkpoint.log)"

# Before the time limit slurmckptd sends the SIGTERM itself: the program
# saves and ends, which answers it; the job is requeued and resumes.
out2=$CLUSTER_WORK/deadline.out
d=$(submit -p low --time=1 --checkpoint=0 --checkpoint-signal=TERM \
	--checkpoint-dir="$ckdir" --requeue --open-mode=append -o "$out2" \
	"$script") || fail "sbatch (deadline) failed"
job_wait_state "$d" RUNNING 20 || fail "job $d did not start"
wait_for 90 grep -Eqs "$d.batch deadline: final checkpoint done.*requeued \(restart count 1\)" \
	"$ckdir/checkpoint.log" ||
	fail "no deadline checkpoint and requeue: $(grep "^[^ ]* $d\." "$ckdir/checkpoint.log")"
saved=$(sed -n 's/^saved=//p' "$out2" | head -n1)
[ -n "$saved" ] || fail "job $d's program did not get SIGTERM: $(tail -n 5 "$out2")"
[ "$(cat "$ckdir/$d.0.ckpt/count")" = "$saved" ] ||
	fail "image holds $(cat "$ckdir/$d.0.ckpt/count"), the program saved $saved"
wait_for 60 grep -qx "start=$saved" "$out2" ||
	fail "job $d did not resume at $saved: $(grep start= "$out2")"
scancel "$d"
ok "deadline: slurmckptd's SIGTERM saved count $saved, the program's end answered it, job $d resumed at $saved: $(grep "$d.batch deadline" "$ckdir/checkpoint.log" | cut -d' ' -f2-)"
