/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tmpdir.h - a fresh temporary directory per cmocka test, removed after
 * it (read-only images included), shared by the filesystem tests. */
#ifndef CKPT_TEST_TMPDIR_H
#define CKPT_TEST_TMPDIR_H

struct fixture {
	char dir[64];
	int fd;			/* O_DIRECTORY fd of dir */
};

/* cmocka setup/teardown: *state is a struct fixture. */
int tmpdir_setup(void **state);
int tmpdir_teardown(void **state);

/* Create or replace dirfd/path with text (asserts on failure). */
void tmpdir_put(int dirfd, const char *path, const char *text);

#endif
