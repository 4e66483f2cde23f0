/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_image.c - staging, commit, rotation and lookup in a real
 * checkpoint directory. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdbool.h>
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
#include "image_list.h"
#include "proto.h"
#include "tmpdir.h"

#define NAME "42.0.ckpt"





static bool exists(int dirfd, const char *path)
{
	struct stat st;

	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static char *slurp(int dirfd, const char *path)
{
	static char buf[8192];
	ssize_t n;
	int fd = openat(dirfd, path, O_RDONLY);

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return buf;
}

static const struct {
	uint32_t job, step;
	const char *name;
	size_t len;
} name_rows[] = {
	{ 42, CKPT_STEP_BATCH, "42.ckpt", 64 },
	{ 42, 0, "42.0.ckpt", 64 },
	{ 4294967290U, 4294967290U, "4294967290.4294967290.ckpt", 64 },
	{ 42, 0, NULL, 9 },	/* "42.0.ckpt" needs 10 */
	{ 42, 0, "42.0.ckpt", 10 },
};

static void test_name(void **state)
{
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
		int rc = image_name(name_rows[i].job, name_rows[i].step, buf,
				    name_rows[i].len);

		if (!name_rows[i].name) {
			assert_int_equal(rc, -1);
			assert_int_equal(errno, ENOSPC);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(buf, name_rows[i].name);
		}
	}
}

static void test_open_base(void **state)
{
	struct fixture *f = *state;
	char path[256], err[256];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/a/b/c", f->dir);
	fd = image_open_base(path, err, sizeof(err));
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fstatat(f->fd, "a/b", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	fd = image_open_base(path, err, sizeof(err));	/* exists already */
	assert_true(fd >= 0);
	close(fd);
	tmpdir_put(f->fd, "file", "x");
	snprintf(path, sizeof(path), "%s/file/sub", f->dir);
	assert_int_equal(image_open_base(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "file"));
	assert_int_equal(image_open_base("", err, sizeof(err)), -1);
}

/* Stale staging with read-only contents and a link pointing outside. */
static void test_stage_debris(void **state)
{
	struct fixture *f = *state;
	struct stat st;
	char err[256];
	int fd;

	tmpdir_put(f->fd, "precious", "keep me");
	assert_int_equal(mkdirat(f->fd, NAME ".partial", 0700), 0);
	assert_int_equal(mkdirat(f->fd, NAME ".partial/ro", 0700), 0);
	tmpdir_put(f->fd, NAME ".partial/ro/file", "x");
	assert_int_equal(symlinkat("../../precious", f->fd,
				   NAME ".partial/ro/link"), 0);
	assert_int_equal(symlinkat(f->dir, f->fd, NAME ".partial/dirlink"), 0);
	assert_int_equal(fchmodat(f->fd, NAME ".partial/ro/file", 0444, 0), 0);
	assert_int_equal(fchmodat(f->fd, NAME ".partial/ro", 0555, 0), 0);
	fd = image_stage(f->fd, NAME, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);
	assert_false(exists(f->fd, NAME ".partial/ro"));
	assert_string_equal(slurp(f->fd, "precious"), "keep me");
	assert_int_equal(image_discard(f->fd, NAME, err, sizeof(err)), 0);
	assert_false(exists(f->fd, NAME ".partial"));
	assert_int_equal(image_discard(f->fd, NAME, err, sizeof(err)), 0);
	assert_int_equal(image_stage(f->fd, "../x", err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
}

/* One checkpoint: stage, the "task" writes and acknowledges, commit. */
static void checkpoint(struct fixture *f, uint64_t seq, long keep)
{
	struct manifest m = { 0 };
	char err[256], text[32];
	int fd;

	fd = image_stage(f->fd, NAME, err, sizeof(err));
	assert_true(fd >= 0);
	snprintf(text, sizeof(text), "%llu\n", (unsigned long long)seq);
	tmpdir_put(fd, "count", text);
	assert_int_equal(mkdirat(fd, "sub", 0700), 0);
	tmpdir_put(fd, "sub/data", "data");
	tmpdir_put(fd, ".done.0", "");
	close(fd);
	assert_int_equal(image_next_seq(f->fd, NAME), seq);
	m.seq = seq;
	m.job = 42;
	m.step = 0;
	m.reason = "periodic";
	m.node = "c1";
	if (image_commit(f->fd, NAME, &m, keep, err, sizeof(err)) < 0)
		fail_msg("commit %llu: %s", (unsigned long long)seq, err);
	assert_int_equal(m.nfiles, 2);
	assert_true(m.time > 0);
	/* m.reason/node are the caller's; free only the files */
	for (size_t i = 0; i < m.nfiles; i++)
		free(m.files[i].path);
	free(m.files);
}

static void test_commit_rotate(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char out[64], skipped[512], *log;
	regex_t re;
	struct stat st;

	checkpoint(f, 1, 2);
	assert_true(exists(f->fd, NAME));
	assert_false(exists(f->fd, NAME ".partial"));
	assert_int_equal(fstatat(f->fd, NAME, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	checkpoint(f, 2, 2);
	assert_true(exists(f->fd, NAME ".1"));
	checkpoint(f, 3, 2);
	assert_true(exists(f->fd, NAME));
	assert_true(exists(f->fd, NAME ".2"));
	assert_false(exists(f->fd, NAME ".1"));	/* rotated away */
	assert_string_equal(slurp(f->fd, NAME "/count"), "3\n");
	assert_string_equal(slurp(f->fd, NAME ".2/count"), "2\n");
	assert_false(exists(f->fd, NAME "/.done.0"));
	assert_int_equal(image_next_seq(f->fd, NAME), 4);

	log = slurp(f->fd, IMAGE_LOG_NAME);
	assert_int_equal(regcomp(&re, "^([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:"
				 "[0-9]{2}:[0-9]{2}Z 42\\.0 seq=[123] "
				 "committed files=2 bytes=6 reason=periodic "
				 "node=c1 took=[0-9]+ms commit=[0-9]+ms\n){3}$",
				 REG_EXTENDED), 0);
	if (regexec(&re, log, 0, NULL, 0) != 0)
		fail_msg("log: %s", log);
	regfree(&re);

	assert_int_equal(image_find_newest(f->fd, NAME, out, sizeof(out), &m,
					   skipped, sizeof(skipped)), 0);
	assert_string_equal(out, NAME);
	assert_int_equal(m.seq, 3);
	assert_string_equal(skipped, "");
	manifest_free(&m);
}

static void corrupt(struct fixture *f, const char *dir)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/count", dir);
	assert_int_equal(fchmodat(f->fd, path, 0644, 0), 0);
	fd = openat(f->fd, path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "9", 1, 0), 1);
	close(fd);
}

static void test_find_fallback(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char out[64], skipped[512];

	checkpoint(f, 1, 3);
	checkpoint(f, 2, 3);
	checkpoint(f, 3, 3);
	corrupt(f, NAME);
	assert_int_equal(image_find_newest(f->fd, NAME, out, sizeof(out), &m,
					   skipped, sizeof(skipped)), 0);
	assert_string_equal(out, NAME ".2");
	assert_int_equal(m.seq, 2);
	assert_non_null(strstr(skipped, NAME ": count: checksum"));
	manifest_free(&m);

	/* an unreadable manifest is skipped too */
	assert_int_equal(fchmodat(f->fd, NAME ".2", 0755, 0), 0);
	assert_int_equal(unlinkat(f->fd, NAME ".2/" MANIFEST_NAME, 0), 0);
	assert_int_equal(image_find_newest(f->fd, NAME, out, sizeof(out), &m,
					   skipped, sizeof(skipped)), 0);
	assert_string_equal(out, NAME ".1");
	assert_non_null(strstr(skipped, ";"));
	manifest_free(&m);

	corrupt(f, NAME ".1");
	assert_int_equal(image_find_newest(f->fd, NAME, out, sizeof(out), &m,
					   NULL, 0), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(image_find_newest(f->fd, "7.ckpt", out, sizeof(out),
					   &m, NULL, 0), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_commit_symlink(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { .seq = 2, .job = 42, .reason = "create",
			      .node = "c1" };
	char err[256];
	int fd;

	checkpoint(f, 1, 2);
	fd = image_stage(f->fd, NAME, err, sizeof(err));
	assert_true(fd >= 0);
	tmpdir_put(fd, "count", "2\n");
	assert_int_equal(symlinkat("/etc/shadow", fd, "evil"), 0);
	close(fd);
	assert_int_equal(image_commit(f->fd, NAME, &m, 2, err, sizeof(err)),
			 -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "evil"));
	assert_null(m.files);
	/* staging left for image_discard, the previous image untouched */
	assert_true(exists(f->fd, NAME ".partial"));
	assert_string_equal(slurp(f->fd, NAME "/count"), "1\n");
	assert_false(exists(f->fd, NAME ".1"));
	assert_int_equal(image_discard(f->fd, NAME, err, sizeof(err)), 0);
	assert_false(exists(f->fd, NAME ".partial"));
	/* no staging at all */
	assert_int_equal(image_commit(f->fd, NAME, &m, 2, err, sizeof(err)),
			 -1);
	assert_int_equal(errno, ENOENT);
}

static void test_commit_bad_current(void **state)
{
	struct fixture *f = *state;

	checkpoint(f, 1, 1);
	assert_int_equal(fchmodat(f->fd, NAME, 0755, 0), 0);
	assert_int_equal(unlinkat(f->fd, NAME "/" MANIFEST_NAME, 0), 0);
	checkpoint(f, 1, 1);	/* next seq: the broken N has none */
	assert_string_equal(slurp(f->fd, NAME "/count"), "1\n");
	/* the broken image was moved aside, not deleted, not rotated */
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "ls -d '%s/" NAME ".bad.'* >/dev/null",
		 f->dir);
	assert_int_equal(system(cmd), 0);
	checkpoint(f, 2, 1);	/* keep=1: no N.<seq> left */
	assert_false(exists(f->fd, NAME ".1"));
}

static void test_log(void **state)
{
	struct fixture *f = *state;
	regex_t re;

	/* one event, one line: the newline is escaped, as every control
	 * character is */
	assert_int_equal(image_log(f->fd, "42.batch failed: two\nlines"), 0);
	assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z "
				 "42\\.batch failed: two\\\\x0alines\n$",
				 REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, slurp(f->fd, IMAGE_LOG_NAME), 0, NULL,
				 0), 0);
	regfree(&re);
	assert_int_equal(unlinkat(f->fd, IMAGE_LOG_NAME, 0), 0);
	assert_int_equal(symlinkat("/tmp/elsewhere", f->fd, IMAGE_LOG_NAME), 0);
	assert_int_equal(image_log(f->fd, "x"), -1);
	assert_int_equal(errno, ELOOP);
}

/* Regression: a user who made checkpoint.log a FIFO blocked the helper's
 * worker forever in open() (no reader), holding one of max_workers slots:
 * a few such jobs stopped every user's checkpoints on the node.  The log
 * must refuse anything but a regular file, at once.  (alarm: a hang fails.) */
static void test_log_fifo(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mkfifoat(f->fd, IMAGE_LOG_NAME, 0644), 0);
	alarm(10);
	assert_int_equal(image_log(f->fd, "42.batch committed"), -1);
	alarm(0);
	assert_true(errno == EINVAL || errno == ENXIO);
	/* and when someone does read the FIFO: still not written */
	assert_int_equal(unlinkat(f->fd, IMAGE_LOG_NAME, 0), 0);
	assert_int_equal(mkfifoat(f->fd, IMAGE_LOG_NAME, 0644), 0);
	int rfd = openat(f->fd, IMAGE_LOG_NAME, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	alarm(10);
	assert_int_equal(image_log(f->fd, "42.batch committed"), -1);
	alarm(0);
	assert_int_equal(errno, EINVAL);
	char buf[64];
	assert_int_equal(read(rfd, buf, sizeof(buf)), 0);
	close(rfd);
}

/* Staging for image_move: count, sub/data and a marker. */
static int stage_some(int basefd)
{
	char err[256];
	int fd = image_stage(basefd, NAME, err, sizeof(err));

	assert_true(fd >= 0);
	tmpdir_put(fd, "count", "7\n");
	assert_int_equal(mkdirat(fd, "sub", 0700), 0);
	tmpdir_put(fd, "sub/data", "data");
	tmpdir_put(fd, ".done.0", "");
	return fd;
}

static void move_and_commit(int from, int to)
{
	struct manifest m = { .seq = 1, .job = 42, .reason = "create",
			      .node = "c1" };
	char err[256];

	if (image_move(from, to, NAME, err, sizeof(err)) < 0)
		fail_msg("image_move: %s", err);
	assert_false(exists(from, NAME ".partial"));
	assert_string_equal(slurp(to, NAME ".partial/sub/data"), "data");
	if (image_commit(to, NAME, &m, 2, err, sizeof(err)) < 0)
		fail_msg("commit after move: %s", err);
	assert_int_equal(m.nfiles, 2);
	assert_string_equal(slurp(to, NAME "/count"), "7\n");
	for (size_t i = 0; i < m.nfiles; i++)
		free(m.files[i].path);
	free(m.files);
}

/* Same filesystem (a rename), then /dev/shm when it is another one (a
 * copy, which refuses a symbolic link as a commit would). */
static void test_move(void **state)
{
	struct fixture *f = *state;
	char shm[] = "/dev/shm/ckpt-unit.XXXXXX", err[256], cmd[128];
	struct stat a, b;
	int from, to, fd;

	assert_int_equal(mkdirat(f->fd, "from", 0700), 0);
	assert_int_equal(mkdirat(f->fd, "to", 0700), 0);
	from = openat(f->fd, "from", O_RDONLY | O_DIRECTORY);
	to = openat(f->fd, "to", O_RDONLY | O_DIRECTORY);
	assert_true(from >= 0 && to >= 0);
	close(stage_some(from));
	move_and_commit(from, to);
	close(to);
	/* into itself: nothing to move */
	close(stage_some(from));
	assert_int_equal(image_move(from, from, NAME, err, sizeof(err)), 0);
	assert_string_equal(slurp(from, NAME ".partial/count"), "7\n");
	if (!mkdtemp(shm) || stat(shm, &a) < 0 || fstat(f->fd, &b) < 0 ||
	    a.st_dev == b.st_dev) {
		close(from);
		return;
	}
	to = open(shm, O_RDONLY | O_DIRECTORY);
	assert_true(to >= 0);
	fd = stage_some(from);
	assert_int_equal(symlinkat("/etc/shadow", fd, "evil"), 0);
	assert_int_equal(image_move(from, to, NAME, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "evil"));
	assert_int_equal(unlinkat(fd, "evil", 0), 0);
	close(fd);
	close(stage_some(from));
	move_and_commit(from, to);
	close(to);
	close(from);
	snprintf(cmd, sizeof(cmd), "chmod -R u+w '%s' && rm -rf '%s'", shm,
		 shm);
	assert_int_equal(system(cmd), 0);
}

/* A job's images: every step's, N and N.<seq> only; an unreadable one is
 * an error, not an image. */
static void test_list(void **state)
{
	static const char *const decoys[] = {
		"42.ckpt.partial", "420.0.ckpt", "42.x.ckpt", "4.0.ckpt",
		"42.0.ckpt.deleted.3", "42.0.ckptx", "42.0.ckpt.", "42..ckpt",
	};
	struct fixture *f = *state;
	json_t *images = json_array(), *errors = json_array();
	size_t i;

	checkpoint(f, 1, 2);
	checkpoint(f, 2, 2);
	for (i = 0; i < sizeof(decoys) / sizeof(decoys[0]); i++)
		assert_int_equal(mkdirat(f->fd, decoys[i], 0700), 0);
	/* an image without a manifest */
	assert_int_equal(mkdirat(f->fd, "42.ckpt", 0700), 0);

	image_list(f->fd, "/d", NULL, 42, images, errors);
	assert_int_equal(json_array_size(images), 2);
	assert_int_equal(json_integer_value(json_object_get(
		json_array_get(images, 0), "seq")), 1);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(images, 1), "image")), "/d/" NAME);
	assert_int_equal(json_array_size(errors), 1);
	assert_non_null(strstr(json_string_value(json_array_get(errors, 0)),
			       "/d/42.ckpt: "));

	json_array_clear(images);
	json_array_clear(errors);
	image_list(f->fd, "/d", NAME, 0, images, errors);
	assert_int_equal(json_array_size(images), 2);
	assert_int_equal(json_array_size(errors), 0);
	json_decref(images);
	json_decref(errors);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		T(test_open_base),
		T(test_stage_debris),
		T(test_commit_rotate),
		T(test_find_fallback),
		T(test_commit_symlink),
		T(test_commit_bad_current),
		T(test_log),
		T(test_log_fifo),
		T(test_move),
		T(test_list),
	};

	return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
