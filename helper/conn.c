/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conn.c - the daemon's clients (conn.h): connections, their users'
 * caps and idle time, and replies.  One SOCK_SEQPACKET packet is one
 * message on the Unix socket; over TCP a reply is a frame written as fast
 * as the client reads it.  Root's connections (slurmstepd's, one per
 * step) are neither counted nor timed. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"

#define DROP_LOG_S 10		/* at most one line per uid per 10 s */
#define IDLE_SWEEP_MS 250	/* the idle timer fires at most this often */

/* A uid other than root: its connections, and those refused or closed
 * idle since the last line about them. */
struct user {
	struct user *next;
	uid_t uid;
	unsigned long conns;
	unsigned refused, idle;
	long long logged;	/* the last line (loop_now_ms), or 0 */
};

static struct listener listener = { .w.fd = -1, .backoff.fd = -1 };
static struct watch idle_timer = { .fd = -1 };
static bool idle_armed;
static struct conn *clients;
static struct user *users;
static char *sock_path;
static const struct conn_ops *ops;

/* ------------------------------------------------ users and idle time */

static struct user *user_get(uid_t uid)
{
	struct user *u;

	for (u = users; u; u = u->next)
		if (u->uid == uid)
			return u;
	if ((u = calloc(1, sizeof(*u)))) {
		u->uid = uid;
		u->next = users;
		users = u;
	}
	return u;
}

/* A user once logged is kept: its next line waits out DROP_LOG_S. */
static void user_put(struct user *u)
{
	struct user **p;

	if (--u->conns || u->logged)
		return;
	for (p = &users; *p != u; p = &(*p)->next)
		;
	*p = u->next;
	free(u);
}

/* Refused and idle connections: one line per uid per DROP_LOG_S with
 * their counts, never a line per connection. */
static void user_dropped(struct user *u)
{
	long long now = loop_now_ms();

	if (u->logged && now - u->logged < DROP_LOG_S * 1000)
		return;
	log_msg(LOG_WARNING, "uid %u: %u connection(s) refused "
		"(max_user_connections=%ld), %u closed idle (idle_timeout=%ld "
		"s); at most one such line per %d s", (unsigned)u->uid,
		u->refused, hconf.max_user_conns, u->idle, hconf.idle_timeout,
		DROP_LOG_S);
	u->refused = u->idle = 0;
	u->logged = now;
}

static void idle_arm(long long ms)
{
	loop_timer_set(&idle_timer, ms > IDLE_SWEEP_MS ? ms : IDLE_SWEEP_MS);
	idle_armed = true;
}

void conn_idle(struct conn *c)
{
	c->waiter = NULL;
	if (!c->user)
		return;
	c->idle_since = loop_now_ms();
	if (!idle_armed)
		idle_arm(hconf.idle_timeout * 1000);
}

/* ------------------------------------------------------------ replies */

/* Over TCP a reply is written as fast as the client reads it, the rest
 * when the socket is writable again: the loop never waits for a slow
 * reader (one that never reads is closed at idle_timeout).  0/-1. */
static int conn_flush(struct conn *c)
{
	ssize_t n;

	while (c->outdone < c->outlen) {
		n = send(c->w.fd, c->out + c->outdone, c->outlen - c->outdone,
			 MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return loop_mod(&c->w, EPOLLIN | EPOLLRDHUP | EPOLLOUT);
		if (n < 0)
			return -1;
		c->outdone += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->outlen = c->outdone = 0;
	return loop_mod(&c->w, EPOLLIN | EPOLLRDHUP);
}

int conn_send(struct conn *c, const struct ckpt_msg *m)
{
	char *s, *f, *more;
	size_t n;
	int saved;

	if (!c->tcp)
		return proto_send(c->w.fd, m, -1);
	if (!(s = proto_encode(m)))
		return -1;
	f = proto_frame_pack(s, strlen(s), &n);
	saved = errno;
	free(s);
	if (!f) {
		errno = saved;
		return -1;
	}
	if (!c->out) {
		c->out = f;
		c->outlen = n;
	} else if ((more = realloc(c->out, c->outlen + n))) {
		memcpy(more + c->outlen, f, n);
		c->out = more;
		c->outlen += n;
		free(f);
	} else {
		free(f);
		return -1;
	}
	return conn_flush(c);
}

int conn_reply_ok(struct conn *c)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 1 };

	return conn_send(c, &r);
}

int conn_reply_err(struct conn *c, int err, const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 0, .err = err,
			      .error = text };

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (err < 1 || err > CKPT_ERRNO_MAX)
		r.err = EIO;
	return conn_send(c, &r);
}

/* -------------------------------------------------------- connections */

/* After accept (or authentication, over TCP): 0, or -1 when its uid has
 * max_user_connections already (the client is told why). */
static int conn_admit(struct conn *c)
{
	struct user *u;

	if (c->cred.uid == 0)
		return 0;
	if (!(u = user_get(c->cred.uid)))
		return -1;
	if (u->conns >= (unsigned long)hconf.max_user_conns) {
		u->refused++;
		user_dropped(u);
		conn_reply_err(c, EAGAIN,
			       "uid %u has %lu connections to slurmckptd "
			       "(max_user_connections): try again later",
			       (unsigned)u->uid, u->conns);
		return -1;
	}
	u->conns++;
	c->user = u;
	c->next = clients;
	if (clients)
		clients->prev = c;
	clients = c;
	return 0;
}

static void conn_leave(struct conn *c)
{
	if (!c->user)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	user_put(c->user);
	c->user = NULL;
}

static void conn_close(struct conn *c)
{
	conn_leave(c);
	ops->gone(c);
	loop_del(&c->w);
	close(c->w.fd);
	free(c->out);
	free(c);
}

/* The earliest idle deadline: close those past it, wait for the next. */
static void idle_ready(struct watch *w, uint32_t events)
{
	long long now = loop_now_ms(), limit = hconf.idle_timeout * 1000;
	long long next = 0, at;
	struct conn *c, *n;

	(void)events;
	loop_timer_ack(w);
	idle_armed = false;
	for (c = clients; c; c = n) {
		n = c->next;
		if (c->waiter)
			continue;
		at = c->idle_since + limit;
		if (at <= now) {
			c->user->idle++;
			user_dropped(c->user);
			conn_close(c);
		} else if (!next || at < next) {
			next = at;
		}
	}
	if (next)
		idle_arm(next - now);
}

static void conn_ready(struct watch *w, uint32_t events)
{
	struct conn *c = (struct conn *)w;
	struct ckpt_msg m;
	char err[512] = "";
	int pidfd = -1, rc;

	/* Over TCP: the request was read by tcp.c; writable, the rest of
	 * the reply goes; anything else is the client's end. */
	if (c->tcp && !(events & ~EPOLLOUT)) {
		if (conn_flush(c) < 0)
			conn_close(c);
		return;
	}
	if (!(events & EPOLLIN) || c->tcp) {
		conn_close(c);
		return;
	}
	rc = proto_recv(w->fd, &m, &pidfd, err, sizeof(err));
	if (rc == 0 || (rc < 0 && errno != EINVAL && errno != EMSGSIZE &&
			errno != EAGAIN)) {
		conn_close(c);
		return;
	}
	if (rc < 0) {
		if (errno != EAGAIN)
			conn_reply_err(c, EINVAL, "bad message: %s", err);
		return;
	}
	ops->message(c, &m, &pidfd);
	if (!c->waiter)
		conn_idle(c);
	if (pidfd >= 0)
		close(pidfd);
	proto_msg_clear(&m);
}

/* c (on fd, its cred set) counted against its user and watched by the
 * loop: 0, or -1 with fd closed and c freed. */
static int conn_join(struct conn *c, uint32_t events)
{
	c->w.ready = conn_ready;
	if (conn_admit(c) < 0) {
		close(c->w.fd);
		free(c);
		return -1;
	}
	if (loop_add(&c->w, events) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		conn_leave(c);
		close(c->w.fd);
		free(c);
		return -1;
	}
	return 0;
}

static void conn_accept(int fd)
{
	socklen_t len = sizeof(struct ucred);
	struct conn *c = calloc(1, sizeof(*c));

	if (!c || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred,
			     &len) < 0) {
		log_msg(LOG_ERR, "accept: %s", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	c->w.fd = fd;
	if (conn_join(c, EPOLLIN) == 0)
		conn_idle(c);
}

static void listener_ready(struct watch *w, uint32_t events)
{
	int fd, n;

	(void)events;
	/* A batch, then the rest of the loop: a flood of connections does
	 * not keep it here. */
	for (n = 0; n < LISTEN_BATCH; n++) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && listener_failed(&listener))
			continue;
		if (fd < 0)
			return;
		listener_accepted(&listener);
		conn_accept(fd);
	}
}

void conn_tcp_request(int fd, uid_t uid, const struct ckpt_msg *m)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->w.fd = fd;
	c->tcp = true;
	c->cred.uid = uid;
	c->cred.gid = (gid_t)-1;
	c->cred.pid = 0;
	if (conn_join(c, EPOLLIN | EPOLLRDHUP) < 0)
		return;
	ops->message(c, (struct ckpt_msg *)m, &(int){ -1 });
	if (!c->waiter)
		conn_idle(c);
}

/* --------------------------------------------------------- the socket */

/* Refuse to take over the socket of a helper that is still running;
 * remove a stale one left by a helper that died. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_msg(LOG_ERR, "%s exists and is not a socket", sa->sun_path);
		errno = EEXIST;
		return -1;
	}
	fd = proto_connect(sa->sun_path, 0);
	if (fd >= 0) {
		close(fd);
		log_msg(LOG_ERR, "another slurmckptd is listening on %s",
			sa->sun_path);
		errno = EADDRINUSE;
		return -1;
	}
	/* Only a socket nobody listens on is stale. */
	if (errno == ENOENT)
		return 0;
	if (errno != ECONNREFUSED)
		return -1;
	return unlink(sa->sun_path);
}

int conn_listen(const char *path, const struct conn_ops *with)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path too long: %s", path);
		errno = ENAMETOOLONG;
		return -1;
	}
	ops = with;
	strcpy(sa.sun_path, path);
	if (clear_stale(&sa) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(fd, 128) < 0) {
		log_msg(LOG_ERR, "socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!(sock_path = strdup(path)) ||
	    loop_timer_add(&idle_timer, idle_ready) < 0 ||
	    listener_add(&listener, fd, "the socket", listener_ready) < 0) {
		log_msg(LOG_ERR, "socket %s: %s", path, strerror(errno));
		loop_timer_del(&idle_timer);
		close(fd);
		return -1;
	}
	return 0;
}

void conn_unlisten(void)
{
	if (listener.w.fd < 0)
		return;
	listener_del(&listener);
	loop_timer_del(&idle_timer);
	if (unlink(sock_path) < 0)
		log_msg(LOG_WARNING, "unlink %s: %s", sock_path,
			strerror(errno));
	free(sock_path);
	sock_path = NULL;
}
