/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report.h - what a child of slurmckptd tells its parent: one JSON
 * object through a pipe, written in the child and decoded in the loop
 * (report.c). */
#ifndef CKPT_REPORT_H
#define CKPT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The outcome of one checkpoint, as a worker reports it. */
struct ckpt_result {
	bool ok;
	bool uncaught;		/* no task catches the signal: not an image
				 * that failed, a step that cannot make one */
	bool part;		/* a follower's part of a multi-node step
				 * (peer.c): nothing committed here */
	bool skipped;		/* not taken, and not a failure: a
				 * follower's tasks have ended */
	uint64_t seq;
	uint64_t bytes;		/* of the committed image */
	uint64_t flushed;	/* copied from node-local staging */
	const char *image;
	const char *error;
	/* Not from the report: set by the loop (worker.c, periodic.c). */
	const char *reason;	/* what the checkpoint was for */
	double seconds;		/* request to outcome; 0: never started */
};

/* In the child: write o (and release it).  0/-1. */
int report_write(int out, json_t *o);
/* A worker's report o decoded into r, which points into o; -1 (r says
 * "malformed") when there is none.  Anything unexpected is a failure;
 * part: a follower's part. */
int report_decode(json_t *o, bool part, struct ckpt_result *r);
/* The same from len bytes of buf: the object r points into, or NULL. */
json_t *report_parse(const char *buf, size_t len, bool part,
		     struct ckpt_result *r);

#endif
