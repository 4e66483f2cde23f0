/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodelink.c - one request to another node's slurmckptd over TCP: the
 * message sealed in a MUNGE credential (munged on the receiving node
 * says who sent it, and refuses a replay), one frame out, one reply
 * frame back.  Blocking, with timeouts: for scheckpoint and for workers,
 * never for the daemon's loop. */
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

#include "errbuf.h"
#include "nodelink.h"
#include "proto.h"
#include "sched.h"

char *nodelink_seal(const struct ckpt_msg *m, const char *msock, char *err,
		    size_t errlen)
{
	char *payload = proto_encode(m), *cred = NULL;
	munge_ctx_t ctx = munge_ctx_create();
	munge_err_t e;

	if (!payload) {
		errprintf(err, errlen, errno, "%s", strerror(errno));
	} else if (!ctx || (msock && munge_ctx_set(ctx, MUNGE_OPT_SOCKET,
						   msock) != EMUNGE_SUCCESS)) {
		errprintf(err, errlen, EIO, "MUNGE: cannot set up a context");
	} else if ((e = munge_encode(&cred, ctx, payload,
				     (int)strlen(payload))) != EMUNGE_SUCCESS) {
		errprintf(err, errlen, errno, "MUNGE: %s", munge_strerror(e));
		free(cred);
		cred = NULL;
	}
	if (ctx)
		munge_ctx_destroy(ctx);
	free(payload);
	return cred;
}

int nodelink_dial(const char *node, long port, long timeout_s, char *err,
		  size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { .tv_sec = timeout_s };
	char addr[256], ports[16];
	int fd, e;

	sched_node_addr(node, addr, sizeof(addr));
	snprintf(ports, sizeof(ports), "%ld", port);
	if ((e = getaddrinfo(addr, ports, &hints, &ai)) != 0)
		return errprintf(err, errlen, errno, "%s:%s: %s", addr, ports,
				 gai_strerror(e));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		errprintf(err, errlen, errno, "%s:%s: %s", addr, ports,
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int nodelink_send(int fd, const char *cred)
{
	return proto_frame_send(fd, cred, strlen(cred));
}

int nodelink_reply(int fd, struct ckpt_msg *r, char *err, size_t errlen)
{
	char *buf = NULL, why[512];
	size_t len = 0;
	int rc, e;

	rc = proto_frame_recv(fd, &buf, &len);
	if (rc <= 0) {
		e = errno;
		if (rc < 0)
			errprintf(err, errlen, errno, "%s", strerror(e));
		free(buf);
		errno = e;
		return rc;
	}
	rc = proto_decode(buf, len, r, why, sizeof(why));
	free(buf);
	if (rc == 0 && r->op != CKPT_OP_REPLY) {
		proto_msg_clear(r);
		snprintf(why, sizeof(why), "not a reply");
		rc = -1;
	}
	if (rc < 0)
		return errprintf(err, errlen, EPROTO, "bad reply: %s", why);
	return 1;
}
