/* SPDX-License-Identifier: GPL-2.0-or-later */
/* worker.c - each checkpoint runs in a child process ("worker", started
 * by child.c) so that the event loop never blocks and no file under a
 * user's directory is touched with root's rights.  The child keeps the
 * pidfds of the step's tasks, becomes the user and runs the checkpoint
 * (engine.c, or a follower's part: peer_worker.c); its report is the
 * outcome, on the step and to the step's listeners. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "conf.h"
#include "engine.h"
#include "errbuf.h"
#include "log.h"
#include "method.h"
#include "metrics.h"
#include "peer_worker.h"
#include "privsep.h"
#include "report.h"
#include "run.h"
#include "state.h"
#include "steps.h"
#include "worker.h"

struct worker {
	struct child *child;
	struct step *step;
	worker_done_fn done;	/* told first, then the step's listeners */
	void *done_arg;
	bool part;		/* a follower's part (peer.c) */
	char why[32];		/* its reason, for the listeners */
	/* For the child: its reason, ImageDir= (or NULL), the tasks'
	 * pidfds (their numbers in the child once it runs), its parent. */
	const char *reason, *image_dir;
	int *keep;
	size_t nkeep;
	pid_t parent;
};

static int nworkers;		/* in flight */

int worker_count(void)
{
	return nworkers;
}

/* Checkpoints in flight per user, counted as nworkers is: one entry per
 * uid that has any (the queue asks for each step it considers). */
struct user_workers {
	struct user_workers *next;
	uid_t uid;
	long n;
};
static struct user_workers *user_workers;

static struct user_workers **user_find(uid_t uid)
{
	struct user_workers **pp;

	for (pp = &user_workers; *pp && (*pp)->uid != uid; pp = &(*pp)->next)
		;
	return pp;
}

/* d: +1 or -1.  0, or -1 (out of memory: the worker is not started). */
static int user_count(uid_t uid, int d)
{
	struct user_workers **pp = user_find(uid), *u = *pp;

	if (!u) {
		if (d < 0 || !(u = calloc(1, sizeof(*u))))
			return -1;
		u->uid = uid;
		*pp = u;
	}
	if ((u->n += d) <= 0) {
		*pp = u->next;
		free(u);
	}
	return 0;
}

bool worker_user_may(const struct step *s)
{
	const struct user_workers *u = *user_find(s->uid);

	return (u ? u->n : 0) < hconf.max_user_workers;
}

void worker_record_error(struct step *s, int code, const char *error)
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

void worker_cancel(struct worker *wk)
{
	if (child_kill(wk->child) < 0)
		log_msg(LOG_ERR, "cannot stop worker %d: %s",
			(int)child_pid(wk->child), strerror(errno));
}

/* In the child (child_fn): the tasks' pidfds under their numbers here,
 * then the user's credentials, then the checkpoint or the part. */
static int worker_main(void *arg, int out)
{
	struct worker *wk = arg;
	struct step *s = wk->step;
	struct ckpt_run r;
	char err[512];
	struct task *t;
	size_t k;

	for (t = s->tasks, k = 0; t && k < wk->nkeep; t = t->next, k++)
		t->w.fd = wk->keep[k];
	free(wk->keep);
	wk->keep = NULL;
	run_init(&r, s, wk->reason);
	/* restart submits the batch script again: its image keeps it. */
	if (s->id == CKPT_STEP_BATCH)
		run_fetch_job(&r, s->method ? method_name(s->method) :
			      "signal");
	/* A multi-node step's leader seals its requests as root. */
	if (!wk->part && s->nnodes > 1)
		peer_leader_seal(s);
	/* The criu method runs "criu dump --unprivileged" as the user. */
	if ((s->method && method_criu(s->method) ?
	     privsep_become_ckpt(s->uid, s->gid, err, sizeof(err)) :
	     privsep_become(s->uid, s->gid, err, sizeof(err))) < 0) {
		report_write(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    err));
		return -1;
	}
	/* A worker outliving a killed helper would race the next one in the
	 * staging directory: it dies with its helper (again: the change of
	 * credentials cleared what child.c set). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != wk->parent)
		return -1;
	/* privsep_become left it not dumpable: a leader holds requests
	 * sealed as root (peer.c), which the user must not read. */
	if (wk->part)
		return peer_part_run(&r, out);
	return engine_run(&r, wk->image_dir, out);
}

static void worker_done(void *arg, json_t *report, int status);

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, worker_done_fn done, void *arg, char *err,
		 size_t errlen);

int worker_start(struct step *s, const char *reason, const char *image_dir,
		 worker_done_fn done, void *arg, char *err, size_t errlen)
{
	return start(s, reason, image_dir, false, done, arg, err, errlen);
}

int worker_start_part(struct step *s, char *err, size_t errlen)
{
	return start(s, "part", NULL, true, NULL, NULL, err, errlen);
}

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, worker_done_fn done, void *arg, char *err,
		 size_t errlen)
{
	struct worker *wk;
	struct task *t;
	size_t k;

	if (s->worker)
		return errprintf(err, errlen, EALREADY,
				 "checkpoint of %s already in progress",
				 s->label);
	if (nworkers >= hconf.max_workers)
		return errprintf(err, errlen, EAGAIN,
				 "too many checkpoints in progress (%ld)",
				 hconf.max_workers);
	/* One user's steps that never answer cannot hold every worker:
	 * the others' deadline and preemption checkpoints find one. */
	if (!worker_user_may(s))
		return errprintf(err, errlen, EAGAIN,
				 "uid %u has %ld checkpoints in progress "
				 "(max_user_workers)",
				 (unsigned)s->uid, hconf.max_user_workers);
	if (!s->tasks)
		return errprintf(err, errlen, ESRCH, "%s has no running task",
				 s->label);
	if (!(wk = calloc(1, sizeof(*wk))) || user_count(s->uid, 1) < 0) {
		free(wk);
		return errprintf(err, errlen, ENOMEM, "out of memory");
	}
	privsep_prefetch(s->uid, s->gid);
	for (t = s->tasks; t; t = t->next)
		wk->nkeep++;
	if (!(wk->keep = calloc(wk->nkeep, sizeof(*wk->keep)))) {
		user_count(s->uid, -1);
		free(wk);
		return errprintf(err, errlen, ENOMEM, "out of memory");
	}
	for (t = s->tasks, k = 0; t; t = t->next)
		wk->keep[k++] = t->w.fd;
	wk->step = s;
	wk->done = done;
	wk->done_arg = arg;
	wk->part = part;
	wk->reason = reason;
	snprintf(wk->why, sizeof(wk->why), "%s", reason);
	wk->image_dir = image_dir;
	wk->parent = getpid();
	/* Before the spawn: the worker's commit logs the time from here. */
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	wk->child = child_spawn(worker_main, wk, wk->keep, wk->nkeep,
				worker_done, wk, err, errlen);
	free(wk->keep);
	wk->keep = NULL;
	wk->reason = wk->image_dir = NULL;	/* the caller's */
	if (!wk->child) {
		user_count(s->uid, -1);
		free(wk);
		return -1;
	}
	s->worker = wk;
	nworkers++;
	metrics_changed();
	log_msg(LOG_INFO, "checkpoint of %s (%s) started, worker %d%s%s",
		s->label, reason, (int)child_pid(wk->child),
		image_dir ? ", ImageDir=" : "", image_dir ? image_dir : "");
	return 0;
}

/* The outcome on the step (its last seq or error, said in the log),
 * then to the step's listeners. */
static void checkpoint_done(struct step *s, struct ckpt_result *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s->worker = NULL;
	r->seconds = (double)(now.tv_sec - s->started.tv_sec) +
		     (now.tv_nsec - s->started.tv_nsec) / 1e9;
	if (r->part) {
		if (!r->ok)
			worker_record_error(s, EIO, r->error);
	} else if (r->ok) {
		s->last_seq = r->seq;
		state_changed(false);
		log_msg(LOG_NOTICE, "checkpoint of %s committed: %s (seq %llu)",
			s->label, r->image, (unsigned long long)r->seq);
	} else if (r->skipped) {
		log_msg(LOG_NOTICE, "checkpoint of %s skipped: %s", s->label,
			r->error);
	} else if (r->uncaught && s->uncaught_noted) {
		log_msg(LOG_DEBUG, "%s: %s", s->label, r->error);
	} else {
		s->uncaught_noted |= r->uncaught;
		worker_record_error(s, r->uncaught ? ENOTSUP : EIO, r->error);
	}
	steps_done(s, r, (long)(now.tv_sec - s->started.tv_sec));
}

/* The child has ended (child_done_fn): its report, anything unexpected
 * a failure (report.c), on the step and to the listeners. */
static void worker_done(void *arg, json_t *report, int status)
{
	struct worker *wk = arg;
	struct ckpt_result r;
	char why[256];

	if (report_decode(report, wk->part, &r) < 0) {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "worker killed by signal "
				 "%d", WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "worker exited %d without "
				 "a report", WEXITSTATUS(status));
		r.error = why;
	}
	r.reason = wk->why;
	/* What the worker asked slurmctld as root (worker_main()). */
	if (!wk->part && wk->step->id == CKPT_STEP_BATCH)
		metrics_slurmctld("job_save");
	if (!wk->part && wk->step->nnodes > 1)
		metrics_slurmctld("step_nodes");
	nworkers--;
	user_count(wk->step->uid, -1);
	if (wk->done)
		wk->done(wk->done_arg, wk->step, &r);
	checkpoint_done(wk->step, &r);
	free(wk);
}
