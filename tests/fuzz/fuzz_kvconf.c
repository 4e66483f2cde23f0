/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_kvconf.c - libFuzzer target for the key=value files of
 * common/kvconf.c: kv_parse_file() (slurmckptd.conf) and
 * kv_parse_secrets() (the offsite credentials file, whose errors may be
 * logged).
 *
 * Each input becomes one temporary file, parsed by both into a struct
 * through a table with one key of every kv_type.  Properties beyond "no
 * sanitizer report":
 *   - both accept or both reject the input, and accept it with the same
 *     values;
 *   - a rejection is -1 EINVAL with a message "<path>:<line>: ..."
 *     (line 1 .. the number of lines), and leaves the struct untouched;
 *   - an accepted value is within its row's bounds (a string non-empty,
 *     a path absolute, numbers min..max, a signal 1..64 but KILL/STOP, a
 *     bool 0/1); kv_free() sets the strings back to NULL;
 *   - kv_parse_secrets' message never quotes the file: after its
 *     "<path>:<line>: " it holds no 9-byte piece of the input (not only
 *     of the values: stricter, and as sound) except a piece of the fixed
 *     text it gives for any bad line (read once at start, from a file of
 *     one bad line);
 *   - no leak (LeakSanitizer). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIECE 9		/* "longer than 8 bytes" */

struct conf {
	char *name;
	char *dir;
	long timeout;
	long count;
	int signo;
	bool enable;
};

static const struct kv_key table[] = {
	{ "name", KV_STRING, offsetof(struct conf, name), 0, 0, "a string" },
	{ "dir", KV_PATH, offsetof(struct conf, dir), 0, 0, "an absolute path" },
	{ "timeout", KV_TIME, offsetof(struct conf, timeout), 1, 86400,
	  "a time of 1 s to 1 day" },
	{ "count", KV_UINT, offsetof(struct conf, count), 0, 1000,
	  "0 to 1000" },
	{ "signal", KV_SIGNAL, offsetof(struct conf, signo), 0, 0,
	  "a signal name or number" },
	{ "enable", KV_BOOL, offsetof(struct conf, enable), 0, 0,
	  "yes or no" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct conf initial = {
	.timeout = -5, .count = -5, .signo = -5, .enable = true,
};

static char path[4096];
static char *fixed;		/* kv_parse_secrets' text for a bad line */

static void cleanup(void)
{
	unlink(path);
	free(fixed);
}

static void put(const void *data, size_t size)
{
	FILE *f = fopen(path, "we");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f))
		abort();
}

/* The text of err after "<path>:<line>: ", line 1..maxline; NULL if it
 * does not start so. */
static const char *after_prefix(const char *err, size_t maxline)
{
	size_t plen = strlen(path);
	char *end;
	unsigned long line;

	if (strncmp(err, path, plen) != 0 || err[plen] != ':' ||
	    err[plen + 1] < '1' || err[plen + 1] > '9')
		return NULL;
	errno = 0;
	line = strtoul(err + plen + 1, &end, 10);
	if (errno || line < 1 || line > maxline || end[0] != ':' ||
	    end[1] != ' ')
		return NULL;
	return end + 2;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char err[512] = "";
	struct conf c = initial;
	const char *text;
	int fd;

	snprintf(path, sizeof(path), "%s/fuzz_kvconf.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if ((fd = mkstemp(path)) < 0 || close(fd) < 0)
		abort();
	atexit(cleanup);
	put("x\n", 2);
	if (kv_parse_secrets(table, &c, path, err, sizeof(err)) != -1 ||
	    !(text = after_prefix(err, 1)) || !*text ||
	    !(fixed = strdup(text)))
		abort();
}

static void check_ok(const struct conf *c)
{
	if ((c->name && !c->name[0]) || (c->dir && c->dir[0] != '/') ||
	    (c->timeout != -5 && (c->timeout < 1 || c->timeout > 86400)) ||
	    (c->count != -5 && (c->count < 0 || c->count > 1000)) ||
	    (c->signo != -5 && (c->signo < 1 || c->signo > 64 ||
				c->signo == SIGKILL || c->signo == SIGSTOP)))
		abort();
}

static int same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static int equal(const struct conf *a, const struct conf *b)
{
	return same(a->name, b->name) && same(a->dir, b->dir) &&
	       a->timeout == b->timeout && a->count == b->count &&
	       a->signo == b->signo && a->enable == b->enable;
}

static void check_rejected(const struct conf *c, const char *err,
			   size_t maxline)
{
	if (errno != EINVAL || !after_prefix(err, maxline) ||
	    !equal(c, &initial))
		abort();
}

/* No piece of the input in the secrets' message but in the fixed text. */
static void check_not_quoted(const uint8_t *data, size_t size,
			     const char *err, size_t maxline)
{
	const char *text = after_prefix(err, maxline);
	size_t tlen, i;

	if (!text)
		abort();
	tlen = strlen(text);
	for (i = 0; i + PIECE <= size; i++)
		if (memmem(text, tlen, data + i, PIECE) &&
		    !memmem(fixed, strlen(fixed), data + i, PIECE))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf a = initial, b = initial;
	char erra[512] = "", errb[512] = "";
	int ra, rb;
	size_t i, maxline = 1;

	if (!fixed)
		setup();
	for (i = 0; i < size; i++)
		maxline += data[i] == '\n';
	put(data, size);
	errno = 0;
	ra = kv_parse_file(table, &a, path, erra, sizeof(erra));
	if (ra < 0)
		check_rejected(&a, erra, maxline);
	errno = 0;
	rb = kv_parse_secrets(table, &b, path, errb, sizeof(errb));
	if (rb < 0) {
		check_rejected(&b, errb, maxline);
		check_not_quoted(data, size, errb, maxline);
	}
	if (ra != rb || (ra != 0 && ra != -1))
		abort();
	if (ra == 0) {
		check_ok(&a);
		if (!equal(&a, &b))
			abort();
	}
	kv_free(table, &a);
	kv_free(table, &b);
	if (a.name || a.dir || b.name || b.dir)
		abort();
	return 0;
}
