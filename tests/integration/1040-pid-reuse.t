#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1040-pid-reuse: a checkpoint request reaches only the registered step's
# tasks.  A two-task step: task 1 exits at once, and root makes a NEW
# process of the same user, catching every checkpoint signal, take task 1's
# pid (through /proc/sys/kernel/ns_last_pid).  A bystander of the same job
# (started by the batch script, not part of the step) catches them too.
# "scheckpoint create <job>.0" commits task 0's state; neither the process
# with the reused pid nor the bystander receives anything: the helper
# signals through the pidfds it was given, never by pid.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
[ -w /proc/sys/kernel/ns_last_pid ] || skip "/proc/sys/kernel/ns_last_pid is not writable"

ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
w=$CLUSTER_WORK
marker=$w/signalled
cat >"$w/task.sh" <<EOS
#!/bin/bash
if [ "\$SLURM_PROCID" = 1 ]; then
	echo \$\$ >$w/task1.pid
	exit 0
fi
exec $APPS/counter.sh --per-task 120
EOS
cat >"$w/job.sh" <<EOS
#!/bin/bash
$APPS/catcher.sh $marker bystander &
srun -n2 $w/task.sh
EOS
chmod 0755 "$w/task.sh" "$w/job.sh"
out=$w/reuse.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -n2 -o "$out" "$w/job.sh") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 15 grep -q '^start=' "$out" || fail "task 0 did not start: $(cat "$out" 2>&1)"
wait_for 10 test -s "$w/task1.pid" || fail "task 1 wrote no pid"
p=$(cat "$w/task1.pid")
_gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 _gone "$p" || fail "task 1 (pid $p) did not exit"
ok "step $j.0: task 1 (pid $p) exited, task 0 runs"

# A new process of the same user, catching the checkpoint signals, with pid $p.
python3 - "$p" "$(id -u "$CKPT_USER")" "$(id -g "$CKPT_USER")" "$APPS/catcher.sh" "$marker" \
	>"$w/impostor.out" 2>&1 <<'PY' &
import os, sys, time
want, uid, gid, app, marker = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
for attempt in range(20000):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() != want:
            os._exit(0)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        os.execv("/bin/bash", ["bash", app, marker, "impostor"])
    if pid == want:
        print("impostor", pid, "after", attempt + 1, "attempts", flush=True)
        os.waitpid(pid, 0)
        sys.exit(0)
    os.waitpid(pid, 0)
print("pid", want, "not obtained", flush=True)
sys.exit(1)
PY
imp=$!
wait_for 30 grep -q "^impostor $p" "$w/impostor.out" ||
	{ kill "$imp" 2>/dev/null; skip "could not reuse pid $p: $(cat "$w/impostor.out")"; }
_caught() { grep -q "^SigCgt:" "/proc/$p/status" && [ "$(stat -c %u "/proc/$p")" = "$(id -u "$CKPT_USER")" ] &&
	(( 0x$(sed -n 's/^SigCgt:\s*//p' "/proc/$p/status") & (1 << 11) )); }
wait_for 5 _caught || fail "pid $p is not a $CKPT_USER process catching USR2: $(cat "/proc/$p/status" 2>&1 | head -n 12)"
ok "pid $p reused by a new $CKPT_USER process catching SIGUSR2 ($(head -n1 "$w/impostor.out"))"

msg=$(ckcreate "$j.0" 2>&1)
rc=$?
note "scheckpoint create $j.0: exit $rc: $msg"
sleep 1
[ -e "$marker" ] && fail "signal sent outside the step: $(cat "$marker")"
ok "neither the process with the reused pid nor the bystander was signalled"
[ $rc -eq 0 ] || fail "create $j.0 failed: $msg"
img=$ckdir/$j.0.ckpt
image_verify "$img" || fail "$img does not verify"
[ -s "$img/count.0" ] || fail "$img has no count.0: $(ls "$img")"
[ -e "$img/count.1" ] && fail "$img has count.1 from the exited task"
ok "task 0's state committed to $img (count $(cat "$img/count.0"))"
# The control: a signal by bare pid does reach the impostor and is seen.
kill -USR2 "$p"
wait_for 5 test -s "$marker" || fail "the impostor does not record signals: the test proves nothing"
grep -q "^impostor $p USR2" "$marker" || fail "marker: $(cat "$marker")"
ok "control: kill -USR2 $p (by pid) is caught by the impostor"
kill "$p" "$imp" 2>/dev/null
scancel "$j"
