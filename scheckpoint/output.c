/* SPDX-License-Identifier: GPL-2.0-or-later */
/* output.c - what scheckpoint prints: --json, or text for people with
 * every control character escaped, and errors. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "manifest.h"
#include "scheckpoint.h"

bool json_out;

/* What scheckpoint prints for people carries names users chose (paths,
 * file names, messages about them): stdout (but JSON, which jansson
 * escapes) and stderr go through this, which escapes control characters,
 * so that nothing printed is a terminal escape sequence. */
static ssize_t escaped_write(void *cookie, const char *buf, size_t n)
{
	char safe[4 * 1024 + 1];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < 1024 ? n - i : 1024;
		escape_ctl(safe, sizeof(safe), buf + i, k, true);
		if (manifest_write_all((int)(intptr_t)cookie, safe,
				       strlen(safe)) < 0)
			return -1;
	}
	return (ssize_t)n;
}

FILE *output_escaped(int fd, int mode)
{
	cookie_io_functions_t io = { .write = escaped_write };
	FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);

	if (f)
		setvbuf(f, NULL, mode, BUFSIZ);
	return f;
}

void print_error(int err, const char *text)
{
	json_t *o;

	if (json_out) {
		o = json_pack("{s:b,s:i,s:s}", "ok", 0, "errno", err, "error",
			      text);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	fprintf(stderr, "scheckpoint: %s\n", text);
}

void time_text(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !localtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "None");
}

const char *field(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

json_int_t number(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}
