#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""pytorch-style.py - the shape of a training loop that checkpoints with
slurm-checkpoint: model and optimizer state, epoch and step, saved with
torch.save() when PyTorch is there (pickle otherwise, so that it runs
anywhere), and restored with torch.load() after a requeue.

    sbatch --checkpoint=30:00 --requeue --gres=gpu:1 \\
        --wrap "srun python3 pytorch-style.py 100"

Check for a request between optimizer steps, never inside one: the saved
state is then consistent.  Only rank 0 saves the shared model here; with
DistributedDataParallel every rank must still acknowledge (ckpt.done()).
"""
import os
import sys
import time

import slurm_checkpoint as ckpt

try:
    import torch

    def save(obj, path):
        torch.save(obj, path)

    def load(path):
        return torch.load(path)
except ImportError:                      # no PyTorch: the same with pickle
    import pickle

    def save(obj, path):
        with open(path, "wb") as f:
            pickle.dump(obj, f)

    def load(path):
        with open(path, "rb") as f:
            return pickle.load(f)

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 100
ckpt.init()
state = {"step": 0, "weights": [0.0] * 4, "optimizer": {"lr": 0.1}}
if ckpt.restart_dir():
    state = load(ckpt.restart_path("model.pt"))
print("start=%d" % state["step"], flush=True)
while state["step"] < steps:
    time.sleep(1)                       # forward, backward, optimizer.step()
    state["weights"] = [w + state["optimizer"]["lr"] for w in state["weights"]]
    state["step"] += 1
    print("tick=%d" % state["step"], flush=True)
    if ckpt.requested():
        tmp = ckpt.path("model.pt") + ".tmp"
        save(state, tmp)
        os.rename(tmp, ckpt.path("model.pt"))
        ckpt.done()
        print("ckpt=%d" % state["step"], flush=True)
want = round(0.1 * steps, 6)
assert all(round(w, 6) == want for w in state["weights"]), state
print("final=%d" % state["step"], flush=True)
