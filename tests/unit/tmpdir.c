/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tmpdir.c - see tmpdir.h. */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

int tmpdir_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/ckpt-unit.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*state = f;
	return f->fd < 0 ? -1 : 0;
}

int tmpdir_teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[256];

	close(f->fd);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", f->dir,
		 f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

void tmpdir_put(int dirfd, const char *path, const char *text)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}
