#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0210-checkpoint-signal: --checkpoint-signal=<sig> chooses the signal
# that asks a job for its checkpoints (the one its framework catches:
# USR1 for PyTorch Lightning, USR2 for submitit), among those the site
# allows (signals=, USR1 and USR2 by default, and signal=).  The tasks see
# it in SLURM_CHECKPOINT_SIGNAL and it is what they get: a counter that
# traps only USR1 is checkpointed and runs on (USR2, the default, would
# have killed it).  A signal the site does not allow, or no signal at
# all, is refused by sbatch and nothing is submitted.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")

reject() {
	local what=$1 word=$2 err
	shift 2
	before=$(squeue -h | wc -l)
	err=$(as_user "$@" 2>&1 >/dev/null) && fail "$what: accepted"
	echo "$err" | grep -q "checkpoint:.*$word" || fail "$what: $err"
	[ "$(squeue -h | wc -l)" = "$before" ] || fail "$what: a job was submitted"
	ok "$what refused: $(echo "$err" | grep -m1 'checkpoint:')"
}
reject "--checkpoint-signal=TERM" "is not allowed here: use one of USR1, USR2" \
	sbatch --checkpoint=0 --checkpoint-signal=TERM --wrap true
reject "--checkpoint-signal=NOPE" "invalid --checkpoint-signal 'NOPE'" \
	sbatch --checkpoint=0 --checkpoint-signal=NOPE --wrap true
reject "--checkpoint-signal=KILL" "invalid --checkpoint-signal 'KILL'" \
	sbatch --checkpoint=0 --checkpoint-signal=KILL --wrap true

out=$CLUSTER_WORK/sig.out
j=$(submit --checkpoint=0 --checkpoint-signal=SIGUSR1 --checkpoint-dir="$ckdir" -o "$out" \
	--wrap "echo signal=\$SLURM_CHECKPOINT_SIGNAL; exec $APPS/counter.sh 300") ||
	fail "sbatch --checkpoint-signal=SIGUSR1 failed"
app_started "$out" || fail "job $j did not start: $(cat "$out" 2>&1)"
grep -qx 'signal=USR1' "$out" || fail "SLURM_CHECKPOINT_SIGNAL: $(grep signal= "$out")"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "create $j: $msg"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
sleep 2
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after its checkpoint: $(tail -n 3 "$out")"
ok "job $j: SLURM_CHECKPOINT_SIGNAL=USR1, checkpointed with USR1 and running on"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
