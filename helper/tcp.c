/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp.c - scheckpoint's requests from other nodes: a TCP port (port= in
 * slurmckptd.conf; 0, the default, is off) where each connection carries
 * one frame (proto_frame_send) holding a MUNGE credential whose payload is
 * one request.  The client is the uid in the credential; a replayed,
 * expired or otherwise bad credential is refused and nothing is done.
 * The request then goes to server.c like one from the Unix socket, and
 * the reply comes back as one frame of JSON.  Another slurmckptd's PREPARE
 * and ABORT for a step over several nodes go to peer.c, which refuses a
 * credential that is not root's or the SlurmUser's.  Until its frame is
 * in, a connection is anybody's: it has idle_timeout seconds from its
 * accept, and one address holds at most max_host_connections of the
 * TCP_CONNS_MAX; at either limit the oldest that sent nothing goes, so
 * that idle connections lock nobody out.  Once authenticated, it counts
 * against its uid's max_user_connections (server.c).  The credential is
 * decoded in a child (munge_decode waits on munged), never in the loop,
 * one at a time in the order the frames came: a request is handled after
 * those that came before it (an ABORT after its PREPARE). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>
#include <munge.h>

#include "child.h"
#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "report.h"
#include "tcp.h"

#define TCP_CONNS_MAX 64	/* unauthenticated connections at once */
#define DROP_LOG_S 10		/* at most one line per 10 s about them */

/* A connection until its credential is in: closed after idle_timeout
 * (from its accept, not from its last byte), or for a newer one when
 * its address has max_host_connections, or all have TCP_CONNS_MAX. */
struct tconn {
	struct watch w;
	struct tconn *prev, *next;	/* in the order they came */
	struct in6_addr addr;
	long long since;	/* accepted at (loop_now_ms) */
	char peer[64];
	unsigned char hdr[4];
	size_t got;		/* bytes of header + body read */
	size_t need;		/* body length, once the header is in */
	char *body;
	struct decode *dec;	/* its credential being decoded, or NULL */
	struct tconn *qnext;	/* waiting for its decode, after this one */
	bool queued;
};

/* A decode in its child: t is NULL once the connection has gone. */
struct decode {
	struct tconn *t;
	struct child *child;
};

static struct listener listener = { .w.fd = -1, .backoff.fd = -1 };
static struct watch idle_timer = { .fd = -1 };
static struct tconn *oldest, *newest;
static int nconns;
static unsigned dropped;	/* closed unauthenticated, not yet logged */
static long long dropped_logged;
static struct tconn *qhead, *qtail;	/* frames waiting for the decoder */
static bool decoding;			/* a decode child runs */

static void decode_next(void);

static void unqueue(struct tconn *t)
{
	struct tconn **p = &qhead, *prev = NULL;

	while (*p != t) {
		prev = *p;
		p = &prev->qnext;
	}
	*p = t->qnext;
	if (qtail == t)
		qtail = prev;
	t->qnext = NULL;
	t->queued = false;
}

static void tconn_free(struct tconn *t, bool close_fd)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		oldest = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		newest = t->prev;
	if (t->dec) {		/* its decode_done() frees dec */
		t->dec->t = NULL;
		child_kill(t->dec->child);
	} else if (t->queued) {	/* not watched while it waits */
		unqueue(t);
	} else {
		loop_del(&t->w);
	}
	if (close_fd)
		close(t->w.fd);
	free(t->body);
	free(t);
	nconns--;
}

/* A connection closed before it sent its credential (from peer):
 * counted, and the count logged once per DROP_LOG_S, not a line per
 * connection. */
static void dropped_one(const char *peer)
{
	long long now = loop_now_ms();

	dropped++;
	if (dropped_logged && now - dropped_logged < DROP_LOG_S * 1000)
		return;
	log_msg(LOG_WARNING, "TCP: %u connection(s) closed without a "
		"credential (idle_timeout=%ld s, max_host_connections=%ld, %d "
		"in all), the last from %s; at most one such line per %d s",
		dropped, hconf.idle_timeout, hconf.max_host_conns,
		TCP_CONNS_MAX, peer, DROP_LOG_S);
	dropped = 0;
	dropped_logged = now;
}

static void drop(struct tconn *t)
{
	dropped_one(t->peer);
	tconn_free(t, true);
}

/* The oldest connection's deadline: the timer fires then. */
static void idle_ready(struct watch *w, uint32_t events)
{
	long long now = loop_now_ms(), limit = hconf.idle_timeout * 1000;

	(void)events;
	loop_timer_ack(w);
	while (oldest && now - oldest->since >= limit)
		drop(oldest);
	if (oldest)
		loop_timer_set(w, oldest->since + limit - now);
}

static void refuse(struct tconn *t, int err, const char *text)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 0, .err = err,
			      .error = (char *)text };
	char *s = proto_encode(&r);

	log_msg(LOG_NOTICE, "TCP request from %s refused: %s", t->peer, text);
	if (s && proto_frame_send(t->w.fd, s, strlen(s)) < 0)
		log_msg(LOG_INFO, "%s: %s", t->peer, strerror(errno));
	free(s);
	tconn_free(t, true);
}

/* In the decode child: the credential's uid and its request as JSON,
 * or err and error. */
static int decode_child(void *arg, int out)
{
	const struct tconn *t = ((const struct decode *)arg)->t;
	munge_ctx_t ctx;
	munge_err_t e;
	json_error_t je;
	json_t *msg;
	void *payload = NULL;
	char text[300];
	int plen = 0;
	uid_t uid;
	gid_t gid;

	if (!(ctx = munge_ctx_create()) ||
	    (hconf.munge_socket &&
	     munge_ctx_set(ctx, MUNGE_OPT_SOCKET, hconf.munge_socket) !=
	     EMUNGE_SUCCESS)) {
		if (ctx)
			munge_ctx_destroy(ctx);
		return report_write(out, json_pack("{s:i,s:s}", "err", EIO,
			"error", "authentication failed: no MUNGE context"));
	}
	e = munge_decode(t->body, ctx, &payload, &plen, &uid, &gid);
	munge_ctx_destroy(ctx);
	if (e != EMUNGE_SUCCESS) {
		free(payload);
		snprintf(text, sizeof(text), "authentication failed: %s",
			 e == EMUNGE_CRED_REPLAYED ? "replayed credential" :
			 munge_strerror(e));
		return report_write(out, json_pack("{s:i,s:s}", "err",
						    EACCES, "error", text));
	}
	msg = payload && plen > 0 ?
	      json_loadb(payload, (size_t)plen, 0, &je) : NULL;
	if (!msg)
		snprintf(text, sizeof(text), "bad message: %s",
			 payload && plen > 0 ? je.text : "empty");
	free(payload);
	if (!msg)
		return report_write(out, json_pack("{s:i,s:s}", "err",
						    EINVAL, "error", text));
	return report_write(out, json_pack("{s:I,s:o}", "uid",
					    (json_int_t)uid, "msg", msg));
}

/* Authenticated: decode the request, hand it over. */
static void tconn_handle(struct tconn *t, uid_t uid, const char *req)
{
	struct timeval tv = { .tv_sec = 5 };
	struct ckpt_msg m;
	char err[512], text[600];
	int fl;

	if (proto_decode(req, strlen(req), &m, err, sizeof(err)) < 0) {
		snprintf(text, sizeof(text), "bad message: %s", err);
		refuse(t, EINVAL, text);
		return;
	}
	if (!proto_op_is_request(m.op) && !proto_op_is_peer(m.op)) {
		proto_msg_clear(&m);
		refuse(t, EPERM, "permission denied: only scheckpoint's "
		       "requests come over TCP");
		return;
	}
	/* Bound to a node (inside the credential): a request taken on its
	 * way to one node is refused by every other (server.c, peer.c);
	 * munged refuses it a second time on its own node. */
	if (!m.to) {
		proto_msg_clear(&m);
		refuse(t, EACCES, "a request over TCP must name the node it "
		       "is for");
		return;
	}
	log_msg(LOG_INFO, "TCP request from %s, uid %u", t->peer,
		(unsigned)uid);
	/* A peer's answers (peer.c, from root or SlurmUser) are small and
	 * written in one go; scheckpoint's replies, which may be large, are
	 * written without blocking as the client reads them (server.c). */
	if (proto_op_is_peer(m.op) &&
	    ((fl = fcntl(t->w.fd, F_GETFL)) < 0 ||
	     fcntl(t->w.fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	     setsockopt(t->w.fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			sizeof(tv)) < 0)) {
		proto_msg_clear(&m);
		refuse(t, EIO, "socket set-up failed");
		return;
	}
	fl = t->w.fd;
	tconn_free(t, false);
	if (proto_op_is_peer(m.op))
		peer_request(fl, uid, &m);	/* peer.c */
	else
		conn_tcp_request(fl, uid, &m);
	proto_msg_clear(&m);
}

/* The decode child has answered (child_done_fn). */
static void decode_done(void *arg, json_t *report, int status)
{
	struct decode *dec = arg;
	struct tconn *t = dec->t;
	json_int_t uid, e;
	const char *error;
	json_t *msg;
	char *req;

	(void)status;
	free(dec);
	decoding = false;
	if (!t) {		/* the connection went meanwhile */
		decode_next();
		return;
	}
	t->dec = NULL;
	loop_add(&t->w, EPOLLIN | EPOLLRDHUP);	/* as before the decode */
	if (!report) {
		refuse(t, EIO, "authentication failed: the MUNGE check "
		       "ended without an answer");
	} else if (json_unpack(report, "{s:I,s:o}", "uid", &uid, "msg",
			       &msg) == 0 && uid >= 0 && uid <= UINT32_MAX) {
		if ((req = json_dumps(msg, JSON_COMPACT))) {
			tconn_handle(t, (uid_t)uid, req);
			free(req);
		} else {
			refuse(t, ENOMEM, "out of memory");
		}
	} else if (json_unpack(report, "{s:I,s:s}", "err", &e, "error",
			       &error) == 0) {
		refuse(t, (int)e, error);
	} else {
		refuse(t, EIO, "authentication failed: a bad answer from the "
		       "MUNGE check");
	}
	decode_next();
}

/* The next frame waiting, if none is being decoded: its credential
 * goes to a child. */
static void decode_next(void)
{
	struct tconn *t;
	char err[256];

	while (!decoding && (t = qhead)) {
		unqueue(t);
		loop_add(&t->w, EPOLLIN | EPOLLRDHUP);	/* for refuse() */
		if (!(t->dec = calloc(1, sizeof(*t->dec)))) {
			refuse(t, ENOMEM, "out of memory");
			continue;
		}
		t->dec->t = t;
		t->dec->child = child_spawn(decode_child, t->dec, NULL, 0,
					    decode_done, t->dec, err,
					    sizeof(err));
		if (!t->dec->child) {
			log_msg(LOG_ERR, "TCP: %s", err);
			free(t->dec);
			t->dec = NULL;
			refuse(t, EIO, "authentication failed: no process "
			       "for the MUNGE check");
			continue;
		}
		loop_del(&t->w);	/* not read while decoded */
		decoding = true;
	}
}

/* The frame is in: the connection is not read while it waits for its
 * decode and while it is decoded. */
static void tconn_request(struct tconn *t)
{
	loop_del(&t->w);
	t->queued = true;
	if (qtail)
		qtail->qnext = t;
	else
		qhead = t;
	qtail = t;
	decode_next();
}

static void tconn_ready(struct watch *w, uint32_t events)
{
	struct tconn *t = (struct tconn *)w;
	ssize_t n;
	size_t want;
	char *dst;

	(void)events;
	for (;;) {
		if (t->got < 4) {
			dst = (char *)t->hdr + t->got;
			want = 4 - t->got;
		} else {
			dst = t->body + (t->got - 4);
			want = t->need - (t->got - 4);
		}
		n = want ? recv(w->fd, dst, want, 0) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0 && want) {
			tconn_free(t, true);	/* went away */
			return;
		}
		t->got += (size_t)n;
		if (t->got == 4 && !t->body) {
			t->need = (size_t)t->hdr[0] << 24 |
				  (size_t)t->hdr[1] << 16 |
				  (size_t)t->hdr[2] << 8 | t->hdr[3];
			if (t->need == 0 || t->need > CKPT_FRAME_MAX) {
				refuse(t, EMSGSIZE, "bad frame length");
				return;
			}
			if (!(t->body = calloc(1, t->need + 1))) {
				refuse(t, ENOMEM, "out of memory");
				return;
			}
		}
		if (t->body && t->got == 4 + t->need) {
			tconn_request(t);
			return;
		}
	}
}

/* Nothing has come on t yet that the loop has not read: it waits idle. */
static bool waiting_idle(const struct tconn *t)
{
	char c;

	return recv(t->w.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* Room for one more from addr: 0 once the oldest idle connection of the
 * address went (when it has max_host_connections) or the oldest idle one
 * of all (when there are TCP_CONNS_MAX); -1 when none is idle.  A client
 * that sends its credential at once is never the one that goes; one that
 * holds connections open loses them to the next that comes. */
static int make_room(const struct in6_addr *addr)
{
	struct tconn *o;
	long n = 0;

	for (o = oldest; o; o = o->next)
		n += IN6_ARE_ADDR_EQUAL(&o->addr, addr);
	if (n < hconf.max_host_conns && nconns < TCP_CONNS_MAX)
		return 0;
	for (o = oldest; o; o = o->next)
		if (!o->dec && !o->queued &&
		    (n < hconf.max_host_conns ||
		     IN6_ARE_ADDR_EQUAL(&o->addr, addr)) && waiting_idle(o)) {
			drop(o);
			return 0;
		}
	return -1;
}

static void tconn_add(int fd, const struct sockaddr_in6 *sa)
{
	struct tconn *t = calloc(1, sizeof(*t));
	char peer[64];

	if (!inet_ntop(AF_INET6, &sa->sin6_addr, peer, sizeof(peer)))
		snprintf(peer, sizeof(peer), "?");
	if (!t || make_room(&sa->sin6_addr) < 0) {
		dropped_one(peer);
		close(fd);
		free(t);
		return;
	}
	t->addr = sa->sin6_addr;
	memcpy(t->peer, peer, sizeof(peer));
	t->w.fd = fd;
	t->w.ready = tconn_ready;
	if (loop_add(&t->w, EPOLLIN | EPOLLRDHUP) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		close(fd);
		free(t);
		return;
	}
	t->since = loop_now_ms();
	t->prev = newest;
	if (newest)
		newest->next = t;
	else
		oldest = t;
	newest = t;
	if (nconns++ == 0)
		loop_timer_set(&idle_timer, hconf.idle_timeout * 1000);
}

static void listener_ready(struct watch *w, uint32_t events)
{
	struct sockaddr_in6 sa;
	socklen_t len;
	int fd, n;

	(void)events;
	for (n = 0; n < LISTEN_BATCH; n++) {
		len = sizeof(sa);
		fd = accept4(w->fd, (struct sockaddr *)&sa, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && listener_failed(&listener))
			continue;
		if (fd < 0)
			return;
		listener_accepted(&listener);
		tconn_add(fd, &sa);
	}
}

int tcp_listen(long port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd, one = 1, zero = 0;

	if (port <= 0)
		return 0;
	sa.sin6_port = htons((uint16_t)port);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
		       sizeof(zero)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 128) < 0) {
		log_msg(LOG_ERR, "TCP port %ld: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (loop_timer_add(&idle_timer, idle_ready) < 0 ||
	    listener_add(&listener, fd, "the TCP port", listener_ready) < 0) {
		log_msg(LOG_ERR, "TCP port %ld: %s", port, strerror(errno));
		loop_timer_del(&idle_timer);
		close(fd);
		return -1;
	}
	log_msg(LOG_NOTICE, "listening on TCP port %ld (MUNGE)", port);
	return 0;
}

void tcp_close(void)
{
	while (oldest)
		tconn_free(oldest, true);
	listener_del(&listener);
	loop_timer_del(&idle_timer);
}
