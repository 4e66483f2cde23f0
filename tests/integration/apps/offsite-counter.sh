#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# offsite-counter.sh <N>: counter.sh's protocol and output, with an image
# of several files: "count", "sub dir/state.bin" (64 KiB that change with
# the count: a name that needs encoding in a URL, a subdirectory) and
# "sub dir/deeper/note".  A restart checks that the state file matches
# the count before it resumes.
n=${1:-30}

state() {	# state <count>: 64 KiB derived from the count
	head -c 65536 /dev/zero | tr '\0' "$(printf '\\%03o' $((65 + $1 % 26)))"
}

ckpt() {
	local d=$SLURM_CHECKPOINT_DIR
	mkdir -p "$d/sub dir/deeper"
	state "$count" >"$d/sub dir/state.bin"
	echo "count $count" >"$d/sub dir/deeper/note"
	echo "$count" >"$d/count"
	touch "$SLURM_CHECKPOINT_DONE"
	echo "ckpt=$count"
}
[ -n "${SLURM_CHECKPOINT_SIGNAL:-}" ] && trap ckpt "$SLURM_CHECKPOINT_SIGNAL"

count=0
echo "restart_count=${SLURM_RESTART_COUNT:-0}"
if [ -n "${SLURM_RESTART_DIR:-}" ]; then
	echo "restart_dir=$SLURM_RESTART_DIR"
	count=$(cat "$SLURM_RESTART_DIR/count") || exit 1
	cmp -s <(state "$count") "$SLURM_RESTART_DIR/sub dir/state.bin" ||
		{ echo "bad_state"; exit 1; }
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
