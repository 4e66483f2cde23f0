#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# plaincount.sh <N>: counts to N, one tick a second, and knows nothing of
# checkpoints: it keeps its count in ./state (in its working directory),
# written atomically at each tick.  A checkpoint method (the test's
# freeze-copy) saves that file from outside; its restart command puts the
# file back as <checkpoint dir>/restored.<job>, where this script resumes.
# Output lines as counter.sh: "start=", "tick=", "final=".
n=${1:-30}
count=0
restored=${SLURM_CHECKPOINT_IMAGE%/*}/restored.${SLURM_JOB_ID:-0}
if [ -n "${SLURM_RESTART_DIR:-}" ] && [ -f "$restored" ]; then
	echo "restored_from=$SLURM_RESTART_DIR"
	count=$(cat "$restored") || exit 1
fi
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	sleep 1
	count=$((count + 1))
	echo "$count" >state.tmp && mv -f state.tmp state
	echo "tick=$count"
done
echo "final=$count"
