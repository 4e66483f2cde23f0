#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# exitckpt.sh <N> <at>: counts to N, one tick a second.  On its first run,
# at count <at>, it writes the count into $SLURM_CHECKPOINT_DIR and exits
# with $SLURM_CHECKPOINT_EXIT_CODE (checkpoint-and-exit, as HTCondor's
# checkpoint_exit_code); when $SLURM_RESTART_DIR is set it resumes there.
# Output lines as counter.sh: "restart_count=", "start=", "tick=",
# "exiting=<n>", "final=".
n=${1:-20}
at=${2:-10}
count=0
echo "restart_count=${SLURM_RESTART_COUNT:-0}"
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	echo "restart_dir=$SLURM_RESTART_DIR"
	count=$(cat "$SLURM_RESTART_DIR/count") || exit 1
fi
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	sleep 1
	count=$((count + 1))
	echo "tick=$count"
	if [ "$count" -eq "$at" ] && [ -z "${SLURM_RESTART_DIR:-}" ]; then
		echo "$count" >"$SLURM_CHECKPOINT_DIR/count" || exit 1
		echo "exiting=$count"
		exit "${SLURM_CHECKPOINT_EXIT_CODE:?}"
	fi
done
echo "final=$count"
