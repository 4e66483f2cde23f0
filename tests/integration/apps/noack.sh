#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# noack.sh <seconds>: runs for <seconds>; acknowledges only the FIRST
# checkpoint request ("ack" then), ignores the later ones ("ignored" lines), so
# that they time out (max_wait).
n=${1:-25}
asked=0
ckpt() {
	asked=$((asked + 1))
	if [ "$asked" -eq 1 ]; then
		echo "$count" >"$SLURM_CHECKPOINT_DIR/count"
		touch "$SLURM_CHECKPOINT_DONE"
		echo "ack=$count"
	else
		echo "ignored=$asked"
	fi
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"
count=0
echo "start=$count"
while [ "$count" -lt "$n" ]; do
	sleep 1 &
	# wait returns early (>128) when a trap runs: wait again while the
	# sleep lives.  Not "until wait $!": once the trap's own commands
	# have reaped the sleep, wait fails for ever and the loop spins.
	while kill -0 $! 2>/dev/null; do wait $!; done
	count=$((count + 1))
done
echo "final=$count"
