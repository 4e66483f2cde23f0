# SPDX-License-Identifier: GPL-2.0-or-later
"""slurm_checkpoint - the application side of slurm-checkpoint's cooperative
protocol (spank-checkpoint(8), THE CHECKPOINT PROTOCOL) in pure Python, with
the functions of contrib/slurm_checkpoint.h.

    import slurm_checkpoint as ckpt

    ckpt.init()                              # install the signal handler
    state = ckpt.load_pickle("state.pkl", default={"i": 0})
    while state["i"] < 1000000:
        state["i"] += 1                      # one unit of work
        if ckpt.requested():
            ckpt.save_pickle(state, "state.pkl")
            ckpt.done()                      # acknowledge: commit it

The handler only sets a flag; the state is written where it is
consistent.  All tasks of a step write into the same directory: names
given to save_pickle()/path() get the task number (SLURM_PROCID) added
unless per_task=False.
"""

import json
import os
import pickle
import signal
import socket

__all__ = ["init", "requested", "checkpoint_dir", "restart_dir", "task",
           "done", "path", "restart_path", "save_pickle", "load_pickle",
           "exit_code", "signal_number", "requeue"]

_requested = False


def _handler(signum, frame):
    global _requested
    _requested = True


def signal_number():
    """The signal named by $SLURM_CHECKPOINT_SIGNAL ("USR2", "RTMIN+3",
    "12"), or None when it is not set."""
    name = os.environ.get("SLURM_CHECKPOINT_SIGNAL")
    if not name:
        return None
    if name.startswith("SIG"):
        name = name[3:]
    if name.isdigit():
        return int(name)
    for base, sig in (("RTMIN", signal.SIGRTMIN), ("RTMAX", signal.SIGRTMAX)):
        if name.startswith(base):
            return sig + int(name[len(base):] or 0)
    return int(signal.Signals["SIG" + name])


def init():
    """Install the checkpoint signal's handler.  True when the step is
    checkpointed, False when it is not (then nothing is ever asked)."""
    sig = signal_number()
    if sig is None:
        return False
    signal.signal(sig, _handler)
    return True


def requested():
    """Has a checkpoint been asked for since the last done()?"""
    return _requested


def checkpoint_dir():
    """Where to write the state now ($SLURM_CHECKPOINT_DIR), or None."""
    return os.environ.get("SLURM_CHECKPOINT_DIR") or None


def restart_dir():
    """The image to resume from ($SLURM_RESTART_DIR), or None."""
    return os.environ.get("SLURM_RESTART_DIR") or None


def task():
    """This task's number in the step (SLURM_PROCID)."""
    return int(os.environ.get("SLURM_PROCID", "0"))


def exit_code():
    """The code to exit with after writing the state, for a step started
    with --checkpoint-exit-code, or 0."""
    return int(os.environ.get("SLURM_CHECKPOINT_EXIT_CODE", "0"))


def _name(name, per_task):
    return "%s.%d" % (name, task()) if per_task else name


def path(name, per_task=True):
    """The path of a state file in the checkpoint directory."""
    d = checkpoint_dir()
    if d is None:
        raise RuntimeError("no checkpoint is being taken "
                           "(SLURM_CHECKPOINT_DIR is not set)")
    return os.path.join(d, _name(name, per_task))


def restart_path(name, per_task=True):
    """The path of a state file in the restart image, or None on a fresh
    start."""
    d = restart_dir()
    return os.path.join(d, _name(name, per_task)) if d else None


def save_pickle(obj, name, per_task=True):
    """Pickle obj into the checkpoint directory, whole or not at all
    (written to a temporary name, flushed, then renamed)."""
    final = path(name, per_task)
    tmp = final + ".tmp"
    with open(tmp, "wb") as f:
        pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, final)
    return final


def load_pickle(name, default=None, per_task=True):
    """The object saved by save_pickle() in the restart image, or default
    on a fresh start."""
    p = restart_path(name, per_task)
    if p is None:
        return default
    with open(p, "rb") as f:
        return pickle.load(f)


def done():
    """Say that this task's state is written ($SLURM_CHECKPOINT_DONE)."""
    global _requested
    f = os.environ.get("SLURM_CHECKPOINT_DONE")
    if not f:
        raise RuntimeError("SLURM_CHECKPOINT_DONE is not set")
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    _requested = False


def requeue(save=None):
    """Have the job checkpointed now and requeued, as "scheckpoint requeue
    $SLURM_JOB_ID" does, without scontrol or scheckpoint: only the node's
    slurmckptd socket is needed ($SLURM_CHECKPOINT_SOCKET, set in every
    task), so that this works inside a container that has it bind-mounted.
    The checkpoint is asked for while this waits: after init(), save() is
    called then, and done().  Once the job is requeued this does not
    return: it waits for Slurm to end the run, so that no work is done
    that the next run would not see.  A refusal raises RuntimeError with
    slurmckptd's reason."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    conn.connect(os.environ.get("SLURM_CHECKPOINT_SOCKET",
                                "/run/slurmckptd/slurmckptd.sock"))
    conn.settimeout(0.2)
    conn.send(json.dumps({"v": 1, "op": "requeue",
                          "job": int(os.environ["SLURM_JOB_ID"]),
                          "step": 0xffffffff}).encode())
    while True:
        if requested() and save is not None:
            save()
            done()
        try:
            reply = conn.recv(65536)
        except socket.timeout:
            continue
        if not reply:
            raise RuntimeError("slurmckptd closed the connection")
        reply = json.loads(reply)
        if not reply.get("ok"):
            raise RuntimeError(reply.get("error", "requeue refused"))
        while True:
            signal.pause()
