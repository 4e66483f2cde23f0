/* tcp.c - scheckpoint's requests from other nodes: a TCP port (port= in
 * slurmckptd.conf; 0, the default, is off) where each connection carries
 * one frame (proto_frame_send) holding a MUNGE credential whose payload is
 * one request.  The client is the uid in the credential; a replayed,
 * expired or otherwise bad credential is refused and nothing is done.
 * The request then goes to server.c like one from the Unix socket, and
 * the reply comes back as one frame of JSON.  Another slurmckptd's PREPARE
 * and ABORT for a step over several nodes go to peer.c, which refuses a
 * credential that is not root's or the SlurmUser's. */
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

#include <munge.h>

#include "helper.h"

#define TCP_CONNS_MAX 64	/* unauthenticated connections at once */

struct tconn {
	struct watch w;
	char peer[64];
	unsigned char hdr[4];
	size_t got;		/* bytes of header + body read */
	size_t need;		/* body length, once the header is in */
	char *body;
};

static struct watch listener = { .fd = -1 };
static int nconns;

static void tconn_free(struct tconn *t, bool close_fd)
{
	loop_del(&t->w);
	if (close_fd)
		close(t->w.fd);
	free(t->body);
	free(t);
	nconns--;
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

/* The frame is in: authenticate, decode, hand over. */
static void tconn_request(struct tconn *t)
{
	struct timeval tv = { .tv_sec = 5 };
	struct ckpt_msg m;
	munge_ctx_t ctx;
	munge_err_t e;
	void *payload = NULL;
	char err[512], text[600];
	int plen = 0, fl;
	uid_t uid;
	gid_t gid;

	if (!(ctx = munge_ctx_create()) ||
	    (hconf.munge_socket &&
	     munge_ctx_set(ctx, MUNGE_OPT_SOCKET, hconf.munge_socket) !=
	     EMUNGE_SUCCESS)) {
		if (ctx)
			munge_ctx_destroy(ctx);
		refuse(t, EIO, "authentication failed: no MUNGE context");
		return;
	}
	e = munge_decode(t->body, ctx, &payload, &plen, &uid, &gid);
	munge_ctx_destroy(ctx);
	if (e != EMUNGE_SUCCESS) {
		free(payload);
		snprintf(text, sizeof(text), "authentication failed: %s",
			 e == EMUNGE_CRED_REPLAYED ? "replayed credential" :
			 munge_strerror(e));
		refuse(t, EACCES, text);
		return;
	}
	if (!payload || plen <= 0 ||
	    proto_decode(payload, (size_t)plen, &m, err, sizeof(err)) < 0) {
		free(payload);
		snprintf(text, sizeof(text), "bad message: %s",
			 payload ? err : "empty");
		refuse(t, EINVAL, text);
		return;
	}
	free(payload);
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
	/* The reply is written in one go; the client reads it at once. */
	fl = fcntl(t->w.fd, F_GETFL);
	if (fl < 0 || fcntl(t->w.fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
	    setsockopt(t->w.fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
		       sizeof(tv)) < 0) {
		proto_msg_clear(&m);
		refuse(t, EIO, "socket set-up failed");
		return;
	}
	fl = t->w.fd;
	tconn_free(t, false);
	if (proto_op_is_peer(m.op))
		peer_request(fl, uid, &m);	/* peer.c */
	else
		server_tcp_request(fl, uid, &m);
	proto_msg_clear(&m);
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

static void listener_ready(struct watch *w, uint32_t events)
{
	struct sockaddr_in6 sa;
	socklen_t len = sizeof(sa);
	struct tconn *t;
	int fd;

	(void)events;
	while ((fd = accept4(w->fd, (struct sockaddr *)&sa, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (nconns >= TCP_CONNS_MAX || !(t = calloc(1, sizeof(*t)))) {
			log_msg(LOG_WARNING, "TCP: too many connections");
			close(fd);
			continue;
		}
		if (!inet_ntop(AF_INET6, &sa.sin6_addr, t->peer,
			       sizeof(t->peer)))
			snprintf(t->peer, sizeof(t->peer), "?");
		t->w.fd = fd;
		t->w.ready = tconn_ready;
		nconns++;
		if (loop_add(&t->w, EPOLLIN | EPOLLRDHUP) < 0) {
			log_msg(LOG_ERR, "epoll: %s", strerror(errno));
			close(fd);
			free(t);
			nconns--;
		}
		len = sizeof(sa);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		log_msg(LOG_ERR, "accept: %s", strerror(errno));
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
	listener.fd = fd;
	listener.ready = listener_ready;
	if (loop_add(&listener, EPOLLIN) < 0) {
		close(fd);
		listener.fd = -1;
		return -1;
	}
	log_msg(LOG_NOTICE, "listening on TCP port %ld (MUNGE)", port);
	return 0;
}

void tcp_close(void)
{
	if (listener.fd < 0)
		return;
	loop_del(&listener);
	close(listener.fd);
	listener.fd = -1;
}
