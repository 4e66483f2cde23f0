#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fsyncwriter.sh <mibfile> [N]: counts to N (default 600), one tick a second;
# on each checkpoint request reads a number of MiB from <mibfile> (written by
# the test) and writes that many MiB of state into
# $SLURM_CHECKPOINT_DIR with dd conv=fsync (a code that makes its checkpoint
# durable before it goes on), then acknowledges.  Output lines:
# "restart_dir=", "start=", "ckpt=<count> dir=<dir>", "final=".
mibfile=$1
n=${2:-600}

ckpt() {
	local d=$SLURM_CHECKPOINT_DIR mib
	mib=$(cat "$mibfile" 2>/dev/null || echo 1)
	echo "$count" >"$d/count"
	dd if=/dev/zero of="$d/state" bs=1M count="$mib" conv=fsync status=none
	touch "$SLURM_CHECKPOINT_DONE"
	echo "ckpt=$count dir=$d"
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"

count=0
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	echo "restart_dir=$SLURM_RESTART_DIR"
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
done
echo "final=$count"
