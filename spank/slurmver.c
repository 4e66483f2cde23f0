/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slurmver.c - what differs in checkpoint.so between the Slurm releases it
 * builds against (22.05 to 26.05, by SLURM_VERSION_NUMBER); the plugin's
 * only version-specific file.
 * 25.05: a plugin may export slurm_spank_init_failure_mode; with
 *        ESPANK_JOB_FAILURE a failing slurm_spank_init() (a bad
 *        plugstack.conf line) fails the job instead of draining the node.
 * 26.05: slurm_requeue() takes a step id. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <slurm/spank.h>

#include "plugin.h"

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

/* 26.05: slurm_requeue() takes a step id. */
int slurmver_requeue(uint32_t job)
{
	__typeof__(slurm_requeue) *fn;

	*(void **)&fn = dlsym(RTLD_DEFAULT, "slurm_requeue");
	if (!fn) {
		errno = ENOSYS;
		return -1;
	}
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
	slurm_step_id_t id = SLURM_STEP_ID_INITIALIZER;

	id.job_id = job;
	return fn(id, 0);
#else
	return fn(job, 0);
#endif
}
