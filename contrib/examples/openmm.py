#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""openmm.py - OpenMM with slurm-checkpoint: Simulation.saveCheckpoint()
when a checkpoint is asked for, loadCheckpoint() after a requeue.  Not run
by the test suite (no OpenMM here); the module is tested with
python-pickle.py.

    sbatch --checkpoint=30:00 --requeue --gres=gpu:1 --wrap "srun python3 openmm.py"
"""
import openmm.app as app
import openmm as mm
import openmm.unit as unit

import slurm_checkpoint as ckpt

pdb = app.PDBFile("input.pdb")
ff = app.ForceField("amber14-all.xml", "amber14/tip3pfb.xml")
system = ff.createSystem(pdb.topology, nonbondedMethod=app.PME)
integrator = mm.LangevinMiddleIntegrator(300 * unit.kelvin, 1 / unit.picosecond,
                                         0.004 * unit.picoseconds)
sim = app.Simulation(pdb.topology, system, integrator)
ckpt.init()
if ckpt.restart_dir():
    sim.loadCheckpoint(ckpt.restart_path("state.chk"))
else:
    sim.context.setPositions(pdb.positions)
    sim.minimizeEnergy()
total = 25_000_000
while sim.currentStep < total:
    sim.step(1000)                      # check between chunks of steps
    if ckpt.requested():
        sim.saveCheckpoint(ckpt.path("state.chk"))
        ckpt.done()
