#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# framework.py {lightning|submitit} <dir> <N>: counts to N, one step a
# second, checkpointing and requeueing itself the way the frameworks do
# (their documented behaviour, with the standard library only):
#
# lightning: PyTorch Lightning's SLURMEnvironment with auto_requeue (its
#   _SignalConnector): SIGUSR1 (requeue_signal) saves an HPC checkpoint
#   <dir>/hpc_ckpt_<v>.ckpt, v one above the highest there, then rank 0
#   runs "scontrol requeue <job>" (<array job>_<task> in an array);
#   SIGTERM is bypassed.  At start it resumes from the highest
#   hpc_ckpt_<v>.ckpt in <dir>.
# submitit: its JobEnvironment: SIG$SUBMITIT_PREEMPT_SIGNAL (USR2 by
#   default) calls the task's checkpoint hook, which saves the state as
#   <dir>/state.pkl, pickles the resubmission as <dir>/<job>_submitted.pkl,
#   and rank 0 runs "scontrol requeue <job>"; SIGTERM is bypassed.  At
#   start it resumes from <dir>/state.pkl.
#
# Output: "start=<n>", "step=<k>" for every step, "saved <file> at <n>",
# "Requeued SLURM job" or "Requeue failed: <code>", "Bypassing SIGTERM",
# and "final=<n>".
import os, pickle, re, signal, subprocess, sys, time

style, folder, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
count = 0


def job_id():
    array = os.environ.get("SLURM_ARRAY_JOB_ID")
    if array:
        return array + "_" + os.environ["SLURM_ARRAY_TASK_ID"]
    return os.environ["SLURM_JOB_ID"]


def requeue():
    if os.environ.get("SLURM_PROCID", "0") != "0":
        return
    rc = subprocess.call(["scontrol", "requeue", job_id()])
    print("Requeued SLURM job" if rc == 0 else "Requeue failed: %d" % rc,
          flush=True)


def hpc_versions():
    return [int(m.group(1)) for m in
            (re.fullmatch(r"hpc_ckpt_(\d+)\.ckpt", f)
             for f in os.listdir(folder)) if m]


def save(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f)
        f.flush()
        os.fsync(f.fileno())
    print("saved %s at %d" % (os.path.basename(path), count), flush=True)


def on_requeue_signal(signum, frame):
    if style == "lightning":
        save(os.path.join(folder, "hpc_ckpt_%d.ckpt" %
                          (max(hpc_versions(), default=0) + 1)),
             {"step": count})
    else:
        save(os.path.join(folder, "state.pkl"), {"step": count})
        save(os.path.join(folder, "%s_submitted.pkl" % job_id()),
             {"resubmit": sys.argv})
    requeue()


def on_term(signum, frame):
    print("Bypassing SIGTERM: %d" % signum, flush=True)


if style == "lightning":
    sig = signal.SIGUSR1
    versions = hpc_versions()
    if versions:
        with open(os.path.join(folder, "hpc_ckpt_%d.ckpt" %
                               max(versions)), "rb") as f:
            count = pickle.load(f)["step"]
else:
    sig = getattr(signal, "SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL",
                                                 "USR2"))
    try:
        with open(os.path.join(folder, "state.pkl"), "rb") as f:
            count = pickle.load(f)["step"]
    except FileNotFoundError:
        pass
signal.signal(sig, on_requeue_signal)
signal.signal(signal.SIGTERM, on_term)
print("start=%d" % count, flush=True)
while count < n:
    time.sleep(1)
    count += 1
    print("step=%d" % count, flush=True)
print("final=%d" % count, flush=True)
