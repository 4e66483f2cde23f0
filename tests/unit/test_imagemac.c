/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_imagemac.c - the MAC over a CRIU dump (imagemac.h): the key
 * file's checks, a known answer for the documented recipe, and that a
 * changed byte, a renamed, added or non-regular file, or a missing or
 * malformed .mac is refused. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "imagemac.h"
#include "tmpdir.h"

/* HMAC-SHA256 by the recipe of imagemac.h, from Python's hmac, for the
 * key file of 32 'k' and the dump below. */
#define KNOWN "73dac22e046020de1047392a3587b4925078f98752b287a2da4f28b3d72c58a0"

static void key_and_dump(struct fixture *f, uint8_t key[IMAGEMAC_KEY_LEN])
{
	char path[128], err[256];

	tmpdir_put(f->fd, "key", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	assert_int_equal(fchmodat(f->fd, "key", 0400, 0), 0);
	snprintf(path, sizeof(path), "%s/key", f->dir);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), 0);
	assert_int_equal(mkdirat(f->fd, "criu.0", 0700), 0);
	tmpdir_put(f->fd, "criu.0/a", "hello");
	tmpdir_put(f->fd, "criu.0/b", "");
	tmpdir_put(f->fd, "criu.0/core-1.img", "");
	/* three bytes 0 1 2 (tmpdir_put takes text) */
	{
		int fd = openat(f->fd, "criu.0/core-1.img", O_WRONLY);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, "\0\1\2", 3), 3);
		close(fd);
	}
}

static void test_known_answer(void **state)
{
	struct fixture *f = *state;
	uint8_t key[IMAGEMAC_KEY_LEN];
	char hex[IMAGEMAC_HEX_LEN + 1], err[256];
	int dfd;

	key_and_dump(f, key);
	dfd = openat(f->fd, "criu.0", O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(imagemac_dir(dfd, key, hex, err, sizeof(err)), 0);
	close(dfd);
	assert_string_equal(hex, KNOWN);
	assert_int_equal(imagemac_write(f->fd, "criu.0", key, err,
					sizeof(err)), 0);
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 1);
	/* a second write never replaces the first */
	assert_int_equal(imagemac_write(f->fd, "criu.0", key, err,
					sizeof(err)), -1);
}

static void test_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t key[IMAGEMAC_KEY_LEN], other[IMAGEMAC_KEY_LEN];
	char err[256];

	key_and_dump(f, key);
	/* no .mac at all */
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 0);
	assert_non_null(strstr(err, "not a dump slurmckptd took"));
	assert_int_equal(imagemac_write(f->fd, "criu.0", key, err,
					sizeof(err)), 0);
	/* another key */
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(imagemac_verify(f->fd, "criu.0", other, err,
					 sizeof(err)), 0);
	/* one byte changed, same size */
	tmpdir_put(f->fd, "criu.0/a", "hellO");
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 0);
	tmpdir_put(f->fd, "criu.0/a", "hello");
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 1);
	/* a file added */
	tmpdir_put(f->fd, "criu.0/c", "");
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 0);
	assert_int_equal(unlinkat(f->fd, "criu.0/c", 0), 0);
	/* a renamed file */
	assert_int_equal(renameat(f->fd, "criu.0/b", f->fd, "criu.0/bb"), 0);
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 0);
	assert_int_equal(renameat(f->fd, "criu.0/bb", f->fd, "criu.0/b"), 0);
	/* a symbolic link or a directory in the dump: an error */
	assert_int_equal(symlinkat("a", f->fd, "criu.0/l"), 0);
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), -1);
	assert_int_equal(unlinkat(f->fd, "criu.0/l", 0), 0);
	assert_int_equal(mkdirat(f->fd, "criu.0/d", 0700), 0);
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), -1);
	assert_int_equal(unlinkat(f->fd, "criu.0/d", AT_REMOVEDIR), 0);
	/* a .mac that is not one line of hex */
	tmpdir_put(f->fd, "criu.0.mac", "x\n");
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), 0);
	/* the .mac, or the dump, through a symbolic link: never followed */
	assert_int_equal(unlinkat(f->fd, "criu.0.mac", 0), 0);
	tmpdir_put(f->fd, "real.mac", KNOWN "\n");
	assert_int_equal(symlinkat("real.mac", f->fd, "criu.0.mac"), 0);
	assert_int_equal(imagemac_verify(f->fd, "criu.0", key, err,
					 sizeof(err)), -1);
	assert_int_equal(symlinkat("criu.0", f->fd, "criu.1"), 0);
	assert_int_equal(imagemac_write(f->fd, "criu.1", key, err,
					sizeof(err)), -1);
}

static void test_key_file(void **state)
{
	struct fixture *f = *state;
	uint8_t key[IMAGEMAC_KEY_LEN];
	char path[128], err[256];

	snprintf(path, sizeof(path), "%s/key", f->dir);
	tmpdir_put(f->fd, "key", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	/* readable by group or others: refused */
	assert_int_equal(fchmodat(f->fd, "key", 0440, 0), 0);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fchmodat(f->fd, "key", 0600, 0), 0);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), 0);
	/* too short */
	tmpdir_put(f->fd, "key", "short");
	assert_int_equal(fchmodat(f->fd, "key", 0600, 0), 0);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), -1);
	/* owned by a user */
	tmpdir_put(f->fd, "key", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	assert_int_equal(fchmodat(f->fd, "key", 0600, 0), 0);
	if (geteuid() == 0) {
		assert_int_equal(fchownat(f->fd, "key", 1000, 0, 0), 0);
		assert_int_equal(imagemac_key_load(path, key, err,
						   sizeof(err)), -1);
	}
	/* a symbolic link, a relative path, a missing file */
	assert_int_equal(symlinkat("key", f->fd, "link"), 0);
	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), -1);
	assert_int_equal(imagemac_key_load("key", key, err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/none", f->dir);
	assert_int_equal(imagemac_key_load(path, key, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_answer,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_refused,
						tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_key_file,
						tmpdir_setup, tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
