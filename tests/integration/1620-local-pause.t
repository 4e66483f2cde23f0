#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1620-local-pause: how long the application is paused (request to last
# acknowledgement, as slurmckptd logs it in checkpoint.log) when it writes
# its checkpoint straight into the shared directory, against node-local
# staging.  The "shared" directory is a directory on this host's disk, the
# node-local one a tmpfs under /dev/shm; the application writes
# LOCAL_BENCH_MIB (default 256) MiB with dd conv=fsync, as a code that makes
# its checkpoint durable before it computes on.  A test VM's disk is often
# cached by its host and nearly as fast as memory, which a parallel file
# system shared by a whole cluster is not: so the cluster (slurmd, its jobs
# and slurmckptd) runs in a cgroup whose writes to that disk are throttled
# to LOCAL_BENCH_MBPS (default 100) MB/s, a node's share of such a file
# system (blkio.throttle with cgroup v1, io.max with v2; 0, or neither
# available: unthrottled, noted).  Both jobs run one after the other on the
# same cluster; each round waits for the previous flush; the medians of
# LOCAL_BENCH_ROUNDS (5) requests each and their ratio are printed, and
# local staging must pause less.
# Then slurmckptd is killed while a (larger) image is being flushed: the
# image committed locally but never flushed is what a requeue on the same
# node resumes from, and the next checkpoint flushes over the debris.  A
# request while the flush runs is refused ("already in progress").
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

MIB=${LOCAL_BENCH_MIB:-256}
ROUNDS=${LOCAL_BENCH_ROUNDS:-5}
MBPS=${LOCAL_BENCH_MBPS:-100}
ckcreate() { as_user timeout 120 "$SCHECKPOINT" create "$@"; }

[ -d /dev/shm ] || skip "no /dev/shm"
avail=$(df -Pk /dev/shm | awk 'NR == 2 { print int($4 / 1024) }')
[ "${avail:-0}" -gt $((MIB * 6 + 64)) ] || skip "/dev/shm has ${avail} MiB free, want $((MIB * 6 + 64))"
LOCAL=$(mktemp -d /dev/shm/ckpt-local.XXXXXX) || fail "mktemp"
chmod 0755 "$LOCAL"

# throttle <dir>: this shell (and so the cluster it starts) into a cgroup
# whose writes to <dir>'s disk are limited to MBPS MB/s; THROTTLED says how.
CG=
THROTTLED="unthrottled"
unthrottle() {
	[ -n "$CG" ] || return 0
	echo $$ >"${CG%/*}/cgroup.procs" 2>/dev/null
	rmdir "$CG" 2>/dev/null
}
throttle() {
	local dev sys bps=$((MBPS * 1000000))
	[ "$MBPS" -gt 0 ] || return 0
	dev=$(stat -c '%Hd:%Ld' "$1") || return 0
	sys=/sys/dev/block/$dev
	[ -e "$sys/partition" ] && dev=$(cat "$sys/../dev")
	if [ -e /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device ]; then
		CG=$(mktemp -d -p /sys/fs/cgroup/blkio ckpt-1620.XXXXXX) &&
			echo "$dev $bps" >"$CG/blkio.throttle.write_bps_device" &&
			echo $$ >"$CG/cgroup.procs" || { unthrottle; CG=; return 0; }
	elif grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		# A unique name: test runs in other pid namespaces share this
		# hierarchy, and their $$ may be this one's.
		CG=$(mktemp -d -p /sys/fs/cgroup ckpt-1620.XXXXXX) &&
			echo "$dev wbps=$bps" >"$CG/io.max" &&
			echo $$ >"$CG/cgroup.procs" || { unthrottle; CG=; return 0; }
	else
		return 0
	fi
	THROTTLED="writes to $dev throttled to $MBPS MB/s"
}
throttle "${TMPDIR:-/tmp}"
CKPT_KEEP=1 CKPT_MAX_WAIT=120 CKPT_PLUGIN_ARGS="local=$LOCAL" cluster_start 1
trap 'rc=$?; rm -rf "$LOCAL"; (exit $rc); cluster_stop; unthrottle' EXIT
uid=$(id -u "$CKPT_USER")
mibfile=$CLUSTER_WORK/mib
echo "$MIB" >"$mibfile"
chmod 0644 "$mibfile"
note "shared: $CLUSTER_DIR on $(df -P "$CLUSTER_DIR" | awk 'NR == 2 { print $1 }') ($THROTTLED), local: $LOCAL (tmpfs)"

# pauses <ckdir> <job>: the paused= of each checkpoint, in ms.
pauses() { sed -n "s/.* $2\.batch seq=[0-9]* tasks released paused=\([0-9]*\)ms.*/\1/p" "$1/checkpoint.log"; }
_flushed() { [ "$(grep -c " $J\.batch seq=[0-9]* flushed " "$CKDIR/checkpoint.log")" -ge "$1" ]; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# run_job <name> <sbatch options...>: ROUNDS checkpoints; sets J, CKDIR.
run_job() {
	local name=$1 i msg
	shift
	CKDIR=$(user_dir "$CLUSTER_DIR/ckpt-$name")
	OUT=$CLUSTER_WORK/$name.out
	J=$(submit --checkpoint=0 --checkpoint-dir="$CKDIR" --requeue --open-mode=append \
		-o "$OUT" "$@" "$APPS/fsyncwriter.sh" "$mibfile") || fail "sbatch $name failed"
	job_wait_state "$J" RUNNING 20 || fail "job $J ($name) did not start"
	wait_for 10 grep -q '^start=' "$OUT" || fail "$name did not start: $(cat "$OUT" 2>&1)"
	for ((i = 1; i <= ROUNDS; i++)); do
		sleep 1
		msg=$(ckcreate "$J" 2>&1) || fail "$name create $i: $msg"
		[ "$name" = local ] || continue
		wait_for 120 _flushed "$i" || fail "$name: flush $i never ended: $(tail -n 3 "$CKDIR/checkpoint.log")"
	done
	[ "$(pauses "$CKDIR" "$J" | wc -l)" -eq "$ROUNDS" ] ||
		fail "$name: $(pauses "$CKDIR" "$J" | wc -l) pauses logged, want $ROUNDS: $(cat "$CKDIR/checkpoint.log")"
}

run_job direct --checkpoint-local=no
grep -q "^ckpt=.* dir=$CKDIR/$J.ckpt.partial$" "$OUT" || fail "direct: the tasks did not write into $CKDIR: $(grep ckpt= "$OUT")"
[ -e "$LOCAL/$uid/$J" ] && fail "direct: --checkpoint-local=no staged in $LOCAL/$uid/$J"
image_verify "$CKDIR/$J.ckpt" || fail "direct image does not verify"
direct=$(pauses "$CKDIR" "$J" | median)
ok "--checkpoint-local=no: tasks wrote into the shared directory, paused $(pauses "$CKDIR" "$J" | tr '\n' ' ')ms"
scancel "$J"
job_wait_done "$J" 30 >/dev/null

run_job local
grep -q "^ckpt=.* dir=$LOCAL/$uid/$J/$J.ckpt.partial$" "$OUT" || fail "local: the tasks did not write into $LOCAL: $(grep ckpt= "$OUT")"
image_verify "$CKDIR/$J.ckpt" || fail "flushed image does not verify"
image_verify "$LOCAL/$uid/$J/$J.ckpt" || fail "local image does not verify"
staged=$(pauses "$CKDIR" "$J" | median)
flush=$(sed -n "s/.* $J\.batch seq=[0-9]* flushed paused=[0-9]*ms flush=\([0-9]*\)ms.*/\1/p" "$CKDIR/checkpoint.log" | median)
ok "local staging: paused $(pauses "$CKDIR" "$J" | tr '\n' ' ')ms, flushed in ${flush}ms (median)"

ratio=$(awk -v a="$direct" -v b="$staged" 'BEGIN { printf "%.1f", (b > 0 ? a / b : a) }')
note "figure: application paused for a ${MIB} MiB checkpoint (median of $ROUNDS, dd conv=fsync):"
note "figure:   straight to the shared dir (disk, $THROTTLED) ${direct} ms | node-local staging (tmpfs) ${staged} ms | ratio ${ratio}x; flush in the background ${flush} ms"
[ "$staged" -lt "$direct" ] || fail "local staging paused ${staged} ms, not less than ${direct} ms straight to the shared dir"
ok "local staging pauses the application ${ratio}x less (${staged} ms vs ${direct} ms)"

# slurmckptd killed during a flush: the local image is all there is.
lbase=$LOCAL/$uid/$J
seq=$(manifest_get "$CKDIR/$J.ckpt" .seq)
want=$((seq + 1))
echo $((MIB * 2)) >"$mibfile"
ckcreate "$J" >/dev/null 2>&1 &
_local_done() { [ "$(jq -r .seq "$lbase/$J.ckpt/manifest.json" 2>/dev/null)" = "$want" ]; }
wait_for 120 _local_done || fail "seq $want never committed locally: $(tail -n 3 "$CKDIR/checkpoint.log")"
[ "$(manifest_get "$CKDIR/$J.ckpt" .seq)" = "$seq" ] ||
	fail "seq $want was flushed before the helper could be killed (${MIB}x2 MiB too small here?)"
# A request while the flush runs is refused, and changes nothing.
msg=$(ckcreate "$J" 2>&1) && fail "a create during the flush succeeded: $msg"
echo "$msg" | grep -q "already in progress" || fail "a create during the flush: $msg"
[ "$(jq -r .seq "$lbase/$J.ckpt/manifest.json")" = "$want" ] || fail "the local image changed during the flush"
ok "a create while seq $want flushes is refused: $msg"
helper_kill
wait
[ "$(manifest_get "$CKDIR/$J.ckpt" .seq)" = "$seq" ] || fail "shared image changed to $(manifest_get "$CKDIR/$J.ckpt" .seq)"
image_verify "$CKDIR/$J.ckpt" || fail "the shared seq $seq no longer verifies"
count=$(cat "$lbase/$J.ckpt/count")
ok "slurmckptd killed mid-flush: seq $want (count $count) only local, shared seq $seq intact"
helper_start || fail "slurmckptd did not start again"
_readopted() { jq -e --argjson j "$J" --arg l "$lbase" '.steps[] | select(.job == $j) | .local == $l' \
	"$CLUSTER_DIR/ckptd-state/state.json" >/dev/null 2>&1; }
wait_for 10 _readopted || fail "the re-adopted step lost its local directory: $(cat "$CLUSTER_DIR/ckptd-state/state.json")"
echo 1 >"$mibfile"
scontrol requeue "$J" || fail "scontrol requeue $J failed"
_restarted() { sed -n '/^restart_dir=/,$p' "$OUT" | grep -q "^start="; }
wait_for 60 _restarted || fail "job $J did not restart: $(tail -n 5 "$OUT")"
grep -qx "restart_dir=$lbase/$J.ckpt" "$OUT" || fail "restarted from $(grep restart_dir= "$OUT"), want $lbase/$J.ckpt"
got=$(sed -n '/^restart_dir=/,$p' "$OUT" | sed -n 's/^start=//p' | head -n1)
[ "$got" = "$count" ] || fail "resumed at $got, the unflushed seq $want holds $count"
ok "requeued on the same node: resumed from the unflushed local seq $want at $count"
sleep 1
msg=$(ckcreate "$J" 2>&1) || fail "create after the crash: $msg"
[ "$(manifest_get "$CKDIR/$J.ckpt" .seq)" = $((want + 1)) ] || fail "shared seq $(manifest_get "$CKDIR/$J.ckpt" .seq), want $((want + 1))"
ls -d "$CKDIR"/*.partial 2>/dev/null && fail "flush debris left in $CKDIR"
image_verify "$CKDIR/$J.ckpt" || fail "the new shared image does not verify"
ok "the next checkpoint flushes seq $((want + 1)) over the debris"
scancel "$J"
