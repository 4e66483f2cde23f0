/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.c - the daemon's counters and their rendering in Prometheus'
 * text exposition format (version 0.0.4), and a checkpoint's event line.
 * No I/O but to the FILE it is given: metrics_file.c writes the file,
 * tests/unit/test_metrics.c reads what is rendered. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "metrics.h"
#include "proto.h"

/* A counter family with up to two labels.  Label values are the daemon's
 * own words (reasons, kinds) and the admin's method names: few, and
 * bounded here all the same. */
#define SERIES_MAX 64
struct series {
	char l1[32], l2[32];
	uint64_t v;
};
struct family {
	const char *name, *help, *l1, *l2;	/* l1, l2: NULL if none */
	size_t n;
	struct series s[SERIES_MAX];
};

/* Upper bounds of the buckets (le=), +Inf implied. */
static const double duration_le[] = { 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120,
				      300, 600, 1800, 3600 };
static const double size_le[] = { 4096, 65536, 1048576, 16777216,
				  268435456, 1073741824, 4294967296.0,
				  17179869184.0, 68719476736.0,
				  274877906944.0, 1099511627776.0 };
#define NLE(a) (sizeof(a) / sizeof((a)[0]))
struct histogram {
	const char *name, *help;
	const double *le;
	size_t nle;
	uint64_t bucket[16];	/* not cumulative; [nle]: above the last */
	uint64_t count;
	double sum;
};

static struct family committed = {
	"slurmckptd_checkpoints_committed_total",
	"Checkpoints committed, by what asked for them and how taken.",
	"reason", "method", 0, { { "", "", 0 } } };
static struct family failed = {
	"slurmckptd_checkpoints_failed_total",
	"Checkpoints that failed or could not start.",
	"reason", "method", 0, { { "", "", 0 } } };
static struct family requeues = {
	"slurmckptd_requeues_total",
	"Jobs requeued after their final checkpoint, by its reason.",
	"reason", NULL, 0, { { "", "", 0 } } };
static struct family holds = {
	"slurmckptd_holds_total",
	"Jobs requeued and held (max_requeue reached), by reason.",
	"reason", NULL, 0, { { "", "", 0 } } };
static struct family slurmctld = {
	"slurmckptd_slurmctld_requests_total",
	"Children that asked slurmctld, by what for.",
	"kind", NULL, 0, { { "", "", 0 } } };
static struct histogram duration = {
	"slurmckptd_checkpoint_duration_seconds",
	"Time from request to commit of the committed checkpoints.",
	duration_le, NLE(duration_le), { 0 }, 0, 0 };
static struct histogram size = {
	"slurmckptd_checkpoint_size_bytes",
	"Size of the committed images.",
	size_le, NLE(size_le), { 0 }, 0, 0 };
static uint64_t flushed_bytes, offsite_bytes;
static time_t started;
static void (*change_fn)(void);

static void family_reset(struct family *f)
{
	f->n = 0;
}

static void histogram_reset(struct histogram *h)
{
	memset(h->bucket, 0, sizeof(h->bucket));
	h->count = 0;
	h->sum = 0;
}

void metrics_reset(time_t start)
{
	family_reset(&committed);
	family_reset(&failed);
	family_reset(&requeues);
	family_reset(&holds);
	family_reset(&slurmctld);
	histogram_reset(&duration);
	histogram_reset(&size);
	flushed_bytes = offsite_bytes = 0;
	started = start;
}

void metrics_on_change(void (*fn)(void))
{
	change_fn = fn;
}

void metrics_changed(void)
{
	if (change_fn)
		change_fn();
}

/* v as a label value: [A-Za-z0-9_.:-], anything else '_' (so nothing
 * needs escaping), "" as "none". */
static void label_copy(char *dst, size_t len, const char *v)
{
	size_t i;

	if (!v || !*v)
		v = "none";
	for (i = 0; v[i] && i + 1 < len; i++)
		dst[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
				"TUVWXYZ0123456789_.:-", v[i]) ? v[i] : '_';
	dst[i] = '\0';
}

/* The series of f with these labels, made if new; the last one ("other")
 * when f is full. */
static struct series *series_of(struct family *f, const char *v1,
				const char *v2)
{
	char a[32], b[32] = "";
	size_t i;

	label_copy(a, sizeof(a), v1);
	if (f->l2)
		label_copy(b, sizeof(b), v2);
	for (i = 0; i < f->n; i++)
		if (strcmp(f->s[i].l1, a) == 0 && strcmp(f->s[i].l2, b) == 0)
			return &f->s[i];
	if (f->n == SERIES_MAX) {
		i = SERIES_MAX - 1;
		strcpy(f->s[i].l1, "other");
		if (f->l2)
			strcpy(f->s[i].l2, "other");
		return &f->s[i];
	}
	i = f->n++;
	memcpy(f->s[i].l1, a, sizeof(a));
	memcpy(f->s[i].l2, b, sizeof(b));
	f->s[i].v = 0;
	return &f->s[i];
}

static void observe(struct histogram *h, double v)
{
	size_t i;

	for (i = 0; i < h->nle && v > h->le[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

void metrics_checkpoint(const struct metrics_ckpt *c)
{
	bool ok = c->outcome && strcmp(c->outcome, "committed") == 0;

	if (c->outcome && strcmp(c->outcome, "skipped") == 0)
		return;
	series_of(ok ? &committed : &failed, c->reason, c->method)->v++;
	if (ok) {
		observe(&duration, c->duration);
		observe(&size, (double)c->bytes);
	}
	flushed_bytes += c->flushed;
	metrics_changed();
}

void metrics_flushed_bytes(uint64_t bytes)
{
	flushed_bytes += bytes;
	metrics_changed();
}

void metrics_offsite_bytes(uint64_t bytes)
{
	offsite_bytes += bytes;
	metrics_changed();
}

void metrics_requeue(const char *reason, bool held)
{
	series_of(&requeues, reason, NULL)->v++;
	if (held)
		series_of(&holds, reason, NULL)->v++;
	metrics_changed();
}

void metrics_slurmctld(const char *kind)
{
	series_of(&slurmctld, kind, NULL)->v++;
	metrics_changed();
}

/* ---------------------------------------------------------- rendering */

static void head(FILE *f, const char *name, const char *help,
		 const char *type)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_family(FILE *f, const struct family *fam)
{
	size_t i;

	head(f, fam->name, fam->help, "counter");
	for (i = 0; i < fam->n; i++) {
		fprintf(f, "%s{%s=\"%s\"", fam->name, fam->l1, fam->s[i].l1);
		if (fam->l2)
			fprintf(f, ",%s=\"%s\"", fam->l2, fam->s[i].l2);
		fprintf(f, "} %llu\n", (unsigned long long)fam->s[i].v);
	}
}

static void render_histogram(FILE *f, const struct histogram *h)
{
	uint64_t n = 0;
	size_t i;

	head(f, h->name, h->help, "histogram");
	for (i = 0; i < h->nle; i++) {
		n += h->bucket[i];
		fprintf(f, "%s_bucket{le=\"%.15g\"} %llu\n", h->name, h->le[i],
			(unsigned long long)n);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", h->name,
		(unsigned long long)h->count);
	fprintf(f, "%s_sum %.15g\n%s_count %llu\n", h->name, h->sum,
		h->name, (unsigned long long)h->count);
}

static void render_value(FILE *f, const char *name, const char *help,
			 const char *type, unsigned long long v)
{
	head(f, name, help, type);
	fprintf(f, "%s %llu\n", name, v);
}

int metrics_render(FILE *f, const struct metrics_gauges *g)
{
	render_value(f, "slurmckptd_up", "1 while the daemon runs; 0 in the "
		     "file it leaves at exit.", "gauge", g->up);
	render_value(f, "slurmckptd_start_time_seconds", "When the daemon "
		     "started, in seconds since the epoch.", "gauge",
		     (unsigned long long)started);
	render_value(f, "slurmckptd_steps_registered", "Steps registered "
		     "on this node.", "gauge", (unsigned long long)g->steps);
	render_value(f, "slurmckptd_workers_busy", "Checkpoints in "
		     "progress.", "gauge", (unsigned long long)g->workers);
	render_value(f, "slurmckptd_queue_depth", "Checkpoints waiting "
		     "for a free worker.", "gauge",
		     (unsigned long long)g->queued);
	render_family(f, &committed);
	render_family(f, &failed);
	render_histogram(f, &duration);
	render_histogram(f, &size);
	render_value(f, "slurmckptd_staging_flushed_bytes_total", "Bytes "
		     "copied from node-local staging to the checkpoint "
		     "directory.", "counter", flushed_bytes);
	render_value(f, "slurmckptd_offsite_sent_bytes_total", "Bytes of "
		     "images uploaded to the offsite store.", "counter",
		     offsite_bytes);
	render_family(f, &requeues);
	render_family(f, &holds);
	render_family(f, &slurmctld);
	if (fflush(f) == EOF || ferror(f)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------- event line */

char *metrics_event(const struct metrics_ckpt *c)
{
	json_t *o, *step;
	char *s;

	step = c->step == CKPT_STEP_BATCH ? json_string("batch") :
	       json_integer((json_int_t)c->step);
	o = json_pack("{s:s,s:I,s:I,s:o,s:I,s:s,s:s,s:I,s:f,s:s,s:s?}",
		      "event", "checkpoint", "time", (json_int_t)c->time,
		      "job", (json_int_t)c->job,
		      "step", step, "seq", (json_int_t)c->seq,
		      "reason", c->reason ? c->reason : "none",
		      "method", c->method ? c->method : "signal",
		      "bytes", (json_int_t)c->bytes,
		      "duration", (double)(long long)(c->duration * 1000) /
		      1000, "outcome", c->outcome ? c->outcome : "failed",
		      "node", c->node);
	if (o && c->flushed)
		json_object_set_new(o, "flushed",
				    json_integer((json_int_t)c->flushed));
	if (o && c->error)
		json_object_set_new(o, "error", json_string(c->error));
	/* Milliseconds: 0.076, not 0.075999999999999998. */
	s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(10)) : NULL;
	json_decref(o);
	return s;
}
