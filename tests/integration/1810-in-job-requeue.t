#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1810-in-job-requeue: a job asks for its own checkpoint and requeue from
# inside, without scontrol or scheckpoint: contrib/python's requeue()
# speaks to the node's slurmckptd through $SLURM_CHECKPOINT_SOCKET, which
# the plugin sets in the task's environment (the job is submitted without
# it, so it can only come from there), saves its state when the signal
# comes while it waits, and the job is requeued once and resumes.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v python3 >/dev/null 2>&1 || skip "python3 is not installed"

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
py=$(user_dir "$CLUSTER_WORK/py")
[ -z "$CKPT_PYTHON_DIR" ] || cp "$CKPT_PYTHON_DIR/slurm_checkpoint.py" "$py/"
cat >"$py/selfrequeue.py" <<'PY'
import os, sys, time
import slurm_checkpoint as ckpt

n, at = int(sys.argv[1]), int(sys.argv[2])
ckpt.init()
state = ckpt.load_pickle("state.pkl", default={"i": 0}, per_task=False)
print("socket=%s" % os.environ.get("SLURM_CHECKPOINT_SOCKET"), flush=True)
print("start=%d" % state["i"], flush=True)
while state["i"] < n:
    time.sleep(1)
    state["i"] += 1
    print("tick=%d" % state["i"], flush=True)
    if ckpt.requested():
        ckpt.save_pickle(state, "state.pkl", per_task=False)
        ckpt.done()
    if state["i"] == at and os.environ.get("SLURM_RESTART_COUNT", "0") == "0":
        print("requeue at %d" % at, flush=True)
        ckpt.requeue(save=lambda: ckpt.save_pickle(state, "state.pkl",
                                                   per_task=False))
        print("requeue returned", flush=True)
print("final=%d" % state["i"], flush=True)
PY
chown -R "$CKPT_USER:" "$py"
N=20
AT=6
out=$CLUSTER_WORK/self.out
j=$(as_user env -u SLURM_CHECKPOINT_SOCKET sbatch --parsable --checkpoint=0 \
	--checkpoint-dir="$ckdir" --requeue --open-mode=append -o "$out" \
	--wrap="PYTHONPATH=$py exec python3 $py/selfrequeue.py $N $AT") || fail "sbatch failed"
j=${j%%;*}
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
grep -qs "^socket=$SLURM_CHECKPOINT_SOCKET\$" "$out" ||
	wait_for 20 grep -qs "^socket=$SLURM_CHECKPOINT_SOCKET\$" "$out" ||
	fail "the task's SLURM_CHECKPOINT_SOCKET is not the helper's: $(head -n 3 "$out")"
ok "job $j: the plugin set SLURM_CHECKPOINT_SOCKET=$SLURM_CHECKPOINT_SOCKET in the task"

wait_for 60 grep -qs "$j.batch seq=[0-9]* committed .*reason=requeue" "$ckdir/checkpoint.log" ||
	fail "no requeue: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 5 "$out")"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image does not verify"
grep -q "^requeue at $AT\$" "$out" || fail "the job did not ask: $(tail -n 5 "$out")"
wait_for 10 grep -q "job $j: requeued" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "slurmckptd did not requeue job $j: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
ok "asked from inside at $AT: $(grep "$j.batch seq=[0-9]* committed" "$ckdir/checkpoint.log" | cut -d' ' -f2- | cut -c1-150)"

state=$(job_wait_done "$j" 30 "$out") || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
starts=$(sed -n 's/^start=//p' "$out" | tr '\n' ' ')
[ "$starts" = "0 $AT " ] || fail "runs started at $starts, want 0 $AT"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
! grep -q "^requeue returned" "$out" || fail "requeue() returned: the job was not ended by its requeue"
restarts=$(job_field "$j" Restarts)
[ "$restarts" = 1 ] || fail "restart count $restarts, want 1"
ok "requeued once, resumed at $AT, completed"
