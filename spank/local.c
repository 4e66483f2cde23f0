/* SPDX-License-Identifier: GPL-2.0-or-later */
/* local.c - node-local staging (the admin's local=), inside slurmstepd:
 * the user's directory below it, made safe as root before the tasks
 * start, and the choice of the local image for a restart on this node. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "localstage.h"
#include "plugin.h"

/* Root, at registration: step.local for the steps that stage locally
 * (the cooperative method, no state written unasked, not opted out).
 * A directory that is not safe means no staging, never a failed step. */
void local_resolve(uid_t uid, gid_t gid, const char *node)
{
	char err[512], dir[108];

	free(step.local);
	step.local = NULL;
	/* Root's jobs write where they are told: nothing to make safe. */
	if (!conf.local || opts.local == 0 || uid == 0 || options_unasked() ||
	    strcmp(options_method(), "signal") != 0)
		return;
	if (ckpt_expand_socket(conf.local, node, dir, sizeof(dir)) < 0) {
		slurm_error(PFX "step %s: no node-local staging: local=%s "
			    "for node %s: %s", step.label, conf.local, node,
			    strerror(errno));
		return;
	}
	if (localstage_user_dir(dir, uid, gid, step.job, &step.local, err,
				sizeof(err)) < 0) {
		slurm_error(PFX "step %s: no node-local staging, checkpoints "
			    "are written to %s directly: %s", step.label,
			    step.dir, err);
		step.local = NULL;
	}
}

const char *local_stage_dir(void)
{
	return step.local ? step.local : step.dir;
}

/* The same files, sizes and hashes: the local image and its flushed
 * copy (the same seq from another node's checkpoint is another image). */
static bool same_image(const struct manifest *a, const struct manifest *b)
{
	size_t i;

	if (a->nfiles != b->nfiles)
		return false;
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].path, b->files[i].path) ||
		    a->files[i].size != b->files[i].size ||
		    strcmp(a->files[i].xxh3, b->files[i].xxh3))
			return false;
	return true;
}

/* A step over several nodes: the local image is this node's part; it
 * stands for the shared image's node.<k> when it holds the same files
 * (under that prefix). */
static bool same_part(const struct manifest *l, const struct manifest *m)
{
	char prefix[32];
	size_t i, j = 0, n = (size_t)snprintf(prefix, sizeof(prefix),
					      "node.%u/", step.nodeid);

	for (i = 0; i < m->nfiles; i++) {
		if (strncmp(m->files[i].path, prefix, n) != 0)
			continue;
		if (j >= l->nfiles ||
		    strcmp(m->files[i].path + n, l->files[j].path) ||
		    m->files[i].size != l->files[j].size ||
		    strcmp(m->files[i].xxh3, l->files[j].xxh3))
			return false;
		j++;
	}
	return j == l->nfiles;
}

bool local_is_local(const char *path)
{
	size_t n = step.local ? strlen(step.local) : 0;

	return n && strncmp(path, step.local, n) == 0 && path[n] == '/';
}

/* As the user, in the task (lookup_image's result rc, path, m, why). */
int local_prefer(int rc, char *path, size_t len, struct manifest *m,
		 char *why, size_t whylen)
{
	char lpath[4096], lwhy[1024] = "";
	struct manifest lm = { 0 };

	if (!step.local || opts.restart_dir)
		return rc;
	if (lookup_image(step.local, lpath, sizeof(lpath), &lm, lwhy,
			 sizeof(lwhy)) < 0)
		return rc;	/* another node, or nothing staged here */
	/* Over several nodes a part is only as good as the image the leader
	 * committed: the local one stands in for it, never for a newer one
	 * (an aborted checkpoint's part is not committed anywhere else). */
	if (step.nnodes > 1 &&
	    (rc < 0 || lm.seq != m->seq || !same_part(&lm, m))) {
		manifest_free(&lm);
		return rc;
	}
	if (rc == 0 && (lm.seq < m->seq ||
			(lm.seq == m->seq && step.nnodes == 1 &&
			 !same_image(&lm, m)))) {
		manifest_free(&lm);
		return rc;	/* the shared image is newer */
	}
	if (rc == 0)
		manifest_free(m);
	else
		why[0] = '\0';	/* nothing usable in the shared directory */
	*m = lm;
	snprintf(path, len, "%s", lpath);
	if (whylen)
		snprintf(why, whylen, "%s", lwhy);
	return 0;
}
