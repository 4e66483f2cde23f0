/* SPDX-License-Identifier: GPL-2.0-or-later */
/* transport.c - scheckpoint's requests to slurmckptd: on this node's
 * Unix socket, or over TCP to the helper of the job's node, the request
 * sealed in a MUNGE credential that names that node. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nodelink.h"
#include "proto.h"
#include "sched.h"
#include "scheckpoint.h"

/* The helper on this node: 1 with *r, -1 with text (errno kept). */
int ask_local(const char *sock, const struct ckpt_msg *m,
		     struct ckpt_msg *r, long max_wait, char *text,
		     size_t len)
{
	char err[512] = "";
	int fd, rc = -1, saved;

	if ((fd = proto_connect(sock, (int)max_wait)) < 0) {
		saved = errno;
		snprintf(text, len, "slurmckptd is not running on this node "
			 "(%s: %s)", sock, strerror(errno));
		errno = saved;
		return -1;
	}
	if (proto_send(fd, m, -1) < 0) {
		saved = errno;
		/* EINVAL: proto_encode found the request invalid */
		snprintf(text, len, "cannot send the request: %s",
			 saved == EINVAL ? "it is not valid (a path with a "
			 "control character?)" : strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if ((rc = proto_recv(fd, r, NULL, err, sizeof(err))) <= 0) {
		saved = rc == 0 ? EPIPE : errno;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			snprintf(text, len, "no answer within MaxWait=%ld s "
				 "(a checkpoint may still complete)", max_wait);
		else
			snprintf(text, len, "slurmckptd: %s",
				 rc == 0 ? "connection closed" :
				 errno == EINVAL ? err : strerror(errno));
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 1;
}

/* munged's socket: SLURM_CHECKPOINT_MUNGE_SOCKET, else socket= in
 * slurm.conf's AuthInfo, else libmunge's default (NULL). */
static char *munge_socket(void)
{
	const char *env = getenv("SLURM_CHECKPOINT_MUNGE_SOCKET");

	if (env && *env)
		return strdup(env);
	return sched_munge_socket();
}

/* One request to the helper of node over TCP, in a MUNGE credential,
 * bound to that node (to=): no good if replayed to another. */
int ask_node(const char *node, const struct ckpt_msg *m, long max_wait,
	     struct ckpt_msg *r, char *text, size_t len)
{
	static char *msock;
	static bool msock_known;
	long port = proto_port_of(getenv("SLURM_CHECKPOINT_PORTS"), node);
	struct ckpt_msg bound = *m;
	char why[512], *cred = NULL;
	int fd = -1, rc = -1, got = -1;

	if (!port) {
		snprintf(text, len, "no slurmckptd port known for node %s "
			 "(SLURM_CHECKPOINT_PORTS)", node);
		return -1;
	}
	if (!msock_known) {
		msock = munge_socket();
		msock_known = true;
	}
	bound.to = (char *)node;
	if (!(cred = nodelink_seal(&bound, msock, text, len)))
		return -1;
	if ((fd = nodelink_dial(node, port, max_wait > 0 ? max_wait : 0, why,
				sizeof(why))) < 0) {
		snprintf(text, len, "slurmckptd on node %s at %s", node, why);
		goto out;
	}
	if (nodelink_send(fd, cred) < 0 ||
	    (got = nodelink_reply(fd, r, why, sizeof(why))) <= 0) {
		if (got == 0)	/* end of file: errno says nothing */
			snprintf(text, len, "slurmckptd on node %s closed the "
				 "connection without an answer", node);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			snprintf(text, len, "no answer within MaxWait=%ld s "
				 "(a checkpoint may still complete)", max_wait);
		else
			snprintf(text, len, "slurmckptd on node %s: %s", node,
				 errno == EPROTO ? why : strerror(errno));
		goto out;
	}
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(cred);
	return rc;
}

/* The job's node(s) from slurmctld, then their helpers over TCP: the
 * batch host for the batch script or the whole job, else each node of
 * the job until one has the step. */
int ask_remote(const struct ckpt_msg *m, struct ckpt_msg *r,
		      long max_wait, char *text, size_t len)
{
	char **nodes = NULL, *batch = NULL;
	int rc = -1;
	size_t i;

	sched_init();
	if (sched_job_nodes(m->job, &nodes, &batch, text, len) < 0)
		goto out;
	if (m->step == CKPT_STEP_BATCH || m->step == CKPT_STEP_ALL) {
		rc = ask_node(batch ? batch : nodes[0], m, max_wait, r, text,
			      len);
		goto out;
	}
	for (i = 0; nodes[i]; i++) {
		if (i)
			proto_msg_clear(r);
		rc = ask_node(nodes[i], m, max_wait, r, text, len);
		if (rc < 0 || r->ok || r->err != ENOENT)
			break;
	}
out:
	sched_nodes_free(nodes, batch);
	return rc;
}
