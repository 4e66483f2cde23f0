/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.c - what the daemon's clients ask (their connections are
 * conn.c's): registrations of steps and their tasks from slurmstepd (root
 * only, by SO_PEERCRED), and requests from scheckpoint (the job's owner
 * or root) here or over TCP: create, vacate, requeue, the queries, and
 * fetches from the offsite store.  A request that takes a worker or a
 * child is answered when it ends (struct waiter). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "conn.h"
#include "events.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "method.h"
#include "offsite_loop.h"
#include "periodic.h"
#include "privsep.h"
#include "server.h"
#include "staging_tidy.h"
#include "state.h"
#include "steps.h"
#include "verbs.h"
#include "worker.h"

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
		return conn_reply_err(c, EPERM, "permission denied: only "
				      "slurmstepd (root) may register steps");
	if (c->step)
		return conn_reply_err(c, EALREADY, "already registered");
	replace_stale(m->job, m->step);
	if (method_lookup(m->method, m->node, &meth, err, sizeof(err)) == 0)
		c->step = step_add(m, meth, err, sizeof(err));
	if (!c->step)
		return conn_reply_err(c, errno, "%s", err);
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

		return conn_send(c, &r);
	}
	return conn_reply_ok(c);
}

static int on_task(struct conn *c, const struct ckpt_msg *m, int *pidfd)
{
	char err[512];

	if (!c->step || c->cred.uid != 0)
		return conn_reply_err(c, EPERM, "task message without a "
				      "registration");
	if (*pidfd < 0)
		return conn_reply_err(c, EINVAL, "task message without a "
				      "pidfd");
	if (step_add_task(c->step, m->task, *pidfd, err, sizeof(err)) < 0)
		return conn_reply_err(c, errno, "%s", err);
	*pidfd = -1;		/* the step owns it now */
	return conn_reply_ok(c);
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
		*rc = conn_reply_err(c, EACCES, "this request is for node %s: "
				     "no step of job %u registered for that "
				     "node is here", m->to, m->job);
		return -1;
	}
	/* A step over several nodes answers at its node index 0 only:
	 * scheckpoint goes on to the next node of the job. */
	if (*n == 0 && m->step != CKPT_STEP_ALL &&
	    (targets[0] = step_find(m->job, m->step)) &&
	    step_is_follower(targets[0])) {
		*rc = conn_reply_err(c, ENOENT, "step %s runs on %u nodes; "
				     "node index %u is here, its checkpoints "
				     "are made by the slurmckptd of node "
				     "index 0", targets[0]->label,
				     targets[0]->nnodes, targets[0]->nodeid);
		return -1;
	}
	if (*n == 0) {
		*rc = conn_reply_err(c, ENOENT, "no checkpointable step of job "
				     "%u is running on this node", m->job);
		return -1;
	}
	/* Every step of a job belongs to the job's owner. */
	if (!access_may_act(c->cred.uid, targets[0]->uid)) {
		log_msg(LOG_NOTICE, "uid %u refused: %s of job %u",
			(unsigned)c->cred.uid, op_label(m->op), m->job);
		*rc = conn_reply_err(c, EPERM, "permission denied: job %u "
				     "belongs to another user", m->job);
		return -1;
	}
	if (c->waiter) {
		*rc = conn_reply_err(c, EBUSY, "a request is already in "
				     "progress");
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
		return conn_reply_err(c, ENOMEM, "out of memory");
	wt->whole_job = m->step == CKPT_STEP_ALL;
	for (i = 0; i < n; i++) {
		if (worker_start(targets[i], op_label(m->op), m->image_dir,
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
			return conn_reply_err(c, ENOMEM, "out of memory");
		if (verbs_list((const struct step *const *)targets, n,
			       m->image_dir, list_done, wt, err,
			       sizeof(err)) < 0) {
			free(wt);
			return conn_reply_err(c, errno ? errno : EIO, "%s",
					      err);
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
		return conn_reply_err(c, ENOMEM, "out of memory");
	rc = conn_send(c, &r);
	free(r.info);
	return rc;
}

/* events: what this node kept of the job's checkpoints that the client
 * may see; over TCP, those of the node the request is for. */
static int on_events(struct conn *c, const struct ckpt_msg *m)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 1 };
	int rc;

	if (!(r.info = events_of(m->job, m->step, c->cred.uid,
				 c->tcp ? m->to : NULL)))
		return errno == ENOENT ?
		       conn_reply_err(c, ENOENT, "no checkpoint event of job "
				      "%u of yours is kept on this node",
				      m->job) :
		       conn_reply_err(c, ENOMEM, "out of memory");
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
		return conn_reply_err(c, ENOMEM, "out of memory");
	c->waiter = wt;
	if (offsite_fetch(s, fresh, fetch_done, wt, err, sizeof(err)) < 0) {
		c->waiter = NULL;
		free(wt);
		return conn_reply_err(c, errno ? errno : EIO, "%s", err);
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
			  .dir = m->fetch_dir };

	if (c->cred.uid == 0)
		return conn_reply_err(c, EPERM, "root has no images in the "
				      "offsite store: scheckpoint restart "
				      "fetches those of the user who runs it");
	if (c->waiter)
		return conn_reply_err(c, EBUSY, "a request is already in "
				      "progress");
	if (offsite_fetches_of(c->cred.uid) >= RESTART_FETCHES_USER)
		return conn_reply_err(c, EBUSY, "a fetch of yours from the "
				      "offsite store is in progress: try again "
				      "when it is done");
	if (offsite_fetches_running() >= RESTART_FETCHES_MAX)
		return conn_reply_err(c, EBUSY, "%d fetches from the offsite "
				      "store are in progress: try again later",
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

	if (m->fetch_dir) {
		if (c->tcp || m->step != CKPT_STEP_BATCH)
			return conn_reply_err(c, EINVAL, "a restart's fetch is "
					      "of a batch image, on the node's "
					      "socket");
		return on_restart_fetch(c, m);
	}
	if (!s)
		return conn_reply_err(c, ENOENT, "step %u.%u is not registered "
				      "on this node", m->job, m->step);
	if (!access_may_act(c->cred.uid, s->uid))
		return conn_reply_err(c, EPERM, "permission denied: job %u "
				      "belongs to another user", m->job);
	if (c->waiter)
		return conn_reply_err(c, EBUSY, "a request is already in "
				      "progress");
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
			staging_tidy(c->step);
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
	case CKPT_OP_EVENTS:
		rc = on_events(c, m);
		break;
	case CKPT_OP_EXIT:
		if (!c->step || c->cred.uid != 0) {
			rc = conn_reply_err(c, EPERM, "exit message without a "
					    "registration");
			break;
		}
		jobs_task_exit(c->step, m->task, m->status);
		rc = conn_reply_ok(c);
		break;
	default:
		rc = conn_reply_err(c, EINVAL, "unexpected message");
		break;
	}
	if (rc < 0)
		log_msg(LOG_INFO, "reply to pid %d failed: %s", (int)c->cred.pid,
			strerror(errno));
}

/* The client went away: the step it registered ends with it; a request
 * of it in progress is answered to nobody. */
static void on_gone(struct conn *c)
{
	if (c->step) {
		log_msg(LOG_INFO, "step %s ended", c->step->label);
		step_remove(c->step);
	}
	if (c->waiter)
		c->waiter->conn = NULL;
}

static const struct conn_ops ops = {
	.message = on_message,
	.gone = on_gone,
};

int server_listen(const char *path)
{
	return conn_listen(path, &ops);
}

void server_close(void)
{
	conn_unlisten();
}
