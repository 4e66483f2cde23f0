/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_manifest_parse.c - libFuzzer target for manifest_parse()
 * (common/manifest.c) on a buffer: the manifest.json of an image that
 * slurmckptd fetches back from the offsite store, whoever else may write
 * there.  (fuzz_manifest covers manifest_read() of a file, with
 * manifest_verify(); this one the buffer entry point, its exact length,
 * and manifest_format().)
 *
 * Each input is parsed as it is (libFuzzer's buffer of exactly size
 * bytes, not NUL-terminated: a read past it is a sanitizer report).
 * Properties beyond "no sanitizer report":
 *   - a rejection is -1 EINVAL with a message, m left untouched;
 *   - an accepted manifest has a non-empty reason and node, seq and time
 *     0 .. INT64_MAX, and every path is relative, non-empty, of at most
 *     MANIFEST_MAX_DEPTH + 1 components of 1 .. NAME_MAX bytes, none of
 *     them "." or "..", not manifest.json or .done.* at the top; the
 *     paths are sorted and unique, and none is also the directory of
 *     another; each xxh3 is 32 lower-case hex digits;
 *   - manifest_format() of it parses back equal (seq, time, job, step,
 *     reason, node, and the same files: paths, sizes, xxh3), and
 *     formatting that again gives the same text;
 *   - no leak (LeakSanitizer). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
	const char *c, *slash;
	size_t len, n = 0;

	if (!p || !*p || *p == '/' || strlen(p) >= PATH_MAX)
		abort();
	for (c = p;; c = slash + 1) {
		slash = strchr(c, '/');
		len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || len > NAME_MAX || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			abort();
		n++;
		if (!slash)
			break;
	}
	if (n > MANIFEST_MAX_DEPTH + 1 ||
	    (n == 1 && (!strcmp(p, MANIFEST_NAME) ||
			!strncmp(p, ".done.", 6))))
		abort();
}

static void check(const struct manifest *m)
{
	const struct manifest_file *f;
	size_t i, j, len;

	if (!m->reason || !*m->reason || !m->node || !*m->node ||
	    m->seq > INT64_MAX || m->time < 0 || (m->nfiles && !m->files) ||
	    m->nfiles > MANIFEST_MAX_FILES || m->process_image)
		abort();
	for (i = 0; i < m->nfiles; i++) {
		f = &m->files[i];
		check_path(f->path);
		if (f->size > INT64_MAX || strlen(f->xxh3) != 32 ||
		    strspn(f->xxh3, "0123456789abcdef") != 32)
			abort();
		if (i && strcmp(m->files[i - 1].path, f->path) >= 0)
			abort();
		/* No file is the directory of another ("a" and "a/b"). */
		len = strlen(f->path);
		for (j = 0; j < m->nfiles; j++)
			if (!strncmp(m->files[j].path, f->path, len) &&
			    m->files[j].path[len] == '/')
				abort();
	}
}

static int same(const struct manifest *a, const struct manifest *b)
{
	size_t i;

	if (a->seq != b->seq || a->time != b->time || a->job != b->job ||
	    a->step != b->step || strcmp(a->reason, b->reason) ||
	    strcmp(a->node, b->node) || a->nfiles != b->nfiles)
		return 0;
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].path, b->files[i].path) ||
		    a->files[i].size != b->files[i].size ||
		    strcmp(a->files[i].xxh3, b->files[i].xxh3))
			return 0;
	return 1;
}

static void roundtrip(const struct manifest *m)
{
	struct manifest back;
	char *a, *b, err[512];

	if (!(a = manifest_format(m)))
		abort();
	memset(&back, 0, sizeof(back));
	if (manifest_parse(a, strlen(a), &back, err, sizeof(err)) != 0 ||
	    !same(m, &back))
		abort();
	if (!(b = manifest_format(&back)) || strcmp(a, b) != 0)
		abort();
	manifest_free(&back);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	char err[512] = "";

	memset(&m, 0, sizeof(m));
	errno = 0;
	if (manifest_parse((const char *)data, size, &m, err,
			   sizeof(err)) != 0) {
		if (errno != EINVAL || !err[0] || m.reason || m.node ||
		    m.files || m.nfiles)
			abort();
		return 0;
	}
	check(&m);
	roundtrip(&m);
	manifest_free(&m);
	return 0;
}
