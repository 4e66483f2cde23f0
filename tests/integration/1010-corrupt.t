#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1010-corrupt: damaged images are skipped at restart, each for a stated
# reason, and the job resumes from the newest image that verifies.  Four
# images (keep=4); while the job waits to run again, root damages three:
#   newest (seq 4)  a file removed                  -> "missing"
#   seq 3           "count" replaced by a FIFO      -> must not block the reader
#   seq 2           a device node planted beside    -> not a regular file
#   seq 1           intact                          -> resumed from
# (0900-fallback covers a flipped byte.)  checkpoint.log and the job's
# standard error say which images were skipped and why.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

CKPT_KEEP=4 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
out=$CLUSTER_WORK/corrupt.out
err=$CLUSTER_WORK/corrupt.err
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" -e "$err" "$APPS/hostile.sh" "$mode") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
for i in 1 2 3 4; do
	sleep 1.2
	msg=$(ckcreate "$j" 2>&1) || fail "create $i: $msg"
done
mapfile -t imgs < <(images "$ckdir" "$j.ckpt")
[ "${#imgs[@]}" -eq 4 ] || fail "want 4 images, have: ${imgs[*]}"
for i in 0 1 2 3; do image_verify "${imgs[$i]}" || fail "${imgs[$i]} does not verify"; done
good=${imgs[3]}
want=$(cat "$good/count")
[ "$want" != "$(cat "${imgs[2]}/count")" ] || fail "seq 1 and 2 hold the same count: nothing to tell apart"
ok "4 images committed; the oldest, $good, holds count $want"

scontrol requeue "$j" || fail "scontrol requeue $j failed"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still RUNNING after the requeue"

rm -f "${imgs[0]}/count"
rm -f "${imgs[1]}/count" && mkfifo -m 0444 "${imgs[1]}/count" && chown "$CKPT_USER:" "${imgs[1]}/count"
mknod -m 0444 "${imgs[2]}/zero" c 1 5 || fail "mknod failed"
for i in 0 1; do image_verify "${imgs[$i]}" 2>/dev/null && fail "damaging ${imgs[$i]} did not show"; done
[ -c "${imgs[2]}/zero" ] || fail "no device in ${imgs[2]}"
ok "damaged: ${imgs[0]} (file removed), ${imgs[1]} (FIFO), ${imgs[2]} (device)"

job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
_restarted() { grep -q '^restart_dir=' "$out" && sed -n '/^restart_dir=/,$p' "$out" | grep -q '^start='; }
wait_for 20 _restarted || fail "the job did not resume (a blocked reader?): $(cat "$out"; cat "$err")"
grep -qx "restart_dir=$good" "$out" || fail "resumed from $(grep restart_dir= "$out"), want $good"
got=$(sed -n '/^restart_dir=/,$p' "$out" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$want" ] || fail "resumed at '$got', want $want"
ok "resumed from $good at $want"

line=$(grep "$j.batch restarted (restart count 1) from $good seq=" "$ckdir/checkpoint.log") ||
	fail "checkpoint.log has no restart line: $(cat "$ckdir/checkpoint.log")"
for why in "${imgs[0]##*/}: .*count" "${imgs[1]##*/}: .*count" "${imgs[2]##*/}: .*zero"; do
	echo "$line" | grep -q "$why" || fail "checkpoint.log does not say '$why': $line"
done
ok "checkpoint.log: $line"
grep -q "checkpoint: $j.batch: resuming from $good; newer images did not verify: " "$err" ||
	fail "no message on stderr: $(cat "$err")"
ok "stderr says so too"
scancel "$j"
