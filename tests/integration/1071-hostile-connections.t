#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1071-hostile-connections: one local user ($CKPT_USER) holds many idle
# connections to slurmckptd, more than its per-user cap on the Unix socket
# (600) and more than the 64 unauthenticated slots of the TCP port (200,
# from the same address as the other user's scheckpoint), re-opening
# every one the daemon closes.  Meanwhile the other user's ($CKPT_OTHER)
# checkpoint of its job commits, both through the node's socket and over
# TCP, and the log takes counts, not a line per connection.  Then the
# daemon runs out of descriptors (its soft RLIMIT_NOFILE lowered under
# what it holds, with prlimit): it must not spin on accept (CPU time
# and log lines over 5 s stay small), and it accepts again once the
# limit is back.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v prlimit >/dev/null || skip "prlimit not found (util-linux)"

NU=600	# Unix socket connections (max_user_connections: 512)
NT=200	# TCP connections (64 slots; max_host_connections: 8)
cluster_start 1
helper_restart_tcp
P=$HELPER_PORT
hpid=$CLUSTER_HELPER_PID
log=$CLUSTER_DIR/slurmckptd.log
ok "slurmckptd listens on TCP port $P"

# The other user's job, checkpointed on request only.
odir=$CLUSTER_DIR/other
mkdir -p "$odir" && chown "$CKPT_OTHER:" "$odir" || fail "cannot create $odir"
j=$(as_other sbatch --parsable -w c1 --checkpoint=0 --checkpoint-dir="$odir" \
	-o "$odir/out" "$APPS/counter.sh" 600) || fail "sbatch as $CKPT_OTHER failed"
j=${j%%;*}
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$odir/out" || fail "the app did not start: $(cat "$odir/out" 2>&1)"
ok "job $j of $CKPT_OTHER running"

# The hostile client: every 0.2 s it closes what the daemon closed and
# opens connections again up to NU and NT, sending nothing.  Its status
# file says "<unix tried> <tcp tried> <unix open> <tcp open>".
cat >"$CLUSTER_WORK/hostile.py" <<'PY'
import errno, os, select, socket, sys, time
path, port, nu, nt, status = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
conns = {"u": [], "t": []}
tried = {"u": 0, "t": 0}
def opened(kind):
    if kind == "u":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.setblocking(False)
        try:
            s.connect(path)
        except OSError:		# the backlog is full
            s.close()
            return None
        return s
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    if s.connect_ex(("127.0.0.1", port)) not in (0, errno.EINPROGRESS):
        s.close()
        return None
    return s
with open(status + ".pid", "w") as f:
    f.write("%d\n" % os.getpid())
while True:
    p = select.poll()
    for kind in conns:
        for s in conns[kind]:
            p.register(s, select.POLLIN | select.POLLHUP)
    gone = {fd for fd, ev in p.poll(0)}
    for kind in conns:
        keep = []
        for s in conns[kind]:
            if s.fileno() in gone:
                s.close()
            else:
                keep.append(s)
        conns[kind] = keep
        want = nu if kind == "u" else nt
        while len(conns[kind]) < want:
            s = opened(kind)
            if s is None:
                break
            conns[kind].append(s)
            tried[kind] += 1
    with open(status + ".tmp", "w") as f:
        f.write("%d %d %d %d\n" % (tried["u"], tried["t"], len(conns["u"]), len(conns["t"])))
    os.rename(status + ".tmp", status)
    time.sleep(0.2)
PY
chmod 0644 "$CLUSTER_WORK/hostile.py"
status=$CLUSTER_WORK/hostile.status
lines0=$(wc -l <"$log")
as_user python3 "$CLUSTER_WORK/hostile.py" "$SLURM_CHECKPOINT_SOCKET" "$P" "$NU" "$NT" "$status" &
hostile=$!
tried_enough() {
	local u t
	[ -s "$status" ] && read -r u t _ <"$status" || return 1
	[ "$u" -ge "$NU" ] && [ "$t" -ge "$NT" ]
}
wait_for 30 tried_enough || fail "the hostile client did not open its connections: $(cat "$status" 2>&1)"
ok "$CKPT_USER opened $NU Unix and $NT TCP connections (tried/open: $(cat "$status"))"

# The other user, through the node's socket.
msg=$(as_other "$SCHECKPOINT" create "$j" MaxWait=60 2>&1) || fail "create by $CKPT_OTHER: exit $?: $msg"
wait_for 30 commits_at_least "$odir" "$j.batch" 1 || fail "no commit of job $j: $msg"
ok "$CKPT_OTHER's create through the socket committed: $msg"

# The log: counts, not a line per connection.
lines=$(($(wc -l <"$log") - lines0))
[ "$lines" -le 100 ] || fail "$lines log lines while $CKPT_USER held connections: $(tail -n 3 "$log")"
ok "$lines log lines while $CKPT_USER held connections"

# The other user from the "login" side: over TCP, from the same address.
msg=$(as_other env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
	SLURM_CHECKPOINT_PORTS="c1:$P" "$SCHECKPOINT" create "$j" MaxWait=60 2>&1) ||
	fail "remote create by $CKPT_OTHER: exit $?: $msg"
wait_for 30 commits_at_least "$odir" "$j.batch" 2 || fail "no second commit of job $j: $msg"
ok "$CKPT_OTHER's create over TCP committed: $msg"
grep -q 'max_user_connections' "$log" || fail "no line about refused connections in the log"
grep -q 'TCP: .* closed without a credential' "$log" || fail "no line about closed TCP connections"
ok "refusals logged as counts: $(grep -c 'max_user_connections\|closed without a credential' "$log") line(s)"
# Held past idle_timeout (10 s), the idle ones are closed (and counted).
wait_for 40 grep -q "uid $(id -u "$CKPT_USER"): .* [1-9][0-9]* closed idle" "$log" ||
	fail "no idle connection of $CKPT_USER closed: $(grep 'closed idle' "$log" | tail -n 1)"
ok "$(grep 'closed idle' "$log" | tail -n 1 | sed 's/.*slurmckptd: //')"
lines=$(($(wc -l <"$log") - lines0))
[ "$lines" -le 100 ] || fail "$lines log lines while $CKPT_USER held connections: $(tail -n 3 "$log")"

# Out of descriptors: the soft limit under what the daemon holds now.
read -r soft hard < <(prlimit --pid "$hpid" --nofile --noheadings --raw -o SOFT,HARD)
prlimit --pid "$hpid" --nofile="32:$hard" || fail "prlimit --pid $hpid failed"
wait_for 20 grep -q 'Too many open files' "$log" || fail "slurmckptd did not run out of descriptors"
# cpu <pid>: its user + system CPU seconds
cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}
c0=$(cpu "$hpid")
l0=$(wc -l <"$log")
sleep 5	# the stretch measured, not a wait for a condition
c1=$(cpu "$hpid")
l1=$(wc -l <"$log")
prlimit --pid "$hpid" --nofile="$soft:$hard" || fail "prlimit --pid $hpid failed"
used=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
note "out of descriptors for 5 s: $used s of CPU, $((l1 - l0)) log lines"
awk -v u="$used" 'BEGIN { exit !(u < 1.0) }' ||
	fail "slurmckptd used $used s of CPU in 5 s out of descriptors: it spins"
[ $((l1 - l0)) -le 20 ] || fail "$((l1 - l0)) log lines in 5 s out of descriptors: $(tail -n 2 "$log")"
ok "out of descriptors for 5 s: $used s of CPU, $((l1 - l0)) log lines"

kill "$(cat "$status.pid")" || fail "the hostile client is gone before its time"
{ wait "$hostile"; } 2>/dev/null
msg=$(as_other "$SCHECKPOINT" create "$j" MaxWait=60 2>&1) || fail "create after the limit was restored: exit $?: $msg"
wait_for 30 commits_at_least "$odir" "$j.batch" 3 || fail "no third commit of job $j: $msg"
ok "descriptors back: $CKPT_OTHER's create committed again: $msg"
require_helper
scancel "$j"
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"
