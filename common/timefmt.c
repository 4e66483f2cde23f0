/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timefmt.c - Slurm time strings <-> seconds.
 *
 * The same six formats as Slurm's time_str2secs(): "a" minutes, "a:b"
 * minutes:seconds, "a:b:c" hours:minutes:seconds, "d-h", "d-h:m" and
 * "d-h:m:s".  Like Slurm, no field is limited to < 60 or < 24 ("90:00" is
 * 90 minutes, "1:90:00" is 2 h 30 min); unlike Slurm, an empty field, a
 * sign, a blank, any other character or a total of 2^31 seconds or more
 * is an error rather than silently read as something else. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

#define TF_MAX_FIELDS 4		/* days + three colon-separated fields */
#define TF_FIELD_CAP ((long long)INT_MAX + 1)	/* saturation: too large */

/* One field of decimal digits at *sp, saturating at TF_FIELD_CAP.
 * Advances *sp.  0, or -1 when there is no digit. */
static int parse_field(const char **sp, long long *val)
{
	const char *s = *sp;
	long long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (*s - '0');
		if (v > TF_FIELD_CAP)
			v = TF_FIELD_CAP;
	}
	*sp = s;
	*val = v;
	return 0;
}

/* Split s into fields: f[0] days (when has_dash), then up to three
 * colon-separated ones.  Returns the number of colon fields, -1 if
 * malformed. */
static int split_fields(const char *s, long long f[TF_MAX_FIELDS],
			int *has_dash)
{
	int n = 0;

	*has_dash = 0;
	if (parse_field(&s, &f[0]) < 0)
		return -1;
	if (*s == '-') {
		*has_dash = 1;
		s++;
		if (parse_field(&s, &f[1]) < 0)
			return -1;
	}
	n = 1;
	while (*s == ':') {
		if (n == 3)
			return -1;
		s++;
		if (parse_field(&s, &f[*has_dash + n]) < 0)
			return -1;
		n++;
	}
	return *s == '\0' ? n : -1;
}

/* The weight in seconds of each field, by format. */
static const long long weights[2][3][TF_MAX_FIELDS] = {
	{ { 60 }, { 60, 1 }, { 3600, 60, 1 } },
	{ { 86400, 3600 }, { 86400, 3600, 60 }, { 86400, 3600, 60, 1 } },
};

int timefmt_parse(const char *s, long *seconds)
{
	long long f[TF_MAX_FIELDS] = { 0 }, total = 0;
	int has_dash, n, i;

	if (!s || !seconds) {
		errno = EINVAL;
		return -1;
	}
	n = split_fields(s, f, &has_dash);
	if (n < 1) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < TF_MAX_FIELDS; i++)
		total += f[i] * weights[has_dash][n - 1][i];
	if (total > INT_MAX) {
		errno = ERANGE;
		return -1;
	}
	*seconds = (long)total;
	return 0;
}

int timefmt_format(long seconds, char *buf, size_t len)
{
	char tmp[64];		/* a long is at most 19 digits */
	long d, h, m, s;
	int n;

	if (seconds < 0) {
		errno = EINVAL;
		return -1;
	}
	d = seconds / 86400;
	h = seconds / 3600 % 24;
	m = seconds / 60 % 60;
	s = seconds % 60;
	if (d)
		n = snprintf(tmp, sizeof(tmp), "%ld-%02ld:%02ld:%02ld",
			     d, h, m, s);
	else
		n = snprintf(tmp, sizeof(tmp), "%02ld:%02ld:%02ld", h, m, s);
	if (n < 0 || !buf || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	memcpy(buf, tmp, (size_t)n + 1);
	return 0;
}
