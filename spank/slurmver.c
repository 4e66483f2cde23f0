/* slurmver.c - what differs in checkpoint.so between the Slurm releases it
 * builds against (22.05 to 26.05, by SLURM_VERSION_NUMBER); the plugin's
 * only version-specific file.
 * 25.05: a plugin may export slurm_spank_init_failure_mode; with
 *        ESPANK_JOB_FAILURE a failing slurm_spank_init() (a bad
 *        plugstack.conf line) fails the job instead of draining the node. */
#include "config.h"

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <slurm/spank.h>

#include "plugin.h"

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif
