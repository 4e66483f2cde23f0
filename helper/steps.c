/* steps.c - the steps registered on this node, and the one timerfd that
 * wakes the helper for the earliest periodic checkpoint (disarmed when no
 * step has an interval: an idle helper never wakes up). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "helper.h"
#include "image.h"

static struct step *steps;
static struct watch timer = { .fd = -1 };

static struct timespec now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static bool before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static void record_error(struct step *s, int code, const char *error)
{
	char *e = strdup(error);

	if (e) {
		free(s->last_error);
		s->last_error = e;
		s->last_errno = code > 0 ? code : EIO;
		s->last_error_time = time(NULL);
	}
	log_msg(LOG_WARNING, "checkpoint of %s failed: %s", s->label, error);
}

static void start_periodic(struct step *s)
{
	char err[512];

	if (s->worker) {
		log_msg(LOG_INFO, "%s: previous checkpoint still running, "
			"interval skipped", s->label);
		return;
	}
	if (worker_start(s, "periodic", NULL, err, sizeof(err)) < 0)
		record_error(s, errno, err);
}

static void timer_ready(struct watch *w, uint32_t events)
{
	struct timespec now = now_mono();
	struct step *s, *next;
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	for (s = steps; s; s = next) {
		next = s->next;
		/* disabled: scheckpoint disable (enable sets due anew) */
		if (s->interval <= 0 || s->disabled || before(now, s->due))
			continue;
		while (!before(now, s->due))
			s->due.tv_sec += s->interval;
		start_periodic(s);
	}
	steps_rearm();
}

int steps_init(void)
{
	timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer.fd < 0)
		return -1;
	timer.ready = timer_ready;
	return loop_add(&timer, EPOLLIN);
}

void steps_rearm(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	bool any = false;
	struct step *s;

	for (s = steps; s; s = s->next) {
		if (s->interval <= 0 || s->disabled)
			continue;
		if (!any || before(s->due, its.it_value))
			its.it_value = s->due;
		any = true;
	}
	if (timerfd_settime(timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
}

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
	snprintf(err, errlen, "%s", why);
	errno = EINVAL;
	return -1;
}

struct step *step_add(const struct ckpt_msg *m, char *err, size_t errlen)
{
	struct step *s;

	const struct method *meth = NULL;

	if (check_register(m, err, errlen) < 0)
		return NULL;
	if (m->method && strcmp(m->method, "signal") != 0 &&
	    !(meth = method_find(m->method))) {
		snprintf(err, errlen, "checkpoint method '%s' is not "
			 "available on node %s", m->method,
			 m->node ? m->node : "?");
		errno = ENOENT;
		return NULL;
	}
	if (meth && m->trigger) {
		snprintf(err, errlen, "a trigger file asks a cooperating "
			 "program; method '%s' takes its checkpoints itself",
			 m->method);
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(m->dir)) ||
	    !(s->node = strdup(m->node ? m->node : "")) ||
	    (m->trigger && !(s->trigger = strdup(m->trigger))) ||
	    image_name(m->job, m->step, s->name, sizeof(s->name)) < 0) {
		snprintf(err, errlen, "out of memory");
		if (s) {
			free(s->dir);
			free(s->node);
			free(s->trigger);
		}
		free(s);
		return NULL;
	}
	s->job = m->job;
	s->id = m->step;
	s->uid = m->uid;
	s->gid = m->gid;
	s->ntasks = m->ntasks;
	s->interval = m->interval;
	s->max_wait = m->max_wait;
	s->keep = m->keep;
	s->signo = m->signo;
	s->lead = m->lead;
	s->max_requeue = m->max_requeue;
	s->exit_code = m->exit_code;
	s->method = meth;
	image_label(s->job, s->id, s->label, sizeof(s->label));
	s->due = now_mono();
	s->due.tv_sec += s->interval;
	s->next = steps;
	steps = s;
	steps_rearm();
	jobs_step_added(s);
	return s;
}

static void step_free(struct step *s)
{
	struct task *t, *next;

	for (t = s->tasks; t; t = next) {
		next = t->next;
		close(t->pidfd);
		free(t);
	}
	free(s->dir);
	free(s->node);
	free(s->trigger);
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
	jobs_step_removed(s);
	if (s->worker)
		s->gone = true;
	else
		step_free(s);
	steps_rearm();
}

int step_add_task(struct step *s, uint32_t id, int pidfd, char *err,
		  size_t errlen)
{
	struct task *t;

	for (t = s->tasks; t; t = t->next) {
		if (t->id == id) {
			snprintf(err, errlen, "task %u already registered", id);
			errno = EEXIST;
			return -1;
		}
	}
	if (!(t = calloc(1, sizeof(*t)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	t->id = id;
	t->pidfd = pidfd;
	t->next = s->tasks;
	s->tasks = t;
	return 0;
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

void step_checkpoint_done(struct step *s, const struct ckpt_result *r)
{
	struct timespec now = now_mono();

	s->worker = NULL;
	jobs_checkpoint_done(s, r, (long)(now.tv_sec - s->started.tv_sec));
	if (r->ok) {
		s->last_seq = r->seq;
		log_msg(LOG_NOTICE, "checkpoint of %s committed: %s (seq %llu)",
			s->label, r->image, (unsigned long long)r->seq);
	} else if (r->uncaught && s->uncaught_noted) {
		log_msg(LOG_DEBUG, "%s: %s", s->label, r->error);
	} else {
		s->uncaught_noted |= r->uncaught;
		record_error(s, r->uncaught ? ENOTSUP : EIO, r->error);
	}
	if (s->gone)
		step_free(s);
}

void steps_shutdown(void)
{
	while (steps)
		step_remove(steps);
	if (timer.fd >= 0)
		close(timer.fd);
}
