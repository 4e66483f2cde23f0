/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.h - the daemon's counters, rendered in Prometheus' text
 * exposition format for node-exporter's textfile collector, and the one
 * JSON event line per checkpoint (metrics.c).  Updated in the loop by
 * the code that learns an outcome (never in a child); written to
 * metrics_file= by metrics_file.c. */
#ifndef CKPT_METRICS_H
#define CKPT_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* One checkpoint's outcome, as the loop learnt it. */
struct metrics_ckpt {
	uint32_t job, step;	/* step: CKPT_STEP_BATCH for the batch step */
	uint64_t seq;		/* 0: none committed */
	const char *reason;	/* "periodic", "deadline", "create"... */
	const char *method;	/* a method's name, or "signal" */
	const char *node;
	const char *outcome;	/* "committed", "failed", "skipped" */
	const char *error;	/* of a failure, or NULL */
	uint64_t bytes;		/* of the committed image */
	uint64_t flushed;	/* copied from node-local staging */
	double duration;	/* seconds, request to outcome */
	time_t time;		/* of the outcome */
};

/* The gauges, sampled when the file is written. */
struct metrics_gauges {
	long steps;		/* registered */
	long queued;		/* checkpoints waiting for a free worker */
	long workers;		/* checkpoints in progress */
	bool up;		/* false in the last file written at exit */
};

/* Zero every counter; start: the daemon's start time. */
void metrics_reset(time_t start);
/* fn is called after every update (metrics_file.c arms its timer). */
void metrics_on_change(void (*fn)(void));
/* Tell fn that something changed that only the gauges show. */
void metrics_changed(void);

/* A checkpoint's outcome: committed or failed by reason and method;
 * a committed one's duration and size into the histograms. */
void metrics_checkpoint(const struct metrics_ckpt *c);
/* Bytes copied from node-local staging by a follower's part. */
void metrics_flushed_bytes(uint64_t bytes);
void metrics_offsite_bytes(uint64_t bytes);
/* A job requeued (held: and held) after its final checkpoint. */
void metrics_requeue(const char *reason, bool held);
/* A child that asked slurmctld ended; kind: what for ("poll"...). */
void metrics_slurmctld(const char *kind);

/* Every family, each sample after its # HELP and # TYPE lines: 0, or -1
 * with errno (a write error of f). */
int metrics_render(FILE *f, const struct metrics_gauges *g);
/* c as one line of JSON (malloc'd, the caller frees), or NULL. */
char *metrics_event(const struct metrics_ckpt *c);

#endif
