#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0700-create: "scheckpoint create <job>" by the owner of a --checkpoint=0 job
# commits an image and prints its path; the state the job wrote with umask
# 077 stays its owner's (the commit clears write bits only); another
# unprivileged user is refused (exit 1); a reload (SIGHUP) keeps the step
# registered; without slurmckptd a new
# "srun --checkpoint" fails naming the node, the node drains with a reason
# that names slurmckptd, and a batch job is requeued instead of failed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/create.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" \
	--wrap "umask 077; exec $APPS/counter.sh 60") ||
	fail "sbatch --checkpoint=0 failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
sleep 3
[ -e "$ckdir/$j.ckpt" ] && fail "an image exists without a request (--checkpoint=0)"
ok "job $j running with --checkpoint=0, no periodic image"

msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "scheckpoint create $j as $CKPT_USER: exit $rc: $msg"
ok "scheckpoint create $j: $msg"
echo "$msg" | grep -qF "$ckdir/$j.ckpt" || fail "the message does not name $ckdir/$j.ckpt: $msg"
echo "$msg" | grep -q 'committed' || fail "the message does not say committed: $msg"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
c=$(cat "$ckdir/$j.ckpt/count")
[ "$c" -ge 3 ] || fail "image count is '$c'"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
echo "$msg" | grep -q "seq $seq" || fail "the message does not say seq $seq: $msg"
ok "image $ckdir/$j.ckpt committed (seq $seq, count $c)"
m=$(stat -c %a "$ckdir/$j.ckpt/count")
[ "$m" = 400 ] || fail "the job wrote count 0600, the image has it $m"
as_other cat "$ckdir/$j.ckpt/count" >/dev/null 2>&1 && fail "$CKPT_OTHER can read the job's state"
ok "count, written 0600 by the job, is 0400 in the image: $CKPT_OTHER cannot read it"
grep -E "$j\.batch seq=$seq committed" "$ckdir/checkpoint.log" >/dev/null ||
	fail "checkpoint.log: $(cat "$ckdir/checkpoint.log")"
ok "checkpoint.log records it"

msg=$(as_user "$SCHECKPOINT" create "$j.batch" 2>&1) || fail "scheckpoint create $j.batch failed: $msg"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" -gt "$seq" ] || fail "create $j.batch made no newer image"
ok "scheckpoint create $j.batch: $msg"

# systemctl reload (SIGHUP): the file is read again, the step stays
# registered and checkpoints on.
echo "max_workers=3" >>"$CLUSTER_DIR/slurmckptd.conf"
kill -HUP "$CLUSTER_HELPER_PID"
wait_for 10 grep -q 'reloaded ' "$CLUSTER_DIR/slurmckptd.log" ||
	fail "no reload after SIGHUP: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
grep -q 'max_workers=3 (was 64)' "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the reload did not log max_workers: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create after the reload failed: $msg"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" -gt "$seq" ] || fail "no newer image after the reload"
ok "SIGHUP: max_workers=3 taken, step $j.batch still registered: $msg"

msg=$(as_other "$SCHECKPOINT" create "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "scheckpoint create by $CKPT_OTHER: exit $rc (want 1): $msg"
echo "$msg" | grep -q '^scheckpoint: ' || fail "refusal message is not 'scheckpoint: ...': $msg"
ok "$CKPT_OTHER refused (exit 1): $msg"

# Only root (slurmstepd) may register steps: a user who speaks the protocol
# to the socket directly, claiming root's uid for a step, is refused.
register() {
	python3 - "$SLURM_CHECKPOINT_SOCKET" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(json.dumps({"v": 1, "op": "register", "job": 4242, "step": 0,
    "uid": 0, "gid": 0, "ntasks": 1, "interval": 5, "max_wait": 5,
    "keep": 1, "lead": 0, "max_requeue": 0, "exit_code": 0, "signo": 12, "dir": "/etc", "node": "c1"}).encode())
print(json.loads(s.recv(65536)).get("error", "accepted"))
PY
}
msg=$(as_user bash -c "$(declare -f register); register" 2>&1)
echo "$msg" | grep -q '^permission denied' || fail "a user's registration was not refused: $msg"
grep -q 'step 4242.0 registered' "$CLUSTER_DIR/slurmckptd.log" && fail "helper registered the user's step"
msg=$(register 2>&1)
[ "$msg" = accepted ] || fail "root's registration over the same socket was refused: $msg"
ok "registration refused for $CKPT_USER, accepted for root (SO_PEERCRED)"

# A requeued step registers again while its old slurmstepd may still hold
# the first registration open: the second one must win, not be refused.
msg=$(python3 - "$SLURM_CHECKPOINT_SOCKET" <<'PY'
import json, socket, sys
reg = json.dumps({"v": 1, "op": "register", "job": 4343, "step": 4294967291,
    "uid": 0, "gid": 0, "ntasks": 1, "interval": 0, "max_wait": 5,
    "keep": 1, "lead": 0, "max_requeue": 0, "exit_code": 0, "signo": 12, "dir": "/nonexistent", "node": "c1"}).encode()
conns = []
for _ in range(2):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.send(reg)
    conns.append(s)
    print(json.loads(s.recv(65536)).get("error", "accepted"))
PY
)
[ "$msg" = "accepted
accepted" ] || fail "re-registration of 4343.batch: $msg"
wait_for 5 grep -q 'step 4343.batch registered again' "$CLUSTER_DIR/slurmckptd.log" ||
	fail "helper did not log the replaced registration"
ok "a second registration of the same step replaces the first"

msg=$(as_user "$SCHECKPOINT" create 999999 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "scheckpoint create of an unknown job: exit $rc: $msg"
ok "unknown job refused: $msg"
msg=$(as_user "$SCHECKPOINT" bogus 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "scheckpoint bogus: exit $rc (want 2, usage): $msg"
ok "usage error exits 2"

scancel "$j"
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"

helper_stop
ok "slurmckptd stopped"
msg=$(as_user srun -n1 --checkpoint=0:10 --checkpoint-dir="$ckdir" echo should-not-run 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "srun --checkpoint without slurmckptd succeeded: $msg"
echo "$msg" | grep -q should-not-run && fail "the task ran without slurmckptd: $msg"
echo "$msg" | grep -q 'c1' || fail "the error does not name the node c1: $msg"
ok "srun --checkpoint without slurmckptd fails: $(echo "$msg" | tr '\n' '|')"

# The node is no black hole for the next jobs: it drains, naming slurmckptd.
_drained() { case $(sinfo -h -n c1 -o %t) in drain | drng) return 0 ;; esac; return 1; }
wait_for 10 _drained || fail "node c1 is '$(sinfo -h -n c1 -o %t)', not drained: $(sinfo -h -o '%N %t %E')"
reason=$(sinfo -h -n c1 -o %E)
echo "$reason" | grep -q 'slurmckptd not running' || fail "drain reason: $reason"
ok "node c1 drained: $reason"
scontrol update nodename=c1 state=resume || fail "cannot resume c1"

# A batch job with --checkpoint is requeued, not failed, with the message
# in its output, and runs once slurmckptd is back and the node resumed.
o=$CLUSTER_WORK/nohelper.out
j=$(submit --checkpoint=0:10 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$o" --wrap 'echo ran') || fail "sbatch failed"
_requeued() { [ "$(job_field "$j" Restarts)" -ge 1 ] && [ "$(job_state "$j")" = PENDING ]; }
wait_for 30 _requeued || fail "batch job $j without slurmckptd not requeued: $(job_state "$j"), Restarts=$(job_field "$j" Restarts)"
grep -q ran "$o" 2>/dev/null && fail "the batch script ran without slurmckptd"
grep -q "checkpoint:.*c1.*job $j requeued" "$o" 2>/dev/null || fail "no 'checkpoint: ... c1 ... requeued' message in the job's output: $(cat "$o" 2>&1)"
wait_for 10 _drained || fail "node c1 not drained again"
ok "batch job $j without slurmckptd: requeued, $(grep -m1 'checkpoint:' "$o")"

helper_start || fail "slurmckptd did not start again"
scontrol update nodename=c1 state=resume || fail "cannot resume c1"
state=$(job_wait_done "$j" 90) || fail "job $j did not run after the resume: $(job_state "$j")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(cat "$o")"
grep -qx ran "$o" || fail "job $j did not run its script: $(cat "$o")"
ok "job $j ran once slurmckptd was back and c1 resumed ($state)"
