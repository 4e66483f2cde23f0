/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_metrics.c - helper/metrics.c renders what it counted in
 * Prometheus' text format, every sample under its family's # TYPE, and a
 * checkpoint's event line is the JSON the man page promises. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "metrics.h"
#include "proto.h"

static char *render(const struct metrics_gauges *g)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(metrics_render(f, g), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static const struct metrics_ckpt ckpts[] = {
	{ 7, 0, 1, "periodic", "signal", "n1", "committed", NULL, 3000, 0,
	  0.25, 1700000100 },
	{ 7, 0, 2, "periodic", "signal", "n1", "committed", NULL, 5000000,
	  4096, 7.5, 1700000200 },
	{ 7, CKPT_STEP_BATCH, 0, "deadline", "criu", "n1", "failed",
	  "no space", 0, 0, 3, 1700000300 },
	{ 8, 1, 0, "periodic", "signal", "n1", "skipped", "ended", 0, 0, 1,
	  1700000400 },
	{ 9, 0, 0, "bad\"label\n", "signal", "n1", "failed", "x", 0, 0, 1,
	  1700000500 },
};

/* What each line must be, after the updates above (a row of NULL ends). */
static const char *const expected[] = {
	"slurmckptd_up 1",
	"slurmckptd_start_time_seconds 1700000000",
	"slurmckptd_steps_registered 3",
	"slurmckptd_workers_busy 1",
	"slurmckptd_queue_depth 2",
	"slurmckptd_checkpoints_committed_total{reason=\"periodic\","
	"method=\"signal\"} 2",
	"slurmckptd_checkpoints_failed_total{reason=\"deadline\","
	"method=\"criu\"} 1",
	"slurmckptd_checkpoints_failed_total{reason=\"bad_label_\","
	"method=\"signal\"} 1",
	"slurmckptd_checkpoint_duration_seconds_bucket{le=\"0.5\"} 1",
	"slurmckptd_checkpoint_duration_seconds_bucket{le=\"5\"} 1",
	"slurmckptd_checkpoint_duration_seconds_bucket{le=\"10\"} 2",
	"slurmckptd_checkpoint_duration_seconds_bucket{le=\"+Inf\"} 2",
	"slurmckptd_checkpoint_duration_seconds_sum 7.75",
	"slurmckptd_checkpoint_duration_seconds_count 2",
	"slurmckptd_checkpoint_size_bytes_bucket{le=\"4096\"} 1",
	"slurmckptd_checkpoint_size_bytes_bucket{le=\"16777216\"} 2",
	"slurmckptd_checkpoint_size_bytes_sum 5003000",
	"slurmckptd_checkpoint_size_bytes_count 2",
	"slurmckptd_staging_flushed_bytes_total 4096",
	"slurmckptd_offsite_sent_bytes_total 123",
	"slurmckptd_requeues_total{reason=\"deadline\"} 2",
	"slurmckptd_holds_total{reason=\"deadline\"} 1",
	"slurmckptd_slurmctld_requests_total{kind=\"poll\"} 2",
	NULL,
};

static void test_render(void **state)
{
	struct metrics_gauges g = { 3, 2, 1, true };
	char *text, line[256];
	size_t i;

	(void)state;
	metrics_reset(1700000000);
	for (i = 0; i < sizeof(ckpts) / sizeof(ckpts[0]); i++)
		metrics_checkpoint(&ckpts[i]);
	metrics_offsite_bytes(123);
	metrics_requeue("deadline", false);
	metrics_requeue("deadline", true);
	metrics_slurmctld("poll");
	metrics_slurmctld("poll");
	text = render(&g);
	for (i = 0; expected[i]; i++) {
		snprintf(line, sizeof(line), "\n%s\n", expected[i]);
		if (!strstr(text, line))
			fail_msg("no line \"%s\" in:\n%s", expected[i], text);
	}
	/* A skipped checkpoint is no failure. */
	assert_null(strstr(text, "reason=\"periodic\",method=\"signal\"} 1"));
	free(text);
}

/* Every sample's family has its # TYPE before it, and only once; the
 * histograms' _bucket, _sum and _count belong to theirs. */
static void test_types(void **state)
{
	struct metrics_gauges g = { 0, 0, 0, false };
	char *text, *line, *save, typed[64][96] = { { 0 } }, name[96];
	size_t n = 0, i, k;

	(void)state;
	metrics_reset(0);
	metrics_requeue("preemption", true);
	text = render(&g);
	assert_non_null(strstr(text, "\nslurmckptd_up 0\n"));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "# TYPE %95s", name) == 1) {
			for (i = 0; i < n; i++)
				assert_string_not_equal(typed[i], name);
			assert_true(n < 64);
			strcpy(typed[n++], name);
			continue;
		}
		if (line[0] == '#')
			continue;
		k = strcspn(line, "{ ");
		assert_true(n > 0);
		/* the last # TYPE is this sample's family */
		assert_memory_equal(line, typed[n - 1], strlen(typed[n - 1]));
		assert_true(k == strlen(typed[n - 1]) ||
			    strncmp(line + strlen(typed[n - 1]), "_bucket",
				    7) == 0 ||
			    strncmp(line + strlen(typed[n - 1]), "_sum", 4) ==
			    0 ||
			    strncmp(line + strlen(typed[n - 1]), "_count", 6) ==
			    0);
	}
	assert_true(n >= 14);
	free(text);
}

static void test_event(void **state)
{
	json_t *o;
	json_error_t jerr;
	char *s;
	const char *outcome, *reason, *method, *node, *error = NULL;
	json_int_t when, job, seq, bytes;
	json_t *step;
	double duration;

	(void)state;
	s = metrics_event(&ckpts[1]);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(json_unpack(o, "{s:s,s:I,s:I,s:o,s:I,s:s,s:s,s:I,"
				     "s:F,s:s,s:s,s:I!}", "event", &outcome,
				     "time", &when,
				     "job", &job, "step", &step, "seq", &seq,
				     "reason", &reason, "method", &method,
				     "bytes", &bytes, "duration", &duration,
				     "outcome", &outcome, "node", &node,
				     "flushed", &bytes), 0);
	assert_int_equal(when, 1700000200);
	assert_int_equal(job, 7);
	assert_int_equal(json_integer_value(step), 0);
	assert_int_equal(seq, 2);
	assert_string_equal(outcome, "committed");
	assert_string_equal(reason, "periodic");
	assert_string_equal(node, "n1");
	assert_true(duration > 7.49 && duration < 7.51);
	json_decref(o);
	free(s);

	s = metrics_event(&ckpts[2]);
	o = json_loads(s, 0, &jerr);
	assert_non_null(o);
	assert_int_equal(json_unpack(o, "{s:s,s:s,s:s}", "step", &reason,
				     "outcome", &outcome, "error", &error), 0);
	assert_string_equal(reason, "batch");
	assert_string_equal(outcome, "failed");
	assert_string_equal(error, "no space");
	json_decref(o);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
