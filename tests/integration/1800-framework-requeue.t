#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1800-framework-requeue: jobs that checkpoint and requeue themselves the
# way PyTorch Lightning (SIGUSR1, hpc_ckpt_<v>.ckpt, "scontrol requeue")
# and submitit (SIGUSR2, its checkpoint hook, "scontrol requeue") do
# (apps/framework.py).  With --checkpoint-signal naming their signal and
# --checkpoint-watch naming the directory they save into, the deadline
# checkpoint sends them that signal; what they save answers it and is
# copied into the committed image; slurmckptd sees that the job requeued
# itself and does not requeue it again: each job is requeued once, resumes
# from its own checkpoint and completes.  The Lightning job is the
# README's: a batch script running the training in "srun" (step 0); the
# submitit job is the program itself (its batch step).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=55
declare -A job sig=([lightning]=USR1 [submitit]=USR2)
script=$CLUSTER_WORK/lightning.sh
cat >"$script" <<EOS
#!/bin/bash
srun "$APPS/framework.py" lightning "$CLUSTER_WORK/lightning" $N
EOS
chown "$CKPT_USER:" "$script"
declare -A cmd=([lightning]="$script" [submitit]="$APPS/framework.py submitit $CLUSTER_WORK/submitit $N")
declare -A image=([lightning]=.0.ckpt [submitit]=.ckpt)
for style in lightning submitit; do
	dir=$(user_dir "$CLUSTER_WORK/$style")
	# shellcheck disable=SC2086 # cmd holds words
	job[$style]=$(submit --time=1 --checkpoint=0 \
		--checkpoint-signal="${sig[$style]}" --checkpoint-watch="$dir" \
		--checkpoint-dir="$ckdir" --requeue --open-mode=append \
		-o "$CLUSTER_WORK/$style.out" ${cmd[$style]}) || fail "sbatch $style failed"
done
for style in lightning submitit; do
	job_wait_state "${job[$style]}" RUNNING 30 || fail "$style job ${job[$style]} did not start"
done
ok "a Lightning-style job ${job[lightning]} (USR1) and a submitit-style job ${job[submitit]} (USR2), --time=1"

for style in lightning submitit; do
	j=${job[$style]}
	out=$CLUSTER_WORK/$style.out
	wait_for 120 grep -qs "$j.batch deadline: final checkpoint done.*requeued itself" "$ckdir/checkpoint.log" ||
		fail "$style: no deadline checkpoint of a job that requeued itself: $(grep "$j\." "$ckdir/checkpoint.log" 2>&1; tail -n 5 "$out")"
	grep -q "Requeued SLURM job" "$out" || fail "$style: the job did not requeue itself: $(tail -n 5 "$out")"
	case $style in
	lightning) files="hpc_ckpt_1.ckpt" ;;
	submitit) files="state.pkl ${j}_submitted.pkl" ;;
	esac
	img=$ckdir/$j${image[$style]}
	image_verify "$img" || fail "$style: image $img does not verify"
	for f in $files; do
		cmp -s "$img/$f" "$CLUSTER_WORK/$style/$f" ||
			fail "$style: $f is not in the image as saved: $(ls -l "$img" "$CLUSTER_WORK/$style")"
	done
	grep -q "$j.batch deadline: .*; useful [1-9][0-9]* of 60 s" "$ckdir/checkpoint.log" ||
		fail "$style: no useful time: $(grep "$j.batch deadline" "$ckdir/checkpoint.log")"
	ok "$style: $(grep "$j.batch deadline" "$ckdir/checkpoint.log" | cut -d' ' -f2- | cut -c1-160); image has $files"
done

for style in lightning submitit; do
	j=${job[$style]}
	out=$CLUSTER_WORK/$style.out
	state=$(job_wait_done "$j" 150) || fail "$style job $j did not finish: $(tail -n 5 "$out")"
	[ "$state" = COMPLETED ] || fail "$style job $j ended $state: $(tail -n 5 "$out")"
	grep -qx "final=$N" "$out" || fail "$style: no final=$N: $(tail -n 5 "$out")"
	saved=$(sed -n 's/^saved [^ ]* at //p' "$out" | tail -n 1)
	starts=$(sed -n 's/^start=//p' "$out" | tr '\n' ' ')
	[ "$starts" = "0 $saved " ] || fail "$style: runs started at $starts, want 0 $saved"
	restarts=$(job_field "$j" Restarts)
	[ "$restarts" = 1 ] || fail "$style: restart count $restarts, want 1 (requeued twice?)"
	n=$(grep -c "Requeued SLURM job" "$out")
	[ "$n" = 1 ] || fail "$style: $n self-requeues"
	! grep -q "$j.batch deadline: final checkpoint done.*; requeued (restart" "$ckdir/checkpoint.log" ||
		fail "$style: slurmckptd requeued it as well"
	ok "$style: requeued once (Restarts=$restarts), runs started at $starts, completed"
done
