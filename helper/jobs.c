/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jobs.c - the jobs behind the registered steps.  Their end time and
 * whether they were selected for preemption come from slurmctld, with one
 * request for all jobs per poll interval (none while no step is
 * registered).  Before the end (end time minus the lead), on preemption
 * and after a checkpoint-and-exit, every step of the job on this node is
 * checkpointed once more ("final"), and the node running the batch step
 * then requeues the job, so that it resumes from the image. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "conf.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "periodic.h"
#include "privsep.h"
#include "report.h"
#include "resubmit.h"
#include "sched.h"
#include "state.h"
#include "steps.h"
#include "worker.h"

enum phase {
	RUNNING,		/* nothing done yet in this run */
	FINAL,			/* the final checkpoint is in progress */
	ACTING,			/* requeue (or its refusal) in progress */
	DONE,			/* this run has had its final checkpoint */
};

struct job {
	struct job *next;
	uint32_t id, uid, gid;
	unsigned nsteps;	/* registered steps on this node */
	bool batch_here;	/* the batch step runs on this node */
	char *dir;		/* its checkpoint directory (for the log) */
	char label[32];
	long lead, max_requeue;
	long max_wait;		/* the longest of its steps' max_wait */
	struct sched_job s;	/* slurmctld's view */
	enum phase phase;
	const char *why;	/* "deadline", "preemption", "exit-code" */
	int pending, committed, failed;
	long longest;		/* longest checkpoint seen, seconds */
	struct timespec final_start;
	time_t final_wall;	/* the same, wall clock */
	uint32_t acted_restarts;
	time_t run_start, run_end;	/* of the run the final one is for */
	time_t acted_preempt;	/* the preemption already acted on */
	bool resume_ok;		/* an image exists to resume from */
};

static struct job *jobs;
static struct watch poll_timer = { .fd = -1 };
static struct watch deadline_timer = { .fd = -1 };
static time_t since;		/* the time of slurmctld's data we hold */
static bool polling;		/* a poll child is running */
static struct timespec next_poll;
static char last_poll_error[256];

static struct timespec mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static struct job *job_find(uint32_t id)
{
	struct job *j;

	for (j = jobs; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void job_free_if_idle(struct job *j)
{
	struct job **pp;

	if (j->nsteps || j->phase == FINAL || j->phase == ACTING)
		return;
	for (pp = &jobs; *pp; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	free(j->dir);
	free(j);
}

/* ------------------------------------------------------------ timers */

static void arm(struct watch *t, int flags, const struct timespec *when)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (when) {
		its.it_value = *when;
		/* 0 would disarm: "now" is the smallest time in the past. */
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(t->fd, flags, &its, NULL) < 0)
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
}

static void poll_rearm(void)
{
	arm(&poll_timer, TFD_TIMER_ABSTIME,
	    jobs && !polling ? &next_poll : NULL);
}

static void poll_now(void)
{
	next_poll = mono();
	poll_rearm();
}

/* How long before an end the final checkpoint must start: twice the
 * longest checkpoint seen plus 10 s, or before one was measured the
 * steps' max_wait plus 10 s. */
static long final_cost(const struct job *j)
{
	return j->longest ? j->longest * 2 + 10 : j->max_wait + 10;
}

/* When the job's last checkpoint is due (wall clock), or 0 for never.
 * The lead grows with the longest checkpoint seen (twice it, plus 10 s).
 * A job whose time limit is shorter than twice the lead takes it as late
 * as its cost allows: that measured cost, or before any was measured
 * its steps' max_wait plus 10 s, and never before half of the limit. */
static time_t deadline_of(const struct job *j)
{
	long lead = j->lead, limit;

	if (!j->s.found || !j->s.running || j->s.end <= 0 || j->lead == 0)
		return 0;
	if (j->longest && final_cost(j) > lead)
		lead = final_cost(j);
	limit = (long)(j->s.end - j->s.start);
	if (limit > 0 && lead > limit / 2) {
		lead = final_cost(j);
		if (lead > limit / 2)
			lead = limit / 2;
	}
	return j->s.end - lead;
}

/* A preempted job that will not be requeued runs on to the end of its
 * grace time (slurmctld sets its end time there), and the work it does
 * meanwhile is kept only if the image comes late: as late as the cost
 * allows, as for a short job.  A requeued one is checkpointed at once
 * (the requeue ends the grace time early).  Wall clock. */
static time_t preempt_due(const struct job *j)
{
	time_t d;

	if (j->s.requeue_ok || j->s.end <= j->s.preempt)
		return j->s.preempt;
	d = j->s.end - final_cost(j);
	return d > j->s.preempt ? d : j->s.preempt;
}

/* Selected for preemption in this run, and not yet acted on.  (A
 * requeued job's record may still hold its last run's preemption.) */
static bool preempted(const struct job *j)
{
	return j->s.preempt && j->s.preempt != j->acted_preempt &&
	       j->s.preempt >= j->s.start;
}

static void final_checkpoint(struct job *j, const char *why);

void jobs_deadline(uint32_t id, time_t *end, time_t *final)
{
	const struct job *j = job_find(id);

	*end = *final = 0;
	if (!j || !j->s.found)
		return;
	*end = j->s.end;
	if (j->phase != RUNNING)
		return;
	if (preempted(j))
		*final = preempt_due(j);
	else
		*final = deadline_of(j);
}

/* Start what is due, and arm the deadline timer for the next one. */
static void evaluate(void)
{
	struct timespec when = { 0, 0 };
	time_t now = time(NULL), d, next = 0;
	struct job *j, *nj;

	for (j = jobs; j; j = nj) {
		nj = j->next;
		if (j->phase == DONE && j->s.running &&
		    j->s.restarts > j->acted_restarts)
			j->phase = RUNNING;	/* a new run */
		if (j->phase != RUNNING || !j->s.found || !j->s.running)
			continue;
		if (preempted(j)) {
			d = preempt_due(j);
			if (d <= now) {
				j->acted_preempt = j->s.preempt;
				final_checkpoint(j, "preemption");
			} else if (!next || d < next) {
				next = d;
			}
			continue;
		}
		d = deadline_of(j);
		if (!d)
			continue;
		if (d <= now) {
			final_checkpoint(j, "deadline");
			continue;
		}
		if (!next || d < next)
			next = d;
	}
	when.tv_sec = next;
	arm(&deadline_timer, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
	    next ? &when : NULL);
}

/* ------------------------------------------------------------- polls */

/* In the poll child: one request, one report. */
static int poll_child(void *arg, int out)
{
	struct sched_job *sj;
	json_t *o, *list;
	char err[512];
	bool unchanged;
	struct job *j;
	size_t n = 0, i;
	time_t t = since;

	(void)arg;
	for (j = jobs; j; j = j->next)
		n++;
	if (!(sj = calloc(n ? n : 1, sizeof(*sj))))
		return report_write(out, json_pack("{s:b,s:s}", "ok", 0,
						    "error", "out of memory"));
	for (j = jobs, i = 0; j; j = j->next, i++)
		sj[i].id = j->id;
	sched_init();
	if (sched_jobs(&t, &unchanged, sj, n, err, sizeof(err)) < 0)
		return report_write(out, json_pack("{s:b,s:s}", "ok", 0,
						    "error", err));
	list = json_array();
	for (i = 0; list && !unchanged && i < n; i++)
		json_array_append_new(list, json_pack(
			"[I,b,b,b,I,I,I,I]", (json_int_t)sj[i].id,
			sj[i].found, sj[i].running, sj[i].requeue_ok,
			(json_int_t)sj[i].start, (json_int_t)sj[i].end,
			(json_int_t)sj[i].preempt, (json_int_t)sj[i].restarts));
	o = json_pack("{s:b,s:b,s:I,s:o*}", "ok", 1, "unchanged", unchanged,
		      "since", (json_int_t)t, "jobs", list);
	free(sj);
	return report_write(out, o);
}

static void take_job(json_t *e)
{
	json_int_t id, start, end, preempt, restarts;
	int found, running, requeue;
	struct job *j;

	if (json_unpack(e, "[I,b,b,b,I,I,I,I]", &id, &found, &running,
			&requeue, &start, &end, &preempt, &restarts) < 0 ||
	    !(j = job_find((uint32_t)id)))
		return;
	if (found && preempt && !j->s.preempt)
		log_msg(LOG_NOTICE, "job %u selected for preemption",
			j->id);
	if (found && j->s.found && end != j->s.end && j->phase == RUNNING)
		log_msg(LOG_INFO, "job %u: end time now %lld (was %lld)",
			j->id, (long long)end, (long long)j->s.end);
	j->s.found = found;
	j->s.running = running;
	j->s.requeue_ok = requeue;
	j->s.start = (time_t)start;
	j->s.end = (time_t)end;
	j->s.preempt = (time_t)preempt;
	j->s.restarts = (uint32_t)restarts;
}

static void poll_done(void *arg, json_t *o, int status)
{
	const char *error = "no report";
	json_int_t t = 0;
	int ok = 0, unchanged = 0;
	json_t *list = NULL, *e;
	size_t i;

	(void)arg;
	polling = false;
	if (o) {
		metrics_slurmctld("poll");
		json_unpack(o, "{s:b,s?s,s?b,s?I,s?o}", "ok", &ok, "error",
			    &error, "unchanged", &unchanged, "since", &t,
			    "jobs", &list);
	}
	if (!ok) {
		/* Said once until it changes: slurmctld may be down a while. */
		if (strcmp(error, last_poll_error) != 0)
			log_msg(LOG_WARNING, "cannot ask slurmctld about jobs "
				"(status %d): %s", status, error);
		snprintf(last_poll_error, sizeof(last_poll_error), "%s",
			 error);
	} else {
		last_poll_error[0] = '\0';
		if (!unchanged) {
			since = (time_t)t;
			json_array_foreach(list, i, e)
				take_job(e);
		}
	}
	next_poll = mono();
	next_poll.tv_sec += hconf.poll_interval;
	poll_rearm();
	evaluate();
}

static void poll_ready(struct watch *w, uint32_t events)
{
	char err[512];
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	if (polling || !jobs)
		return;
	if (child_start(poll_child, NULL, poll_done, NULL, err,
			sizeof(err)) < 0) {
		log_msg(LOG_ERR, "poll: %s", err);
		next_poll = mono();
		next_poll.tv_sec += hconf.poll_interval;
		poll_rearm();
		return;
	}
	polling = true;
	poll_rearm();
}

static void deadline_ready(struct watch *w, uint32_t events)
{
	uint64_t ticks;

	(void)events;
	/* ECANCELED: the clock was set; evaluate() rearms either way. */
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN &&
	    errno != ECANCELED)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	evaluate();
}

/* ----------------------------------------------- final checkpoint, requeue */

/* In the action child (root): requeue, or say why not; then write the
 * outcome into the user's checkpoint.log with the user's credentials. */
static int act_child(void *arg, int out)
{
	const struct job *j = arg;
	struct sched_job cur;
	char err[512] = "", what[1024], text[1200], comment[256];
	const char *action = "none";
	long took = (long)(mono().tv_sec - j->final_start.tv_sec);

	sched_init();
	if (!j->resume_ok) {
		snprintf(what, sizeof(what), "not requeued: no image to "
			 "resume from (%d step(s) failed)", j->failed);
	} else if (sched_job(j->id, &cur, err, sizeof(err)) < 0) {
		snprintf(what, sizeof(what), "not requeued: %s", err);
	} else if (cur.restarts > j->acted_restarts) {
		/* A framework (PyTorch Lightning, submitit) that saved on the
		 * signal and ran "scontrol requeue" itself. */
		action = "requeued";
		snprintf(what, sizeof(what), "the job requeued itself "
			 "(restart count %u): not requeued again",
			 cur.restarts);
	} else if (strcmp(j->why, "sigterm") == 0 &&
		   !(cur.preempt && cur.preempt >= cur.start)) {
		/* scancel, or a step's own end: the run goes on or ends.
		 * (The time limit's SIGTERM comes after the deadline's
		 * checkpoint.) */
		action = "running";
		snprintf(what, sizeof(what), "not requeued: the job was not "
			 "preempted; the image is kept");
	} else if (!cur.requeue_ok) {
		snprintf(what, sizeof(what), "not requeued: the job may not "
			 "be requeued (--no-requeue, JobRequeue=0, or not a "
			 "batch job); the image is kept");
		action = "kept";
	} else if (j->max_requeue && cur.restarts >= j->max_requeue) {
		if (sched_requeue(j->id, true, err, sizeof(err)) < 0) {
			snprintf(what, sizeof(what), "%s", err);
		} else {
			action = "held";
			snprintf(what, sizeof(what), "requeued and held: "
				 "restart count %u reached max_requeue=%ld; "
				 "'scontrol release %u' resumes it",
				 cur.restarts, j->max_requeue, j->id);
			snprintf(comment, sizeof(comment), "slurm-checkpoint: "
				 "held after %u requeue%s (max_requeue=%ld)",
				 cur.restarts, cur.restarts == 1 ? "" : "s",
				 j->max_requeue);
			if (sched_comment(j->id, comment, err,
					  sizeof(err)) < 0)
				log_msg(LOG_WARNING, "job %u: %s", j->id, err);
		}
	} else if (sched_requeue(j->id, false, err, sizeof(err)) < 0) {
		/* slurmctld may have requeued it meanwhile: 24.11 does, for
		 * a preempted job that ends in its grace time. */
		if (sched_job(j->id, &cur, what, sizeof(what)) == 0 &&
		    cur.restarts > j->acted_restarts) {
			action = "requeued";
			snprintf(what, sizeof(what), "requeued by slurmctld "
				 "meanwhile (restart count %u)", cur.restarts);
		} else {
			snprintf(what, sizeof(what), "%s", err);
		}
	} else {
		action = "requeued";
		snprintf(what, sizeof(what), "requeued (restart count %u)",
			 cur.restarts + 1);
	}
	snprintf(text, sizeof(text), "%s %s: final checkpoint %s (%d "
		 "committed, %d failed, %ld s); %s", j->label, j->why,
		 j->committed ? "done" : "failed", j->committed, j->failed,
		 took, what);
	/* How much of the run's time limit went into work that was kept. */
	if (strcmp(j->why, "deadline") == 0 && j->run_end > j->run_start &&
	    j->final_wall >= j->run_start)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "; useful %ld of %ld s (%ld%%)",
			 (long)(j->final_wall - j->run_start),
			 (long)(j->run_end - j->run_start),
			 (long)(100 * (j->final_wall - j->run_start) /
				(j->run_end - j->run_start)));
	privsep_log_as(j->uid, j->gid, j->dir, text, err, sizeof(err));
	return report_write(out, json_pack("{s:s,s:s,s:s}", "action", action,
					    "text", text, "log_error", err));
}

static void act_done(void *arg, json_t *o, int status)
{
	struct job *j = arg;
	const char *action = "failed", *text = "no report", *lerr = "";

	if (o) {
		json_unpack(o, "{s:s,s:s,s?s}", "action", &action, "text",
			    &text, "log_error", &lerr);
		metrics_slurmctld("requeue");
	}
	if (strcmp(action, "requeued") == 0 || strcmp(action, "held") == 0)
		metrics_requeue(j->why, strcmp(action, "held") == 0);
	log_msg(strcmp(action, "requeued") ? LOG_WARNING : LOG_NOTICE,
		"job %u: %s%s%s", j->id, text, *lerr ? "; " : "", lerr);
	if (!o)
		log_msg(LOG_ERR, "job %u: requeue child ended with status %d",
			j->id, status);
	/* After a SIGTERM that was no preemption the run goes on: its
	 * deadline and preemption still come. */
	j->phase = strcmp(action, "running") ? DONE : RUNNING;
	state_changed(true);
	job_free_if_idle(j);
}

static bool any_image(const struct job *j)
{
	struct step *s;

	if (j->committed || j->s.restarts)
		return true;
	for (s = steps_first(); s; s = s->next)
		if (s->job == j->id && s->last_seq)
			return true;
	return false;
}

static void act(struct job *j)
{
	char err[512];

	if (strcmp(j->why, "sigterm") == 0 && !j->committed && !j->failed) {
		/* A task that ended and wrote nothing: an ordinary end. */
		j->phase = RUNNING;
		job_free_if_idle(j);
		return;
	}
	j->phase = ACTING;
	if (!j->batch_here) {
		log_msg(LOG_NOTICE, "job %u: %s checkpoint done here; the "
			"batch step's node requeues the job", j->id, j->why);
		j->phase = DONE;
		job_free_if_idle(j);
		return;
	}
	j->resume_ok = any_image(j);
	if (child_start(act_child, j, act_done, j, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "job %u: cannot requeue: %s", j->id, err);
		j->phase = DONE;
		job_free_if_idle(j);
	}
}

/* The job's final checkpoint starts: what it is for, and what the run
 * was at this moment (a poll may bring the next run's record before the
 * requeue is decided). */
static void final_begin(struct job *j, const char *why)
{
	j->phase = FINAL;
	j->why = why;
	j->pending = j->committed = j->failed = 0;
	j->final_start = mono();
	j->final_wall = time(NULL);
	/* The run's count: one higher at act() means the job requeued
	 * itself meanwhile (a framework's "scontrol requeue"). */
	j->acted_restarts = j->s.restarts;
	j->run_start = j->s.start;
	j->run_end = j->s.end;
}

static void final_checkpoint(struct job *j, const char *why)
{
	char err[512];
	struct step *s;

	final_begin(j, why);
	log_msg(LOG_NOTICE, "job %u: %s checkpoint (end time %lld, %lld s "
		"left)", j->id, why, (long long)j->s.end,
		(long long)(j->s.end - time(NULL)));
	for (s = steps_first(); s; s = s->next) {
		/* A follower's part is asked by the step's leader. */
		if (s->job != j->id || step_is_follower(s))
			continue;
		if (s->worker) {	/* the one in flight will do */
			s->final = true;
			j->pending++;
		} else if (worker_start(s, why, NULL, NULL, NULL, err,
					sizeof(err)) == 0) {
			s->final = true;
			j->pending++;
		} else if (errno == EAGAIN && worker_count() > 0) {
			/* No worker free (or the user has all theirs): it
			 * waits, ahead of every periodic checkpoint. */
			log_msg(LOG_NOTICE, "%s: %s checkpoint waits for a "
				"worker: %s", s->label, why, err);
			s->final = true;
			j->pending++;
			periodic_enqueue(s, why);
		} else {
			j->failed++;
			log_msg(LOG_WARNING, "job %u: %s", j->id, err);
		}
	}
	if (j->pending == 0)
		act(j);
}

/* ------------------------------------------------------ from steps.c */

static void step_added(struct step *s)
{
	struct job *j = job_find(s->job);

	if (!j) {
		if (!(j = calloc(1, sizeof(*j)))) {
			log_msg(LOG_ERR, "job %u: out of memory", s->job);
			return;
		}
		j->id = s->job;
		j->next = jobs;
		jobs = j;
	}
	j->uid = s->uid;
	j->gid = s->gid;
	j->lead = s->lead;
	if (s->max_wait > j->max_wait)
		j->max_wait = s->max_wait;
	j->max_requeue = s->max_requeue;
	j->nsteps++;
	if (s->id == CKPT_STEP_BATCH) {
		char *d = strdup(s->dir);

		if (d) {
			free(j->dir);
			j->dir = d;
			j->batch_here = true;
		}
		snprintf(j->label, sizeof(j->label), "%s", s->label);
		/* A new run of the job (after a requeue). */
		if (j->phase == DONE) {
			j->phase = RUNNING;
			j->s.found = false;
		}
	}
	if (!j->s.found) {
		since = 0;	/* we need this job's record in full */
		poll_now();
	}
}

static void step_removed(struct step *s)
{
	struct job *j = job_find(s->job);

	if (!j)
		return;
	/* The batch script ended: a preemption may have cancelled the job
	 * (not when the daemon exits, which removes every step). */
	if (s->id == CKPT_STEP_BATCH && s->resubmit && j->dir &&
	    !loop_stopping())
		resubmit_when_cancelled(j->id, j->uid, j->gid, j->dir,
					j->s.restarts);
	if (j->nsteps)
		j->nsteps--;
	if (!j->nsteps)
		job_free_if_idle(j);
	poll_rearm();
}

static void checkpoint_done(struct step *s, const struct ckpt_result *r,
			    long took)
{
	struct job *j = job_find(s->job);
	bool final = s->final;

	if (r->part)
		return;

	s->final = false;
	if (!j)
		return;
	if (r->ok && took > j->longest) {
		j->longest = took;
		state_changed(false);
	}
	if (!final || j->phase != FINAL)
		return;
	if (r->ok)
		j->committed++;
	else if (!r->uncaught && !r->skipped)
		j->failed++;
	if (--j->pending <= 0)
		act(j);
}

/* A task of a step whose checkpoint signal is SIGTERM ended.  Slurm may
 * have sent that SIGTERM (at preemption, before a poll says so) and the
 * task may have written its state on the way out: it is taken now, while
 * the step is registered.  A task that wrote nothing just ended. */
static void sigterm_exit(struct job *j, struct step *s, uint32_t task,
			 int status)
{
	char err[512];

	if (!j || j->phase != RUNNING || s->nnodes > 1)
		return;		/* a final checkpoint in flight waits for it */
	log_msg(LOG_INFO, "%s: task %u ended (status %d): taking what it "
		"wrote on SIGTERM", s->label, task, status);
	if (preempted(j)) {
		j->acted_preempt = j->s.preempt;
		final_checkpoint(j, "preemption");
		return;
	}
	final_begin(j, "sigterm");
	if (!s->worker && worker_start(s, "sigterm", NULL, NULL, NULL, err,
				       sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: %s", s->label, err);
		j->phase = RUNNING;
		return;
	}
	/* One in flight was asked with SIGTERM: the end answers it too. */
	s->final = true;
	j->pending = 1;
}

void jobs_task_exit(struct step *s, uint32_t task, int status)
{
	struct job *j = job_find(s->job);
	char err[512];

	if (step_on_sigterm(s)) {
		sigterm_exit(j, s, task, status);
		return;
	}
	if (!s->exit_code || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != s->exit_code)
		return;
	log_msg(LOG_NOTICE, "%s: task %u exited with the checkpoint exit "
		"code %d", s->label, task, s->exit_code);
	if (!j || j->phase != RUNNING) {
		log_msg(LOG_WARNING, "%s: exit code ignored: the job's final "
			"checkpoint is already under way", s->label);
		return;
	}
	final_begin(j, "exit-code");
	if (s->worker) {
		worker_cancel(s->worker);	/* it asked a task that is gone */
		log_msg(LOG_WARNING, "%s: checkpoint in flight cancelled",
			s->label);
		j->failed++;
		act(j);
		return;
	}
	if (worker_start(s, "exit-code", NULL, NULL, NULL, err,
			 sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: %s", s->label, err);
		j->failed++;
		act(j);
		return;
	}
	s->final = true;
	j->pending = 1;
}

/* ------------------------------------------------------ saved state */

/* What of a job survives the helper's restart (the rest comes from its
 * steps and from slurmctld).  A final checkpoint or requeue that was in
 * progress is not: it is done again. */
static json_t *state_save(void)
{
	json_t *a = json_array();
	struct job *j;

	for (j = jobs; a && j; j = j->next)
		json_array_append_new(a, json_pack(
			"{s:I,s:I,s:I,s:I,s:b}", "id", (json_int_t)j->id,
			"longest", (json_int_t)j->longest,
			"acted_restarts", (json_int_t)j->acted_restarts,
			"acted_preempt", (json_int_t)(j->phase == DONE ?
						      j->acted_preempt : 0),
			"done", j->phase == DONE));
	return a;
}

static void state_load(json_t *a)
{
	json_int_t id, longest, restarts, preempt;
	int done;
	struct job *j;
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e) {
		if (json_unpack(e, "{s:I,s:I,s:I,s:I,s:b}", "id", &id,
				"longest", &longest, "acted_restarts",
				&restarts, "acted_preempt", &preempt, "done",
				&done) < 0 || !(j = job_find((uint32_t)id)))
			continue;
		j->longest = (long)longest;
		j->acted_restarts = (uint32_t)restarts;
		j->acted_preempt = (time_t)preempt;
		if (done)
			j->phase = DONE;
	}
}

static struct step_listener listener = {
	.added = step_added,
	.removed = step_removed,
	.done = checkpoint_done,
};

int jobs_init(void)
{
	poll_timer.fd = timerfd_create(CLOCK_MONOTONIC,
				       TFD_NONBLOCK | TFD_CLOEXEC);
	deadline_timer.fd = timerfd_create(CLOCK_REALTIME,
					   TFD_NONBLOCK | TFD_CLOEXEC);
	if (poll_timer.fd < 0 || deadline_timer.fd < 0)
		return -1;
	poll_timer.ready = poll_ready;
	deadline_timer.ready = deadline_ready;
	if (loop_add(&poll_timer, EPOLLIN) < 0 ||
	    loop_add(&deadline_timer, EPOLLIN) < 0 ||
	    state_section("jobs", state_save, state_load) < 0)
		return -1;
	steps_listen(&listener);
	return 0;
}

void jobs_shutdown(void)
{
	struct job *j;

	while ((j = jobs)) {
		jobs = j->next;
		free(j->dir);
		free(j);
	}
	if (poll_timer.fd >= 0)
		close(poll_timer.fd);
	if (deadline_timer.fd >= 0)
		close(deadline_timer.fd);
}
