/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_offsite.c - the offsite store's names, settings, credentials file
 * and index (common/offsite.c), and the fetch message (proto.c). */
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

#include "offsite.h"
#include "proto.h"
#include "tmpdir.h"

static void test_url(void **state)
{
	static const struct {
		const char *base, *user;
		uint32_t job;
		const char *name;
		uint64_t seq;
		const char *path, *want;
	} rows[] = {
		{ "http://h:8080/dav", "alice", 42, "42.ckpt", 3, "count",
		  "http://h:8080/dav/alice/42/42.ckpt/3/count" },
		{ "http://h/dav///", "alice", 42, "42.0.ckpt", 0, NULL,
		  "http://h/dav/alice/42/42.0.ckpt/" },
		{ "https://h", "bob", 7, "7.ckpt", 12, NULL,
		  "https://h/bob/7/7.ckpt/12/" },
		{ "http://h/x", "a b", 1, "1.ckpt", 1, "dir/sub/f.dat",
		  "http://h/x/a%20b/1/1.ckpt/1/dir/sub/f.dat" },
		{ "http://h/x", "u", 1, "1.ckpt", 1, "we?ird#na%me/\xc3\xa9",
		  "http://h/x/u/1/1.ckpt/1/we%3Fird%23na%25me/%C3%A9" },
		{ "http://h/x", "u", 1, "1.ckpt", 0, "index.json",
		  "http://h/x/u/1/1.ckpt/index.json" },
		{ "http://h/x", "u~_.-", 4294967293U, "n", 18446744073709551615ULL,
		  "manifest.json",
		  "http://h/x/u~_.-/4294967293/n/18446744073709551615/manifest.json" },
	};
	size_t i;
	char *u;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		u = offsite_url(rows[i].base, rows[i].user, rows[i].job,
				rows[i].name, rows[i].seq, rows[i].path);
		assert_non_null(u);
		assert_string_equal(u, rows[i].want);
		free(u);
	}
	errno = 0;
	assert_null(offsite_url("http://h", "", 1, "n", 1, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(offsite_url("http://h", "u", 1, "n", 1, ""));
}

/* No URL climbs out of the user's part of the store: a dot segment or an
 * empty one (which a server may collapse) anywhere after base is refused,
 * in a manifest path, the user or the image name. */
static void test_url_no_climb(void **state)
{
	static const char *const paths[] = {
		"..", ".", "../../../other/1/1.ckpt/1/count", "a/../../b",
		"a/./b", "a//b", "/abs", "a/", "x/..",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		errno = 0;
		assert_null(offsite_url("http://h/x", "u", 1, "1.ckpt", 1,
					paths[i]));
		assert_int_equal(errno, EINVAL);
	}
	assert_null(offsite_url("http://h/x", "..", 1, "1.ckpt", 1, "f"));
	assert_null(offsite_url("http://h/x", "u", 1, "..", 1, "f"));
	assert_null(offsite_url("http://h/x", "u", 1, ".", 0, NULL));
	/* dots inside a name are only names */
	char *u = offsite_url("http://h/x", "u", 1, "1.ckpt", 1, "..a/b..");
	assert_non_null(u);
	assert_string_equal(u, "http://h/x/u/1/1.ckpt/1/..a/b..");
	free(u);
}

static void test_url_too_long(void **state)
{
	char *path = malloc(OFFSITE_URL_MAX), *u;

	(void)state;
	memset(path, 'a', OFFSITE_URL_MAX - 1);
	path[OFFSITE_URL_MAX - 1] = '\0';
	errno = 0;
	u = offsite_url("http://h", "u", 1, "n", 1, path);
	assert_null(u);
	assert_int_equal(errno, ENAMETOOLONG);
	free(path);
}

static void test_conf_check(void **state)
{
	static const struct {
		const char *url, *kind, *cred, *region;
		int rc;
		enum offsite_kind want;
	} rows[] = {
		{ NULL, NULL, NULL, NULL, 0, OFFSITE_NONE },
		{ "http://h:1/dav", NULL, NULL, NULL, 0, OFFSITE_WEBDAV },
		{ "HTTPS://h/dav", "webdav", "/c", NULL, 0, OFFSITE_WEBDAV },
		{ "https://s3.example.org/bucket", "s3", "/c", "eu-1", 0,
		  OFFSITE_S3 },
		{ "https://s3.example.org/bucket", "s3", NULL, NULL, -1,
		  OFFSITE_NONE },
		{ "http://h/dav", NULL, NULL, "eu-1", -1, OFFSITE_NONE },
		{ "ftp://h/dav", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http:///dav", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http://u:p@h/dav", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http://h/dav?x=1", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http://h/dav#f", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http://h/d av", NULL, NULL, NULL, -1, OFFSITE_NONE },
		{ "http://h/dav", "ftp", NULL, NULL, -1, OFFSITE_NONE },
		{ NULL, "webdav", NULL, NULL, -1, OFFSITE_NONE },
	};
	struct offsite_conf c;
	enum offsite_kind k;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		c = (struct offsite_conf){ .url = (char *)rows[i].url,
			.kind = (char *)rows[i].kind,
			.credentials = (char *)rows[i].cred,
			.region = (char *)rows[i].region };
		err[0] = '\0';
		assert_int_equal(offsite_conf_check(&c, &k, err, sizeof(err)),
				 rows[i].rc);
		assert_int_equal(k, rows[i].want);
		if (rows[i].rc < 0)
			assert_true(err[0] != '\0');
	}
}

static char *put_creds(struct fixture *f, const char *text, mode_t mode)
{
	static char path[128];

	tmpdir_put(f->fd, "creds", text);
	snprintf(path, sizeof(path), "%s/creds", f->dir);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_creds(void **state)
{
	struct fixture *f = *state;
	struct offsite_creds cr = { 0 };
	char err[512], *p, link[160];

	p = put_creds(f, "# dav\nuser = ckpt\npassword=s3cr:et\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), 0);
	assert_string_equal(cr.user, "ckpt");
	assert_string_equal(cr.password, "s3cr:et");
	offsite_creds_free(&cr);
	assert_null(cr.user);

	/* Others may read it: refused, and nothing read. */
	p = put_creds(f, "user=ckpt\npassword=x\n", 0640);
	errno = 0;
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_int_equal(errno, EPERM);
	assert_non_null(strstr(err, "0640"));
	assert_null(cr.user);
	p = put_creds(f, "user=ckpt\npassword=x\n", 0604);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);

	/* A symbolic link is not followed. */
	p = put_creds(f, "user=ckpt\npassword=x\n", 0600);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(offsite_creds_read(link, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_int_equal(errno, ELOOP);

	/* The keys of the other kind, a missing one, an unknown one. */
	p = put_creds(f, "access_key=AK\nsecret_key=SK\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(offsite_creds_read(p, OFFSITE_S3, &cr, err,
					    sizeof(err)), 0);
	assert_string_equal(cr.access_key, "AK");
	assert_string_equal(cr.secret_key, "SK");
	offsite_creds_free(&cr);
	p = put_creds(f, "access_key=AK\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_S3, &cr, err,
					    sizeof(err)), -1);
	p = put_creds(f, "user=a\npassword=b\ntoken=c\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "creds"));
	assert_null(strstr(err, "/proc/self"));
	/* A malformed line, a repeated key, a bad value: the error names
	 * the line, never what it holds (it goes to the daemon's log). */
	p = put_creds(f, "access_key=AK\nsecret_key wJalrXUtnFEMI\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_S3, &cr, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
	assert_null(strstr(err, "wJalrXUtnFEMI"));
	p = put_creds(f, "user=u\npassword=hunter2\npassword=hunter3\n",
		      0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, ":3:"));
	assert_null(strstr(err, "hunter"));
	p = put_creds(f, "user=u\npassword=\n", 0600);
	assert_int_equal(offsite_creds_read(p, OFFSITE_WEBDAV, &cr, err,
					    sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));
}

static void test_index(void **state)
{
	uint64_t *seqs, dropped[8], room[8];
	char err[256], *s;
	size_t n, nd;

	(void)state;
	assert_int_equal(offsite_index_parse("{\"seqs\":[1,4,9]}", 16, &seqs,
					     &n, err, sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_true(seqs[0] == 1 && seqs[1] == 4 && seqs[2] == 9);
	free(seqs);
	assert_int_equal(offsite_index_parse("{\"seqs\":[]}", 11, &seqs, &n,
					     err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(seqs);
	assert_int_equal(offsite_index_parse("{\"seqs\":[2,1]}", 14, &seqs,
					     &n, err, sizeof(err)), -1);
	assert_int_equal(offsite_index_parse("{\"seqs\":[0]}", 12, &seqs,
					     &n, err, sizeof(err)), -1);
	assert_int_equal(offsite_index_parse("{\"seqs\":[1],\"x\":1}", 18,
					     &seqs, &n, err, sizeof(err)), -1);
	assert_int_equal(offsite_index_parse("[1]", 3, &seqs, &n, err,
					     sizeof(err)), -1);

	room[0] = 3;
	room[1] = 5;
	n = 2;
	offsite_index_add(room, &n, 6, 2, dropped, &nd);
	assert_int_equal(n, 2);
	assert_true(room[0] == 5 && room[1] == 6);
	assert_int_equal(nd, 1);
	assert_true(dropped[0] == 3);
	offsite_index_add(room, &n, 6, 2, dropped, &nd);	/* again */
	assert_int_equal(n, 2);
	assert_int_equal(nd, 0);
	offsite_index_add(room, &n, 4, 3, dropped, &nd);	/* older */
	assert_int_equal(n, 3);
	assert_true(room[0] == 4 && room[1] == 5 && room[2] == 6);
	n = 0;
	offsite_index_add(room, &n, 1, 1, dropped, &nd);
	assert_int_equal(n, 1);
	assert_true(room[0] == 1);
	s = offsite_index_format(room, n);
	assert_string_equal(s, "{\"seqs\":[1]}");
	free(s);
}

static void test_fetch_msg(void **state)
{
	struct ckpt_msg m = { .op = CKPT_OP_FETCH, .job = 12,
			      .step = CKPT_STEP_BATCH }, d;
	char *s, err[256];

	(void)state;
	s = proto_encode(&m);
	assert_non_null(s);
	assert_int_equal(proto_decode(s, strlen(s), &d, err, sizeof(err)), 0);
	assert_int_equal(d.op, CKPT_OP_FETCH);
	assert_int_equal(d.job, 12);
	assert_int_equal(d.step, CKPT_STEP_BATCH);
	proto_msg_clear(&d);
	free(s);
	/* Every step of a job is for scheckpoint's requests only. */
	m.step = CKPT_STEP_ALL;
	assert_null(proto_encode(&m));
	/* scheckpoint restart's fetch names an absolute directory. */
	s = "{\"v\":1,\"op\":\"fetch\",\"job\":12,\"step\":0,\"dir\":\"/x\"}";
	assert_int_equal(proto_decode(s, strlen(s), &d, err, sizeof(err)), 0);
	assert_string_equal(d.fetch_dir, "/x");
	proto_msg_clear(&d);
	s = "{\"v\":1,\"op\":\"fetch\",\"job\":12,\"step\":0,\"dir\":\"x\"}";
	assert_int_equal(proto_decode(s, strlen(s), &d, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_url_too_long),
		cmocka_unit_test(test_url_no_climb),
		cmocka_unit_test(test_conf_check),
		cmocka_unit_test_setup_teardown(test_creds, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_fetch_msg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
