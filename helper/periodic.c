/* SPDX-License-Identifier: GPL-2.0-or-later */
/* periodic.c - the periodic checkpoints: one timerfd that wakes the
 * helper for the earliest one due (disarmed when no step has an
 * interval: an idle helper never wakes up), and the queue of checkpoints
 * waiting for a free worker, started in turn when one ends. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "periodic.h"
#include "report.h"
#include "state.h"
#include "steps.h"
#include "worker.h"

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
	if (worker_start(s, "periodic", NULL, NULL, NULL, err,
			 sizeof(err)) == 0)
		return;
	/* All max_workers busy, or all the user's: it starts when one is
	 * free, in turn. */
	if (errno == EAGAIN && worker_count() > 0) {
		periodic_enqueue(s, "periodic");
		return;
	}
	worker_record_error(s, errno, err);
}

void periodic_enqueue(struct step *s, const char *why)
{
	if (!s->queued)
		nqueued++;
	s->queued = ++queue_no;
	s->queued_why = why;
	metrics_changed();
}

unsigned long periodic_queued(void)
{
	return nqueued;
}

/* The one that waited longest among the final checkpoints, else among
 * the periodic ones, of users below max_user_workers; NULL: none may. */
static struct step *next_queued(void)
{
	struct step *s, *first = NULL;

	for (s = steps_first(); s; s = s->next) {
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
	struct ckpt_result r = { .error = why, .reason = s->queued_why };

	steps_done(s, &r, 0);
}

/* A worker ended: start the checkpoints waiting, in turn.  (A final
 * checkpoint that cannot start is reported as done, which comes back
 * here: that call has nothing to do.) */
static void start_queued(void)
{
	static bool running;
	struct step *first;
	char err[512];

	if (running)
		return;
	running = true;
	while (nqueued > 0 && worker_count() < hconf.max_workers &&
	       (first = next_queued())) {
		first->queued = 0;
		nqueued--;
		if (worker_start(first, first->queued_why, NULL, NULL, NULL,
				 err, sizeof(err)) == 0)
			continue;
		worker_record_error(first, errno, err);
		if (first->final)
			final_failed(first, err);
	}
	running = false;
}

static void timer_ready(struct watch *w, uint32_t events)
{
	struct timespec now = now_mono();
	struct step *s, *next;
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	for (s = steps_first(); s; s = next) {
		next = s->next;
		/* disabled: scheckpoint disable (enable sets due anew) */
		if (s->interval <= 0 || s->disabled || step_is_follower(s) ||
		    before(now, s->due))
			continue;
		while (!before(now, s->due))
			s->due.tv_sec += s->interval;
		start_periodic(s);
	}
	periodic_rearm();
	state_changed(false);
}


void periodic_rearm(void)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	bool any = false;
	struct step *s;

	for (s = steps_first(); s; s = s->next) {
		if (s->interval <= 0 || s->disabled || step_is_follower(s))
			continue;
		if (!any || before(s->due, its.it_value))
			its.it_value = s->due;
		any = true;
	}
	if (timerfd_settime(timer.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
}

long periodic_due_in(const struct step *s)
{
	struct timespec now = now_mono();

	return s->due.tv_sec > now.tv_sec ? (long)(s->due.tv_sec - now.tv_sec)
					  : 0;
}

void periodic_set_due_in(struct step *s, long seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds > s->interval)
		seconds = s->interval;
	s->due = now_mono();
	s->due.tv_sec += seconds;
	periodic_rearm();
}

/* ---------------------------------------------- the steps' events */

static void step_added(struct step *s)
{
	s->due = now_mono();
	s->due.tv_sec += s->interval;
	periodic_rearm();
}

/* A step gone while its checkpoint waited: a final one fails. */
static void step_removed(struct step *s)
{
	if (s->queued) {
		s->queued = 0;
		nqueued--;
		if (s->final)
			final_failed(s, "the step ended before its final "
				     "checkpoint could start");
	}
	periodic_rearm();
}

static void checkpoint_done(struct step *s, const struct ckpt_result *r,
			    long took)
{
	(void)s;
	(void)r;
	(void)took;
	start_queued();
}

static struct step_listener listener = {
	.added = step_added,
	.removed = step_removed,
	.done = checkpoint_done,
};

int periodic_init(void)
{
	timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer.fd < 0)
		return -1;
	timer.ready = timer_ready;
	if (loop_add(&timer, EPOLLIN) < 0)
		return -1;
	steps_listen(&listener);
	return 0;
}

void periodic_shutdown(void)
{
	if (timer.fd >= 0)
		close(timer.fd);
	timer.fd = -1;
}
