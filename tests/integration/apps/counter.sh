#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# counter.sh [--per-task] <N>: counts to N, one tick a second, checkpointing
# cooperatively (see spank-checkpoint(8)).
#
# On $SLURM_CHECKPOINT_SIGNAL it writes the count into $SLURM_CHECKPOINT_DIR and
# acknowledges with $SLURM_CHECKPOINT_DONE; when $SLURM_RESTART_DIR is set it
# resumes from the count found there.  The state file is "count", or
# "count.<SLURM_PROCID>" with --per-task (several tasks in one step).
# Output lines: "restart_count=<n>", "restart_dir=<dir>", "start=<n>",
# "tick=<k>" for every number counted, "ckpt=<n>" per acknowledged
# checkpoint, and "final=<n>".
file=count
if [ "${1:-}" = --per-task ]; then
	file=count.${SLURM_PROCID:-0}
	shift
fi
n=${1:-30}

ckpt() {
	echo "$count" >"$SLURM_CHECKPOINT_DIR/$file"
	touch "$SLURM_CHECKPOINT_DONE"
	echo "ckpt=$count"
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"

count=0
echo "restart_count=${SLURM_RESTART_COUNT:-0}"
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	echo "restart_dir=$SLURM_RESTART_DIR"
	count=$(cat "$SLURM_RESTART_DIR/$file") || exit 1
fi
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	sleep 1 &
	# wait returns early (>128) when a trap runs: wait again while the
	# sleep lives.  Not "until wait $!": once the trap's own commands
	# have reaped the sleep, wait fails for ever and the loop spins.
	while kill -0 $! 2>/dev/null; do wait $!; done
	count=$((count + 1))
	echo "tick=$count"
done
echo "final=$count"
