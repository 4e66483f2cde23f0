/* server.c - the Unix socket: registrations from slurmstepd (root only,
 * by SO_PEERCRED), and requests from scheckpoint (the job's owner or
 * root).  One SOCK_SEQPACKET packet is one message.  A client other than
 * root (here, or over TCP once authenticated) counts against its uid's
 * max_user_connections and is closed once idle_timeout passes with no
 * request of it in progress; root's connections (slurmstepd's, one per
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
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "conf.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "method.h"
#include "offsite_loop.h"
#include "periodic.h"
#include "privsep.h"
#include "report.h"
#include "server.h"
#include "state.h"
#include "steps.h"
#include "verbs.h"
#include "worker.h"

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

struct conn {
	struct watch w;
	struct conn *prev, *next;	/* clients: not root's */
	struct user *user;	/* NULL: root's, never capped or timed */
	long long idle_since;	/* with no request in progress */
	bool tcp;		/* one request over TCP, replied in a frame */
	char *out;		/* TCP: the reply not yet sent, from outdone */
	size_t outlen, outdone;
	struct ucred cred;
	struct step *step;	/* the step this connection registered */
	struct waiter *waiter;	/* a create in progress */
};

struct waiter {
	struct conn *conn;	/* NULL once the client went away */
	enum ckpt_op op;	/* create, vacate, requeue or list */
	uint32_t job;
	bool whole_job;		/* steps that cannot checkpoint are skipped */
	int pending, failed, committed, skipped, err;
	uint64_t seq;
	char images[4096];
	char errors[4096];
};

static struct listener listener = { .w.fd = -1, .backoff.fd = -1 };
static struct watch idle_timer = { .fd = -1 };
static bool idle_armed;
static struct conn *clients;
static struct user *users;
static char *sock_path;

static int reply_err(struct conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

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

/* c has no request in progress (any more): its idle time starts. */
static void conn_idle(struct conn *c)
{
	c->waiter = NULL;
	if (!c->user)
		return;
	c->idle_since = loop_now_ms();
	if (!idle_armed)
		idle_arm(hconf.idle_timeout * 1000);
}

/* A reply: a packet on the Unix socket, a frame over TCP. */
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

static int conn_send(struct conn *c, const struct ckpt_msg *m)
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

static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

static void waiter_reply(struct waiter *wt)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY };

	r.ok = !wt->failed;
	if (wt->conn) {
		r.err = wt->failed ? wt->err : 0;
		r.error = wt->failed ? wt->errors : NULL;
		/* A failed reply carries no image: check_reply() refuses
		 * one with an empty image name, so the client would wait. */
		r.seq = wt->failed ? 0 : wt->seq;
		r.image = wt->failed ? NULL : wt->images;
		if (conn_send(wt->conn, &r) < 0)
			log_msg(LOG_INFO, "client went away: %s",
				strerror(errno));
		conn_idle(wt->conn);
	}
	free(wt);
}

/* vacate, requeue: the job was cancelled or requeued (or not). */
static void waiter_acted(void *arg, bool ok, int err, const char *text)
{
	struct waiter *wt = arg;

	if (!ok) {
		snprintf(wt->errors, sizeof(wt->errors), "image committed "
			 "(%.2000s) but the job was not %s: %.1000s",
			 wt->images,
			 wt->op == CKPT_OP_VACATE ? "ended" : "requeued",
			 text ? text : "?");
		wt->failed = 1;
		wt->err = err;
	}
	waiter_reply(wt);
}

static void waiter_finish(struct waiter *wt)
{
	char err[512];

	/* A whole job whose every step was skipped is a failure too. */
	if (wt->skipped && !wt->committed)
		wt->failed += wt->skipped;
	/* vacate, requeue: only after every image is committed. */
	if (!wt->failed &&
	    (wt->op == CKPT_OP_VACATE || wt->op == CKPT_OP_REQUEUE)) {
		if (verbs_act(wt->job, wt->op, waiter_acted, wt, err,
			      sizeof(err)) == 0)
			return;
		waiter_acted(wt, false, errno ? errno : EIO, err);
		return;
	}
	waiter_reply(wt);
}

/* A worker this waiter started has ended (worker_done_fn). */
static void waiter_step_done(void *arg, const struct step *s,
			     const struct ckpt_result *r)
{
	struct waiter *wt = arg;
	char text[4352];

	if (r->ok) {
		wt->seq = r->seq;
		wt->committed++;
		append(wt->images, sizeof(wt->images), r->image);
	} else {
		if (r->uncaught && wt->whole_job)
			wt->skipped++;
		else
			wt->failed++;
		wt->err = r->uncaught ? ENOTSUP : EIO;
		snprintf(text, sizeof(text), "%s: %s", s->label, r->error);
		append(wt->errors, sizeof(wt->errors), text);
	}
	if (--wt->pending == 0)
		waiter_finish(wt);
}

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
		reply_err(c, EAGAIN, "uid %u has %lu connections to slurmckptd "
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
	if (c->step) {
		log_msg(LOG_INFO, "step %s ended", c->step->label);
		step_remove(c->step);
	}
	if (c->waiter)
		c->waiter->conn = NULL;
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

static const char *op_label(enum ckpt_op op)
{
	switch (op) {
	case CKPT_OP_VACATE: return "vacate";
	case CKPT_OP_REQUEUE: return "requeue";
	case CKPT_OP_ABLE: return "able";
	case CKPT_OP_ENABLE: return "enable";
	case CKPT_OP_DISABLE: return "disable";
	case CKPT_OP_ERROR: return "error";
	case CKPT_OP_LIST: return "list";
	case CKPT_OP_SHOW: return "show";
	default: return "create";
	}
}


static int reply_err(struct conn *c, int err, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 0, .err = err,
			      .error = text };

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (err < 1 || err > 4095)
		r.err = EIO;
	return conn_send(c, &r);
}

/* Only slurmstepd registers steps, so a second registration of the same
 * step is a new run of it (a requeue) whose old slurmstepd has not closed
 * its connection yet: the new one wins. */
static void replace_stale(uint32_t job, uint32_t id)
{
	struct step *old = step_find(job, id);

	if (!old)
		return;
	log_msg(LOG_WARNING, "step %s registered again: the earlier "
		"registration is dropped", old->label);
	/* Its worker would share the staging directory with the new one. */
	if (old->worker)
		worker_cancel(old->worker);
	if (old->owner)	/* NULL: re-adopted after a restart */
		((struct conn *)old->owner)->step = NULL;
	step_remove(old);
}

static int on_register(struct conn *c, const struct ckpt_msg *m)
{
	const struct method *meth;
	char err[512];

	if (c->cred.uid != 0)
		return reply_err(c, EPERM, "permission denied: only "
				 "slurmstepd (root) may register steps");
	if (c->step)
		return reply_err(c, EALREADY, "already registered");
	replace_stale(m->job, m->step);
	if (method_lookup(m->method, m->node, &meth, err, sizeof(err)) == 0)
		c->step = step_add(m, meth, err, sizeof(err));
	if (!c->step)
		return reply_err(c, errno, "%s", err);
	c->step->owner = c;
	c->step->registered = time(NULL);
	log_msg(LOG_INFO, "step %s registered: uid %u, %u task(s), interval "
		"%ld s, dir %s", c->step->label, m->uid, m->ntasks,
		m->interval, m->dir);
	if (c->step->method && (method_restart(c->step->method) ||
				method_criu(c->step->method))) {
		/* The plugin runs them before each resumed task starts. */
		struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 1,
			.restart = (char *)method_restart(c->step->method),
			.criu = (char *)method_criu(c->step->method),
			.criu_key = method_criu(c->step->method) ?
				    (char *)method_image_key(c->step->method) :
				    NULL };

		return proto_send(c->w.fd, &r, -1);
	}
	return proto_reply_ok(c->w.fd);
}

static int on_task(struct conn *c, const struct ckpt_msg *m, int *pidfd)
{
	char err[512];

	if (!c->step || c->cred.uid != 0)
		return reply_err(c, EPERM, "task message without a "
				 "registration");
	if (*pidfd < 0)
		return reply_err(c, EINVAL, "task message without a pidfd");
	if (step_add_task(c->step, m->task, *pidfd, err, sizeof(err)) < 0)
		return reply_err(c, errno, "%s", err);
	*pidfd = -1;		/* the step owns it now */
	return proto_reply_ok(c->w.fd);
}

/* The steps a create names: one step, or every step of the job. */
static size_t create_targets(const struct ckpt_msg *m, struct step **out,
			     size_t max)
{
	struct step *s;
	size_t n = 0;

	for (s = steps_first(); s && n < max; s = s->next)
		if (s->job == m->job && !step_is_follower(s) &&
		    (m->step == CKPT_STEP_ALL || s->id == m->step))
			out[n++] = s;
	return n;
}

/* The targets of a request, if the client may act on them: 0, or -1 with
 * the refusal sent (the reply's result in *rc). */
static int request_targets(struct conn *c, const struct ckpt_msg *m,
			   struct step **targets, size_t max, size_t *n,
			   int *rc)
{
	size_t i, k;

	*n = create_targets(m, targets, max);
	/* Over TCP: only the steps registered for the node the request
	 * names (a request sealed for another node is no good here). */
	for (i = k = 0; c->tcp && i < *n; i++)
		if (targets[i]->node && strcmp(targets[i]->node, m->to) == 0)
			targets[k++] = targets[i];
	if (c->tcp && k < *n && !(*n = k)) {
		log_msg(LOG_NOTICE, "TCP request for job %u refused: it is for "
			"node %s, not a node of its steps here", m->job,
			m->to);
		*rc = reply_err(c, EACCES, "this request is for node %s: no "
				"step of job %u registered for that node is "
				"here", m->to, m->job);
		return -1;
	}
	/* A step over several nodes answers at its node index 0 only:
	 * scheckpoint goes on to the next node of the job. */
	if (*n == 0 && m->step != CKPT_STEP_ALL &&
	    (targets[0] = step_find(m->job, m->step)) &&
	    step_is_follower(targets[0])) {
		*rc = reply_err(c, ENOENT, "step %s runs on %u nodes; node "
				"index %u is here, its checkpoints are made by "
				"the slurmckptd of node index 0",
				targets[0]->label, targets[0]->nnodes,
				targets[0]->nodeid);
		return -1;
	}
	if (*n == 0) {
		*rc = reply_err(c, ENOENT, "no checkpointable step of job %u "
				"is running on this node", m->job);
		return -1;
	}
	/* Every step of a job belongs to the job's owner. */
	if (!access_may_act(c->cred.uid, targets[0]->uid)) {
		log_msg(LOG_NOTICE, "uid %u refused: %s of job %u",
			(unsigned)c->cred.uid, op_label(m->op), m->job);
		*rc = reply_err(c, EPERM, "permission denied: job %u belongs "
				"to another user", m->job);
		return -1;
	}
	if (c->waiter) {
		*rc = reply_err(c, EBUSY, "a request is already in progress");
		return -1;
	}
	return 0;
}

static struct waiter *waiter_new(struct conn *c, const struct ckpt_msg *m)
{
	struct waiter *wt = calloc(1, sizeof(*wt));

	if (wt) {
		wt->conn = c;
		wt->op = m->op;
		wt->job = m->job;
	}
	return wt;
}

/* create, vacate, requeue: a checkpoint of the targets, then (vacate,
 * requeue) the job's end or requeue. */
static int on_create(struct conn *c, const struct ckpt_msg *m)
{
	struct step *targets[256];
	struct waiter *wt;
	char err[512];
	size_t i, n;
	int rc;

	if (request_targets(c, m, targets, sizeof(targets) /
			    sizeof(targets[0]), &n, &rc) < 0)
		return rc;
	if (!(wt = waiter_new(c, m)))
		return reply_err(c, ENOMEM, "out of memory");
	wt->whole_job = m->step == CKPT_STEP_ALL;
	for (i = 0; i < n; i++) {
		if (worker_start(targets[i], op_label(m->op), m->dir,
				 waiter_step_done, wt,
				 err, sizeof(err))) {
			wt->failed++;
			wt->err = errno;
			append(wt->errors, sizeof(wt->errors), err);
		} else {
			wt->pending++;
		}
	}
	c->waiter = wt;
	if (wt->pending == 0)
		waiter_finish(wt);
	return 0;
}

static void list_done(void *arg, bool ok, int err, const char *text)
{
	struct waiter *wt = arg;
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = ok };

	if (wt->conn) {
		if (ok)
			r.info = (char *)text;
		else
			r.err = err, r.error = (char *)text;
		if (conn_send(wt->conn, &r) < 0)
			log_msg(LOG_INFO, "client went away: %s",
				strerror(errno));
		conn_idle(wt->conn);
	}
	free(wt);
}

/* able, enable, disable, error, show: answered at once; list: by a child
 * with the user's credentials. */
static int on_query(struct conn *c, const struct ckpt_msg *m)
{
	struct step *targets[256];
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 1 };
	struct timespec now;
	struct waiter *wt;
	json_t *o, *a;
	char err[512];
	size_t i, n;
	int rc;

	if (request_targets(c, m, targets, sizeof(targets) /
			    sizeof(targets[0]), &n, &rc) < 0)
		return rc;
	if (m->op == CKPT_OP_LIST) {
		if (!(wt = waiter_new(c, m)))
			return reply_err(c, ENOMEM, "out of memory");
		if (verbs_list((const struct step *const *)targets, n, m->dir,
			       list_done, wt, err, sizeof(err)) < 0) {
			free(wt);
			return reply_err(c, errno ? errno : EIO, "%s", err);
		}
		c->waiter = wt;
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	a = json_array();
	for (i = 0; i < n; i++) {
		if (m->op == CKPT_OP_ENABLE && targets[i]->disabled) {
			targets[i]->disabled = false;
			targets[i]->due = now;
			targets[i]->due.tv_sec += targets[i]->interval;
			log_msg(LOG_INFO, "%s: periodic checkpoints enabled by "
				"uid %u", targets[i]->label,
				(unsigned)c->cred.uid);
		} else if (m->op == CKPT_OP_DISABLE && !targets[i]->disabled) {
			targets[i]->disabled = true;
			log_msg(LOG_INFO, "%s: periodic checkpoints disabled by "
				"uid %u", targets[i]->label,
				(unsigned)c->cred.uid);
		}
		json_array_append_new(a, verbs_step_info(targets[i], m->op));
	}
	if (m->op == CKPT_OP_ENABLE || m->op == CKPT_OP_DISABLE) {
		periodic_rearm();
		state_changed(false);
	}
	o = json_pack("{s:I,s:o}", "job", (json_int_t)m->job, "steps", a);
	r.info = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!r.info)
		return reply_err(c, ENOMEM, "out of memory");
	rc = conn_send(c, &r);
	free(r.info);
	return rc;
}

/* fetch: the step's newest image, from the offsite store (offsite_loop.c). */
static void fetch_done(void *arg, bool ok, int err, const char *text,
		       uint64_t seq)
{
	struct waiter *wt = arg;
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = ok };

	if (wt->conn) {
		if (ok) {
			r.image = (char *)text;
			r.seq = seq;
		} else {
			r.err = err > 0 && err < 4096 ? err : EIO;
			r.error = (char *)text;
		}
		if (conn_send(wt->conn, &r) < 0)
			log_msg(LOG_INFO, "client went away: %s",
				strerror(errno));
		conn_idle(wt->conn);
	}
	free(wt);
}

/* The fetch of s's image, answered on c when it ends (fetch_done);
 * fresh: not with an answer given before. */
static int fetch_start(struct conn *c, const struct ckpt_msg *m,
		       const struct step *s, bool fresh)
{
	struct waiter *wt;
	char err[512];

	if (!(wt = waiter_new(c, m)))
		return reply_err(c, ENOMEM, "out of memory");
	c->waiter = wt;
	if (offsite_fetch(s, fresh, fetch_done, wt, err, sizeof(err)) < 0) {
		c->waiter = NULL;
		free(wt);
		return reply_err(c, errno ? errno : EIO, "%s", err);
	}
	return 0;
}

/* At most this many fetches for scheckpoint restart run at once, and
 * one of them per user: no user holds every slot. */
#define RESTART_FETCHES_MAX 4
#define RESTART_FETCHES_USER 1

/* scheckpoint restart, run by a user on this node's socket, asks for the
 * batch image of an ended job of theirs that their directory does not
 * hold.  It is looked for under the asking user's name in the store and
 * fetched, as that user, into the directory they name. */
static int on_restart_fetch(struct conn *c, const struct ckpt_msg *m)
{
	/* The user's own groups, not the connection's effective gid (a
	 * set-group-id program's): the transfer looks the primary group up,
	 * as root, before it becomes the user (not here: no lookup that may
	 * block in the event loop). */
	struct step t = { .job = m->job, .id = CKPT_STEP_BATCH,
			  .uid = c->cred.uid, .gid = USER_PRIMARY_GID,
			  .dir = m->dir };

	if (c->cred.uid == 0)
		return reply_err(c, EPERM, "root has no images in the offsite "
				 "store: scheckpoint restart fetches those "
				 "of the user who runs it");
	if (c->waiter)
		return reply_err(c, EBUSY, "a request is already in progress");
	if (offsite_fetches_of(c->cred.uid) >= RESTART_FETCHES_USER)
		return reply_err(c, EBUSY, "a fetch of yours from the offsite "
				 "store is in progress: try again when it "
				 "is done");
	if (offsite_fetches_running() >= RESTART_FETCHES_MAX)
		return reply_err(c, EBUSY, "%d fetches from the offsite store "
				 "are in progress: try again later",
				 RESTART_FETCHES_MAX);
	image_name(t.job, t.id, t.name, sizeof(t.name));
	snprintf(t.label, sizeof(t.label), "%u.batch", t.job);
	log_msg(LOG_INFO, "%s: restart by uid %u asks for an image in %s",
		t.label, (unsigned)t.uid, t.dir);
	return fetch_start(c, m, &t, true);
}

/* A task of a registered step (its user, or root) asks, at its restart,
 * for the image that no directory holds. */
static int on_fetch(struct conn *c, const struct ckpt_msg *m)
{
	struct step *s = step_find(m->job, m->step);

	if (m->dir) {
		if (c->tcp || m->step != CKPT_STEP_BATCH)
			return reply_err(c, EINVAL, "a restart's fetch is of a "
					 "batch image, on the node's socket");
		return on_restart_fetch(c, m);
	}
	if (!s)
		return reply_err(c, ENOENT, "step %u.%u is not registered on "
				 "this node", m->job, m->step);
	if (!access_may_act(c->cred.uid, s->uid))
		return reply_err(c, EPERM, "permission denied: job %u belongs "
				 "to another user", m->job);
	if (c->waiter)
		return reply_err(c, EBUSY, "a request is already in progress");
	return fetch_start(c, m, s, false);
}

/* A slurmstepd whose connection died with an earlier helper connects
 * again for a step this helper re-adopted: that connection owns it now,
 * and its end is the step's end, as before. */
static void reattach(struct conn *c, const struct ckpt_msg *m)
{
	struct step *s;

	if (c->step || c->cred.uid != 0 ||
	    (m->op != CKPT_OP_TASK && m->op != CKPT_OP_EXIT &&
	     m->op != CKPT_OP_UNREGISTER) ||
	    !(s = step_find(m->job, m->step)) || s->owner)
		return;
	step_attach(s, c);
	c->step = s;
}

static void on_message(struct conn *c, struct ckpt_msg *m, int *pidfd)
{
	int rc;

	reattach(c, m);
	switch (m->op) {
	case CKPT_OP_REGISTER:
		rc = on_register(c, m);
		break;
	case CKPT_OP_TASK:
		rc = on_task(c, m, pidfd);
		break;
	case CKPT_OP_UNREGISTER:
		if (c->step && c->cred.uid == 0) {
			log_msg(LOG_INFO, "step %s unregistered",
				c->step->label);
			step_remove(c->step);
			c->step = NULL;
		}
		return;
	case CKPT_OP_CREATE:
	case CKPT_OP_VACATE:
	case CKPT_OP_REQUEUE:
		rc = on_create(c, m);
		break;
	case CKPT_OP_ABLE:
	case CKPT_OP_ENABLE:
	case CKPT_OP_DISABLE:
	case CKPT_OP_ERROR:
	case CKPT_OP_LIST:
	case CKPT_OP_SHOW:
		rc = on_query(c, m);
		break;
	case CKPT_OP_FETCH:
		rc = on_fetch(c, m);
		break;
	case CKPT_OP_EXIT:
		if (!c->step || c->cred.uid != 0) {
			rc = reply_err(c, EPERM, "exit message without a "
				       "registration");
			break;
		}
		jobs_task_exit(c->step, m->task, m->status);
		rc = proto_reply_ok(c->w.fd);
		break;
	default:
		rc = reply_err(c, EINVAL, "unexpected message");
		break;
	}
	if (rc < 0)
		log_msg(LOG_INFO, "reply to pid %d failed: %s", (int)c->cred.pid,
			strerror(errno));
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
			reply_err(c, EINVAL, "bad message: %s", err);
		return;
	}
	on_message(c, &m, &pidfd);
	if (!c->waiter)
		conn_idle(c);
	if (pidfd >= 0)
		close(pidfd);
	proto_msg_clear(&m);
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
	c->w.ready = conn_ready;
	if (conn_admit(c) < 0) {
		close(fd);
		free(c);
		return;
	}
	if (loop_add(&c->w, EPOLLIN) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		conn_leave(c);
		close(fd);
		free(c);
		return;
	}
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

void server_tcp_request(int fd, uid_t uid, const struct ckpt_msg *m)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->w.fd = fd;
	c->w.ready = conn_ready;
	c->tcp = true;
	c->cred.uid = uid;
	c->cred.gid = (gid_t)-1;
	c->cred.pid = 0;
	if (conn_admit(c) < 0) {
		close(fd);
		free(c);
		return;
	}
	if (loop_add(&c->w, EPOLLIN | EPOLLRDHUP) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		conn_leave(c);
		close(fd);
		free(c);
		return;
	}
	on_message(c, (struct ckpt_msg *)m, &(int){ -1 });
	if (!c->waiter)
		conn_idle(c);
}

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

int server_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_msg(LOG_ERR, "socket path too long: %s", path);
		errno = ENAMETOOLONG;
		return -1;
	}
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

void server_close(void)
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
