/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_jobspec.c - libFuzzer target for the saved job of an image
 * (scheckpoint/jobspec.c): "scheckpoint restart" reads slurm-job.json from an
 * image its user owns (and may have rewritten) and submits it again.
 *
 * Each input is parsed as slurm-job.json; an accepted record is checked
 * for whose it is, and made into sbatch's command line (with and without
 * StickToNodes).  Properties beyond "no sanitizer report":
 *   - a rejection is NULL with a message; an accepted record an object;
 *   - jobspec_is(uid, jobid) holds exactly when user_id and job_id are
 *     those numbers, never for one that only truncates to them;
 *   - the command line is "sbatch --parsable", then "--<option>=..."
 *     words only, each option at most once, NULL-terminated, ending with
 *     --restart-dir=<image>;
 *   - each string the record gives an option comes through whole, as
 *     that one word (no NUL inside, nothing split off), but an output
 *     path with '%', whose %j becomes the old job id;
 *   - a --checkpoint= of a non-negative interval reads back as it. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobspec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMAGE "/ckpt/42.ckpt"

static const char *const options[] = {
	"parsable", "job-name", "partition", "time", "nodes", "ntasks",
	"nodelist", "chdir", "output", "error", "input", "open-mode",
	"requeue", "no-requeue", "checkpoint", "checkpoint-dir",
	"checkpoint-method",
	"checkpoint-trigger", "checkpoint-watch", "checkpoint-exit-code",
	"restart-dir",
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* The word for --<opt>, or NULL. */
static const char *word(const struct args *a, const char *opt)
{
	size_t i, n = strlen(opt);

	for (i = 1; i < a->n; i++)
		if (!strncmp(a->v[i] + 2, opt, n) &&
		    (a->v[i][2 + n] == '=' || !a->v[i][2 + n]))
			return a->v[i];
	return NULL;
}

static void check_words(const struct args *a)
{
	size_t i, j, k;
	bool seen[NOPTIONS] = { false };

	if (a->oom || a->n < 4 || a->v[a->n] || strcmp(a->v[0], "sbatch") ||
	    strcmp(a->v[1], "--parsable") ||
	    strcmp(a->v[a->n - 1], "--restart-dir=" IMAGE))
		abort();
	for (i = 1; i < a->n; i++) {
		if (strncmp(a->v[i], "--", 2) != 0)
			abort();
		for (j = 0; j < NOPTIONS; j++) {
			k = strlen(options[j]);
			if (!strncmp(a->v[i] + 2, options[j], k) &&
			    (a->v[i][2 + k] == '=' || !a->v[i][2 + k]))
				break;
		}
		if (j == NOPTIONS || seen[j])
			abort();
		seen[j] = true;
	}
}

/* --<opt>=<the record's string key>, whole, when both are there. */
static void check_string(const struct args *a, json_t *job, const char *opt,
			 const char *key)
{
	json_t *v = json_object_get(job, key);
	const char *w = word(a, opt);

	if (!w || !json_is_string(v) || !*json_string_value(v))
		return;
	if (strlen(json_string_value(v)) != json_string_length(v) ||
	    strcmp(w + 3 + strlen(opt), json_string_value(v)) != 0)
		abort();
}

/* An output path: the record's string, whole, when it has no '%' (with
 * one, %j becomes the old job id: 1453 checks that). */
static void check_path(const struct args *a, json_t *job, const char *opt,
		       const char *key)
{
	json_t *v = json_object_get(job, key);

	if (!json_is_string(v) || !strchr(json_string_value(v), '%'))
		check_string(a, job, opt, key);
}

static void check_interval(const struct args *a, json_t *job)
{
	json_int_t iv = json_integer_value(json_object_get(job, "checkpoint"));
	const char *w = word(a, "checkpoint");
	long long m, s;
	char end;

	if (!w)
		abort();
	if (iv < 0)
		return;
	if (sscanf(w, "--checkpoint=%lld:%lld%c", &m, &s, &end) != 2 ||
	    s < 0 || s > 59 || m > (INT64_MAX - s) / 60 || m * 60 + s != iv)
		abort();
}

static void check_args(json_t *job, bool stick)
{
	struct args a = { 0 };
	size_t i;

	jobspec_sbatch_args(&a, job, IMAGE, stick);
	check_words(&a);
	check_string(&a, job, "job-name", "name");
	check_string(&a, job, "partition", "partition");
	check_string(&a, job, "chdir", "work_dir");
	check_path(&a, job, "output", "std_out");
	check_path(&a, job, "error", "std_err");
	check_path(&a, job, "input", "std_in");
	check_string(&a, job, "checkpoint-dir", "checkpoint_dir");
	check_string(&a, job, "checkpoint-method", "checkpoint_method");
	check_string(&a, job, "checkpoint-trigger", "checkpoint_trigger");
	check_string(&a, job, "checkpoint-watch", "checkpoint_watch");
	if (stick)
		check_string(&a, job, "nodelist", "nodes");
	else if (word(&a, "nodelist"))
		abort();
	check_interval(&a, job);
	for (i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
}

/* Whose: exactly user_id and job_id, as JSON integers. */
static void check_is(json_t *job)
{
	json_int_t u = json_integer_value(json_object_get(job, "user_id"));
	json_int_t j = json_integer_value(json_object_get(job, "job_id"));
	bool fits = u == (json_int_t)(uid_t)u && j == (json_int_t)(uint32_t)j;

	if (jobspec_is(job, (uid_t)u, (uint32_t)j) != fits ||
	    jobspec_is(job, (uid_t)u + 1, (uint32_t)j) ||
	    jobspec_is(job, (uid_t)u, (uint32_t)j + 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512] = "";
	json_t *job;

	job = jobspec_parse((const char *)data, size, text, sizeof(text));
	if (!job) {
		if (!text[0])
			abort();
		return 0;
	}
	if (!json_is_object(job))
		abort();
	check_is(job);
	check_args(job, false);
	check_args(job, true);
	json_decref(job);
	return 0;
}
