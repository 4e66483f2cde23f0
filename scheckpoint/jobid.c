/* jobid.c - a job (step) id as scheckpoint takes it, like scontrol. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "scheckpoint.h"

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

int parse_id(const char *s, uint32_t *job, uint32_t *step)
{
	char *end;

	if (parse_u32(s, &end, job) < 0)
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
