#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0600-no-ack: the app acknowledges the first checkpoint only.  With
# max_wait=3 the second one times out: checkpoint.log and the helper log say
# "failed", the staging directory is gone, the first image stays (same seq,
# verifies), and the job keeps running and completes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_MAX_WAIT=3 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/noack.out
T=24
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" -o "$out" "$APPS/noack.sh" $T) ||
	fail "sbatch failed"
ok "job $j submitted"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
img=$ckdir/$j.ckpt

wait_for 20 test -f "$img/manifest.json" || fail "no first image: $(cat "$ckdir/checkpoint.log" 2>&1)"
image_verify "$img" || fail "$img does not verify"
seq1=$(manifest_get "$img" .seq)
ok "first checkpoint acknowledged and committed (seq $seq1)"

# The worker waiting for the unanswered second checkpoint holds only
# descriptors of its own (its report pipe, the task's pidfd, the staging
# directory and its inotify watch), none of slurmckptd's many sockets.
_second_worker() {
	wpid=$(sed -n "s/.*checkpoint of $j\.batch (periodic) started, worker \([0-9]*\).*/\1/p" \
		"$CLUSTER_DIR/slurmckptd.log" | sed -n 2p)
	[ -n "$wpid" ]
}
wait_for 20 _second_worker || fail "no second checkpoint started: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
sleep 0.5
fds=$(ls -l "/proc/$wpid/fd" 2>&1) || fail "worker $wpid gone before its descriptors were seen"
hfds=$(ls "/proc/$CLUSTER_HELPER_PID/fd" | wc -l)
nfd=$(echo "$fds" | grep -c -- '->')
[ "$(echo "$fds" | grep -c 'anon_inode:\[pidfd\]')" = 1 ] || fail "worker $wpid: not one pidfd: $fds"
echo "$fds" | grep -q 'socket:' && fail "worker $wpid holds sockets: $fds"
[ "$nfd" -le 10 ] || fail "worker $wpid holds $nfd descriptors: $fds"
ok "worker $wpid holds $nfd descriptors (slurmckptd $hfds): one pidfd, no socket"

wait_for 20 grep -q "$j\.batch failed" "$ckdir/checkpoint.log" ||
	fail "no 'failed' line in checkpoint.log: $(cat "$ckdir/checkpoint.log" 2>&1; cat "$out")"
ok "checkpoint.log: $(grep -m1 "$j\.batch failed" "$ckdir/checkpoint.log")"
grep -q '^ignored=' "$out" || fail "the app was not asked a second time: $(cat "$out")"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the failed checkpoint"
ok "job $j still RUNNING after the failed checkpoint"
grep -iE "$j.*(fail|time)|(fail|time).*$j" "$CLUSTER_DIR/slurmckptd.log" >/dev/null ||
	fail "the helper log does not mention the failure of $j: $(tail -n 20 "$CLUSTER_DIR/slurmckptd.log")"
ok "helper log: $(grep -m1 -iE "$j.*(fail|time)|(fail|time).*$j" "$CLUSTER_DIR/slurmckptd.log")"
sleep 0.5
ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left after the failure: $(ls "$ckdir")"
[ "$(image_count "$ckdir" "$j.ckpt")" = 1 ] || fail "images: $(ls "$ckdir")"
image_verify "$img" || fail "$img does not verify after the failure"
[ "$(manifest_get "$img" .seq)" = "$seq1" ] || fail "the image changed: seq $(manifest_get "$img" .seq)"
ok "the first image stays (seq $seq1, verifies), no .partial"

state=$(job_wait_done "$j" $((T + 20))) || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(cat "$out")"
grep -qx "final=$T" "$out" || fail "no final=$T: $(cat "$out")"
ok "job completed (final=$T)"
[ "$(manifest_get "$img" .seq)" = "$seq1" ] || fail "the image changed at the end: seq $(manifest_get "$img" .seq)"
n=$(grep -c "$j\.batch failed" "$ckdir/checkpoint.log")
ok "$n failed checkpoint(s) recorded, image seq $seq1 kept to the end"
