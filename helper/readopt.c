/* SPDX-License-Identifier: GPL-2.0-or-later */
/* readopt.c - the registered steps in the saved state (state.c): each
 * with its tasks' pids and start times, the time to its next checkpoint
 * and its last error.  At start-up running steps are re-adopted, not
 * restarted: each task's pidfd is opened again on its saved pid, and kept
 * only if that process started when the saved one did.  Staging left by
 * a checkpoint the restart interrupted is removed first, with the user's
 * credentials, and the newest image's seq read there (a commit the saved
 * state had not caught up with). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "image.h"
#include "log.h"
#include "method.h"
#include "periodic.h"
#include "privsep.h"
#include "readopt.h"
#include "report.h"
#include "state.h"
#include "steps.h"

enum ftype { F_U32, F_INT, F_LONG, F_U64, F_BOOL, F_STR };

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	bool runtime;		/* not part of the registration */
};

#define F(k, t, m, r) { k, t, offsetof(struct step, m), r }
/* time_t fields are saved as F_LONG. */
_Static_assert(sizeof(time_t) == sizeof(long), "time_t is not a long");

/* The saved fields of a step, in one place.  Registration fields rebuild
 * the registration (and go through its checks again); runtime fields are
 * copied onto the step afterwards and may be missing from an older file.
 * Besides these: "method" (its name), "due_in" and "tasks". */
static const struct field step_fields[] = {
	F("job", F_U32, job, false),
	F("step", F_U32, id, false),
	F("uid", F_U32, uid, false),
	F("gid", F_U32, gid, false),
	F("ntasks", F_U32, ntasks, false),
	F("interval", F_LONG, interval, false),
	F("max_wait", F_LONG, max_wait, false),
	F("keep", F_LONG, keep, false),
	F("lead", F_LONG, lead, false),
	F("max_requeue", F_LONG, max_requeue, false),
	F("exit_code", F_INT, exit_code, false),
	F("signo", F_INT, signo, false),
	F("dir", F_STR, dir, false),
	F("node", F_STR, node, false),
	F("last_seq", F_U64, last_seq, true),
	F("last_error", F_STR, last_error, true),
	F("uncaught_noted", F_BOOL, uncaught_noted, true),
	F("trigger", F_STR, trigger, true),
	F("watch", F_STR, watch, true),
	F("local", F_STR, local, true),
	F("disabled", F_BOOL, disabled, true),
	F("last_errno", F_INT, last_errno, true),
	F("last_error_time", F_LONG, last_error_time, true),
	F("registered", F_LONG, registered, true),
	F("nodeid", F_U32, nodeid, true),
	F("nnodes", F_U32, nnodes, true),
	{ NULL, 0, 0, false },
};

static json_t *field_get(const struct field *f, const struct step *s)
{
	const char *p = (const char *)s + f->off;

	switch (f->type) {
	case F_U32: return json_integer(*(const uint32_t *)p);
	case F_INT: return json_integer(*(const int *)p);
	case F_LONG: return json_integer(*(const long *)p);
	case F_U64: return json_integer((json_int_t)*(const uint64_t *)p);
	case F_BOOL: return json_boolean(*(const bool *)p);
	case F_STR: return *(char *const *)p ? json_string(*(char *const *)p)
					     : json_null();
	}
	return NULL;
}

static json_t *step_save(const struct step *s)
{
	json_t *o = json_object(), *tasks = json_array();
	const struct field *f;
	const struct task *t;

	if (!o || !tasks) {
		json_decref(o);
		json_decref(tasks);
		return NULL;
	}
	for (f = step_fields; f->key; f++)
		json_object_set_new(o, f->key, field_get(f, s));
	json_object_set_new(o, "method", s->method ?
			    json_string(method_name(s->method)) : json_null());
	json_object_set_new(o, "due_in", json_integer(periodic_due_in(s)));
	for (t = s->tasks; t; t = t->next)
		if (t->pid > 0 && !t->exited)
			json_array_append_new(tasks, json_pack(
				"{s:I,s:I,s:I}", "id", (json_int_t)t->id,
				"pid", (json_int_t)t->pid, "start",
				(json_int_t)t->start));
	json_object_set_new(o, "tasks", tasks);
	return o;
}

static json_t *steps_save(void)
{
	json_t *a = json_array();
	const struct step *s;

	for (s = steps_first(); a && s; s = s->next)
		if (!s->gone)
			json_array_append_new(a, step_save(s));
	return a;
}

static int field_set(const struct field *f, struct step *s, json_t *v)
{
	char *p = (char *)s + f->off;
	json_int_t i;

	if (f->type == F_STR) {
		if (json_is_null(v))
			return 0;
		if (!json_is_string(v) ||
		    !(*(char **)p = strdup(json_string_value(v))))
			return -1;
		return 0;
	}
	if (f->type == F_BOOL) {
		if (!json_is_boolean(v))
			return -1;
		*(bool *)p = json_is_true(v);
		return 0;
	}
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0)
		return -1;
	switch (f->type) {
	case F_U32:
		if (i > UINT32_MAX)
			return -1;
		*(uint32_t *)p = (uint32_t)i;
		break;
	case F_INT:
		if (i > INT32_MAX)
			return -1;
		*(int *)p = (int)i;
		break;
	case F_LONG: *(long *)p = (long)i; break;
	case F_U64: *(uint64_t *)p = (uint64_t)i; break;
	default: return -1;
	}
	return 0;
}

static void field_move(const struct field *f, struct step *to,
		       struct step *from)
{
	char *d = (char *)to + f->off, *src = (char *)from + f->off;

	switch (f->type) {
	case F_U32: *(uint32_t *)d = *(uint32_t *)src; break;
	case F_INT: *(int *)d = *(int *)src; break;
	case F_LONG: *(long *)d = *(long *)src; break;
	case F_U64: *(uint64_t *)d = *(uint64_t *)src; break;
	case F_BOOL: *(bool *)d = *(bool *)src; break;
	case F_STR:
		free(*(char **)d);
		*(char **)d = *(char **)src;
		*(char **)src = NULL;
		break;
	}
}

static void tmp_free(struct step *t)
{
	const struct field *f;

	for (f = step_fields; f->key; f++)
		if (f->type == F_STR)
			free(*(char **)((char *)t + f->off));
}

struct discard {
	const struct step *t;
	const char *name;
};

/* In a child (child_fn): as the user; reports the newest image's seq. */
static int discard_child(void *arg, int out)
{
	const struct discard *d = arg;
	const struct step *t = d->t;
	char err[512];
	int basefd;

	if (privsep_become(t->uid, t->gid, err, sizeof(err)) < 0)
		return -1;
	basefd = image_open_base(t->dir, err, sizeof(err));
	if (basefd < 0 || image_discard(basefd, d->name, err,
					sizeof(err)) < 0)
		return -1;
	/* A task that checkpoints by exiting writes into the staging
	 * directory unasked (the plugin made it at the task's start): it is
	 * made again, empty. */
	if (t->exit_code && image_stage(basefd, d->name, err,
					sizeof(err)) < 0)
		return -1;
	return report_write(out, json_pack("{s:I}", "seq", (json_int_t)(
		image_next_seq(basefd, d->name) - 1)));
}

/* Remove <dir>/<name>.partial and old images half removed, as the user,
 * in a child; waits for it.  The newest image's seq there, or 0. */
static uint64_t discard_staging(const struct step *t, const char *name)
{
	struct discard d = { .t = t, .name = name };
	char err[512];
	json_t *report;
	json_int_t seq = 0;
	int status;

	if (child_run(discard_child, &d, &report, &status, err,
		      sizeof(err)) < 0)
		log_msg(LOG_ERR, "%s: %s", name, err);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_msg(LOG_WARNING, "cannot remove staging %s/%s%s (status "
			"%d)", t->dir, name, IMAGE_STAGING_SUFFIX, status);
	else if (json_unpack(report, "{s:I}", "seq", &seq) < 0 || seq < 0)
		seq = 0;
	json_decref(report);
	return (uint64_t)seq;
}

static void restore_tasks(struct step *s, json_t *tasks)
{
	json_int_t id, pid, start;
	json_t *e;
	size_t i;

	json_array_foreach(tasks, i, e) {
		if (json_unpack(e, "{s:I,s:I,s:I}", "id", &id, "pid", &pid,
				"start", &start) < 0 || pid <= 0)
			continue;
		if (step_restore_task(s, (uint32_t)id, (pid_t)pid,
				      (unsigned long long)start) < 0)
			log_msg(LOG_INFO, "%s task %u (pid %lld) is gone",
				s->label, (unsigned)id, (long long)pid);
	}
}

static void restore_step(json_t *o, int *adopted, int *dropped)
{
	struct step t = { 0 }, *s;
	struct ckpt_msg m = { .op = CKPT_OP_REGISTER };
	const struct field *f;
	const struct method *meth;
	const char *method = NULL;
	json_int_t due_in = 0;
	char name[64], err[512];
	uint64_t newest = 0;
	json_t *v;

	for (f = step_fields; f->key; f++) {
		v = json_object_get(o, f->key);
		if (!v && f->runtime)
			continue;
		if (!v || field_set(f, &t, v) < 0) {
			log_msg(LOG_WARNING, "saved state: a step with a bad "
				"\"%s\" is ignored", f->key);
			goto out;
		}
	}
	json_unpack(o, "{s?s,s?I}", "method", &method, "due_in", &due_in);
	if (!t.dir || image_name(t.job, t.id, name, sizeof(name)) < 0) {
		log_msg(LOG_WARNING, "saved state: a step without a "
			"directory is ignored");
		goto out;
	}
	/* A follower's staging directory is its leader's. */
	if (t.nnodes <= 1 || t.nodeid == 0)
		newest = discard_staging(&t, name);
	m.job = t.job;
	m.step = t.id;
	m.uid = t.uid;
	m.gid = t.gid;
	m.ntasks = t.ntasks;
	m.nodeid = t.nodeid;
	m.nnodes = t.nnodes;
	m.interval = t.interval;
	m.max_wait = t.max_wait;
	m.keep = t.keep;
	m.lead = t.lead;
	m.max_requeue = t.max_requeue;
	m.exit_code = t.exit_code;
	m.signo = t.signo;
	m.dir = t.dir;
	m.node = t.node;
	m.method = (char *)method;
	if (method_lookup(method, t.node, &meth, err, sizeof(err)) < 0 ||
	    !(s = step_add(&m, meth, err, sizeof(err)))) {
		log_msg(LOG_WARNING, "saved step %u: not re-adopted: %s",
			t.job, err);
		(*dropped)++;
		goto out;
	}
	for (f = step_fields; f->key; f++)
		if (f->runtime)
			field_move(f, s, &t);
	if (newest > s->last_seq)
		s->last_seq = newest;
	restore_tasks(s, json_object_get(o, "tasks"));
	if (!s->tasks) {
		log_msg(LOG_NOTICE, "step %s: its tasks are gone, dropped",
			s->label);
		step_remove(s);
		(*dropped)++;
		goto out;
	}
	periodic_set_due_in(s, (long)due_in);
	step_watch_tasks(s);
	log_msg(LOG_NOTICE, "step %s re-adopted: uid %u, dir %s, next "
		"checkpoint in %ld s", s->label, s->uid, s->dir,
		s->interval ? periodic_due_in(s) : 0L);
	(*adopted)++;
out:
	tmp_free(&t);
}

static void steps_load(json_t *a)
{
	int adopted = 0, dropped = 0;
	json_t *e;
	size_t i;

	if (!json_is_array(a)) {
		log_msg(LOG_ERR, "saved state: no steps");
		return;
	}
	json_array_foreach(a, i, e)
		restore_step(e, &adopted, &dropped);
	log_msg(LOG_NOTICE, "saved state: %d step(s) re-adopted, %d dropped",
		adopted, dropped);
}

int readopt_init(void)
{
	return state_section("steps", steps_save, steps_load);
}
