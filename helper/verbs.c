/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verbs.c - what scheckpoint's verbs need beyond the loop, on the loop's
 * side: the steps' registrations as JSON, the list of a job's images and
 * the end of vacate and requeue, each started in a child and answered
 * when it ends (what the children do: verbs_child.c). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "child.h"
#include "errbuf.h"
#include "jobs.h"
#include "log.h"
#include "method.h"
#include "metrics.h"
#include "steps.h"
#include "verbs.h"
#include "verbs_child.h"

/* ------------------------------------------------------ registrations */

static json_int_t realtime_of(const struct timespec *mono_due)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (json_int_t)(time(NULL) + (mono_due->tv_sec - now.tv_sec));
}

json_t *verbs_step_info(const struct step *s, enum ckpt_op op)
{
	const char *periodic = s->interval <= 0 ? "none" :
			       s->disabled ? "disabled" : "enabled";
	unsigned ntasks = 0;
	const struct task *t;
	time_t end, final;

	for (t = s->tasks; t; t = t->next)
		ntasks++;
	switch (op) {
	case CKPT_OP_ABLE:
		return json_pack("{s:s,s:b,s:I}", "step", s->label,
				 "able", 1, "since", (json_int_t)s->registered);
	case CKPT_OP_ERROR:
		return json_pack("{s:s,s:i,s:s,s:I}", "step", s->label,
				 "error_code", s->last_error ? s->last_errno : 0,
				 "error_msg", s->last_error ? s->last_error : "",
				 "error_time",
				 (json_int_t)(s->last_error ? s->last_error_time
							    : 0));
	case CKPT_OP_ENABLE:
	case CKPT_OP_DISABLE:
		return json_pack("{s:s,s:s}", "step", s->label,
				 "periodic", periodic);
	default:
		break;
	}
	jobs_deadline(s->job, &end, &final);
	return json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:I,"
			 "s:I,s:b,s:I,s:I,s:I,s:I}",
			 "step", s->label, "job", (json_int_t)s->job,
			 "node", s->node, "uid", (json_int_t)s->uid,
			 "dir", s->dir,
			 "method", s->method ? method_name(s->method) : "signal",
			 "interval", (json_int_t)s->interval,
			 "keep", (json_int_t)s->keep,
			 "max_wait", (json_int_t)s->max_wait,
			 "periodic", periodic,
			 "next_checkpoint", (json_int_t)(s->interval > 0 &&
				!s->disabled ? realtime_of(&s->due) : 0),
			 "last_seq", (json_int_t)s->last_seq,
			 "in_progress", s->worker != NULL,
			 "tasks", (json_int_t)ntasks,
			 "registered", (json_int_t)s->registered,
			 "end_time", (json_int_t)end,
			 "final_checkpoint", (json_int_t)final);
}

/* ------------------------------------------------------ children */

static void req_free(struct verbs_req *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->steps[i].dir);
	free(r);
}

static void list_done(void *arg, json_t *o, int status)
{
	struct verbs_req *r = arg;
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		r->done(r->arg, true, 0, text);
	else
		r->done(r->arg, false, EIO, status ? "the list child failed"
						   : "out of memory");
	free(text);
	req_free(r);
}

int verbs_list(const struct step *const *steps, size_t n, const char *dir,
	       verbs_done_fn done, void *arg, char *err, size_t errlen)
{
	struct verbs_req *r;
	size_t i, k;

	r = calloc(1, sizeof(*r) + n * sizeof(r->steps[0]));
	if (!r)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	r->done = done;
	r->arg = arg;
	r->op = CKPT_OP_LIST;
	/* One directory per image name; the first step's user reads them
	 * all (every step of a job belongs to its owner). */
	for (i = 0; i < n; i++) {
		const char *d = dir ? dir : steps[i]->dir;	/* ImageDir= */

		for (k = 0; k < r->n; k++)
			if (strcmp(r->steps[k].dir, d) == 0 &&
			    strcmp(r->steps[k].name, steps[i]->name) == 0)
				break;
		if (k < r->n)
			continue;
		if (!(r->steps[r->n].dir = strdup(d))) {
			req_free(r);
			return errprintf(err, errlen, ENOMEM, "out of memory");
		}
		snprintf(r->steps[r->n].name, sizeof(r->steps[r->n].name),
			 "%s", steps[i]->name);
		r->steps[r->n].uid = steps[i]->uid;
		r->steps[r->n].gid = steps[i]->gid;
		r->n++;
	}
	if (child_start(verbs_list_child, r, list_done, r, err, errlen) < 0) {
		req_free(r);
		return -1;
	}
	return 0;
}

static void act_done(void *arg, json_t *o, int status)
{
	struct verbs_req *r = arg;
	const char *error = "no report from the child";
	int ok = 0;

	if (o) {
		json_unpack(o, "{s:b,s:s}", "ok", &ok, "error", &error);
		metrics_slurmctld(r->op == CKPT_OP_VACATE ? "cancel" :
				  "requeue");
	}
	if (ok && r->op != CKPT_OP_VACATE)
		metrics_requeue("requeue", false);
	if (!o)
		log_msg(LOG_ERR, "job %u: %s child ended with status %d",
			r->job, r->op == CKPT_OP_VACATE ? "cancel" : "requeue",
			status);
	log_msg(ok ? LOG_NOTICE : LOG_WARNING, "job %u: %s%s%s", r->job,
		r->op == CKPT_OP_VACATE ? "vacated" : "requeued",
		ok ? "" : " failed: ", ok ? "" : error);
	r->done(r->arg, ok, ok ? 0 : EIO, ok ? NULL : error);
	req_free(r);
}

int verbs_act(uint32_t job, enum ckpt_op op, verbs_done_fn done, void *arg,
	      char *err, size_t errlen)
{
	struct verbs_req *r = calloc(1, sizeof(*r));

	if (!r)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	r->done = done;
	r->arg = arg;
	r->job = job;
	r->op = op;
	if (child_start(verbs_act_child, r, act_done, r, err, errlen) < 0) {
		free(r);
		return -1;
	}
	return 0;
}
