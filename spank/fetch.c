/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fetch.c - in a task, at a restart that finds no image that verifies:
 * ask the node's slurmckptd to fetch the step's newest image from the
 * offsite store into the checkpoint directory (slurmckptd(8), OFFSITE
 * STORE).  A connection of its own: the step's connection belongs to
 * slurmstepd, which talks on it while the tasks start.  The helper
 * makes one fetch for all the tasks of the step that ask. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "proto.h"

/* More than the helper's offsite_timeout (at most 840 s). */
#define FETCH_TIMEOUT_S 900

int fetch_offsite(char *why, size_t whylen)
{
	struct ckpt_msg m = { .op = CKPT_OP_FETCH, .job = step.job,
			      .step = step.id }, r;
	char err[512] = "";
	size_t used = strlen(why);
	int fd, rc = -1;

	if (!step.sock[0])
		return -1;
	fd = proto_connect(step.sock, FETCH_TIMEOUT_S);
	if (fd < 0) {
		snprintf(err, sizeof(err), "%s: %s", step.sock,
			 strerror(errno));
		goto out;
	}
	if (proto_send(fd, &m, -1) < 0) {
		snprintf(err, sizeof(err), "send: %s", strerror(errno));
		goto out;
	}
	rc = proto_recv(fd, &r, NULL, err, sizeof(err));
	if (rc <= 0) {
		if (rc == 0 || !err[0])
			snprintf(err, sizeof(err), "no answer from slurmckptd");
		rc = -1;
		goto out;
	}
	rc = r.op == CKPT_OP_REPLY && r.ok && r.image ? 0 : -1;
	/* No offsite store: nothing to say; none there: nothing to fetch. */
	if (rc < 0 && r.op == CKPT_OP_REPLY && r.err == ENOENT)
		rc = 1;
	if (rc && !(r.op == CKPT_OP_REPLY && r.err == ENOTSUP))
		snprintf(err, sizeof(err), "%s", r.error ? r.error : "refused");
	else if (rc)
		rc = 1;
	proto_msg_clear(&r);
out:
	if (fd >= 0)
		close(fd);
	/* Fetched: why the directory had none is no news for the task. */
	if (rc == 0)
		why[0] = '\0';
	else if (err[0] && used < whylen)
		snprintf(why + used, whylen - used, "%soffsite store: %s",
			 used ? "; " : "", err);
	return rc;
}
