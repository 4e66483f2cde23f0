/* SPDX-License-Identifier: GPL-2.0-or-later */
/* timefmt.h - Slurm time strings <-> seconds. */
#ifndef CKPT_TIMEFMT_H
#define CKPT_TIMEFMT_H

#include <stddef.h>

/* Parse one of Slurm's time formats into seconds:
 *   minutes, minutes:seconds, hours:minutes:seconds,
 *   days-hours, days-hours:minutes, days-hours:minutes:seconds.
 * Fields are decimal digits only; no sign, no spaces, no trailing junk.
 * Returns 0, or -1 with errno EINVAL (malformed) or ERANGE (too large:
 * the result must fit in an int, i.e. < 2^31 seconds). *seconds is
 * untouched on failure. */
int timefmt_parse(const char *s, long *seconds);

/* Write seconds as "[D-]HH:MM:SS" (Slurm's own output style) into buf.
 * Returns 0, or -1 with errno EINVAL (negative) or ENOSPC (buf too small). */
int timefmt_format(long seconds, char *buf, size_t len);

#endif
