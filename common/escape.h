/* SPDX-License-Identifier: GPL-2.0-or-later */
/* escape.h - user-controlled text made safe for a log line or a terminal:
 * no control character (terminal escapes, forged lines) gets through. */
#ifndef CKPT_ESCAPE_H
#define CKPT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

/* Copy the n bytes of in to out (outlen bytes, always NUL-terminated,
 * truncated to fit), writing each control character and DEL as \xNN,
 * except tab and, with keep_newline, newline.  Returns out. */
char *escape_ctl(char *out, size_t outlen, const char *in, size_t n,
		 bool keep_newline);

#endif
