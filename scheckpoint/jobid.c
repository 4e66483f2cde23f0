/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jobid.c - a job (step) id as scheckpoint takes it, like scontrol:
 * <job>, <job>.<step>, <job>.batch, and each with an array task,
 * <array_job>_<task>, which slurmctld translates into its job id. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "sched.h"
#include "scheckpoint.h"

#define NO_TASK UINT32_MAX

static int parse_u32(const char *s, char **end, uint32_t *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v >= CKPT_STEP_BATCH)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int parse_id(const char *s, uint32_t *job, uint32_t *task, uint32_t *step)
{
	char *end;

	*task = NO_TASK;
	if (parse_u32(s, &end, job) < 0)
		return -1;
	if (*end == '_' && parse_u32(end + 1, &end, task) < 0)
		return -1;
	if (*end == '\0') {
		*step = CKPT_STEP_ALL;
		return 0;
	}
	if (*end++ != '.')
		return -1;
	if (strcmp(end, "batch") == 0) {
		*step = CKPT_STEP_BATCH;
		return 0;
	}
	if (parse_u32(end, &end, step) < 0 || *end)
		return -1;
	return 0;
}

int resolve_id(const char *s, uint32_t *job, uint32_t *step)
{
	char text[512];
	uint32_t task;

	if (parse_id(s, job, &task, step) < 0) {
		fprintf(stderr, "scheckpoint: invalid job id '%s': use "
			"<job_id>, <job_id>.<step_id> or <job_id>.batch "
			"(<job_id> may be <array_job_id>_<task_id>)\n", s);
		return EXIT_USAGE;
	}
	if (task == NO_TASK)
		return 0;
	if (sched_array_task(*job, task, job, text, sizeof(text)) < 0) {
		print_error(errno, text);
		return 1;
	}
	return 0;
}
