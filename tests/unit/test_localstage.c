/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_localstage.c - node-local staging: the user's directory below the
 * admin's (as root), the flush destination, and the copy of an image. */
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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "image.h"
#include "localstage.h"
#include "manifest.h"
#include "tmpdir.h"

#define UID 4242
#define GID 4243

static const struct {
	const char *sub;
	int ok;
} dest_rows[] = {
	{ "1.ckpt.partial", 1 },
	{ "1.ckpt.partial/node.3", 1 },
	{ "", 0 },
	{ "/abs", 0 },
	{ "a/../b", 0 },
	{ "a//b", 0 },
	{ "./a", 0 },
};

static void test_open_dest(void **state)
{
	struct fixture *f = *state;
	char err[256];
	size_t i;
	int fd;

	for (i = 0; i < sizeof(dest_rows) / sizeof(dest_rows[0]); i++) {
		fd = localstage_open_dest(f->fd, dest_rows[i].sub, err,
					  sizeof(err));
		if (dest_rows[i].ok) {
			assert_true(fd >= 0);
			close(fd);
		} else {
			assert_int_equal(fd, -1);
			assert_int_equal(errno, EINVAL);
		}
	}
	/* A link in the way is never followed. */
	assert_int_equal(symlinkat("/tmp", f->fd, "link"), 0);
	assert_int_equal(localstage_open_dest(f->fd, "link/x", err,
					      sizeof(err)), -1);
}

static void test_copy(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { .seq = 1, .job = 1, .step = 0 }, c = { 0 };
	char err[256];
	int src, dst;

	assert_int_equal(mkdirat(f->fd, "img", 0700), 0);
	src = openat(f->fd, "img", O_RDONLY | O_DIRECTORY);
	assert_true(src >= 0);
	tmpdir_put(src, "count", "7\n");
	assert_int_equal(mkdirat(src, "sub", 0700), 0);
	tmpdir_put(src, "sub/state", "abc");
	if (manifest_build(src, &m, err, sizeof(err)) < 0)
		fail_msg("manifest_build: %s", err);
	m.reason = strdup("create");
	m.node = strdup("n1");
	if (manifest_write(src, &m, err, sizeof(err)) < 0)
		fail_msg("manifest_write: %s", err);
	dst = localstage_open_dest(f->fd, "out.partial/node.0", err,
				   sizeof(err));
	assert_true(dst >= 0);
	assert_int_equal(localstage_copy(src, &m, dst, err, sizeof(err)), 0);
	/* The copy holds the same files, the manifest excepted. */
	assert_int_equal(faccessat(dst, MANIFEST_NAME, F_OK, 0), -1);
	assert_int_equal(manifest_build(dst, &c, err, sizeof(err)), 0);
	assert_int_equal(c.nfiles, m.nfiles);
	assert_string_equal(c.files[1].path, "sub/state");
	assert_string_equal(c.files[1].xxh3, m.files[1].xxh3);
	/* Copying again onto existing files fails (O_EXCL), never merges. */
	assert_int_equal(localstage_copy(src, &m, dst, err, sizeof(err)), -1);
	manifest_free(&m);
	manifest_free(&c);
	close(src);
	close(dst);
}

static void test_user_dir(void **state)
{
	struct fixture *f = *state;
	char admin[128], err[512], *out = NULL;
	struct stat st;

	if (geteuid() != 0)
		skip();
	snprintf(admin, sizeof(admin), "%s/local/shm", f->dir);
	assert_int_equal(localstage_user_dir(admin, UID, GID, 17, &out, err,
					     sizeof(err)), 0);
	assert_non_null(strstr(out, "/local/shm/4242/17"));
	free(out);
	assert_int_equal(fstatat(f->fd, "local/shm/4242", &st,
				 AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_uid, UID);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Again: accepted as it is. */
	assert_int_equal(localstage_user_dir(admin, UID, GID, 18, &out, err,
					     sizeof(err)), 0);
	free(out);
	/* Not the user's, or open to others: refused, not repaired. */
	assert_int_equal(fchownat(f->fd, "local/shm/4242", 0, 0, 0), 0);
	assert_int_equal(localstage_user_dir(admin, UID, GID, 17, &out, err,
					     sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	/* A link in the user's place is refused. */
	assert_int_equal(symlinkat("/tmp", f->fd, "local/shm/4244"), 0);
	assert_int_equal(localstage_user_dir(admin, 4244, GID, 17, &out, err,
					     sizeof(err)), -1);
	/* An admin directory others may write to is refused. */
	assert_int_equal(fchmodat(f->fd, "local/shm", 01777, 0), 0);
	assert_int_equal(localstage_user_dir(admin, UID, GID, 17, &out, err,
					     sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "writable by root only"));
	/* A link on the way that root does not own is refused. */
	assert_int_equal(mkdirat(f->fd, "elsewhere", 0755), 0);
	assert_int_equal(symlinkat("elsewhere", f->fd, "ulink"), 0);
	assert_int_equal(fchownat(f->fd, "ulink", UID, GID,
				  AT_SYMLINK_NOFOLLOW), 0);
	snprintf(admin, sizeof(admin), "%s/ulink/shm", f->dir);
	assert_int_equal(localstage_user_dir(admin, UID, GID, 17, &out, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "not owned by root"));
	assert_int_equal(faccessat(f->fd, "elsewhere/shm", F_OK, 0), -1);
	/* Root's own jobs are not staged. */
	assert_int_equal(localstage_user_dir(admin, 0, 0, 17, &out, err,
					     sizeof(err)), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_dest),
		T(test_copy),
		T(test_user_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
