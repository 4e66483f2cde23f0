#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# manyfiles.sh <files> <N>: counts to N, one tick a second, like counter.sh,
# but each checkpoint writes <files> files of 4 KiB (f.<i>) besides "count",
# so that staging, hashing the manifest and removing old images take long
# enough for a crash to land in each.  Prints "pid=<pid>" at start.
nfiles=${1:-1000}
n=${2:-60}
block=$(printf '%04096d' 0)

ckpt() {
	local d=$SLURM_CHECKPOINT_DIR i
	for ((i = 0; i < nfiles; i++)); do
		printf '%s %d\n' "$block" "$i" >"$d/f.$i" 2>/dev/null || return
	done
	echo "$count" >"$d/count" 2>/dev/null || return
	touch "$SLURM_CHECKPOINT_DONE" 2>/dev/null
	echo "ckpt=$count"
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"

count=0
echo "pid=$$"
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
