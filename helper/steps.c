/* SPDX-License-Identifier: GPL-2.0-or-later */
/* steps.c - the steps registered on this node: add, find, remove,
 * iterate, and the listeners told of each step's events (periodic.c,
 * jobs.c, peer.c, offsite_loop.c, localstage_gone.c). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "log.h"
#include "loop.h"
#include "pidfd.h"
#include "report.h"
#include "state.h"
#include "steps.h"

static struct step *steps;
/* Removed while their worker ran: freed when it ends, or at shutdown. */
static struct step *gone;
static struct step_listener *listeners, **listeners_end = &listeners;

void steps_listen(struct step_listener *l)
{
	l->next = NULL;
	*listeners_end = l;
	listeners_end = &l->next;
}

#define NOTIFY(event, ...)						\
	do {								\
		struct step_listener *l_;				\
		for (l_ = listeners; l_; l_ = l_->next)			\
			if (l_->event)					\
				l_->event(__VA_ARGS__);			\
	} while (0)

static int check_register(const struct ckpt_msg *m, char *err, size_t errlen)
{
	const char *why = NULL;

	if (!m->dir || m->dir[0] != '/')
		why = "checkpoint directory is not absolute";
	else if (m->interval < 0 || m->max_wait < 1)
		why = "bad interval or max_wait";
	else if (m->keep < 1 || m->keep > 1000)
		why = "keep must be 1..1000";
	else if (m->signo < 1 || m->signo > 64 || m->signo == SIGKILL ||
		 m->signo == SIGSTOP)
		why = "bad signal";
	if (!why)
		return 0;
	return errprintf(err, errlen, EINVAL, "%s", why);
}

struct step *step_add(const struct ckpt_msg *m, const struct method *meth,
		      char *err, size_t errlen)
{
	struct step *s;

	if (check_register(m, err, errlen) < 0)
		return NULL;
	if (m->nnodes > 1 && (meth || m->exit_code)) {
		errprintf(err, errlen, ENOTSUP,
			  "a step over %u nodes checkpoints "
			  "cooperatively only: %s is not supported there",
			  m->nnodes,
			  meth ? "a checkpoint method"
			       : "a checkpoint exit code");
		return NULL;
	}
	if (meth && (m->trigger || m->watch)) {
		errprintf(err, errlen, EINVAL,
			  "a %s a cooperating program; "
			  "method '%s' takes its checkpoints itself",
			  m->trigger ? "trigger file asks"
				     : "watched file is written by",
			  m->method);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(m->dir)) ||
	    !(s->node = strdup(m->node ? m->node : "")) ||
	    (m->trigger && !(s->trigger = strdup(m->trigger))) ||
	    (m->watch && !(s->watch = strdup(m->watch))) ||
	    (m->local && !(s->local = strdup(m->local))) ||
	    image_name(m->job, m->step, s->name, sizeof(s->name)) < 0) {
		errprintf(err, errlen, ENOMEM, "out of memory");
		if (s) {
			free(s->dir);
			free(s->node);
			free(s->trigger);
			free(s->watch);
			free(s->local);
		}
		free(s);
		return NULL;
	}
	s->job = m->job;
	s->id = m->step;
	s->uid = m->uid;
	s->gid = m->gid;
	s->ntasks = m->ntasks;
	s->nodeid = m->nnodes > 1 ? m->nodeid : 0;
	s->nnodes = m->nnodes > 1 ? m->nnodes : 1;
	s->interval = m->interval;
	s->max_wait = m->max_wait;
	s->keep = m->keep;
	s->signo = m->signo;
	s->lead = m->lead;
	s->max_requeue = m->max_requeue;
	s->resubmit = m->resubmit;
	s->exit_code = m->exit_code;
	s->method = meth;
	image_label(s->job, s->id, s->label, sizeof(s->label));
	s->next = steps;
	steps = s;
	NOTIFY(added, s);
	state_changed(true);
	return s;
}

static void task_free(struct task *t)
{
	/* A worker child may hold a copy of the descriptor, which would
	 * keep it in the epoll set after close(). */
	if (t->watched)
		loop_del(&t->w);
	close(t->w.fd);
	free(t);
}

static void step_free(struct step *s)
{
	struct task *t, *next;

	for (t = s->tasks; t; t = next) {
		next = t->next;
		task_free(t);
	}
	free(s->dir);
	free(s->node);
	free(s->trigger);
	free(s->watch);
	free(s->local);
	free(s->last_error);
	free(s);
}

void step_remove(struct step *s)
{
	struct step **pp;

	for (pp = &steps; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	NOTIFY(removed, s);
	if (s->worker) {
		s->gone = true;
		s->gone_next = gone;
		gone = s;
	} else {
		step_free(s);
	}
	state_changed(true);
}

int step_add_task(struct step *s, uint32_t id, int pidfd, char *err,
		  size_t errlen)
{
	struct task *t;

	for (t = s->tasks; t; t = t->next) {
		if (t->id == id)
			return errprintf(err, errlen, EEXIST,
					 "task %u already registered", id);
	}
	if (!(t = calloc(1, sizeof(*t))))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	t->id = id;
	t->w.fd = pidfd;
	t->step = s;
	/* Read while the pidfd says the process lives: then the pid is
	 * still its own. */
	t->pid = pidfd_pid(pidfd);
	if (t->pid <= 0 || proc_start_time(t->pid, &t->start) < 0 ||
	    !pidfd_alive(pidfd))
		log_msg(LOG_WARNING, "%s task %u: cannot read its pid and "
			"start time: it cannot be re-adopted after a restart",
			s->label, id);
	t->next = s->tasks;
	s->tasks = t;
	state_changed(true);
	return 0;
}

int step_restore_task(struct step *s, uint32_t id, pid_t pid,
		      unsigned long long start)
{
	unsigned long long now;
	char err[256];
	int fd;

	fd = pidfd_open(pid);
	if (fd < 0)
		return -1;
	/* The pidfd names whoever has the pid now; that is our task only if
	 * it started when ours did, and is still alive after we looked. */
	if (proc_start_time(pid, &now) < 0 || now != start ||
	    !pidfd_alive(fd)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	if (step_add_task(s, id, fd, err, sizeof(err)) < 0) {
		close(fd);
		return -1;
	}
	return 0;
}

/* A task of a re-adopted step exited.  It stays listed, as the tasks of
 * a step whose slurmstepd is connected do until the step ends: a
 * checkpoint exit code is reported after the exit.  When all have
 * exited the step ends, unless it has such a code: then the plugin's
 * exit and unregister messages, on a new connection, end it. */
static void task_gone(struct watch *w, uint32_t events)
{
	struct task *t = (struct task *)w;
	struct step *s = t->step;
	bool all = true;

	(void)events;
	loop_del(&t->w);
	t->watched = false;
	t->exited = true;
	log_msg(LOG_INFO, "%s task %u (pid %d) exited", s->label, t->id,
		(int)t->pid);
	for (t = s->tasks; t; t = t->next)
		all &= t->exited;
	if (!all)
		return;
	if (s->exit_code) {
		log_msg(LOG_INFO, "%s: all tasks exited; waiting for "
			"slurmstepd to report how", s->label);
		return;
	}
	log_msg(LOG_INFO, "step %s ended", s->label);
	step_remove(s);
}

void step_watch_tasks(struct step *s)
{
	struct task *t;

	for (t = s->tasks; t; t = t->next) {
		if (t->watched || t->exited)
			continue;
		t->w.ready = task_gone;
		if (loop_add(&t->w, EPOLLIN) < 0)
			log_msg(LOG_ERR, "%s task %u: epoll: %s", s->label,
				t->id, strerror(errno));
		else
			t->watched = true;
	}
}

void step_attach(struct step *s, void *owner)
{
	struct task *t;

	s->owner = owner;
	for (t = s->tasks; t; t = t->next)
		if (t->watched) {
			loop_del(&t->w);
			t->watched = false;
		}
	log_msg(LOG_INFO, "step %s: slurmstepd reconnected", s->label);
}

struct step *step_find(uint32_t job, uint32_t id)
{
	struct step *s;

	for (s = steps; s; s = s->next)
		if (s->job == job && s->id == id)
			return s;
	return NULL;
}

struct step *steps_first(void)
{
	return steps;
}

void steps_done(struct step *s, const struct ckpt_result *r, long took)
{
	NOTIFY(done, s, r, took);
	/* removed while its worker ran */
	if (s->gone && !s->worker) {
		struct step **pp;

		for (pp = &gone; *pp && *pp != s; pp = &(*pp)->gone_next)
			;
		if (*pp)
			*pp = s->gone_next;
		step_free(s);
	}
}

void steps_shutdown(void)
{
	struct step *s;

	while (steps)
		step_remove(steps);
	while ((s = gone)) {
		gone = s->gone_next;
		step_free(s);
	}
}
