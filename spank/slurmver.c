/* slurmver.c - what differs in checkpoint.so between the Slurm releases it
 * builds against (22.05 to 26.05, by SLURM_VERSION_NUMBER); the plugin's
 * only version-specific file.
 * 23.11: hostlist_t is the struct; slurm_hostlist_*() take a pointer.
 * 25.05: a plugin may export slurm_spank_init_failure_mode; with
 *        ESPANK_JOB_FAILURE a failing slurm_spank_init() (a bad
 *        plugstack.conf line) fails the job instead of draining the node. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <slurm/spank.h>

#include "plugin.h"

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 5, 0)
int slurm_spank_init_failure_mode = ESPANK_JOB_FAILURE;
#endif

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
typedef hostlist_t *hostlist_ptr;
#else
typedef hostlist_t hostlist_ptr;
#endif

bool hostlist_nth(const char *list, uint32_t n, char *buf, size_t len)
{
	hostlist_ptr hl = slurm_hostlist_create(list);
	bool found = false;
	uint32_t i;
	char *h;

	if (!hl)
		return false;
	for (i = 0; i <= n && (h = slurm_hostlist_shift(hl)); i++) {
		if (i == n) {
			snprintf(buf, len, "%s", h);
			found = true;
		}
		free(h);
	}
	slurm_hostlist_destroy(hl);
	return found;
}
