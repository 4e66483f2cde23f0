#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1051-asan-helper: slurmckptd built with AddressSanitizer, UBSan and
# LeakSanitizer (make check builds it: tests/integration/slurmckptd-asan)
# does real checkpoints:
# periodic ones, scheckpoint create, a failed one (a FIFO in the image), a
# refused request, malformed packets, the end of the job and SIGTERM.  Any
# invalid access, undefined behaviour or leak aborts or fails the exit status
# and leaves a report: the test fails.  (1050-valgrind cannot get a checkpoint
# through valgrind 3.19, which lacks the pidfd system calls.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
# Built by make check (Makefile.am), where configure found that the
# compiler can.
asan_bin=$top_builddir/tests/integration/slurmckptd-asan
[ -x "$asan_bin" ] || skip "no $asan_bin (configure: the compiler cannot build with -fsanitize=address,undefined)"

cluster_start 1
asan=$CLUSTER_DIR/asan
mkdir -p "$asan"

helper_stop
bin=$CLUSTER_DIR/bin/slurmckptd
cp "$asan_bin" "$bin.asan"
cat >"$bin" <<EOS
#!/bin/sh
ASAN_OPTIONS=log_path=$asan/report:detect_leaks=1:abort_on_error=0:exitcode=98 \\
UBSAN_OPTIONS=log_path=$asan/report:print_stacktrace=1:halt_on_error=1 \\
exec "$bin.asan" "\$@"
EOS
chmod 0755 "$bin" "$bin.asan"
chmod 0777 "$asan"	# the workers (the job's user) may write reports too
P=$(free_port) || fail "no free port"
CKPT_HELPER_CONF="port=$P
munge_socket=$CLUSTER_DIR/munge/munged.sock"
helper_start || fail "the sanitized slurmckptd did not start"
ok "sanitized slurmckptd running (pid $CLUSTER_HELPER_PID)"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
out=$CLUSTER_WORK/asan.out
j=$(submit --checkpoint=0:02 --checkpoint-dir="$ckdir" -o "$out" "$APPS/hostile.sh" "$mode") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 30 || fail "job $j did not start"
wait_for 30 commits_at_least "$ckdir" "$j.batch" 2 ||
	fail "fewer than 2 periodic commits: $(cat "$ckdir/checkpoint.log" 2>&1)"
ok "periodic checkpoints committed"
# Periodic checkpoints off first, so that no later one renames or removes
# the created image while it is verified; a create that meets one still
# in flight ("already in progress") is tried again.
msg=$(as_user timeout 30 "$SCHECKPOINT" disable "$j" 2>&1) || fail "disable: $msg"
_create() { msg=$(as_user timeout 30 "$SCHECKPOINT" create "$j" 2>&1); }
wait_for 30 _create || fail "create: $msg"
image_verify "$ckdir/$j.ckpt" || fail "image does not verify"
ok "scheckpoint create: $msg"
echo fifo >"$mode"
msg=$(as_user timeout 30 "$SCHECKPOINT" create "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "failing create: exit $rc: $msg"
ok "failing create: $msg"
echo ok >"$mode"
msg=$(as_other timeout 30 "$SCHECKPOINT" create "$j" 2>&1) && fail "$CKPT_OTHER's create succeeded"
ok "refused: $msg"
# The verbs of issue 3, over the socket and over TCP with MUNGE.
for v in able show disable enable error list; do
	msg=$(as_user timeout 30 "$SCHECKPOINT" "$v" "$j" 2>&1) || fail "$v: $msg"
done
msg=$(as_user env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" SLURM_CHECKPOINT_PORTS="$P" \
	timeout 30 "$SCHECKPOINT" create "$j" 2>&1) || fail "create over TCP: $msg"
python3 - "$P" <<'PY' || fail "bad TCP frames: python failed"
import socket, struct, sys
for body in [b"", b"{}", b"MUNGE:garbage:", b"\x00" * 300000]:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(struct.pack(">I", len(body)) + body[:70000])
    s.settimeout(5)
    try:
        s.recv(65536)
    except OSError:
        pass
    s.close()
PY
ok "able, show, disable, enable, error, list; create and bad frames over TCP"
as_user python3 "$APPS/badpackets.py" "$SLURM_CHECKPOINT_SOCKET" || fail "malformed packets: python failed"
require_helper
ok "malformed packets: helper alive"

scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
pid=$CLUSTER_HELPER_PID
kill -TERM "$pid"
_gone_helper() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 30 _gone_helper || fail "slurmckptd did not exit within 30 s of SIGTERM"
wait "$pid"
rc=$?
CLUSTER_HELPER_PID=
reports=$(cat "$asan"/report.* 2>/dev/null)
[ -z "$reports" ] || fail "sanitizer reports (exit $rc): $reports"
[ $rc -eq 0 ] || fail "slurmckptd exited $rc after SIGTERM"
ok "slurmckptd exited 0; no ASan, UBSan or LeakSanitizer report"
