/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jobspec.c - the saved job of an image read back for "scheckpoint
 * restart" (jobspec.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobspec.h"

void args_add(struct args *a, const char *fmt, ...)
{
	char **v;
	va_list ap;
	int rc;

	if (a->oom || !(v = realloc(a->v, (a->n + 2) * sizeof(*v)))) {
		a->oom = true;
		return;
	}
	a->v = v;
	va_start(ap, fmt);
	rc = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	if (rc < 0) {
		a->oom = true;
		return;
	}
	a->v[++a->n] = NULL;
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

json_t *jobspec_parse(const char *buf, size_t len, char *text, size_t tlen)
{
	json_error_t je;
	json_t *job = json_loadb(buf, len, 0, &je);

	if (job && json_is_object(job))
		return job;
	snprintf(text, tlen, "%s", job ? "not an object" : je.text);
	json_decref(job);
	return NULL;
}

/* Compared as JSON integers: a user_id of uid + 2^32 is not uid. */
bool jobspec_is(json_t *job, uid_t uid, uint32_t jobid)
{
	return num(job, "user_id") == (json_int_t)uid &&
	       num(job, "job_id") == (json_int_t)jobid;
}

/* An output pattern of the job with its job id in place of %j (and
 * %<width>j), so that the restarted job writes on in the same file; the
 * other fields (%x, %u, %N...) are the same for the new job, or its own
 * (%%, %s, %t, %a, %A...). */
static void add_path(struct args *a, const char *opt, const char *pat,
		     json_int_t id)
{
	char *buf = NULL, *end;
	const char *p, *q;
	size_t len = 0;
	unsigned long w;
	FILE *f = open_memstream(&buf, &len);

	if (!f) {
		a->oom = true;
		return;
	}
	for (p = pat; *p; p++) {
		if (*p != '%') {
			fputc(*p, f);
			continue;
		}
		if (p[1] == '%') {
			fputs("%%", f);
			p++;
			continue;
		}
		w = strtoul(p + 1, &end, 10);
		q = end;
		if (*q == 'j' && w < 64) {
			fprintf(f, "%0*lld", (int)w, (long long)id);
			p = q;
		} else {
			fputc('%', f);
		}
	}
	if (fclose(f) != 0 || !buf) {
		free(buf);
		a->oom = true;
		return;
	}
	args_add(a, "%s=%s", opt, buf);
	free(buf);
}

void jobspec_sbatch_args(struct args *a, json_t *job, const char *image,
			 bool stick)
{
	const char *out = str(job, "std_out"), *e = str(job, "std_err");
	const char *in = str(job, "std_in");
	json_int_t iv = num(job, "checkpoint");

	args_add(a, "sbatch");
	args_add(a, "--parsable");
	if (*str(job, "name"))
		args_add(a, "--job-name=%s", str(job, "name"));
	if (*str(job, "partition"))
		args_add(a, "--partition=%s", str(job, "partition"));
	if (num(job, "time_limit") > 0)
		args_add(a, "--time=%lld", (long long)num(job, "time_limit"));
	if (num(job, "num_nodes") > 0)
		args_add(a, "--nodes=%lld", (long long)num(job, "num_nodes"));
	if (num(job, "num_tasks") > 0)
		args_add(a, "--ntasks=%lld", (long long)num(job, "num_tasks"));
	if (stick && *str(job, "nodes"))
		args_add(a, "--nodelist=%s", str(job, "nodes"));
	if (*str(job, "work_dir"))
		args_add(a, "--chdir=%s", str(job, "work_dir"));
	/* The output goes on where it was (legacy restart forced append). */
	if (*out)
		add_path(a, "--output", out, num(job, "job_id"));
	else
		args_add(a, "--output=%s/slurm-%lld.out", str(job, "work_dir"),
			 (long long)num(job, "job_id"));
	if (*e && strcmp(e, out) != 0)
		add_path(a, "--error", e, num(job, "job_id"));
	if (*in && strcmp(in, "/dev/null") != 0)
		add_path(a, "--input", in, num(job, "job_id"));
	args_add(a, "--open-mode=append");
	/* Slurm's default may be either: say which the job had. */
	if (json_is_true(json_object_get(job, "requeue")))
		args_add(a, "--requeue");
	else if (json_is_false(json_object_get(job, "requeue")))
		args_add(a, "--no-requeue");
	args_add(a, "--checkpoint=%lld:%02lld", (long long)(iv / 60),
		 (long long)(iv % 60));
	if (*str(job, "checkpoint_dir"))
		args_add(a, "--checkpoint-dir=%s", str(job, "checkpoint_dir"));
	if (*str(job, "checkpoint_method") &&
	    strcmp(str(job, "checkpoint_method"), "signal") != 0)
		args_add(a, "--checkpoint-method=%s",
			 str(job, "checkpoint_method"));
	if (*str(job, "checkpoint_trigger"))
		args_add(a, "--checkpoint-trigger=%s",
			 str(job, "checkpoint_trigger"));
	if (*str(job, "checkpoint_watch"))
		args_add(a, "--checkpoint-watch=%s",
			 str(job, "checkpoint_watch"));
	if (json_object_get(job, "checkpoint_exit_code"))
		args_add(a, "--checkpoint-exit-code=%lld",
			 (long long)num(job, "checkpoint_exit_code"));
	args_add(a, "--restart-dir=%s", image);
}
