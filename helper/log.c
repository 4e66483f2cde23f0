/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c - slurmckptd logs to stderr (the journal under systemd), one line
 * per event, with the syslog priority as a "<N>" prefix that journald
 * understands when JOURNAL_STREAM is set, and a time stamp otherwise.
 * Messages carry what users chose (paths, file names): every control
 * character is escaped, so that no message forges a line or reaches a
 * terminal as an escape sequence. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

#include "escape.h"
#include "log.h"

static int max_prio = LOG_NOTICE;
static int journal;

void log_init(int verbosity)
{
	max_prio = LOG_NOTICE + verbosity;
	if (max_prio > LOG_DEBUG)
		max_prio = LOG_DEBUG;
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_msg(int prio, const char *fmt, ...)
{
	static const char *const names[] = {
		"emerg", "alert", "crit", "error",
		"warning", "notice", "info", "debug",
	};
	char stamp[32], text[4096], safe[4 * sizeof(text)];
	struct tm tm;
	time_t now;
	va_list ap;
	int n;

	if (prio > max_prio)
		return;
	if (journal) {
		fprintf(stderr, "<%d>", prio);
	} else {
		now = time(NULL);
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr, "%s slurmckptd: %s: ", stamp, names[prio & 7]);
	}
	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	else if ((size_t)n >= sizeof(text))
		n = sizeof(text) - 1;
	fprintf(stderr, "%s\n", escape_ctl(safe, sizeof(safe), text,
					      (size_t)n, false));
}
