#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hostile.sh <modefile> [N]: counts to N (default 300), one tick a second, and
# checkpoints cooperatively like counter.sh, but on each request it first
# reads one word from <modefile> (written by the test, may change between
# requests) that says what to put into $SLURM_CHECKPOINT_DIR:
#   ok            "count" only (a good image)
#   blob:<bytes>  "count" and a file "blob" of that many bytes (written with
#                 dd; a full filesystem does not stop the acknowledgement)
#   fifo          "count" and a FIFO "pipe"
#   newline       "count" and a file whose name holds a newline
#   fifonl        "count" and a FIFO whose name holds a newline and a forged
#                 checkpoint.log line
#   fifoesc       "count" and a FIFO whose name holds terminal escapes
#   many:<n>      "count" and <n> empty files in "many/"
#   swap:<dir>    "count", then the staging directory is moved aside and a
#                 symlink to <dir> put in its place; the acknowledgement is
#                 made in the moved directory (where the helper looks)
# Output lines: "restart_dir=", "start=", "ckpt=<mode>:<count>", "final=".
modefile=$1
n=${2:-300}

ckpt() {
	local mode d=$SLURM_CHECKPOINT_DIR done=$SLURM_CHECKPOINT_DONE
	mode=$(cat "$modefile" 2>/dev/null || echo ok)
	echo "$count" >"$d/count"
	case $mode in
	blob:*) dd if=/dev/zero of="$d/blob" bs=1024 count=$((${mode#blob:} / 1024)) status=none ;;
	fifo) mkfifo "$d/pipe" ;;
	fifonl) mkfifo "$d/p
2000-01-01T00:00:00Z $SLURM_JOB_ID.batch seq=999 committed" ;;
	fifoesc) mkfifo "$d/p$(printf '\033]0;owned\007\033[2J')" ;;
	newline) echo x >"$d/a
b" ;;
	many:*) python3 -c '
import os, sys
d = sys.argv[1]
os.mkdir(d)
for i in range(int(sys.argv[2])):
    os.close(os.open("%s/%d" % (d, i), os.O_CREAT | os.O_WRONLY, 0o644))
' "$d/many" "${mode#many:}" ;;
	swap:*)
		mv "$d" "$d.moved" && ln -s "${mode#swap:}" "$d"
		done=$d.moved/${done##*/}
		;;
	esac
	touch "$done"
	echo "ckpt=$mode:$count"
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
