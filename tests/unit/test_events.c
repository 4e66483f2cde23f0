/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_events.c - helper/events.c keeps the newest EVENTS_KEPT events,
 * EVENTS_PER_JOB of one job (its own oldest go first), and gives each
 * client only those of its jobs (root all), of one step or node when
 * asked, oldest first, with the older ones past EVENTS_REPLY_MAX
 * counted as left out.  log_msg() and access_may_act() are the test's
 * own: events.c's one use of each is to log the line and to ask whether
 * the client owns the job or is root. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "access.h"
#include "events.h"
#include "log.h"
#include "proto.h"

static int logged;

void log_msg(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
	logged++;
}

bool access_may_act(uid_t client, uid_t owner)
{
	return client == 0 || client == owner;
}

/* An event line of job's step, seq, on node. */
static void add(uint32_t job, uint32_t step, uid_t uid, const char *node,
		uint64_t seq)
{
	char line[256];

	snprintf(line, sizeof(line), "{\"event\":\"checkpoint\",\"time\":%llu,"
		 "\"job\":%u,\"seq\":%llu,\"node\":\"%s\"}",
		 (unsigned long long)(1700000000 + seq), job,
		 (unsigned long long)seq, node);
	events_add(job, step, uid, node, line);
}

/* events_of() as JSON: the object, or NULL (errno). */
static json_t *of(uint32_t job, uint32_t step, uid_t client,
		  const char *node)
{
	char *s = events_of(job, step, client, node);
	json_t *o;

	if (!s)
		return NULL;
	o = json_loads(s, 0, NULL);
	free(s);
	assert_non_null(o);
	return o;
}

static json_int_t seq_at(json_t *o, size_t i)
{
	return json_integer_value(json_object_get(
		json_array_get(json_object_get(o, "events"), i), "seq"));
}

static size_t count(json_t *o)
{
	return json_array_size(json_object_get(o, "events"));
}

static void test_owner_step_node(void **state)
{
	json_t *o;

	(void)state;
	events_clear();
	logged = 0;
	add(5, CKPT_STEP_BATCH, 1000, "c1", 1);
	add(5, 0, 1000, "c2", 2);
	add(6, 0, 1001, "c1", 3);
	assert_int_equal(logged, 3);
	o = of(5, CKPT_STEP_ALL, 1000, NULL);
	assert_int_equal(count(o), 2);
	assert_int_equal(seq_at(o, 0), 1);	/* oldest first */
	assert_int_equal(seq_at(o, 1), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "left_out")), 0);
	json_decref(o);
	o = of(5, 0, 1000, NULL);		/* one step */
	assert_int_equal(count(o), 1);
	assert_int_equal(seq_at(o, 0), 2);
	json_decref(o);
	o = of(5, CKPT_STEP_ALL, 1000, "c1");	/* one node (TCP's to=) */
	assert_int_equal(count(o), 1);
	assert_int_equal(seq_at(o, 0), 1);
	json_decref(o);
	errno = 0;				/* another user: none */
	assert_null(of(5, CKPT_STEP_ALL, 1001, NULL));
	assert_int_equal(errno, ENOENT);
	o = of(6, CKPT_STEP_ALL, 0, NULL);	/* root: all */
	assert_int_equal(count(o), 1);
	json_decref(o);
	assert_null(of(7, CKPT_STEP_ALL, 0, NULL));
	assert_null(of(5, CKPT_STEP_ALL, 1000, "c3"));
}

/* One job's events past EVENTS_PER_JOB push out its own oldest, not
 * another job's; all jobs' past EVENTS_KEPT, the oldest of all. */
static void test_caps(void **state)
{
	json_t *o;
	uint64_t i;

	(void)state;
	events_clear();
	add(1, 0, 1000, "c1", 1);
	for (i = 0; i < EVENTS_PER_JOB + 10; i++)
		add(2, 0, 1001, "c1", 100 + i);
	o = of(1, CKPT_STEP_ALL, 1000, NULL);
	assert_int_equal(count(o), 1);
	json_decref(o);
	o = of(2, CKPT_STEP_ALL, 1001, NULL);
	assert_int_equal(count(o), EVENTS_PER_JOB);
	assert_int_equal(seq_at(o, 0), 110);
	json_decref(o);
	for (i = 0; i < EVENTS_KEPT; i++)
		add(1000 + (uint32_t)i, 0, 1002, "c1", 1000 + i);
	assert_null(of(1, CKPT_STEP_ALL, 1000, NULL));
	assert_null(of(2, CKPT_STEP_ALL, 1001, NULL));
	o = of(1000, CKPT_STEP_ALL, 1002, NULL);
	assert_int_equal(count(o), 1);
	json_decref(o);
	events_clear();
}

/* An answer holds the newest events that fit EVENTS_REPLY_MAX; the
 * older ones are counted in left_out. */
static void test_reply_max(void **state)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = 1 };
	char line[2048], pad[1500], *text;
	json_t *o;
	int i, n = EVENTS_PER_JOB;

	(void)state;
	events_clear();
	/* Each "\u001b" of the line, escaped again in the reply: 7 bytes. */
	for (i = 0; i + 6 < (int)sizeof(pad) - 1; i += 6)
		memcpy(pad + i, "\\u001b", 6);
	pad[i] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "{\"seq\":%d,\"error\":\"%s\"}",
			 i, pad);
		events_add(3, 0, 1000, "c1", line);
	}
	o = of(3, CKPT_STEP_ALL, 1000, NULL);
	assert_true(count(o) > 0 && count(o) < (size_t)n);
	assert_int_equal((json_int_t)count(o) +
			 json_integer_value(json_object_get(o, "left_out")), n);
	assert_int_equal(seq_at(o, count(o) - 1), n - 1);	/* the newest */
	json_decref(o);
	/* The reply, its events escaped once more, fits a packet. */
	r.info = events_of(3, CKPT_STEP_ALL, 1000, NULL);
	assert_non_null(r.info);
	text = proto_encode(&r);
	assert_non_null(text);
	assert_true(strlen(text) <= CKPT_MSG_MAX);
	assert_true(strlen(text) > CKPT_MSG_MAX / 2);	/* not too few */
	free(text);
	free(r.info);
	events_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_step_node),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_reply_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
