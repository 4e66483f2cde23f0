/* SPDX-License-Identifier: GPL-2.0-or-later */
/* escape.c - see escape.h. */
#include "config.h"

#include <stdio.h>

#include "escape.h"

char *escape_ctl(char *out, size_t outlen, const char *in, size_t n,
		 bool keep_newline)
{
	size_t i, o = 0;
	unsigned char c;

	if (!outlen)
		return out;
	for (i = 0; i < n; i++) {
		c = (unsigned char)in[i];
		if ((c < 0x20 && c != '\t' && !(keep_newline && c == '\n')) ||
		    c == 0x7f) {
			if (o + 4 >= outlen)
				break;
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		} else {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return out;
}
