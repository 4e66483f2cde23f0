# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# cluster.sh - a private Slurm cluster on this host, for the integration tests.
#
# Sourced by tests/integration/*.t (and contrib/demo.sh).  It needs root and the
# Slurm 22.05 daemons (slurmctld, slurmd, munged); without them the test is
# skipped ("1..0 # SKIP", exit 0).  Everything lives in one temporary directory:
#
#   $CLUSTER_DIR/munge/          munged's socket, key, pid, log, seed (owned by munge)
#   $CLUSTER_DIR/slurm.conf      the cluster's configuration (SLURM_CONF)
#   $CLUSTER_DIR/plugstack.conf  the "required checkpoint.so ..." line
#   $CLUSTER_DIR/lib, bin        copies of checkpoint.so, slurmckptd, scheckpoint
#                                (CKPT_INSTALLED=1: of the installed ones)
#   $CLUSTER_DIR/apps/           copies of tests/integration/apps (readable by ckptuser)
#   $CLUSTER_DIR/work/           a directory owned by ckptuser; as_user runs there
#   $CLUSTER_DIR/*.log           daemon logs (printed when a test fails)
#   $CLUSTER_DIR/ckptd.sock      slurmckptd's socket (SLURM_CHECKPOINT_SOCKET)
#
# Knobs (environment, read by cluster_start):
#   HELPER_WRAP       words put before slurmckptd's command by helper_start
#                     (e.g. strace fault injection); helper_kill kills the
#                     helper, not the wrapper
#   CKPT_MIN_INTERVAL (0), CKPT_MAX_WAIT (10), CKPT_KEEP (2), CKPT_SIGNAL (USR2)
#                     (min_interval is a Slurm time: a bare number is MINUTES;
#                      max_wait is in seconds)
#   CKPT_PLUGIN_ARGS  extra/overriding "key=value ..." words for the plugstack line
#   CKPT_POLL (2)     slurmckptd's poll_interval (seconds between job queries)
#   CKPT_HELPER_CONF  more lines for slurmckptd.conf (read by each helper_start)
#   CLUSTER_PARTITIONS  partition lines replacing the default "debug" one
#                     (@NODES@ stands for all nodes, c[1-N])
#   CLUSTER_CONF_EXTRA  lines appended to slurm.conf (e.g. PreemptType=...)
#   CLUSTER_SLURM_USER  slurmctld's SlurmUser (root); another user is
#                     created if missing and given the state directory and
#                     slurmctld's log and pid files
#   KEEP_CLUSTER=1    keep the temporary directory after the test
#   CLUSTER_VERBOSE=1 print the daemon logs even when the test passed
#
# Functions: cluster_start [nodes], cluster_stop, helper_start, helper_stop,
# helper_kill, helper_restart_tcp,
# as_user, as_other, user_dir, job_state, job_field, job_wait_state,
# job_wait_done, wait_for, ok, fail, skip, note, require_helper.
# Jobs run as the unprivileged user "ckptuser" ("ckptother" is a second one).

CKPT_USER=${CKPT_USER:-ckptuser}
CKPT_OTHER=${CKPT_OTHER:-ckptother}

# ---------------------------------------------------------------- output ----
_T_NUM=0
_T_FAILED=0
_T_NAME=$(basename "${0:-test}")

ok() {
	_T_NUM=$((_T_NUM + 1))
	echo "ok $_T_NUM - $*"
}

# fail "<message>": the test fails here (teardown runs from the EXIT trap).
fail() {
	_T_NUM=$((_T_NUM + 1))
	_T_FAILED=1
	echo "not ok $_T_NUM - $*"
	echo "# FAILED: $_T_NAME: $*" >&2
	exit 1
}

# The plan goes last ("1..N", as TAP allows): printed once, by the EXIT
# trap (cluster_stop, or _t_plan itself before a cluster exists).
_T_PLANNED=0
_T_PID=$BASHPID
_t_plan() {
	# A subshell that started a cluster of its own (0100-cluster.t) runs
	# cluster_stop at its end: it prints nothing, the test's shell plans.
	[ "$_T_PLANNED" = 1 ] || [ "$BASHPID" != "$_T_PID" ] && return
	_T_PLANNED=1
	echo "1..$_T_NUM"
}
trap _t_plan EXIT

# skip "<reason>": the rest of the test is skipped (automake's TAP
# driver: a plan of 0 with a SKIP directive, or, after cases ran, one
# more case with it; exit status 0).
skip() {
	if [ "$_T_NUM" -gt 0 ]; then
		_T_NUM=$((_T_NUM + 1))
		echo "ok $_T_NUM # SKIP $*"
		exit 0
	fi
	_T_PLANNED=1
	echo "1..0 # SKIP $*"
	exit 0
}

note() {
	echo "# $*"
}

# check <message> <command...>: ok when the command succeeds, else fail.
check() {
	local msg=$1
	shift
	if "$@"; then ok "$msg"; else fail "$msg"; fi
}

# ------------------------------------------------------------ prerequisites --
[ "$(id -u)" -eq 0 ] || skip "integration tests need root (they start a private Slurm cluster)"
# CKPT_SKIP_TESTS: names of tests (without .t) this run leaves out
# (contrib/test.sh, for the Slurm releases in root filesystems).
case " ${CKPT_SKIP_TESTS:-} " in
*" ${_T_NAME%.t} "*) skip "left out of this run (CKPT_SKIP_TESTS)" ;;
esac
for _b in slurmctld slurmd munged sbatch srun scontrol squeue sinfo ss runuser; do
	PATH=$PATH:/usr/sbin:/sbin command -v "$_b" >/dev/null 2>&1 ||
		skip "$_b not found (contrib/install-deps.sh installs the Slurm packages)"
done
unset _b
export PATH=$PATH:/usr/sbin:/sbin

if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
if [ -z "${top_builddir:-}" ]; then
	# By hand after contrib/test.sh: its build directory is ./build.
	if [ -d "$top_srcdir/build/spank" ]; then
		top_builddir=$top_srcdir/build
	else
		top_builddir=$top_srcdir
	fi
fi
top_srcdir=$(cd "$top_srcdir" && pwd)
top_builddir=$(cd "$top_builddir" && pwd)
export top_srcdir top_builddir

# The files under test: the build tree's, or with CKPT_INSTALLED=1 the
# installed ones (a package's or make install's): slurmckptd and
# scheckpoint found on PATH, checkpoint.so in Slurm's plugin directory,
# named on the plugstack line as an admin names it ("required
# checkpoint.so").  contrib/test.sh tests the Debian packages so.
# CKPT_CFLAGS (for slurm_checkpoint.h), CKPT_PYTHON_DIR (where
# slurm_checkpoint.py is to be copied from; empty: it is installed) and
# CKPT_EXAMPLES (the job examples) are the application helpers'.
if [ "${CKPT_INSTALLED:-0}" = 1 ]; then
	CKPTD_FILE=$(command -v slurmckptd || echo /usr/sbin/slurmckptd)
	SCKPT_FILE=$(command -v scheckpoint || echo /usr/bin/scheckpoint)
	# Slurm's plugin directory: where its own plugins are.
	_slurm_plugindir=$(find /usr/lib /usr/lib64 /usr/local/lib -maxdepth 3 \
		-name sched_backfill.so -printf '%h\n' 2>/dev/null | head -n1)
	CKPT_SO_FILE=${_slurm_plugindir:-/nonexistent}/checkpoint.so
	# The application helpers: slurm_checkpoint.h through its pkg-config
	# file, the Python module on Python's path, the job examples in the
	# documentation.
	CKPT_CFLAGS=$(pkg-config --cflags slurm-checkpoint 2>&1) ||
		CKPT_CFLAGS="-I/nonexistent/$CKPT_CFLAGS"
	CKPT_PYTHON_DIR=
	CKPT_EXAMPLES=$(find /usr/share/doc /usr/local/share/doc \
		-path '*/examples/c-counter.c' -printf '%h\n' 2>/dev/null | head -n1)
else
	CKPT_SO_FILE=$top_builddir/spank/.libs/checkpoint.so
	CKPTD_FILE=$top_builddir/helper/slurmckptd
	SCKPT_FILE=$top_builddir/scheckpoint/scheckpoint
	CKPT_CFLAGS=-I$top_srcdir/contrib
	CKPT_PYTHON_DIR=$top_srcdir/contrib/python
	CKPT_EXAMPLES=$top_srcdir/contrib/examples
fi
APPS_SRC=$top_srcdir/tests/integration/apps

# ------------------------------------------------------------------ users ---
_ensure_user() {
	local u=$1
	if ! id -u "$u" >/dev/null 2>&1; then
		useradd -m -s /bin/bash "$u" >/dev/null 2>&1 ||
			id -u "$u" >/dev/null 2>&1 || skip "cannot create user $u"
	fi
}

# as_user <cmd...>: run a command as ckptuser in $CLUSTER_WORK, environment kept
# (SLURM_CONF, SLURM_CHECKPOINT_SOCKET, ...).
as_user() {
	(cd "$CLUSTER_WORK" && runuser -u "$CKPT_USER" -- "$@")
}

# as_other <cmd...>: the same as the second unprivileged user.
as_other() {
	(cd "$CLUSTER_WORK" && runuser -u "$CKPT_OTHER" -- "$@")
}

# user_dir <path> [mode]: create a directory owned by ckptuser, print its path.
user_dir() {
	mkdir -p "$1" && chown "$CKPT_USER:" "$1" && chmod "${2:-0755}" "$1" && echo "$1"
}

# ------------------------------------------------------------------ ports ---
# A port handed out is reserved until the test ends: a directory named after
# it in $_PORT_DIR (mkdir is atomic), with the test's pid in it, so that two
# tests (or clusters) started at the same time never take the same port,
# even before the daemon that will listen on it has started.  cluster_stop
# gives the test's ports back; those of a test killed outright stay taken.
_PORT_DIR=${CKPT_PORT_DIR:-/tmp/ckpt-test-ports}
_port_free() {
	[ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] &&
		[ -z "$(ss -Hlun "sport = :$1" 2>/dev/null)" ]
}

# free_port: print a TCP port nothing listens on and no test holds.
free_port() {
	local p i low
	mkdir -p "$_PORT_DIR" || return 1
	# Below the kernel's ephemeral range: a port from inside it may be
	# taken by an outgoing connection before the daemon binds it.
	low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
	[ "${low:-0}" -gt 21000 ] 2>/dev/null || low=32768
	for i in $(seq 1 500); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % (low - 20000)))
		mkdir "$_PORT_DIR/$p" 2>/dev/null || continue
		if _port_free "$p"; then
			echo "$$" >"$_PORT_DIR/$p/pid"
			echo "$p"
			return 0
		fi
		rmdir "$_PORT_DIR/$p"
	done
	echo "free_port: no free port found" >&2
	return 1
}

# ports_release: give back the ports this test took.
ports_release() {
	local d
	for d in "$_PORT_DIR"/*/; do
		[ "$(cat "$d/pid" 2>/dev/null)" = "$$" ] && rm -rf "$d"
	done
	return 0
}

# ---------------------------------------------------------------- waiting ---
# wait_for <timeout-seconds> <command...>: poll every 0.2 s until the command
# succeeds; returns 1 on timeout.
wait_for() {
	local timeout=$1
	shift
	local end=$((SECONDS + timeout))
	while ! "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
	return 0
}

# app_started <output file>: the job's app printed its "start=" line.  Its
# task is registered with slurmckptd by then: slurmstepd runs the plugin's
# task_post_fork before it lets the task exec.  A job RUNNING for Slurm
# may not have got that far yet on a busy machine.
app_started() {
	wait_for 60 grep -qs '^start=' "$1"
}

_pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

# _signal_wait <pid> <signal>: send it, then wait up to 5 s for the end.
_signal_wait() {
	local i
	kill "-$2" "$1" 2>/dev/null
	for i in $(seq 1 25); do
		_pid_alive "$1" || return 0
		sleep 0.2
	done
	return 1
}

# _kill_pid <pid> <name>: TERM, wait up to 5 s, then KILL.
_kill_pid() {
	local pid=$1 name=$2
	_pid_alive "$pid" || return 0
	_signal_wait "$pid" TERM && return 0
	echo "# $name (pid $pid) ignored SIGTERM, sending SIGKILL" >&2
	_signal_wait "$pid" KILL && return 0
	echo "# $name (pid $pid) survived SIGKILL" >&2
	return 1
}

# _kill_pids <pid...>: TERM to all, wait up to 5 s, KILL the rest.
_kill_pids() {
	local pid i alive
	for pid in "$@"; do
		_pid_alive "$pid" && kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 50); do
		alive=
		for pid in "$@"; do
			_pid_alive "$pid" && alive="$alive $pid"
		done
		[ -n "$alive" ] || return 0
		sleep 0.1
	done
	for pid in $alive; do
		echo "# pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) ignored SIGTERM: SIGKILL" >&2
		kill -KILL "$pid" 2>/dev/null
	done
	sleep 0.2
}

# cluster_pids: pids of every process that carries this cluster's marker in its
# environment: the daemons, slurmstepd, the job's processes, the clients.
cluster_pids() {
	local f pid
	[ -n "${CLUSTER_DIR:-}" ] || return 0
	for f in /proc/[0-9]*/environ; do
		pid=${f#/proc/}
		pid=${pid%/environ}
		[ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] || continue
		if grep -qzxF "CKPT_CLUSTER_DIR=$CLUSTER_DIR" "$f" 2>/dev/null; then
			echo "$pid"
		fi
	done
}

_pid_from_file() {
	[ -s "$1" ] && tr -dc '0-9' <"$1"
}

# ------------------------------------------------------------------ jobs ----
# job_field <jobid> <Field>: one field of `scontrol show job` (empty if unknown).
job_field() {
	scontrol -o show job "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

job_state() {
	job_field "$1" JobState
}

_job_state_is() {
	[ "$(job_state "$1")" = "$2" ]
}

# job_wait_state <jobid> <STATE> <timeout>
job_wait_state() {
	if wait_for "$3" _job_state_is "$1" "$2"; then
		return 0
	fi
	echo "# job $1: not $2 after $3 s (state $(job_state "$1"), reason $(job_field "$1" Reason))" >&2
	return 1
}

_job_finished() {
	case $(job_state "$1") in
	COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
		return 0 ;;
	esac
	return 1
}

# job_wait_done <jobid> <timeout> [<output>]: wait until the job has finished;
# prints its final state.  Returns 1 on timeout.  With the output file of a
# counting app, the timeout runs from its last new "tick=" line: a busy
# machine that counts slowly is waited for, an app that stopped is not.
job_wait_done() {
	local end=$((SECONDS + $2)) ticks=-1 n
	while ! _job_finished "$1"; do
		if [ -n "${3:-}" ]; then
			n=$(grep -cs '^[0-9: ]*tick=' "$3")
			[ "$n" = "$ticks" ] || end=$((SECONDS + $2))
			ticks=$n
		fi
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# job $1: not finished after $2 s${3:+ without a new tick} (state $(job_state "$1"), reason $(job_field "$1" Reason))" >&2
			[ -z "${3:-}" ] || sed 's/^/#   /' <(tail -n 8 "$3") >&2
			return 1
		fi
		sleep 0.2
	done
	job_state "$1"
}

# submit <sbatch args...>: sbatch as ckptuser, print the job id (--parsable).
submit() {
	local out
	out=$(as_user sbatch --parsable "$@") || return 1
	echo "${out%%;*}"
}

# --------------------------------------------------------------- helper -----
# helper_start: start slurmckptd (foreground, -v) in the background.
helper_start() {
	local bin=$CLUSTER_DIR/bin/slurmckptd
	rm -f "$CLUSTER_DIR/ckptd.sock"
	printf 'poll_interval=%s\nstate_dir=%s\nscheckpoint=%s\n' \
		"${CKPT_POLL:-2}" "$CLUSTER_DIR/ckptd-state" \
		"$CLUSTER_DIR/bin/scheckpoint" >"$CLUSTER_DIR/slurmckptd.conf"
	[ -z "${CKPT_HELPER_CONF:-}" ] ||
		printf '%s\n' "$CKPT_HELPER_CONF" >>"$CLUSTER_DIR/slurmckptd.conf"
	# HELPER_WRAP: words put before the helper's command (a tracer).
	# shellcheck disable=SC2086
	CKPT_CLUSTER_DIR=$CLUSTER_DIR setsid ${HELPER_WRAP:-} "$bin" -f "$CLUSTER_DIR/slurmckptd.conf" \
		-s "$CLUSTER_DIR/ckptd.sock" -v \
		</dev/null >>"$CLUSTER_DIR/slurmckptd.log" 2>&1 &
	CLUSTER_HELPER_PID=$!
	echo "$CLUSTER_HELPER_PID" >"$CLUSTER_DIR/slurmckptd.pid"
	if ! wait_for 10 test -S "$CLUSTER_DIR/ckptd.sock"; then
		echo "# slurmckptd did not create its socket in 10 s" >&2
		tail -n 30 "$CLUSTER_DIR/slurmckptd.log" | sed 's/^/#   /' >&2
		return 1
	fi
	_pid_alive "$CLUSTER_HELPER_PID" || {
		echo "# slurmckptd exited" >&2
		return 1
	}
	return 0
}

helper_stop() {
	local real
	# A wrapper (a tracer) would detach on SIGTERM and leave the helper
	# running: stop the helper, then the wrapper ends with it.
	if [ -n "${HELPER_WRAP:-}" ] && [ -n "${CLUSTER_HELPER_PID:-}" ] &&
	   real=$(pgrep -P "$CLUSTER_HELPER_PID" -x slurmckptd); then
		_signal_wait "$real" TERM || _signal_wait "$real" KILL
	fi
	_kill_pid "${CLUSTER_HELPER_PID:-}" slurmckptd
	CLUSTER_HELPER_PID=
	rm -f "$CLUSTER_DIR/slurmckptd.pid"
}

# helper_kill: SIGKILL slurmckptd (a crash: no clean-up, no state saved
# at exit) and reap it; helper_start then restarts it on the same state.
helper_kill() {
	local real
	[ -n "${CLUSTER_HELPER_PID:-}" ] || return 0
	# Under HELPER_WRAP the helper is the wrapper's child: kill it, and
	# the wrapper (a tracer) exits with its last tracee.
	if [ -n "${HELPER_WRAP:-}" ] &&
	   real=$(pgrep -P "$CLUSTER_HELPER_PID" -x slurmckptd); then
		kill -KILL "$real" 2>/dev/null
	else
		kill -KILL "$CLUSTER_HELPER_PID" 2>/dev/null
	fi
	wait "$CLUSTER_HELPER_PID" 2>/dev/null
	CLUSTER_HELPER_PID=
	rm -f "$CLUSTER_DIR/slurmckptd.pid"
}

# helper_restart_tcp: restart slurmckptd listening on a free TCP port too
# (MUNGE through this cluster's munged), set in HELPER_PORT; fail unless
# its log says it listens there.
helper_restart_tcp() {
	HELPER_PORT=$(free_port) || fail "no free port"
	helper_stop
	CKPT_HELPER_CONF="port=$HELPER_PORT
munge_socket=$CLUSTER_DIR/munge/munged.sock"
	helper_start || fail "slurmckptd with port=$HELPER_PORT did not start"
	wait_for 5 grep -q "listening on TCP port $HELPER_PORT" "$CLUSTER_DIR/slurmckptd.log" ||
		fail "no TCP port in the log: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
}

# require_helper: fail unless slurmckptd is (still) running.
require_helper() {
	_pid_alive "${CLUSTER_HELPER_PID:-}" || fail "slurmckptd is not running"
}

# require_criu: set CRIU to a criu whose "criu check" passes (PATH,
# /usr/local/sbin, /opt/criu/sbin) and that can dump a sleeping process
# on this kernel, else skip: Debian 12's CRIU 3.17 fails on recent
# kernels, and Debian 13's CRIU 4.1.1 hangs on Linux 6.18 (its parasite
# never traps on the way out; 4.2 does not).  No slurmckptd takes part in
# that dump: it tells CRIU's faults from ours.  Its outcome is kept in
# $top_builddir/tests/integration/criu-probe.<criu version>.<kernel>.
require_criu() {
	local probe ver
	PATH=$PATH:/usr/local/sbin:/opt/criu/sbin
	CRIU=$(command -v criu) || skip "criu is not installed"
	"$CRIU" check >/dev/null 2>&1 || skip "criu check fails here: $("$CRIU" check 2>&1 | tail -n1)"
	ver=$("$CRIU" --version 2>/dev/null | sed -n 's/^Version: *//p')
	probe=$top_builddir/tests/integration/criu-probe.${ver:-unknown}.$(uname -r)
	if [ ! -s "$probe" ]; then
		_criu_probe >"$probe.tmp" && mv "$probe.tmp" "$probe"
	fi
	[ "$(head -n1 "$probe")" = ok ] ||
		skip "criu $ver cannot dump a sleeping process on Linux $(uname -r): $(tail -n1 "$probe")"
}

# _criu_probe: "ok", or "failed" and why, for a plain "criu dump
# --leave-running" of a sleeping process of its own session, with 120 s
# for what takes well under a second.
_criu_probe() {
	local d pid rc
	d=$(mktemp -d) || return 1
	pid=$(python3 -c 'import subprocess as s; print(s.Popen(["sleep", "600"], stdin=s.DEVNULL, stdout=s.DEVNULL, stderr=s.DEVNULL, start_new_session=True).pid)') ||
		{ rm -rf "$d"; return 1; }
	timeout -k 5 120 "$CRIU" dump -t "$pid" -D "$d" -o dump.log --leave-running --shell-job >/dev/null 2>&1
	rc=$?
	kill -9 "$pid" 2>/dev/null
	if [ "$rc" = 0 ]; then
		echo ok
	elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		printf 'failed\nit did not finish within 120 s (last line of its log: %s)\n' "$(tail -n1 "$d/dump.log")"
	else
		printf 'failed\n%s\n' "$(grep -m1 Error "$d/dump.log" || echo "exit status $rc")"
	fi
	rm -rf "$d"
}

# criu_method_start: restart slurmckptd with a method "criu" (criu=$CRIU,
# its dumps' MAC keyed from this cluster's MUNGE key) in
# $CLUSTER_DIR/methods (set in mdir), and wait until it is offered.
criu_method_start() {
	mdir=$CLUSTER_DIR/methods
	mkdir -p "$mdir"
	chmod 755 "$mdir"
	printf 'criu=%s\nimage_key=%s\n' "$CRIU" "$CLUSTER_DIR/munge/munge.key" \
		>"$mdir/criu.method"
	chmod 644 "$mdir/criu.method"
	helper_stop
	CKPT_HELPER_CONF="method_dir=$mdir"
	helper_start || fail "slurmckptd did not start"
	wait_for 10 grep -qs "method criu: criu=$CRIU (check: criu [0-9]" "$CLUSTER_DIR/slurmckptd.log" ||
		fail "method criu not offered: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
}

# -------------------------------------------------------------- the cluster -
_plugin_line() {
	local -A kv=()
	local -a order=(socket min_interval max_wait keep signal)
	local w k line
	kv[socket]=$CLUSTER_DIR/ckptd.sock
	kv[min_interval]=${CKPT_MIN_INTERVAL:-0}
	kv[max_wait]=${CKPT_MAX_WAIT:-10}
	kv[keep]=${CKPT_KEEP:-2}
	kv[signal]=${CKPT_SIGNAL:-USR2}
	for w in ${CKPT_PLUGIN_ARGS:-}; do
		k=${w%%=*}
		[ -n "${kv[$k]+x}" ] || order+=("$k")
		kv[$k]=${w#*=}
	done
	if [ "${CKPT_INSTALLED:-0}" = 1 ]; then
		line="required checkpoint.so"
	else
		line="required $CLUSTER_DIR/lib/checkpoint.so"
	fi
	for k in "${order[@]}"; do
		line="$line $k=${kv[$k]}"
	done
	echo "$line"
}

_write_conf() {
	local nodes=$1 i host
	host=$(hostname -s)
	cat >"$CLUSTER_DIR/slurm.conf" <<EOF
# private test cluster ($CLUSTER_DIR), written by tests/integration/cluster.sh
ClusterName=ckpttest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$CLUSTER_CTLD_PORT
SlurmUser=${CLUSTER_SLURM_USER:-root}
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$CLUSTER_DIR/munge/munged.sock,cred_expire=10
StateSaveLocation=$CLUSTER_DIR/state
SlurmdSpoolDir=$CLUSTER_DIR/spool/%n
SlurmctldPidFile=$CLUSTER_DIR/slurmctld.pid
SlurmdPidFile=$CLUSTER_DIR/slurmd.%n.pid
SlurmctldLogFile=$CLUSTER_DIR/slurmctld.log
SlurmdLogFile=$CLUSTER_DIR/slurmd.%n.log
SlurmctldDebug=info
SlurmdDebug=debug
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1,sched_min_interval=0,sched_interval=1
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=300
KillWait=5
InactiveLimit=0
Waittime=0
SlurmdTimeout=60
SlurmctldTimeout=60
MessageTimeout=10
SlurmdParameters=config_overrides
MailProg=/bin/true
PlugStackConfig=$CLUSTER_DIR/plugstack.conf
EOF
	for i in $(seq 1 "$nodes"); do
		echo "NodeName=c$i NodeHostname=$host NodeAddr=127.0.0.1 Port=${CLUSTER_NODE_PORTS[$i]} CPUs=4 RealMemory=1000 State=UNKNOWN" \
			>>"$CLUSTER_DIR/slurm.conf"
	done
	if [ -n "${CLUSTER_PARTITIONS:-}" ]; then
		printf '%s\n' "${CLUSTER_PARTITIONS//@NODES@/c[1-$nodes]}" >>"$CLUSTER_DIR/slurm.conf"
	else
		echo "PartitionName=debug Nodes=c[1-$nodes] Default=YES MaxTime=INFINITE State=UP" \
			>>"$CLUSTER_DIR/slurm.conf"
	fi
	[ -z "${CLUSTER_CONF_EXTRA:-}" ] || printf '%s\n' "$CLUSTER_CONF_EXTRA" >>"$CLUSTER_DIR/slurm.conf"
	chmod 0644 "$CLUSTER_DIR/slurm.conf"
}

_start_munge() {
	local m=$CLUSTER_DIR/munge
	mkdir -p "$m"
	dd if=/dev/urandom of="$m/munge.key" bs=1024 count=1 status=none
	chown -R munge: "$m"
	chmod 0755 "$m"
	chmod 0400 "$m/munge.key"
	CKPT_CLUSTER_DIR=$CLUSTER_DIR runuser -u munge -- munged \
		-S "$m/munged.sock" --key-file="$m/munge.key" --pid-file="$m/munged.pid" \
		--log-file="$m/munged.log" --seed-file="$m/munged.seed" </dev/null ||
		return 1
	wait_for 10 test -S "$m/munged.sock"
}

_all_idle() {
	local s
	s=$(sinfo -h -o %t 2>/dev/null | sort -u | tr '\n' ' ')
	[ "$s" = "idle " ]
}

# cluster_print_logs [lines]: the tail of every daemon log, to stderr.
cluster_print_logs() {
	local n=${1:-40} f
	[ -n "${CLUSTER_DIR:-}" ] && [ -d "$CLUSTER_DIR" ] || return 0
	for f in "$CLUSTER_DIR"/munge/munged.log "$CLUSTER_DIR"/slurmctld.log \
		"$CLUSTER_DIR"/slurmd.*.log "$CLUSTER_DIR"/*.out "$CLUSTER_DIR"/slurmckptd.log; do
		[ -s "$f" ] || continue
		echo "# ---- last $n lines of $f ----"
		tail -n "$n" "$f" | sed 's/^/#   /'
	done >&2
}

_cluster_die() {
	_T_NUM=$((_T_NUM + 1))
	echo "not ok $_T_NUM - cluster_start: $*"
	echo "# cluster_start: $*" >&2
	_T_FAILED=1
	exit 1
}

# cluster_start [nodes]: start munged, slurmctld, slurmd per node and
# slurmckptd; wait until every node is idle.  Exports SLURM_CONF and
# SLURM_CHECKPOINT_SOCKET.  Installs the EXIT trap that tears it all down.
cluster_start() {
	local nodes=${1:-1} i pid
	_ensure_user "$CKPT_USER"
	_ensure_user "$CKPT_OTHER"

	CLUSTER_DIR=$(mktemp -d /tmp/ckpt-cluster.XXXXXX) || exit 1
	chmod 0755 "$CLUSTER_DIR"
	export CLUSTER_DIR
	# The marker that cluster_pids looks for; every daemon, slurmstepd and job
	# of this cluster inherits it.
	export CKPT_CLUSTER_DIR=$CLUSTER_DIR
	trap cluster_stop EXIT
	trap 'exit 1' INT TERM HUP
	CLUSTER_NODES=$nodes
	mkdir -p "$CLUSTER_DIR/state" "$CLUSTER_DIR/spool" "$CLUSTER_DIR/lib" \
		"$CLUSTER_DIR/bin" "$CLUSTER_DIR/apps"
	CLUSTER_WORK=$(user_dir "$CLUSTER_DIR/work")
	export CLUSTER_WORK

	if [ -d "$APPS_SRC" ]; then
		cp -p "$APPS_SRC"/* "$CLUSTER_DIR/apps/" 2>/dev/null
		chmod -R a+rX "$CLUSTER_DIR/apps"
	fi
	APPS=$CLUSTER_DIR/apps
	# A cluster without the freshly built plugin and helper tests nothing:
	# that is a failure, not a skip.
	for i in "$CKPT_SO_FILE" "$CKPTD_FILE" "$SCKPT_FILE"; do
		[ -f "$i" ] || _cluster_die "$i is missing (not built, or not installed)"
	done
	# Copies (of the installed bytes too, never links: a test that wraps
	# or replaces bin/slurmckptd must not write through to /usr/sbin), so
	# that ckptuser can read them whatever the build directory's
	# permissions are, and a rebuild does not change a running cluster.
	# Installed, the plugin is Slurm's to find in its PluginDir.
	cp "$CKPTD_FILE" "$SCKPT_FILE" "$CLUSTER_DIR/bin/"
	chmod -R a+rX "$CLUSTER_DIR/bin"
	cp "$CKPT_SO_FILE" "$CLUSTER_DIR/lib/checkpoint.so"
	chmod 0755 "$CLUSTER_DIR/lib/checkpoint.so"
	[ "${CKPT_INSTALLED:-0}" = 1 ] &&
		note "installed files: $CKPTD_FILE $SCKPT_FILE $CKPT_SO_FILE"
	SCHECKPOINT=$CLUSTER_DIR/bin/scheckpoint
	_plugin_line >"$CLUSTER_DIR/plugstack.conf"
	chmod 0644 "$CLUSTER_DIR/plugstack.conf"

	CLUSTER_CTLD_PORT=$(free_port) || _cluster_die "no free port"
	CLUSTER_NODE_PORTS=()
	for i in $(seq 1 "$nodes"); do
		CLUSTER_NODE_PORTS[$i]=$(free_port) || _cluster_die "no free port"
	done
	_write_conf "$nodes"
	export SLURM_CONF=$CLUSTER_DIR/slurm.conf
	export SLURM_CHECKPOINT_SOCKET=$CLUSTER_DIR/ckptd.sock
	# Keep the submitting environment free of the caller's Slurm settings.
	unset SLURM_CHECKPOINT SLURM_CHECKPOINT_DIR SLURM_RESTART_DIR SLURM_JOB_ID \
		SBATCH_PARTITION SLURM_PARTITION

	_start_munge || _cluster_die "munged did not start"
	if [ "${CLUSTER_SLURM_USER:-root}" != root ]; then
		_ensure_user "$CLUSTER_SLURM_USER"
		touch "$CLUSTER_DIR/slurmctld.log" "$CLUSTER_DIR/slurmctld.pid"
		chown "$CLUSTER_SLURM_USER:" "$CLUSTER_DIR/state" \
			"$CLUSTER_DIR/slurmctld.log" "$CLUSTER_DIR/slurmctld.pid"
	fi
	slurmctld -f "$SLURM_CONF" </dev/null >>"$CLUSTER_DIR/slurmctld.out" 2>&1 ||
		_cluster_die "slurmctld failed to start"
	wait_for 10 test -s "$CLUSTER_DIR/slurmctld.pid" ||
		_cluster_die "slurmctld wrote no pid file"
	for i in $(seq 1 "$nodes"); do
		slurmd -f "$SLURM_CONF" -N "c$i" </dev/null >>"$CLUSTER_DIR/slurmd.c$i.out" 2>&1 ||
			_cluster_die "slurmd -N c$i failed to start"
	done
	for i in $(seq 1 "$nodes"); do
		wait_for 10 test -s "$CLUSTER_DIR/slurmd.c$i.pid" ||
			_cluster_die "slurmd c$i wrote no pid file"
	done
	pid=$(_pid_from_file "$CLUSTER_DIR/slurmctld.pid")
	_pid_alive "$pid" || _cluster_die "slurmctld (pid $pid) is not running"

	helper_start || _cluster_die "slurmckptd failed to start"

	if ! wait_for 30 _all_idle; then
		echo "# sinfo says: $(sinfo -h -o '%n %t %E' 2>&1 | tr '\n' ';')" >&2
		_cluster_die "the nodes did not become idle in 30 s"
	fi
	note "cluster up in $CLUSTER_DIR ($nodes node(s), slurmctld port $CLUSTER_CTLD_PORT)"
	note "plugstack: $(cat "$CLUSTER_DIR/plugstack.conf" | head -n1)"
}

# cluster_stop: cancel the jobs, stop every daemon (TERM, then KILL), kill what
# is left of this cluster's processes, print the logs if the test failed,
# remove the directory (unless KEEP_CLUSTER=1).  Safe to call twice.
cluster_stop() {
	local rc=$? i pid name left
	trap - EXIT
	if [ -z "${CLUSTER_DIR:-}" ] || [ ! -d "$CLUSTER_DIR" ]; then
		_t_plan
		return "$rc"
	fi
	[ "$_T_FAILED" = 1 ] && [ "$rc" -eq 0 ] && rc=1

	if [ "$rc" -ne 0 ] || [ "${CLUSTER_VERBOSE:-0}" = 1 ]; then
		echo "# ---- test exit status $rc; cluster state ----" >&2
		squeue -h -t all -o '#   %i %T %r %N' 2>/dev/null >&2
		cluster_print_logs 60
	fi

	# Jobs first, so that slurmstepd ends while slurmd is still there.
	if _pid_alive "$(_pid_from_file "$CLUSTER_DIR/slurmctld.pid")"; then
		timeout 10 scancel --quiet --user="$CKPT_USER" 2>/dev/null
		timeout 10 scancel --quiet --user="$CKPT_OTHER" 2>/dev/null
		for i in $(seq 1 25); do
			[ -z "$(squeue -h -t RUNNING,COMPLETING,CONFIGURING 2>/dev/null)" ] && break
			sleep 0.2
		done
	fi

	# All daemons at once: TERM, up to 5 s, then KILL.
	local -a pids=()
	pids+=("${CLUSTER_HELPER_PID:-}")
	for i in $(seq 1 "${CLUSTER_NODES:-1}"); do
		pids+=("$(_pid_from_file "$CLUSTER_DIR/slurmd.c$i.pid")")
	done
	pids+=("$(_pid_from_file "$CLUSTER_DIR/slurmctld.pid")")
	pids+=("$(_pid_from_file "$CLUSTER_DIR/munge/munged.pid")")
	_kill_pids "${pids[@]}"
	CLUSTER_HELPER_PID=

	# Whatever is left with this cluster's marker (slurmstepd, job processes).
	left=$(cluster_pids)
	if [ -n "$left" ]; then
		for pid in $left; do
			name=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
			echo "# cluster_stop: killing leftover pid $pid: $name" >&2
			kill -KILL "$pid" 2>/dev/null
		done
		sleep 0.3
	fi

	ports_release
	echo "# $_T_NAME: $SECONDS s (exit status $rc)"
	if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
		echo "# KEEP_CLUSTER=1: $CLUSTER_DIR kept" >&2
	else
		# Images are read-only; the directories are the user's: root removes all.
		rm -rf "$CLUSTER_DIR"
	fi
	CLUSTER_DIR=
	_t_plan
	return "$rc"
}

# criu_dumped <out> <ckdir> <N>: a job of ckptuser's with the criu method
# (criu_method_start) whose batch script execs memcount.sh <N>, dumped by
# scheckpoint create once it counts 3; sets j, at (its count then) and
# img, the image verified.
criu_dumped() {
	local msg
	j=$(submit --checkpoint=0 --checkpoint-method=criu --checkpoint-dir="$2" \
		--requeue --open-mode=append --chdir="$CLUSTER_WORK" -o "$1" \
		--wrap "exec $APPS/memcount.sh $3") || fail "sbatch failed"
	job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
	wait_for 10 grep -q '^tick=3$' "$1" || fail "the counter does not count: $(tail -n 3 "$1")"
	msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) ||
		fail "scheckpoint create: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
	at=$(sed -n 's/^tick=//p' "$1" | tail -n1)
	img=$2/$j.ckpt
	image_verify "$img" || fail "image does not verify"
	[ -s "$img/criu.0/pstree.img" ] || fail "no criu images in $img: $(ls -R "$img")"
}

# job_caps <job>: the job's pids on this node, or why one of them holds
# a capability or lacks no_new_privs (the criu= method's tasks have it).
job_caps() {
	local p pids caps
	pids=$(scontrol listpids "$1" 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $1 }')
	[ -n "$pids" ] || { echo "scontrol listpids $1: no pids"; return 1; }
	for p in $pids; do
		[ -r "/proc/$p/status" ] || continue
		caps=$(awk '/^Cap(Inh|Prm|Eff|Amb):/ { printf "%s", $2 }' "/proc/$p/status")
		if [ -n "$(echo "$caps" | tr -d 0)" ] || ! grep -q '^NoNewPrivs:.*1' "/proc/$p/status"; then
			echo "pid $p of job $1: $(grep -E '^(Cap|NoNewPrivs)' "/proc/$p/status" | tr '\n' ' ')"
			return 1
		fi
	done
	echo $pids
}

# ------------------------------------------------------------- checkpoints --
# images <dir> <name>: the committed images of <name> (e.g. 42.ckpt) in <dir>,
# newest first (the bare name is the newest, then .<seq> descending).
images() {
	local d=$1 n=$2
	[ -d "$d/$n" ] && echo "$d/$n"
	local f
	for f in "$d/$n".[0-9]*; do
		[ -d "$f" ] && echo "${f##*.} $f"
	done | sort -rn | cut -d' ' -f2-
}

image_count() {
	images "$1" "$2" | wc -l
}

# manifest_get <image> <jq-filter>
manifest_get() {
	jq -r "$2" "$1/manifest.json"
}

# image_verify <image>: manifest.json is valid JSON; every file listed exists
# with the listed size and XXH3-128; every regular file is listed.
image_verify() {
	local img=$1 want got
	jq -e 'type == "object" and (.files | type == "array")' "$img/manifest.json" >/dev/null 2>&1 || {
		echo "# $img: manifest.json is not valid JSON with a files array" >&2
		return 1
	}
	# One jq and one xxhsum for all files (images of thousands of files):
	# "<xxh3> <size> <path>" per file, listed and found, compared whole.
	want=$(jq -r '.files[] | "\(.xxh3) \(.size) \(.path)"' "$img/manifest.json" | LC_ALL=C sort -k3)
	got=$(cd "$img" && {
		find . -type f ! -name manifest.json -printf 'S %s %P\n'
		find . -type f ! -name manifest.json -printf '%P\0' |
			xargs -0 -r xxhsum -H128 2>/dev/null | sed 's/^/H /'
	} | awk '{ p = $0; sub(/^[SH] [^ ]+ +/, "", p) }
		$1 == "S" { s[p] = $2 } $1 == "H" { h[p] = $2 }
		END { for (p in s) print h[p], s[p], p }' | LC_ALL=C sort -k3)
	[ "$want" = "$got" ] && return 0
	echo "# $img: files on disk differ from the manifest (missing, size, xxh3 or unlisted):" >&2
	diff <(echo "$want") <(echo "$got") | head -5 | sed 's/^/#   /' >&2
	return 1
}

# committed_count <ckptdir> <job.step-label>: "committed" lines in checkpoint.log
committed_count() {
	local n
	n=$(grep -c -E "[[:space:]]${2//./\\.}[[:space:]].*committed" "$1/checkpoint.log" 2>/dev/null)
	echo "${n:-0}"
}

# commits_at_least <ckptdir> <job.step-label> <n>: for wait_for
commits_at_least() {
	[ "$(committed_count "$1" "$2")" -ge "$3" ]
}
