/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_plugstack.c - libFuzzer target for the plugstack.conf argument
 * parser (common/ckptconf.c on top of common/kvconf.c).
 *
 * The input is split into words at blanks and newlines, as Slurm splits
 * the plugstack line, and parsed on top of the defaults; a dir= template
 * that parses is expanded.  Properties beyond "no sanitizer report":
 *   - a failure returns -1 with EINVAL and a non-empty message;
 *   - a success leaves every value inside its table's bounds;
 *   - an expanded directory is absolute. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ckptconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 64

static int split(char *s, char **argv)
{
	int argc = 0;
	char *save = NULL, *w;

	for (w = strtok_r(s, " \t\n", &save); w && argc < MAX_WORDS;
	     w = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = w;
	return argc;
}

static void check_ok(const struct ckpt_conf *c)
{
	char *out = NULL;

	if (c->keep < 1 || c->keep > 1000 || c->max_wait < 1 ||
	    c->max_wait > 86400 || c->min_interval < 0 || c->lead < 0 ||
	    c->signo < 1 || c->signo > 64 || !c->socket ||
	    c->socket[0] != '/')
		abort();
	if (c->dir && ckpt_expand_dir(c->dir, "user", 1000, 42, &out) == 0) {
		if (out[0] != '/')
			abort();
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *argv[MAX_WORDS], err[256] = "";
	struct ckpt_conf c;
	int argc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	argc = split(s, argv);
	if (ckpt_conf_init(&c) == 0) {
		if (ckpt_conf_parse(&c, argc, argv, err, sizeof(err)) == 0)
			check_ok(&c);
		else if (errno != EINVAL || !err[0])
			abort();
		ckpt_conf_free(&c);
	}
	free(s);
	return 0;
}
