#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1070-load: LOAD_STEPS (1000) steps registered with one slurmckptd through
# its real socket (as root, the plugin's protocol: register, then the task's
# pidfd), each with a 1-second interval and its own application process
# (apps/loadapp.c: one real process per step, catching SIGUSR2 and
# answering at once).  Over a window of LOAD_WINDOW (20) seconds no
# checkpoint may fail, no step may fall behind the others (starved), and
# the CPU time spent per checkpoint must let N steps at 1 s fit the
# machine's CPUs (a TAP TODO today: it does not); none of it needs CPU to
# spare.  Prints the helper's CPU time (its own, and its reaped
# workers'), its peak RSS (VmHWM) and the checkpoints taken against those
# expected.  LOAD_STEPS, LOAD_WINDOW and LOAD_FS (tmpfs, or disk) change
# the load.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

# 1,000 by default, the issue's figure.  On the 2-core test VM a
# checkpoint was measured at about 1.3 ms of CPU (0.4 ms in the helper,
# 0.9 ms in its worker), 2.8 ms before the worker stopped mapping
# libcurl's libraries, copying and closing the daemon's descriptors and
# loading the NSS modules.  It is about 11 ms now (see the TODO below).
N=${LOAD_STEPS:-1000}
W=${LOAD_WINDOW:-20}
FIRST=500000
CKPT_KEEP=1 cluster_start 1

log=$CLUSTER_DIR/slurmckptd.log
base=$(user_dir "$CLUSTER_DIR/load")
# LOAD_FS=tmpfs (the default) measures the helper: on this kind of test
# machine a virtual disk's fsyncs, not the helper, cap the commits per
# second (four per commit).  LOAD_FS=disk keeps the cluster directory's
# filesystem.
if [ "${LOAD_FS:-tmpfs}" = tmpfs ]; then
	mount -t tmpfs -o size=512m,mode=0755,uid="$(id -u "$CKPT_USER")",gid="$(id -g "$CKPT_USER")" \
		ckptload "$base" || skip "cannot mount a tmpfs on $base"
fi
"${CC:-cc}" -O2 -o "$CLUSTER_DIR/bin/loadapp" "$APPS/loadapp.c" ||
	fail "cannot build apps/loadapp.c"
chmod 755 "$CLUSTER_DIR/bin/loadapp"
for ((i = 0; i < N; i++)); do echo "$base/s$i"; done | as_user xargs mkdir -p ||
	fail "cannot create the step directories"

pidfile=$CLUSTER_WORK/load.pids
as_user "$CLUSTER_DIR/bin/loadapp" "$N" "$base" "$FIRST" "$pidfile" &
app=$!
lines_at_least() {
	[ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]
}
wait_for 30 lines_at_least "$pidfile" "$N" || fail "loadapp did not start $N processes"
# loadapp itself (runuser's child); its children die with it.
apppid=$(ps -o ppid= -p "$(awk 'NR == 1 { print $2 }' "$pidfile")" | tr -d ' ')
trap 'kill "$apppid" ${reg:-} 2>/dev/null; umount -l "$base" 2>/dev/null; cluster_stop' EXIT
ok "$N application processes running"

# The registrar (apps/registrar.py): one connection per step, held open
# (as slurmstepd does) until it is killed; a checkpoint every second.
regout=$CLUSTER_WORK/load.reg
python3 "$APPS/registrar.py" "$SLURM_CHECKPOINT_SOCKET" "$(id -u "$CKPT_USER")" \
	"$(id -g "$CKPT_USER")" "$base" "$FIRST" "$pidfile" 1 >"$regout" 2>&1 &
reg=$!
t0=$(date +%s%N)
# Each registration waits for the daemon's loop, which checkpoints the
# steps already registered every second: on a busy machine it takes
# minutes (207 s for 1,000 beside CI's other suites).  Wait as long as it
# goes on (a line every 100 steps); fail when none comes for 120 s.
reg_count() { sed -n 's/^registered //p' "$regout" | tail -n 1; }
last=-1
while [ "$(reg_count)" != "$N" ]; do
	kill -0 "$reg" 2>/dev/null || fail "the registrar ended: $(tail -3 "$regout")"
	if [ "$(reg_count)" != "$last" ]; then
		last=$(reg_count)
		stalled=$((SECONDS + 120))
	fi
	[ "$SECONDS" -lt "$stalled" ] ||
		fail "registration stalled at ${last:-0} of $N for 120 s: $(tail -3 "$regout")"
	sleep 1
done
ok "$N steps registered in $((($(date +%s%N) - t0) / 1000000)) ms"

hpid=$CLUSTER_HELPER_PID
# cpu <pid>: "<own> <children>" CPU seconds from /proc/<pid>/stat
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f %.2f\n", ($12 + $13) / hz, ($14 + $15) / hz }' "/proc/$1/stat"
}
# seqs: "<job> <seq>" of each step's image, 0 when it has none yet
seqs() {
	python3 - "$base" "$FIRST" "$N" <<'PY'
import json, sys
base, first, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(n):
    try:
        m = json.load(open("%s/s%d/%d.0.ckpt/manifest.json" % (base, i, first + i)))
        print(first + i, m["seq"])
    except (OSError, ValueError):
        print(first + i, 0)
PY
}

sleep 5	# warm-up: every step has had its first checkpoint
skipped0=$(grep -c 'interval skipped' "$log")
refused0=$(grep -c 'checkpoint of .* failed' "$log")
read -r c0 w0 < <(cpu "$hpid")
s0=$(seqs)
t0=$(date +%s%N)
sleep "$W"
s1=$(seqs)
el=$((($(date +%s%N) - t0) / 1000000))
read -r c1 w1 < <(cpu "$hpid")
hwm=$(awk '/^VmHWM/ { print $2, $3 }' "/proc/$hpid/status")
rss=$(awk '/^VmRSS/ { print $2, $3 }' "/proc/$hpid/status")
skipped=$(($(grep -c 'interval skipped' "$log") - skipped0))
refused=$(($(grep -c 'checkpoint of .* failed' "$log") - refused0))

read -r taken low lowjob < <(join <(echo "$s0") <(echo "$s1") |
	awk '{ d = $3 - $2; t += d; if (min == "" || d < min) { min = d; j = $1 } }
	     END { print t, min, j }')
expected=$((N * el / 1000))
note "checkpoint directories on ${LOAD_FS:-tmpfs}; window ${el} ms: $taken checkpoints committed, $expected expected (${N} steps x 1/s)"
note "fewest in one step: $low (job $lowjob); intervals skipped: $skipped; failed: $refused"
note "slurmckptd CPU in the window: $(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }') s own," \
	"$(awk -v a="$w0" -v b="$w1" 'BEGIN { printf "%.2f", b - a }') s its workers'; total own $c1 s;" \
	"VmHWM $hwm, VmRSS $rss"
# What is asserted does not depend on spare CPU (the suite may share the
# machine): on a busy machine the helper skips intervals for every step
# alike, which is what it should do.  Asserted: no checkpoint failed; no
# step starved (each has at least the mean less 2); and the CPU that the
# helper and its workers spent per checkpoint (CPU time, not wall time)
# would hold N steps at 1 s within the machine's cores.
ncpu=$(nproc)
mean=$((taken / N))
cost_us=$(awk -v a="$c0" -v b="$c1" -v c="$w0" -v d="$w1" -v t="$taken" \
	'BEGIN { printf "%d", (t > 0 ? (b - a + d - c) * 1e6 / t : 1e9) }')
note "CPU per checkpoint (helper and worker): $cost_us us; $N steps at 1 s need $((cost_us * N / 10000)) % of one CPU; this machine has $ncpu"
[ "$refused" -eq 0 ] || fail "$refused checkpoints failed: $(grep 'checkpoint of .* failed' "$log" | tail -2)"
[ "$taken" -gt 0 ] || fail "no checkpoint committed in the window"
[ "$low" -ge $((mean - 2)) ] ||
	fail "step $lowjob committed $low checkpoints in ${W} s, the mean is $mean: a step was starved"
ok "$N steps at 1 s: $taken/$expected checkpoints in ${el} ms ($skipped intervals skipped), fewest $low per step (mean $mean); $cost_us us of CPU per checkpoint; helper CPU ${c1} s, VmHWM $hwm"
# The CPU per checkpoint must let N steps at 1 s fit the machine's CPUs.
# It does not today: about 11,000 us on a quiet 2-core machine (3,600 in
# the daemon, 7,600 in its worker), where the comment above says 1,300.
# Until 2026-12-07 this was never asserted: awk read the '>' of
# "printf ..., t > 0 ? ..." as a redirection (into a file named
# 1000000000) and cost_us was empty.  A TAP TODO until it is fixed:
# reported as an expected failure, and automake's driver fails the test
# (XPASS) once it holds, so this marker cannot outlive the fix.
_T_NUM=$((_T_NUM + 1))
[ $((cost_us * N)) -le $((ncpu * 1000000)) ] && res=ok || res="not ok"
echo "$res $_T_NUM - $cost_us us of CPU per checkpoint: $N steps at 1 s need $((cost_us * N / 10000)) % of one CPU, this machine has $ncpu # TODO make a checkpoint cheaper (the daemon's loop, the worker's slurmctld lookups)"

kill "$reg" 2>/dev/null
wait "$reg" 2>/dev/null
steps_gone() {
	[ "$(jq '.steps | length' "$CLUSTER_DIR/ckptd-state/state.json")" -eq 0 ]
}
wait_for 30 steps_gone || fail "the steps were not dropped when their connections closed"
ok "all $N registrations closed: the helper dropped every step"
kill "$apppid" 2>/dev/null
wait "$app" 2>/dev/null
require_helper
