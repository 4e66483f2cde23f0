/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c - what the plugin holds in one process (srun, sbatch,
 * salloc, slurmstepd): its plugstack.conf arguments, the options the job
 * gave, and the step that slurmstepd runs.  Defined here, below every
 * file that reads them, so that none of those files calls up into
 * another for its data. */
#include "config.h"

#include "plugin.h"

struct ckpt_conf conf;			/* checkpoint.c reads plugstack.conf */
struct ckpt_opts opts = { .exit_code = -1, .local = -1 };	/* options.c */
struct step_info step;			/* remote.c, in slurmstepd */
