#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# mncount.sh <N> [<mute-file>]: counter.sh --per-task for a step
# over several nodes: counts to N, one tick a second, and on
# $SLURM_CHECKPOINT_SIGNAL writes count.<SLURM_PROCID> and node.<SLURM_NODEID>
# (its host's part) into $SLURM_CHECKPOINT_DIR and acknowledges.  The tasks
# on a step node index that <mute-file> lists (words, e.g. "1 2") ignore the
# request ("ignored" lines).  Output: "restart_dir=", "start=", "tick=",
# "ckpt=", "final=", like counter.sh.
n=${1:-30}
mute=${2:-}
file=count.${SLURM_PROCID:-0}

ckpt() {
	if [ -n "$mute" ] && grep -qsw -- "${SLURM_NODEID:-x}" "$mute"; then
		echo "ignored=$count"
		return
	fi
	echo "$count" >"$SLURM_CHECKPOINT_DIR/$file"
	echo "${SLURMD_NODENAME:-?}" >"$SLURM_CHECKPOINT_DIR/node.${SLURM_NODEID:-0}.host"
	touch "$SLURM_CHECKPOINT_DONE"
	echo "ckpt=$count"
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"

count=0
echo "nodeid=${SLURM_NODEID:-} host=${SLURMD_NODENAME:-} ckptdir=${SLURM_CHECKPOINT_DIR:-}"
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
