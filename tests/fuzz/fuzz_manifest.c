/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_manifest.c - libFuzzer target for the manifest reader
 * (common/manifest.c): manifest.json is written by the job's user, and
 * the plugin and the helper read it when they look for an image.
 *
 * Each input becomes manifest.json in a private temporary directory;
 * manifest_read() parses it and, when it is accepted, manifest_verify()
 * checks it against the (empty) directory.  Properties beyond "no
 * sanitizer report":
 *   - a rejection is -1 with a message;
 *   - an accepted manifest has relative, unique, sorted paths without
 *     "." or ".." components and 32 hex digits per checksum;
 *   - verification of a manifest listing files fails (none exist), and
 *     never touches anything outside the directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dirfd = -1;
static char dirname_[4096];

static void cleanup(void)
{
	unlinkat(dirfd, MANIFEST_NAME, 0);
	rmdir(dirname_);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dirname_, sizeof(dirname_), "%s/fuzz_manifest.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dirname_) ||
	    (dirfd = open(dirname_, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		abort();
	atexit(cleanup);
}

static void write_manifest(const uint8_t *data, size_t size)
{
	int fd;

	unlinkat(dirfd, MANIFEST_NAME, 0);
	fd = openat(dirfd, MANIFEST_NAME, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC, 0600);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) ||
	    close(fd) < 0)
		abort();
}

static void check(const struct manifest *m)
{
	const struct manifest_file *f;
	size_t i, j;

	for (i = 0; i < m->nfiles; i++) {
		f = &m->files[i];
		if (!f->path || !f->path[0] || f->path[0] == '/' ||
		    strlen(f->xxh3) != 32)
			abort();
		for (j = 0; j < 32; j++)
			if (!strchr("0123456789abcdef", f->xxh3[j]))
				abort();
		if (!strcmp(f->path, ".") || !strcmp(f->path, "..") ||
		    !strncmp(f->path, "../", 3) || strstr(f->path, "/../") ||
		    strstr(f->path, "/./") || !strncmp(f->path, "./", 2))
			abort();
		if (i && strcmp(m->files[i - 1].path, f->path) >= 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m;
	char err[512] = "";

	if (dirfd < 0)
		setup();
	write_manifest(data, size);
	memset(&m, 0, sizeof(m));
	if (manifest_read(dirfd, &m, err, sizeof(err)) < 0) {
		if (!err[0])
			abort();
		return 0;
	}
	check(&m);
	err[0] = '\0';
	if (manifest_verify(dirfd, &m, err, sizeof(err)) == 0 &&
	    m.nfiles > 0)
		abort();
	manifest_free(&m);
	return 0;
}
