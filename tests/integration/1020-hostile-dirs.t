#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1020-hostile-dirs: a user cannot make slurmckptd write, read or delete
# anything with root's rights through the checkpoint directory.
#  1. --checkpoint-dir=/etc, =/root and a symlink to a root-owned directory
#     are refused by sbatch before anything is submitted, with a message.
#  2. The same directories registered directly (as slurmstepd would for a
#     user who got past sbatch's check): "scheckpoint create" fails with
#     "Permission denied", nothing appears in or disappears from them, and
#     the task is not even signalled.
#  3. A symlink to a root-owned directory swapped in place of the staging
#     directory while the application writes its checkpoint: the commit
#     fails with a clear error, the root-owned directory and its file are
#     untouched (no manifest, no chmod, nothing deleted), the job keeps
#     running and its next checkpoint succeeds.
#  4. Another user cannot checkpoint the job: exit 1, "permission denied".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"

ckcreate() { as_user timeout 30 "$SCHECKPOINT" create "$@"; }

cluster_start 1

# A root-owned directory with a root-owned file, readable by all.
rootdir=$CLUSTER_DIR/rootdir
mkdir -m 0755 "$rootdir" && echo precious >"$rootdir/file" && chmod 0644 "$rootdir/file"
snap() { (cd "$1" && find . -maxdepth 2 -printf '%p %u %m %s\n' 2>/dev/null | sort); }
# In /etc and /root only what the helper could have made there counts (other
# programs may change them meanwhile): job-named entries, logs, "sub".
snap_sys() {
	(cd "$1" && find . -maxdepth 2 \( -name '42*' -o -name '*.ckpt*' -o -name checkpoint.log \
		-o -name sub \) -printf '%p %u %m %s\n' 2>/dev/null | sort)
}
ln -s "$rootdir" "$CLUSTER_WORK/link"
chown -h "$CKPT_USER:" "$CLUSTER_WORK/link"
[ -d /root ] || mkdir -m 0700 /root
before_etc=$(snap_sys /etc) before_root=$(snap_sys /root) before_rootdir=$(snap "$rootdir")
unchanged() {
	[ "$(snap_sys /etc)" = "$before_etc" ] || fail "/etc changed: $(diff <(echo "$before_etc") <(snap_sys /etc))"
	[ "$(snap_sys /root)" = "$before_root" ] || fail "/root changed: $(diff <(echo "$before_root") <(snap_sys /root))"
	[ "$(snap "$rootdir")" = "$before_rootdir" ] ||
		fail "$rootdir changed: $(diff <(echo "$before_rootdir") <(snap "$rootdir"))"
}

# --- 1. refused at submission --------------------------------------------
for d in /etc /root "$CLUSTER_WORK/link"; do
	msg=$(as_user sbatch --checkpoint=0:10 --checkpoint-dir="$d" --wrap 'sleep 1' 2>&1)
	rc=$?
	[ $rc -ne 0 ] || fail "sbatch --checkpoint-dir=$d was accepted: $msg"
	echo "$msg" | grep -q "checkpoint: --checkpoint-dir '$d' is not writable: Permission denied" ||
		fail "sbatch --checkpoint-dir=$d: unexpected message: $msg"
	ok "sbatch --checkpoint-dir=$d refused: $(echo "$msg" | head -n1)"
done
[ -z "$(squeue -h)" ] || fail "a job was submitted: $(squeue -h)"

# --- 2. registered directly ------------------------------------------------
marker=$CLUSTER_WORK/signalled
# The "task": a process of the user that catches SIGUSR2 (the plugstack's
# signal), started without an intermediate process so that $! is its pid.
setpriv --reuid="$CKPT_USER" --regid="$(id -g "$CKPT_USER")" --init-groups -- \
	bash -c "trap 'echo \$\$ >>$marker' USR2; while :; do sleep 1 & wait; done" &
task=$!
# register <job> <dir>: as root over the socket, then the task's pidfd;
# keeps the registration until killed.
register() {
	python3 - "$SLURM_CHECKPOINT_SOCKET" "$1" "$(id -u "$CKPT_USER")" \
		"$(id -g "$CKPT_USER")" "$2" "$task" <<'PY'
import json, os, socket, sys, time
path, job, uid, gid, d, pid = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(path)
s.send(json.dumps({"v": 1, "op": "register", "job": int(job), "step": 0,
    "uid": int(uid), "gid": int(gid), "ntasks": 1, "interval": 0, "max_wait": 5,
    "keep": 1, "lead": 0, "max_requeue": 0, "exit_code": 0, "signo": 12,
    "dir": d, "node": "c1"}).encode())
r = json.loads(s.recv(65536))
assert r["ok"], r
fd = os.pidfd_open(int(pid))
socket.send_fds(s, [json.dumps({"v": 1, "op": "task", "job": int(job), "step": 0,
    "task": 0}).encode()], [fd])
r = json.loads(s.recv(65536))
assert r["ok"], r
print("registered", flush=True)
time.sleep(120)
PY
}
job=4200
for d in /etc /root /root/sub/dir "$CLUSTER_WORK/link" "$CLUSTER_WORK/link/sub"; do
	job=$((job + 1))
	register "$job" "$d" >"$CLUSTER_WORK/reg.$job" 2>&1 &
	reg=$!
	wait_for 10 grep -q registered "$CLUSTER_WORK/reg.$job" ||
		fail "registration of $job failed: $(cat "$CLUSTER_WORK/reg.$job")"
	msg=$(ckcreate "$job.0" 2>&1)
	rc=$?
	kill "$reg" 2>/dev/null
	wait "$reg" 2>/dev/null
	[ $rc -eq 1 ] || fail "create of step $job.0 with dir $d: exit $rc (want 1): $msg"
	echo "$msg" | grep -q "^scheckpoint: $job.0: .*Permission denied" ||
		fail "dir $d: the message does not say 'Permission denied': $msg"
	unchanged
	[ -e "$marker" ] && fail "the task was signalled although nothing could be staged"
	ok "dir $d: create refused, nothing touched: $msg"
done

# --- 3. a symlink swapped in during the checkpoint -------------------------
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mode=$CLUSTER_WORK/mode
echo ok >"$mode"
out=$CLUSTER_WORK/swap.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/hostile.sh" "$mode") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
msg=$(ckcreate "$j" 2>&1) || fail "first create: $msg"
image_verify "$ckdir/$j.ckpt" || fail "first image does not verify"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
echo "swap:$rootdir" >"$mode"
msg=$(ckcreate "$j" 2>&1)
rc=$?
grep -q "^ckpt=swap:" "$out" || fail "the app did not swap: $(cat "$out")"
[ $rc -eq 1 ] || fail "create with a swapped-in symlink: exit $rc (want 1): $msg"
echo "$msg" | grep -q "^scheckpoint: $j.batch: .*$j.ckpt.partial" ||
	fail "the message does not name $j.ckpt.partial: $msg"
ok "swapped-in symlink: create fails: $msg"
unchanged
ok "$rootdir untouched"
grep -q "$j.batch failed: " "$ckdir/checkpoint.log" || fail "checkpoint.log: $(cat "$ckdir/checkpoint.log")"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" = "$seq" ] && image_verify "$ckdir/$j.ckpt" ||
	fail "the previous image changed"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j")"
ok "previous image intact, job running, checkpoint.log: $(grep "$j.batch failed" "$ckdir/checkpoint.log" | tail -n1)"
echo ok >"$mode"
msg=$(ckcreate "$j" 2>&1) || fail "create after the swap: $msg"
image_verify "$ckdir/$j.ckpt" || fail "the image after the swap does not verify"
ok "the next checkpoint succeeds: $msg"

# Stale staging left by the user, to be cleaned before the next checkpoint:
# first a symlink to the root-owned directory, then a directory holding
# links to it and a read-only subdirectory (cleaning restores write
# permission: that must not chmod through a link).
as_user ln -sfn "$rootdir" "$ckdir/$j.ckpt.partial"
msg=$(ckcreate "$j" 2>&1) || fail "create over a stale staging symlink: $msg"
unchanged
image_verify "$ckdir/$j.ckpt" || fail "the image does not verify"
ok "a stale staging symlink is replaced, not followed: $msg"
as_user bash -c "mkdir -p '$ckdir/$j.ckpt.partial/sub' && ln -s '$rootdir' '$ckdir/$j.ckpt.partial/evil' &&
	ln -s '$rootdir/file' '$ckdir/$j.ckpt.partial/sub/file' && chmod 0555 '$ckdir/$j.ckpt.partial/sub' '$ckdir/$j.ckpt.partial'"
msg=$(ckcreate "$j" 2>&1) || fail "create over a stale staging directory: $msg"
unchanged
image_verify "$ckdir/$j.ckpt" || fail "the image does not verify"
[ -L "$ckdir/$j.ckpt/evil" ] && fail "the stale link went into the image"
ok "a stale staging directory with links is removed without following them: $msg"

# --- 4. another user ---------------------------------------------------------
msg=$(as_other timeout 30 "$SCHECKPOINT" create "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "create by $CKPT_OTHER: exit $rc (want 1): $msg"
echo "$msg" | grep -q "^scheckpoint: .*permission denied: job $j belongs to another user" ||
	fail "create by $CKPT_OTHER: message: $msg"
ok "$CKPT_OTHER refused: $msg"
kill "$task" 2>/dev/null
scancel "$j"
