/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.c - a follower's side of a step over several nodes, in the event
 * loop: a PREPARE from the leader's worker (tcp.c: MUNGE, root or the
 * SlurmUser only) starts a part worker (worker_start_part); its end is
 * answered on the PREPARE's connection.  An ABORT, or the leader's
 * connection closing first, kills the part worker.  The protocol as a
 * whole: peer_worker.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <unistd.h>

#include "access.h"
#include "image.h"
#include "log.h"
#include "loop.h"
#include "peer.h"
#include "report.h"
#include "steps.h"
#include "worker.h"

/* ------------------------------------------------ a follower (loop) */

struct pending {
	struct watch w;		/* the PREPARE's connection */
	struct pending *next;
	uint32_t job, step;
};

static struct pending *pendings;

static void answer(int fd, int err, const char *text)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = !err, .err = err,
			      .error = err ? (char *)text : NULL };
	char *s = proto_encode(&r);

	if (!s || proto_frame_send(fd, s, strlen(s)) < 0)
		log_msg(LOG_INFO, "peer answer: %s", strerror(errno));
	free(s);
}

static struct pending **pending_find(uint32_t job, uint32_t step)
{
	struct pending **pp;

	for (pp = &pendings; *pp; pp = &(*pp)->next)
		if ((*pp)->job == job && (*pp)->step == step)
			return pp;
	return NULL;
}

/* Answer (err 0: PREPARED) and forget the PREPARE of job.step. */
static void pending_end(uint32_t job, uint32_t step, int err,
			const char *text)
{
	struct pending **pp = pending_find(job, step), *p;

	if (!pp)
		return;
	p = *pp;
	*pp = p->next;
	answer(p->w.fd, err, text);
	loop_del(&p->w);
	close(p->w.fd);
	free(p);
}

/* The leader went away before the answer: as good as an ABORT. */
static void pending_hangup(struct watch *w, uint32_t events)
{
	struct pending *p = (struct pending *)w;
	struct step *s = step_find(p->job, p->step);

	(void)events;
	log_msg(LOG_WARNING, "%u.%u: the leader closed its PREPARE "
		"connection: part aborted", p->job, p->step);
	if (s && s->worker)
		worker_cancel(s->worker);
	pending_end(p->job, p->step, ECONNRESET, "leader went away");
}

static void on_prepare(int fd, struct step *s)
{
	struct pending *p;
	char err[512];

	if (!(p = calloc(1, sizeof(*p)))) {
		answer(fd, ENOMEM, "out of memory");
		close(fd);
		return;
	}
	if (worker_start_part(s, err, sizeof(err)) < 0) {
		answer(fd, errno ? errno : EIO, err);
		close(fd);
		free(p);
		return;
	}
	p->w.fd = fd;
	p->w.ready = pending_hangup;
	p->job = s->job;
	p->step = s->id;
	if (loop_add(&p->w, EPOLLIN | EPOLLRDHUP) < 0) {
		log_msg(LOG_ERR, "epoll: %s", strerror(errno));
		worker_cancel(s->worker);
		answer(fd, EIO, "epoll failed");
		close(fd);
		free(p);
		return;
	}
	p->next = pendings;
	pendings = p;
	log_msg(LOG_INFO, "%s: PREPARE from the leader: part node.%u",
		s->label, s->nodeid);
}

void peer_request(int fd, uid_t uid, const struct ckpt_msg *m)
{
	struct step *s = step_find(m->job, m->step);
	char label[32];

	image_label(m->job, m->step, label, sizeof(label));
	if (!access_may_act(uid, 0)) {
		log_msg(LOG_NOTICE, "peer request for %s from uid %u refused",
			label, (unsigned)uid);
		answer(fd, EPERM, "permission denied: only slurmckptd (root "
		       "or the SlurmUser) may send peer requests");
	} else if (!s || !step_is_follower(s)) {
		answer(fd, ENOENT, "no follower's part of that step here");
	} else if (!m->to || !s->node || strcmp(m->to, s->node) != 0) {
		log_msg(LOG_NOTICE, "peer request for %s refused: it is for "
			"node %s, the part here is node %s's", label,
			m->to ? m->to : "?", s->node ? s->node : "?");
		answer(fd, EACCES, "this request is for another node");
	} else if (m->op == CKPT_OP_PREPARE) {
		if (pending_find(m->job, m->step) || s->worker)
			answer(fd, EALREADY, "a part is already in progress");
		else {
			on_prepare(fd, s);
			return;
		}
	} else {
		log_msg(LOG_WARNING, "%s: ABORT from the leader%s", label,
			s->worker ? ": part worker killed" : "");
		if (s->worker)
			worker_cancel(s->worker);
		pending_end(m->job, m->step, ECANCELED, "aborted");
		answer(fd, 0, NULL);
	}
	close(fd);
}

static void part_done(struct step *s, const struct ckpt_result *r,
		      long took)
{
	(void)took;
	if (!r->part)
		return;
	log_msg(r->ok ? LOG_INFO : LOG_WARNING, "%s: part node.%u %s%s",
		s->label, s->nodeid, r->ok ? "PREPARED" : "FAILED: ",
		r->ok ? "" : r->error);
	pending_end(s->job, s->id, r->ok ? 0 : EIO, r->error);
}

static void step_removed(struct step *s)
{
	pending_end(s->job, s->id, ESRCH, "the step ended");
}

static struct step_listener listener = {
	.removed = step_removed,
	.done = part_done,
};

int peer_init(void)
{
	steps_listen(&listener);
	return 0;
}
