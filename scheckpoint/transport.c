/* transport.c - scheckpoint's requests to slurmckptd: on this node's
 * Unix socket, or over TCP to the helper of the job's node, the request
 * sealed in a MUNGE credential that names that node. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <munge.h>

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

/* A TCP connection to addr:port, with max_wait as its send and receive
 * timeouts.  fd, or -1 with text. */
static int tcp_connect(const char *node, const char *addr, long port,
		       long max_wait, char *text, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { .tv_sec = max_wait };
	char ports[16];
	int fd, e;

	snprintf(ports, sizeof(ports), "%ld", port);
	if ((e = getaddrinfo(addr, ports, &hints, &ai)) != 0) {
		snprintf(text, len, "node %s (%s): %s", node, addr,
			 gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    (max_wait > 0 &&
	     (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)) ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(text, len, "slurmckptd on node %s (%s:%s): %s", node,
			 addr, ports, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* payload in a MUNGE credential (malloc'ed), or NULL with text. */
static char *munge_wrap(const char *payload, const char *msock, char *text,
			size_t len)
{
	munge_ctx_t ctx = munge_ctx_create();
	char *cred = NULL;
	munge_err_t e;

	if (!ctx || (msock && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, msock) !=
		     EMUNGE_SUCCESS)) {
		snprintf(text, len, "MUNGE: cannot set up a context");
	} else if ((e = munge_encode(&cred, ctx, payload,
				     (int)strlen(payload))) != EMUNGE_SUCCESS) {
		snprintf(text, len, "MUNGE: %s", munge_strerror(e));
		free(cred);
		cred = NULL;
	}
	if (ctx)
		munge_ctx_destroy(ctx);
	return cred;
}

static int ask_node_payload(const char *node, const char *payload,
			    const char *msock, long max_wait,
			    struct ckpt_msg *r, char *text, size_t len);

/* One request to the helper of node over TCP, in a MUNGE credential,
 * bound to that node (to=): no good if replayed to another. */
static int ask_node(const char *node, const struct ckpt_msg *m,
		    const char *msock, long max_wait, struct ckpt_msg *r,
		    char *text, size_t len)
{
	struct ckpt_msg bound = *m;
	char *payload;
	int rc;

	bound.to = (char *)node;
	if (!(payload = proto_encode(&bound))) {
		snprintf(text, len, "%s", strerror(errno));
		return -1;
	}
	rc = ask_node_payload(node, payload, msock, max_wait, r, text, len);
	free(payload);
	return rc;
}

static int ask_node_payload(const char *node, const char *payload,
			    const char *msock, long max_wait,
			    struct ckpt_msg *r, char *text, size_t len)
{
	long port = proto_port_of(getenv("SLURM_CHECKPOINT_PORTS"), node);
	char addr[256], err[512], *cred = NULL, *buf = NULL;
	size_t blen = 0;
	int fd = -1, rc = -1, got = -1;

	if (!port) {
		snprintf(text, len, "no slurmckptd port known for node %s "
			 "(SLURM_CHECKPOINT_PORTS)", node);
		return -1;
	}
	sched_node_addr(node, addr, sizeof(addr));
	if (!(cred = munge_wrap(payload, msock, text, len)) ||
	    (fd = tcp_connect(node, addr, port, max_wait, text, len)) < 0)
		goto out;
	if (proto_frame_send(fd, cred, strlen(cred)) < 0 ||
	    (got = proto_frame_recv(fd, &buf, &blen)) <= 0) {
		if (got == 0)	/* end of file: errno says nothing */
			snprintf(text, len, "slurmckptd on node %s closed the "
				 "connection without an answer", node);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			snprintf(text, len, "no answer within MaxWait=%ld s "
				 "(a checkpoint may still complete)", max_wait);
		else
			snprintf(text, len, "slurmckptd on node %s: %s", node,
				 strerror(errno));
		goto out;
	}
	if (proto_decode(buf, blen, r, err, sizeof(err)) < 0 ||
	    r->op != CKPT_OP_REPLY) {
		proto_msg_clear(r);
		snprintf(text, len, "slurmckptd on node %s: bad reply: %s",
			 node, err);
		goto out;
	}
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(cred);
	free(buf);
	return rc;
}

/* The job's node(s) from slurmctld, then their helpers over TCP: the
 * batch host for the batch script or the whole job, else each node of
 * the job until one has the step. */
int ask_remote(const struct ckpt_msg *m, struct ckpt_msg *r,
		      long max_wait, char *text, size_t len)
{
	char **nodes = NULL, *batch = NULL, *msock = NULL;
	int rc = -1;
	size_t i;

	sched_init();
	if (sched_job_nodes(m->job, &nodes, &batch, text, len) < 0)
		goto out;
	msock = munge_socket();
	if (m->step == CKPT_STEP_BATCH || m->step == CKPT_STEP_ALL) {
		rc = ask_node(batch ? batch : nodes[0], m, msock, max_wait, r,
			      text, len);
		goto out;
	}
	for (i = 0; nodes[i]; i++) {
		if (i)
			proto_msg_clear(r);
		rc = ask_node(nodes[i], m, msock, max_wait, r, text, len);
		if (rc < 0 || r->ok || r->err != ENOENT)
			break;
	}
out:
	sched_nodes_free(nodes, batch);
	free(msock);
	return rc;
}
