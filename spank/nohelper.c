/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nohelper.c - a node whose slurmckptd does not answer takes no more
 * --checkpoint jobs: it drains itself, with a reason that names
 * slurmckptd, and the batch job that would have failed on it is requeued,
 * to run on another node (or here, once the daemon is back and the node
 * resumed).  In slurmstepd, as root, through slurmstepd's own libslurm
 * (looked up at run time: the plugin does not link libslurm, and srun
 * and sbatch load it too). */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "plugin.h"

static const char *slurm_why(void)
{
	__typeof__(slurm_strerror) *fn;

	*(void **)&fn = dlsym(RTLD_DEFAULT, "slurm_strerror");
	return fn ? fn(errno) : strerror(errno);
}

static int drain(const char *node, const char *reason)
{
	__typeof__(slurm_init_update_node_msg) *init;
	__typeof__(slurm_update_node) *update;
	update_node_msg_t m;

	*(void **)&init = dlsym(RTLD_DEFAULT, "slurm_init_update_node_msg");
	*(void **)&update = dlsym(RTLD_DEFAULT, "slurm_update_node");
	if (!init || !update) {
		errno = ENOSYS;
		return -1;
	}
	init(&m);
	m.node_names = (char *)node;
	m.node_state = NODE_STATE_DRAIN;
	m.reason = (char *)reason;
	return update(&m) == SLURM_SUCCESS ? 0 : -1;
}

void nohelper_act(const char *node, const char *err, char *said,
		  size_t len)
{
	char reason[256];
	size_t used;

	snprintf(reason, sizeof(reason), "slurmckptd not running: %s", err);
	if (drain(node, reason) < 0)
		snprintf(said, len, "; node %s not drained: %s", node,
			 slurm_why());
	else
		snprintf(said, len, "; node %s drained (reason \"%s\")", node,
			 reason);
	if (step.id != SLURM_BATCH_SCRIPT)
		return;
	used = strlen(said);
	if (slurmver_requeue(step.job) < 0)
		snprintf(said + used, len - used, "; job %u not requeued: %s",
			 step.job, slurm_why());
	else
		snprintf(said + used, len - used, "; job %u requeued",
			 step.job);
}
