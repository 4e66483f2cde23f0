/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn.h - the daemon's clients: the Unix socket (slurmstepd through the
 * plugin, scheckpoint) and the TCP requests tcp.c authenticated (conn.c).
 * A client other than root counts against its uid's max_user_connections
 * and is closed once idle_timeout passes with no request of it in
 * progress; replies never block the loop.  What a message asks is for
 * the layer above (server.c), through struct conn_ops. */
#ifndef CKPT_CONN_H
#define CKPT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "loop.h"
#include "proto.h"

struct step;
struct user;
struct waiter;

struct conn {
	struct watch w;
	struct conn *prev, *next;	/* clients: not root's */
	struct user *user;	/* NULL: root's, never capped or timed */
	long long idle_since;	/* with no request in progress */
	bool tcp;		/* one request over TCP, replied in a frame */
	char *out;		/* TCP: the reply not yet sent, from outdone */
	size_t outlen, outdone;
	struct ucred cred;
	/* The layer above's: conn.c only tells whether waiter is set. */
	struct step *step;	/* the step this connection registered */
	struct waiter *waiter;	/* a request in progress: not idle */
};

struct conn_ops {
	/* A message from c; *pidfd, if not -1, is closed after unless the
	 * callee takes it (and sets -1). */
	void (*message)(struct conn *c, struct ckpt_msg *m, int *pidfd);
	/* c's client went away: c is freed on return. */
	void (*gone)(struct conn *c);
};

int conn_listen(const char *path, const struct conn_ops *ops);
void conn_unlisten(void);
/* A request that came over TCP from uid (authenticated, by tcp.c): fd is
 * the connection, answered with one frame, then closed. */
void conn_tcp_request(int fd, uid_t uid, const struct ckpt_msg *m);

/* A reply: a packet on the Unix socket, a frame over TCP.  0/-1. */
int conn_send(struct conn *c, const struct ckpt_msg *m);
int conn_reply_ok(struct conn *c);
int conn_reply_err(struct conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* c has no request in progress (any more): its idle time starts. */
void conn_idle(struct conn *c);

#endif
