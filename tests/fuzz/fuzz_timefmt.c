/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_timefmt.c - libFuzzer target for common/timefmt.c (and the signal
 * names of common/kvconf.c, the other small parser of option values).
 *
 * Properties checked beyond "no crash, no sanitizer report":
 *   - a parsed time is 0 .. INT_MAX and formats without error;
 *   - timefmt_format's output parses back to the same number of seconds;
 *   - on failure *seconds is untouched and errno is EINVAL or ERANGE. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvconf.h"
#include "timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[64];
	long secs = -7, again = -7;
	int signo = -7;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (timefmt_parse(s, &secs) == 0) {
		if (secs < 0 || secs > INT_MAX)
			abort();
		if (timefmt_format(secs, buf, sizeof(buf)) != 0)
			abort();
		if (timefmt_parse(buf, &again) != 0 || again != secs)
			abort();
	} else if (secs != -7 || (errno != EINVAL && errno != ERANGE)) {
		abort();
	}
	if (signal_parse(s, &signo) == 0) {
		if (signo < 1 || signo > 64)
			abort();
		(void)signal_name(signo);
	}
	free(s);
	return 0;
}
