/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events.c - the checkpoint events of this node: each logged as one
 * "event: {...}" line, and the newest EVENTS_KEPT (EVENTS_PER_JOB of a
 * job) kept in memory, oldest first, for "scheckpoint events".  A job's
 * owner sees its own, root and the SlurmUser all (access.c).  Gone when
 * the daemon restarts: the log (the journal) keeps every one. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <syslog.h>

#include <jansson.h>

#include "access.h"
#include "events.h"
#include "log.h"
#include "proto.h"

struct event {
	TAILQ_ENTRY(event) link;
	uint32_t job, step;
	uid_t uid;
	char *node;
	char *line;
};

static TAILQ_HEAD(events_head, event) kept = TAILQ_HEAD_INITIALIZER(kept);
static size_t nkept;

static void drop(struct event *e)
{
	TAILQ_REMOVE(&kept, e, link);
	nkept--;
	free(e->node);
	free(e->line);
	free(e);
}

/* The oldest event of job, and how many it has. */
static struct event *oldest_of(uint32_t job, size_t *n)
{
	struct event *e, *first = NULL;

	*n = 0;
	TAILQ_FOREACH(e, &kept, link)
		if (e->job == job && (*n)++ == 0)
			first = e;
	return first;
}

/* line's bytes once escaped as a JSON string (the reply's "info"): up
 * to six times as many, for control characters. */
static size_t reply_cost(const char *line)
{
	json_t *j = json_string(line);
	char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	size_t n = s ? strlen(s) : 6 * strlen(line) + 2;

	free(s);
	json_decref(j);
	return n;
}

void events_add(uint32_t job, uint32_t step, uid_t uid, const char *node,
		const char *line)
{
	struct event *e, *old;
	size_t n;

	log_msg(LOG_NOTICE, "event: %s", line);
	if (!(e = calloc(1, sizeof(*e))) || !(e->line = strdup(line)) ||
	    !(e->node = strdup(node ? node : ""))) {
		if (e)
			free(e->line);
		free(e);
		return;
	}
	e->job = job, e->step = step, e->uid = uid;
	if ((old = oldest_of(job, &n)) && n >= EVENTS_PER_JOB)
		drop(old);
	else if (nkept >= EVENTS_KEPT)
		drop(TAILQ_FIRST(&kept));
	TAILQ_INSERT_TAIL(&kept, e, link);
	nkept++;
}

static bool wanted(const struct event *e, uint32_t job, uint32_t step,
		   uid_t client, const char *node)
{
	return e->job == job && (step == CKPT_STEP_ALL || e->step == step) &&
	       (!node || strcmp(e->node, node) == 0) &&
	       access_may_act(client, e->uid);
}

char *events_of(uint32_t job, uint32_t step, uid_t client, const char *node)
{
	struct event *e, *from = NULL;
	size_t bytes = 0, n = 0, left_out = 0, cost;
	json_t *o = NULL, *a;
	char *s = NULL;

	/* The newest that fit, walking back from the newest. */
	TAILQ_FOREACH_REVERSE(e, &kept, events_head, link) {
		if (!wanted(e, job, step, client, node))
			continue;
		if (left_out ||
		    bytes + (cost = reply_cost(e->line) + 2) > EVENTS_REPLY_MAX) {
			left_out++;
			continue;
		}
		bytes += cost;
		from = e, n++;
	}
	if (!n) {
		errno = ENOENT;
		return NULL;
	}
	if (!(a = json_array()) ||
	    !(o = json_pack("{s:I,s:o,s:I}", "job", (json_int_t)job,
			    "events", a, "left_out", (json_int_t)left_out)))
		goto out;
	for (e = from; e; e = TAILQ_NEXT(e, link))
		if (wanted(e, job, step, client, node))
			json_array_append_new(a, json_loads(e->line, 0, NULL));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
out:
	json_decref(o);
	if (!s)
		errno = ENOMEM;
	return s;
}

void events_clear(void)
{
	while (!TAILQ_EMPTY(&kept))
		drop(TAILQ_FIRST(&kept));
}
