#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1050-valgrind: slurmckptd under valgrind (memcheck) through a session of
# work: registrations, periodic checkpoints, scheckpoint create, a refused
# request, malformed packets on its socket, a failed checkpoint, the end of
# the job, and SIGTERM.  Every process of it (the daemon and each forked
# worker) must report no invalid access, no use of uninitialised memory and
# no definite leak, and the daemon must exit cleanly.  (Valgrind 3.19 lacks
# the pidfd system calls, so there no checkpoint can succeed: 1051-asan-helper
# runs real checkpoints through a sanitized build instead.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v valgrind >/dev/null || skip "valgrind not installed (contrib/install-deps.sh)"

VG_ERR=99

cluster_start 1

# Restart the helper under valgrind: the copy in bin/ becomes a wrapper, so
# that helper_start runs it with its usual arguments.  %p: one log per
# process (the workers are forked children); %q: the cluster directory.
helper_stop
bin=$CLUSTER_DIR/bin/slurmckptd
mv "$bin" "$bin.real"
cat >"$bin" <<EOS
#!/bin/sh
exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --error-exitcode=$VG_ERR --track-origins=yes \
	--log-file='%q{CKPT_CLUSTER_DIR}/valgrind.%p.log' "$bin.real" "\$@"
EOS
chmod 0755 "$bin"
helper_start || fail "slurmckptd did not start under valgrind"
ok "slurmckptd running under valgrind (pid $CLUSTER_HELPER_PID)"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
out=$CLUSTER_WORK/vg.out
j=$(submit --checkpoint=0:02 --checkpoint-dir="$ckdir" -o "$out" "$APPS/hostile.sh" "$mode") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 60 || fail "job $j did not start"
# A periodic checkpoint starts only when the one before has ended (or the
# interval is logged as skipped): three attempts, two ended.  An attempt
# is logged as started, or, when its worker cannot even be watched (a
# valgrind without pidfd_open, see below), as failed at once.
_attempts() {
	[ "$(grep -cE "checkpoint of $j\.batch (\(periodic\) started|failed)" \
		"$CLUSTER_DIR/slurmckptd.log")" -ge 3 ]
}
# Valgrind makes the daemon many times slower, and more so on a busy
# machine: the waits here are generous.
wait_for 180 _attempts || fail "fewer than 2 periodic checkpoints ended: $(tail "$CLUSTER_DIR/slurmckptd.log")"
ok "periodic checkpoints run under valgrind"

# Valgrind 3.19 (Debian 12) implements neither pidfd_open nor
# pidfd_send_signal, 3.24 (Debian 13) only the first: without them the
# helper cannot watch a worker or signal a task, so every checkpoint fails
# (ENOSYS, or no task it can signal).  That path is then what memcheck
# examines; with a valgrind that has both, images must be committed.
cat >"$CLUSTER_DIR/pidfdprobe.c" <<'EOC'
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);

	if (fd < 0 || syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0) < 0) {
		perror(fd < 0 ? "pidfd_open" : "pidfd_send_signal");
		return 1;
	}
	return 0;
}
EOC
"${CC:-cc}" -o "$CLUSTER_DIR/pidfdprobe" "$CLUSTER_DIR/pidfdprobe.c" || fail "cannot build the pidfd probe"
vgpidfd=yes
valgrind -q --log-file=/dev/null "$CLUSTER_DIR/pidfdprobe" 2>"$CLUSTER_DIR/pidfdprobe.out" || vgpidfd=no
probe=$(tail -n 1 "$CLUSTER_DIR/pidfdprobe.out")
# The periodic checkpoints go on (every 2 s): a create that finds one in
# progress (a busy machine makes them last) is refused with EALREADY, and
# asked again once it ended.
for try in $(seq 1 60); do
	msg=$(as_user timeout 60 "$SCHECKPOINT" create "$j" 2>&1)
	rc=$?
	[ $rc -ne 124 ] || fail "scheckpoint create got no reply within 60 s"
	echo "$msg" | grep -q 'already in progress' || break
	sleep 1
done
note "create answered at try $try"
if [ "$vgpidfd" = no ]; then
	note "$(valgrind --version) lacks a pidfd system call ($probe): checkpoints fail ($msg)"
	[ $rc -eq 1 ] || fail "create: exit $rc: $msg"
	if echo "$msg" | grep -q 'Function not implemented'; then
		grep -q "$j.batch failed: .*Function not implemented" "$ckdir/checkpoint.log" 2>/dev/null ||
			grep -q "checkpoint of $j.batch failed: .*Function not implemented" "$CLUSTER_DIR/slurmckptd.log" ||
			fail "the ENOSYS failure is not recorded"
	else
		echo "$msg" | grep -q 'not checkpointable' ||
			fail "create failed for another reason: $msg"
	fi
	ok "create under $(valgrind --version): clean failure: $msg"
else
	[ $rc -eq 0 ] || fail "create: exit $rc: $msg"
	commits_at_least "$ckdir" "$j.batch" 2 || fail "fewer than 2 commits: $(cat "$ckdir/checkpoint.log")"
	image_verify "$ckdir/$j.ckpt" || fail "image does not verify"
	ok "scheckpoint create: $msg"
fi
msg=$(as_other timeout 60 "$SCHECKPOINT" create "$j" 2>&1) && fail "$CKPT_OTHER's create succeeded"
ok "refused request: $msg"
# The other verbs (issue 3): their replies, the list child, a refusal.
for v in able show disable enable error list; do
	msg=$(as_user timeout 60 "$SCHECKPOINT" "$v" "$j" 2>&1) && continue
	# list runs a child, which this valgrind cannot watch (see above)
	[ "$v" = list ] && echo "$msg" | grep -q 'Function not implemented' && continue
	fail "$v under valgrind: $msg"
done
msg=$(as_other timeout 60 "$SCHECKPOINT" show "$j" 2>&1) && fail "$CKPT_OTHER's show succeeded"
ok "able, show, disable, enable, error, list under valgrind"
echo fifo >"$mode"
msg=$(as_user timeout 30 "$SCHECKPOINT" create "$j" 2>&1)
note "failing create: $msg"
echo ok >"$mode"

# Malformed packets, a user's registration, a packet with two descriptors.
as_user python3 "$APPS/badpackets.py" "$SLURM_CHECKPOINT_SOCKET" || fail "malformed packets: python failed"
require_helper
ok "malformed packets answered or dropped, helper alive"

scancel "$j"
job_wait_done "$j" 60 >/dev/null || fail "job $j did not end"
wait_for 60 grep -q "step $j.batch \(unregistered\|ended\)" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the helper did not see the step end"
pid=$CLUSTER_HELPER_PID
kill -TERM "$pid"
_gone_helper() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 120 _gone_helper || fail "slurmckptd did not exit within 120 s of SIGTERM"
wait "$pid"
rc=$?
CLUSTER_HELPER_PID=
[ $rc -ne $VG_ERR ] || fail "valgrind reported errors (exit $VG_ERR): $(cat "$CLUSTER_DIR"/valgrind.*.log)"
[ $rc -eq 0 ] || fail "slurmckptd exited $rc after SIGTERM"
ok "slurmckptd exited 0 after SIGTERM"

logs=("$CLUSTER_DIR"/valgrind.*.log)
[ -e "${logs[0]}" ] || fail "no valgrind log"
bad=$(grep -l -E 'Invalid (read|write|free)|uninitialised|Mismatched free|definitely lost: [1-9]|Syscall param|Source and destination overlap' "${logs[@]}")
[ -z "$bad" ] || fail "valgrind findings: $(cat $bad)"
ok "${#logs[@]} valgrind logs (daemon and workers): no invalid access, no definite leak"
