/* SPDX-License-Identifier: GPL-2.0-or-later */
/* errbuf.h - the one way common/ reports an error: -1, errno, and a
 * message for people in an optional caller-supplied buffer. */
#ifndef CKPT_ERRBUF_H
#define CKPT_ERRBUF_H

#include <stddef.h>

/* Format into err (when err and errlen are set), set errno = e, and
 * return -1. */
int errprintf(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "<what> <path>: <strerror(errno)>", keeping errno; returns -1. */
int errsys(char *err, size_t errlen, const char *what, const char *path);

#endif
