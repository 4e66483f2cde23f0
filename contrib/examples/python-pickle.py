#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""python-pickle.py - a Python program that checkpoints itself with
slurm-checkpoint through contrib/python/slurm_checkpoint.py: its state is a
dict, pickled atomically into the checkpoint directory.

    sbatch --checkpoint=10 --requeue --wrap "srun python3 python-pickle.py 3600"

(slurm_checkpoint.py next to this file or on PYTHONPATH.)
"""
import sys
import time

import slurm_checkpoint as ckpt

n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
ckpt.init()
state = ckpt.load_pickle("state.pkl", default={"i": 0, "sum": 0})
print("start=%d" % state["i"], flush=True)
while state["i"] < n:
    time.sleep(1)                       # one unit of work
    state["i"] += 1
    state["sum"] += state["i"]
    print("tick=%d" % state["i"], flush=True)
    if ckpt.requested():
        ckpt.save_pickle(state, "state.pkl")
        ckpt.done()
        print("ckpt=%d" % state["i"], flush=True)
assert state["sum"] == n * (n + 1) // 2, "state lost: %r" % state
print("final=%d" % state["i"], flush=True)
