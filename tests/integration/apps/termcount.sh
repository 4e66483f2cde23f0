#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# termcount.sh <N>: counts to N, one tick a second, with a SIGTERM handler
# of its own, as many programs have: on SIGTERM it saves its count into
# $SLURM_CHECKPOINT_DIR and exits 0, without an acknowledgement file.
# Started with $SLURM_RESTART_DIR it resumes from the count saved there.
# Output lines: "restart_count=<n>", "start=<n>", "tick=<k>" for every
# number counted, "saved=<n>" on SIGTERM, and "final=<n>".
n=${1:-30}
count=0

save() {
	echo "$count" >"$SLURM_CHECKPOINT_DIR/count" || exit 1
	echo "saved=$count"
	exit 0
}
trap save TERM

echo "restart_count=${SLURM_RESTART_COUNT:-0}"
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	count=$(cat "$SLURM_RESTART_DIR/count") || exit 1
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
