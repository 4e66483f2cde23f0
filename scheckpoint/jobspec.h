/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jobspec.h - the saved job of an image (IMAGE_JOB_NAME, image.h) as
 * "scheckpoint restart" reads it back: the record, whose job it is, and
 * the sbatch command line that submits it again.  The image belongs to
 * the job's user, who may have written anything into it. */
#ifndef CKPT_JOBSPEC_H
#define CKPT_JOBSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/* A NULL-terminated argument vector, grown by args_add(); oom once an
 * allocation failed (nothing is added after that). */
struct args {
	char **v;
	size_t n;
	bool oom;
};

void args_add(struct args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The record: len bytes of buf, one JSON object.  NULL with text when it
 * is not. */
json_t *jobspec_parse(const char *buf, size_t len, char *text, size_t tlen);

/* True when the record says it is job jobid of uid. */
bool jobspec_is(json_t *job, uid_t uid, uint32_t jobid);

/* sbatch's options from the record (the script goes on its input); stick:
 * on the nodes it ran on. */
void jobspec_sbatch_args(struct args *a, json_t *job, const char *image,
			 bool stick);

#endif
