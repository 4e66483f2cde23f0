/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errbuf.c - see errbuf.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int errprintf(char *err, size_t errlen, int e, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return -1;
}

int errsys(char *err, size_t errlen, const char *what, const char *path)
{
	int e = errno;

	return errprintf(err, errlen, e, "%s %s: %s", what, path, strerror(e));
}
