#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# pollcount.sh <trigger> <N>: counts to N, one tick a second, like a code
# that polls for a trigger file (ANSYS Fluent's check-fluent, GloMPO's
# CHKPT) and knows no checkpoint signal: it has no trap, so a signal would
# end it.  When <trigger> exists (relative: in the working directory) it
# writes the count into $SLURM_CHECKPOINT_DIR and removes <trigger>: that
# is its answer.  It resumes from $SLURM_RESTART_DIR/count.  Output lines
# as counter.sh's: "start=<n>", "tick=<k>", "ckpt=<n>", "final=<n>".
trigger=$1
n=$2
count=0
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	echo "restart_dir=$SLURM_RESTART_DIR"
	count=$(cat "$SLURM_RESTART_DIR/count") || exit 1
fi
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	if [ -e "$trigger" ]; then
		echo "$count" >"$SLURM_CHECKPOINT_DIR/count"
		rm -f "$trigger"
		echo "ckpt=$count"
	fi
	sleep 1
	count=$((count + 1))
	echo "tick=$count"
done
echo "final=$count"
