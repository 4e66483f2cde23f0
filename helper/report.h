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
	uint64_t seq;
	const char *image;
	const char *error;
};

/* In the child: write o (and release it).  0/-1. */
int report_write(int out, json_t *o);
/* A worker's report, len bytes of buf, decoded into r, which points into
 * the returned object; NULL (r says "malformed") when it is no JSON.
 * Anything unexpected is a failure; part: a follower's part. */
json_t *report_parse(const char *buf, size_t len, bool part,
		     struct ckpt_result *r);

#endif
