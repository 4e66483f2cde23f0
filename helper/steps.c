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
#include <sys/syscall.h>
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
		state_changed(false);
	}
	log_msg(LOG_WARNING, "checkpoint of %s failed: %s", s->label, error);
}

static uint64_t queue_no;	/* order of the periodic checkpoints waiting */
static unsigned long nqueued;	/* how many wait: none, no scan */

static void start_periodic(struct step *s)
{
	char err[512];

	if (s->worker || s->queued) {
		log_msg(LOG_INFO, "%s: previous checkpoint still %s, "
			"interval skipped", s->label,
			s->worker ? "running" : "waiting for a worker");
		return;
	}
	if (worker_start(s, "periodic", NULL, NULL, err, sizeof(err)) == 0)
		return;
	/* All max_workers busy, or all the user's: it starts when one is
	 * free, in turn. */
	if (errno == EAGAIN && worker_count() > 0) {
		steps_enqueue(s, "periodic");
		return;
	}
	record_error(s, errno, err);
}

void steps_enqueue(struct step *s, const char *why)
{
	if (!s->queued)
		nqueued++;
	s->queued = ++queue_no;
	s->queued_why = why;
}

/* The one that waited longest among the final checkpoints, else among
 * the periodic ones, of users below max_user_workers; NULL: none may. */
static struct step *next_queued(void)
{
	struct step *s, *first = NULL;

	for (s = steps; s; s = s->next) {
		if (!s->queued || s->worker || !worker_user_may(s))
			continue;
		if (!first || (s->final && !first->final) ||
		    (s->final == first->final && s->queued < first->queued))
			first = s;
	}
	return first;
}

/* A failed final checkpoint, for jobs.c, of a step whose own never ran. */
static void final_failed(struct step *s, const char *why)
{
	struct ckpt_result r = { .error = why };

	jobs_checkpoint_done(s, &r, 0);
}

/* A worker ended: start the checkpoints waiting, in turn. */
static void start_queued(void)
{
	struct step *first;
	char err[512];

	while (nqueued > 0 && worker_count() < hconf.max_workers &&
	       (first = next_queued())) {
		first->queued = 0;
		nqueued--;
		if (worker_start(first, first->queued_why, NULL, NULL, err,
				 sizeof(err)) == 0)
			continue;
		record_error(first, errno, err);
		if (first->final)
			final_failed(first, err);
	}
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
		if (s->interval <= 0 || s->disabled || step_is_follower(s) ||
		    before(now, s->due))
			continue;
		while (!before(now, s->due))
			s->due.tv_sec += s->interval;
		start_periodic(s);
	}
	steps_rearm();
	state_changed(false);
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
		if (s->interval <= 0 || s->disabled || step_is_follower(s))
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
	if (m->nnodes > 1 && (meth || m->exit_code)) {
		snprintf(err, errlen, "a step over %u nodes checkpoints "
			 "cooperatively only: %s is not supported there",
			 m->nnodes, meth ? "a checkpoint method" :
			 "a checkpoint exit code");
		errno = ENOTSUP;
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
	    (m->local && !(s->local = strdup(m->local))) ||
	    image_name(m->job, m->step, s->name, sizeof(s->name)) < 0) {
		snprintf(err, errlen, "out of memory");
		if (s) {
			free(s->dir);
			free(s->node);
			free(s->trigger);
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
	s->exit_code = m->exit_code;
	s->method = meth;
	image_label(s->job, s->id, s->label, sizeof(s->label));
	s->due = now_mono();
	s->due.tv_sec += s->interval;
	s->next = steps;
	steps = s;
	steps_rearm();
	jobs_step_added(s);
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
	if (s->queued) {
		s->queued = 0;
		nqueued--;
		if (s->final)
			final_failed(s, "the step ended before its final "
				     "checkpoint could start");
	}
	jobs_step_removed(s);
	peer_step_removed(s);
	flush_step_gone(s);
	if (s->worker)
		s->gone = true;
	else
		step_free(s);
	steps_rearm();
	state_changed(true);
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

long step_due_in(const struct step *s)
{
	struct timespec now = now_mono();

	return s->due.tv_sec > now.tv_sec ? (long)(s->due.tv_sec - now.tv_sec)
					  : 0;
}

void step_set_due_in(struct step *s, long seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds > s->interval)
		seconds = s->interval;
	s->due = now_mono();
	s->due.tv_sec += seconds;
	steps_rearm();
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
	if (r->part) {
		peer_part_done(s, r);
		if (!r->ok)
			record_error(s, EIO, r->error);
		goto out;
	}
	jobs_checkpoint_done(s, r, (long)(now.tv_sec - s->started.tv_sec));
	state_changed(false);
	if (r->ok) {
		offsite_committed(s, r);
		s->last_seq = r->seq;
		log_msg(LOG_NOTICE, "checkpoint of %s committed: %s (seq %llu)",
			s->label, r->image, (unsigned long long)r->seq);
	} else if (r->uncaught && s->uncaught_noted) {
		log_msg(LOG_DEBUG, "%s: %s", s->label, r->error);
	} else {
		s->uncaught_noted |= r->uncaught;
		record_error(s, r->uncaught ? ENOTSUP : EIO, r->error);
	}
out:
	if (s->gone)
		step_free(s);
	start_queued();
}

void steps_shutdown(void)
{
	while (steps)
		step_remove(steps);
	if (timer.fd >= 0)
		close(timer.fd);
}
