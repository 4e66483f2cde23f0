/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_manifest.c - build, write, read and verify on a real directory. */
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
#include <xxhash.h>

#include "manifest.h"
#include "tmpdir.h"





/* The image used by most tests. */
static void populate(int fd)
{
	assert_int_equal(mkdirat(fd, "sub", 0755), 0);
	assert_int_equal(mkdirat(fd, "sub/deep", 0755), 0);
	tmpdir_put(fd, "a", "hello");
	tmpdir_put(fd, "sub/b", "");
	tmpdir_put(fd, "sub/deep/c", "ccc");
	tmpdir_put(fd, "sub/.done.x", "data, not a marker");
	tmpdir_put(fd, ".done.0", "");
	tmpdir_put(fd, ".done.1", "");
	tmpdir_put(fd, MANIFEST_NAME, "stale");
}

static void hex_of(const char *text, char out[33])
{
	XXH128_hash_t h = XXH3_128bits(text, strlen(text));

	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
}

static void fill(struct manifest *m)
{
	m->seq = 3;
	m->time = 1700000000;
	m->job = 42;
	m->step = 0xfffffffbU;
	m->reason = strdup("periodic");
	m->node = strdup("c1");
}

static void test_build(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	struct stat st;
	char err[256], hex[33];

	populate(f->fd);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nfiles, 4);
	assert_string_equal(m.files[0].path, "a");
	assert_string_equal(m.files[1].path, "sub/.done.x");
	assert_string_equal(m.files[2].path, "sub/b");
	assert_string_equal(m.files[3].path, "sub/deep/c");
	assert_int_equal(m.files[0].size, 5);
	hex_of("hello", hex);
	assert_string_equal(m.files[0].xxh3, hex);
	hex_of("", hex);
	assert_string_equal(m.files[2].xxh3, hex);
	assert_int_equal(manifest_bytes(&m), 5 + 18 + 0 + 3);
	/* markers gone, files and directories read-only */
	assert_int_equal(fstatat(f->fd, ".done.0", &st, 0), -1);
	assert_int_equal(fstatat(f->fd, "a", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0444);
	assert_int_equal(fstatat(f->fd, "sub/deep", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0555);
	assert_int_equal(fstatat(f->fd, "sub", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0555);

	fill(&m);
	assert_int_equal(manifest_write(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(fstatat(f->fd, MANIFEST_NAME, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0444);

	struct manifest r = { 0 };
	assert_int_equal(manifest_read(f->fd, &r, err, sizeof(err)), 0);
	assert_int_equal(r.seq, 3);
	assert_int_equal(r.time, 1700000000);
	assert_int_equal(r.job, 42);
	assert_int_equal(r.step, 0xfffffffbU);
	assert_string_equal(r.reason, "periodic");
	assert_string_equal(r.node, "c1");
	assert_int_equal(r.nfiles, 4);
	assert_string_equal(r.files[3].path, "sub/deep/c");
	assert_string_equal(r.files[3].xxh3, m.files[3].xxh3);
	assert_int_equal(manifest_verify(f->fd, &r, err, sizeof(err)), 0);
	/* a late marker at the top level is not an extra file */
	assert_int_equal(chmod(f->dir, 0755), 0);
	tmpdir_put(f->fd, ".done.7", "");
	assert_int_equal(manifest_verify(f->fd, &r, err, sizeof(err)), 0);
	manifest_free(&r);
	manifest_free(&m);
	assert_null(m.files);
}

/* Build + write, then break the image with cmd and expect verify to fail. */
static void broken(struct fixture *f, void (*breakit)(struct fixture *),
		   const char *want)
{
	struct manifest m = { 0 };
	char err[256];

	populate(f->fd);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	fill(&m);
	assert_int_equal(manifest_write(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(manifest_verify(f->fd, &m, err, sizeof(err)), 0);
	breakit(f);
	err[0] = '\0';
	assert_int_equal(manifest_verify(f->fd, &m, err, sizeof(err)), -1);
	assert_int_equal(errno, EBADMSG);
	if (!strstr(err, want))
		fail_msg("message '%s' does not name '%s'", err, want);
	manifest_free(&m);
}

static void corrupt(struct fixture *f)
{
	int fd;

	assert_int_equal(fchmodat(f->fd, "sub/deep/c", 0644, 0), 0);
	fd = openat(f->fd, "sub/deep/c", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 1), 1);
	close(fd);
}

static void truncate_it(struct fixture *f)
{
	assert_int_equal(fchmodat(f->fd, "a", 0644, 0), 0);
	tmpdir_put(f->fd, "a", "hell");
}

static void remove_it(struct fixture *f)
{
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(unlinkat(f->fd, "a", 0), 0);
}

static void extra_top(struct fixture *f)
{
	assert_int_equal(chmod(f->dir, 0755), 0);
	tmpdir_put(f->fd, "extra", "x");
}

static void extra_sub(struct fixture *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/sub/deep", f->dir);
	assert_int_equal(chmod(p, 0755), 0);
	tmpdir_put(f->fd, "sub/deep/extra", "x");
}

static void symlink_it(struct fixture *f)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/sub", f->dir);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(unlinkat(f->fd, "sub/b", 0), 0);
	assert_int_equal(symlinkat("/dev/null", f->fd, "sub/b"), 0);
}

static void test_verify_corrupt(void **state)
{
	broken(*state, corrupt, "sub/deep/c: checksum");
}

static void test_verify_size(void **state)
{
	broken(*state, truncate_it, "a: size 4");
}

static void test_verify_removed(void **state)
{
	broken(*state, remove_it, "a:");
}

static void test_verify_extra(void **state)
{
	broken(*state, extra_top, "extra: not listed");
}

static void test_verify_extra_sub(void **state)
{
	broken(*state, extra_sub, "sub/deep/extra: not listed");
}

static void test_verify_symlink(void **state)
{
	broken(*state, symlink_it, "sub/b");
}

static void test_build_rejects(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char err[256];

	assert_int_equal(mkdirat(f->fd, "d", 0755), 0);
	tmpdir_put(f->fd, "d/ok", "x");
	assert_int_equal(symlinkat("/etc/passwd", f->fd, "d/link"), 0);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "d/link"));
	assert_null(m.files);
	assert_int_equal(unlinkat(f->fd, "d/link", 0), 0);
	assert_int_equal(mkfifoat(f->fd, "fifo", 0600), 0);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "fifo"));
}

static void test_build_depth(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char path[1024] = "", err[256];
	int i;

	for (i = 0; i <= MANIFEST_MAX_DEPTH; i++) {
		strcat(path, i ? "/d" : "d");
		assert_int_equal(mkdirat(f->fd, path, 0755), 0);
	}
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), -1);
	assert_int_equal(errno, ELOOP);
}

static const char *const bad_manifests[] = {
	"",
	"[]",
	"{\"version\":1}",
	"{\"version\":2,\"seq\":1,\"time\":1,\"job\":1,\"step\":0,"
	"\"reason\":\"r\",\"node\":\"n\",\"files\":[]}",
	"{\"version\":4294967297,\"seq\":1,\"time\":1,\"job\":1,"
	"\"step\":0,\"reason\":\"r\",\"node\":\"n\",\"files\":[]}",
	"{\"version\":1,\"seq\":1,\"time\":1,\"job\":1,\"step\":0,"
	"\"reason\":\"r\",\"node\":\"n\",\"files\":[],\"extra\":1}",
	"{\"version\":1,\"seq\":-1,\"time\":1,\"job\":1,\"step\":0,"
	"\"reason\":\"r\",\"node\":\"n\",\"files\":[]}",
	"{\"version\":1,\"seq\":1,\"time\":1,\"job\":1,\"step\":4294967296,"
	"\"reason\":\"r\",\"node\":\"n\",\"files\":[]}",
	"{\"version\":1,\"seq\":1,\"time\":1,\"job\":1,\"step\":0,"
	"\"reason\":\"\",\"node\":\"n\",\"files\":[]}",
	"{\"version\":1,\"seq\":1,\"time\":1,\"job\":1,\"step\":0,"
	"\"reason\":\"r\",\"node\":\"n\",\"files\":{}}",
};

/* Files entries, each in an otherwise good manifest; "@" is a good
 * checksum, "@31" its first 31 digits. */
static const char *const bad_files[] = {
	"{\"path\":\"/abs\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"../x\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"a/../x\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"./x\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"a//x\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"a/\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"manifest.json\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\".done.3\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"x\",\"size\":-1,\"xxh3\":\"@\"}",
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@31\"}",
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@a\"}",
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@\",\"mode\":1}",
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@\"},"
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"x\",\"size\":1,\"xxh3\":\"@\"},"
	"{\"path\":\"x/y\",\"size\":1,\"xxh3\":\"@\"}",
	"{\"path\":\"x\",\"size\":1,"
	"\"xxh3\":\"0123456789ABCDEF0123456789abcdef\"}",
};

/* Copy in to out, "@31" -> 31 digits of hex, "@" -> hex. */
static void subst(char *out, size_t len, const char *in, const char *hex)
{
	size_t n = 0;

	for (; *in && n + 33 < len; in++) {
		if (*in != '@') {
			out[n++] = *in;
		} else if (strncmp(in, "@31", 3) == 0) {
			memcpy(out + n, hex, 31);
			n += 31;
			in += 2;
		} else {
			memcpy(out + n, hex, 32);
			n += 32;
		}
	}
	out[n] = '\0';
}

static void write_manifest(struct fixture *f, const char *text)
{
	unlinkat(f->fd, MANIFEST_NAME, 0);
	tmpdir_put(f->fd, MANIFEST_NAME, text);
}

static void test_read_strict(void **state)
{
	const char *hex = "0123456789abcdef0123456789abcdef";
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char err[256], files[512], text[1024];
	size_t i;

	for (i = 0; i < sizeof(bad_manifests) / sizeof(bad_manifests[0]); i++) {
		write_manifest(f, bad_manifests[i]);
		if (manifest_read(f->fd, &m, err, sizeof(err)) != -1 ||
		    errno != EINVAL)
			fail_msg("accepted: %s", bad_manifests[i]);
		assert_null(m.files);
	}
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		subst(files, sizeof(files), bad_files[i], hex);
		snprintf(text, sizeof(text), "{\"version\":1,\"seq\":1,"
			 "\"time\":1,\"job\":1,\"step\":0,\"reason\":\"r\","
			 "\"node\":\"n\",\"files\":[%s]}", files);
		write_manifest(f, text);
		if (manifest_read(f->fd, &m, err, sizeof(err)) != -1 ||
		    errno != EINVAL)
			fail_msg("accepted: %s", text);
		assert_null(m.reason);
	}
	/* a marker-like name below the top level is data */
	snprintf(text, sizeof(text), "{\"version\":1,\"seq\":1,\"time\":1,"
		 "\"job\":1,\"step\":0,\"reason\":\"r\",\"node\":\"n\","
		 "\"files\":[{\"path\":\"s/.done.1\",\"size\":0,"
		 "\"xxh3\":\"%s\"}]}", hex);
	write_manifest(f, text);
	assert_int_equal(manifest_read(f->fd, &m, err, sizeof(err)), 0);
	manifest_free(&m);
	/* missing, or not a regular file */
	assert_int_equal(unlinkat(f->fd, MANIFEST_NAME, 0), 0);
	assert_int_equal(manifest_read(f->fd, &m, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(symlinkat("/etc/passwd", f->fd, MANIFEST_NAME), 0);
	assert_int_equal(manifest_read(f->fd, &m, err, sizeof(err)), -1);
}

static void test_empty(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 }, r = { 0 };
	char err[256];

	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nfiles, 0);
	fill(&m);
	assert_int_equal(manifest_write(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(manifest_read(f->fd, &r, err, sizeof(err)), 0);
	assert_int_equal(r.nfiles, 0);
	assert_int_equal(manifest_verify(f->fd, &r, err, sizeof(err)), 0);
	tmpdir_put(f->fd, "late", "x");
	assert_int_equal(manifest_verify(f->fd, &r, err, sizeof(err)), -1);
	assert_int_equal(errno, EBADMSG);
	manifest_free(&r);
	manifest_free(&m);
}

static mode_t mode_of(int fd, const char *path)
{
	struct stat st;

	assert_int_equal(fstatat(fd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode & 07777;
}

static void put_mode(int fd, const char *path, mode_t mode)
{
	tmpdir_put(fd, path, "x");
	assert_int_equal(fchmodat(fd, path, mode, 0), 0);
}

/* Write the manifest of m (built in fd) and check the mode it gets. */
static void write_expect_mode(int fd, struct manifest *m, mode_t mode)
{
	char err[256];

	fill(m);
	assert_int_equal(manifest_write(fd, m, err, sizeof(err)), 0);
	assert_int_equal(mode_of(fd, MANIFEST_NAME), mode);
	manifest_free(m);
}

/* A commit clears write bits only: what the application chose for group
 * and others stays (a file it wrote 0600 is not made world-readable);
 * set-id and sticky bits go; the owner can always read. */
static void test_build_keeps_modes(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char err[256];

	assert_int_equal(mkdirat(f->fd, "priv", 0700), 0);
	assert_int_equal(fchmodat(f->fd, "priv", 0700, 0), 0);
	assert_int_equal(mkdirat(f->fd, "grp", 0750), 0);
	assert_int_equal(fchmodat(f->fd, "grp", 02750, 0), 0);
	put_mode(f->fd, "priv/secret", 0600);
	put_mode(f->fd, "grp/shared", 0640);
	put_mode(f->fd, "tool", 04755);
	put_mode(f->fd, "public", 0644);
	put_mode(f->fd, "wonly", 0200);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(mode_of(f->fd, "priv/secret"), 0400);
	assert_int_equal(mode_of(f->fd, "grp/shared"), 0440);
	assert_int_equal(mode_of(f->fd, "tool"), 0555);
	assert_int_equal(mode_of(f->fd, "public"), 0444);
	assert_int_equal(mode_of(f->fd, "wonly"), 0400);
	assert_int_equal(mode_of(f->fd, "priv"), 0500);
	assert_int_equal(mode_of(f->fd, "grp"), 0550);
	write_expect_mode(f->fd, &m, 0444);
}

/* A process's memory (a method's dump) is its owner's alone. */
static void test_build_process_image(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { .process_image = true };
	char err[256];

	assert_int_equal(mkdirat(f->fd, "criu.0", 0755), 0);
	assert_int_equal(fchmodat(f->fd, "criu.0", 0755, 0), 0);
	put_mode(f->fd, "criu.0/pages-1.img", 0644);
	put_mode(f->fd, "criu.0/run", 0755);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(mode_of(f->fd, "criu.0/pages-1.img"), 0400);
	assert_int_equal(mode_of(f->fd, "criu.0/run"), 0500);
	assert_int_equal(mode_of(f->fd, "criu.0"), 0500);
	write_expect_mode(f->fd, &m, 0400);
}

/* manifest_read_file hands out the bytes it checked: a file swapped or
 * changed after manifest_verify is refused, not used. */
static void test_read_file(void **state)
{
	struct fixture *f = *state;
	struct manifest m = { 0 };
	char err[256], *buf;
	size_t len;

	populate(f->fd);
	assert_int_equal(manifest_build(f->fd, &m, err, sizeof(err)), 0);
	assert_int_equal(manifest_read_file(f->fd, &m, "a", 64, &buf, &len,
					    err, sizeof(err)), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	assert_int_equal(manifest_read_file(f->fd, &m, "a", 4, &buf, &len,
					    err, sizeof(err)), -1);
	assert_int_equal(errno, E2BIG);
	assert_null(buf);
	assert_int_equal(manifest_read_file(f->fd, &m, "nope", 64, &buf,
					    &len, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	/* the same size, other bytes: the owner swapped the file */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_int_equal(unlinkat(f->fd, "a", 0), 0);
	tmpdir_put(f->fd, "a", "HELLO");
	assert_int_equal(manifest_read_file(f->fd, &m, "a", 64, &buf, &len,
					    err, sizeof(err)), -1);
	assert_int_equal(errno, EBADMSG);
	assert_non_null(strstr(err, "a: checksum mismatch"));
	/* a link in its place is not followed */
	assert_int_equal(unlinkat(f->fd, "a", 0), 0);
	assert_int_equal(symlinkat("sub/b", f->fd, "a"), 0);
	assert_int_equal(manifest_read_file(f->fd, &m, "a", 64, &buf, &len,
					    err, sizeof(err)), -1);
	manifest_free(&m);
}

/* A manifest from elsewhere (an offsite store) parses as strictly as one
 * on disk, and what is formatted is what parses back. */
static void test_parse(void **state)
{
	static const char *const bad[] = {
		"../../other/1/1.ckpt/1/count", "a/../b", "./a", "a//b",
		"/abs",
	};
	struct manifest m = { 0 }, r = { 0 };
	char err[256], *text, *evil;
	size_t i;

	(void)state;
	fill(&m);
	m.nfiles = 1;
	m.files = calloc(1, sizeof(*m.files));
	assert_non_null(m.files);
	m.files[0].path = strdup("sub/f");
	m.files[0].size = 5;
	hex_of("hello", m.files[0].xxh3);
	text = manifest_format(&m);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(manifest_parse(text, strlen(text), &r, err,
					sizeof(err)), 0);
	assert_int_equal(r.nfiles, 1);
	assert_string_equal(r.files[0].path, "sub/f");
	manifest_free(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		free(m.files[0].path);
		m.files[0].path = strdup(bad[i]);
		free(text);
		text = manifest_format(&m);
		assert_non_null(text);
		assert_int_equal(manifest_parse(text, strlen(text), &r, err,
						sizeof(err)), -1);
		assert_int_equal(errno, EINVAL);
		assert_non_null(strstr(err, "invalid path"));
	}
	evil = text;
	assert_int_equal(manifest_parse(evil, strlen(evil) / 2, &r, err,
					sizeof(err)), -1);
	free(text);
	manifest_free(&m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, tmpdir_setup, tmpdir_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_build),
		T(test_build_keeps_modes),
		T(test_build_process_image),
		T(test_read_file),
		cmocka_unit_test(test_parse),
		T(test_verify_corrupt),
		T(test_verify_size),
		T(test_verify_removed),
		T(test_verify_extra),
		T(test_verify_extra_sub),
		T(test_verify_symlink),
		T(test_build_rejects),
		T(test_build_depth),
		T(test_read_strict),
		T(test_empty),
	};

	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
