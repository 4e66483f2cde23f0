/* offsite_xfer.h - between offsite_loop.c (in the event loop: who copies
 * what, and when) and offsite_xfer.c (in a child, with the user's
 * credentials: the HTTP transfers, through libcurl). */
#ifndef CKPT_OFFSITE_XFER_H
#define CKPT_OFFSITE_XFER_H

#include <stdbool.h>
#include <stdint.h>

#include "offsite.h"

struct offsite_job {
	bool fetch;		/* else: an upload */
	uint32_t job, id, uid, gid;
	long keep;
	char name[64];		/* <job>[.<step>].ckpt */
	char label[32];
	char *dir;		/* fetch: the step's checkpoint directory */
	char *image;		/* upload: the committed image's path */
	uint64_t seq;		/* upload: its seq */
	uint32_t nodeid;	/* fetch: this node's index in the step
				 * (each node of a multi-node step fetches
				 * into a staging name of its own) */
};

/* In the child, still root: read the credentials, become the job's
 * user, do the job, and write one JSON report to out
 * ({"ok":true,"seq":..,...} or {"ok":false,"error":..,"err":..}). */
int offsite_xfer_run(void *job, int out);

#endif
