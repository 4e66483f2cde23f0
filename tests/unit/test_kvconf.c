/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_kvconf.c - the strict key=value parser and the plugstack keys. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ckptconf.h"
#include "kvconf.h"

struct obj {
	char *str;
	char *path;
	long t;
	long n;
	int sig;
	bool b;
};

static const struct kv_key keys[] = {
	{ "str", KV_STRING, offsetof(struct obj, str), 0, 0, "a word" },
	{ "path", KV_PATH, offsetof(struct obj, path), 0, 0, "absolute" },
	{ "t", KV_TIME, offsetof(struct obj, t), 1, 3600, "a time, 1s..1h" },
	{ "n", KV_UINT, offsetof(struct obj, n), 1, 1000, "1..1000" },
	{ "sig", KV_SIGNAL, offsetof(struct obj, sig), 0, 0, "a signal" },
	{ "b", KV_BOOL, offsetof(struct obj, b), 0, 0, "yes or no" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct {
	const char *arg;
	int err;
	const char *field;	/* which field to check, on success */
	long num;
	const char *str;
} one_rows[] = {
	{ "str=hello", 0, "str", 0, "hello" },
	{ "str=", EINVAL, NULL, 0, NULL },
	{ "path=/a/b", 0, "path", 0, "/a/b" },
	{ "path=a/b", EINVAL, NULL, 0, NULL },
	{ "path=", EINVAL, NULL, 0, NULL },
	{ "t=5:00", 0, "t", 300, NULL },
	{ "t=1-0", EINVAL, NULL, 0, NULL },	/* above max */
	{ "t=0", EINVAL, NULL, 0, NULL },	/* below min */
	{ "t=0:1", 0, "t", 1, NULL },
	{ "t=abc", EINVAL, NULL, 0, NULL },
	{ "n=1", 0, "n", 1, NULL },
	{ "n=1000", 0, "n", 1000, NULL },
	{ "n=1001", EINVAL, NULL, 0, NULL },
	{ "n=0", EINVAL, NULL, 0, NULL },
	{ "n=-1", EINVAL, NULL, 0, NULL },
	{ "n=+1", EINVAL, NULL, 0, NULL },
	{ "n=1x", EINVAL, NULL, 0, NULL },
	{ "n=99999999999999999999999", EINVAL, NULL, 0, NULL },
	{ "n=", EINVAL, NULL, 0, NULL },
	{ "sig=USR1", 0, "sig", SIGUSR1, NULL },
	{ "sig=SIGUSR2", 0, "sig", SIGUSR2, NULL },
	{ "sig=usr2", 0, "sig", SIGUSR2, NULL },
	{ "sig=10", 0, "sig", 10, NULL },
	{ "sig=KILL", EINVAL, NULL, 0, NULL },
	{ "sig=9", EINVAL, NULL, 0, NULL },
	{ "sig=SIGSTOP", EINVAL, NULL, 0, NULL },
	{ "sig=65", EINVAL, NULL, 0, NULL },
	{ "sig=0", EINVAL, NULL, 0, NULL },
	{ "sig=FOO", EINVAL, NULL, 0, NULL },
	{ "b=yes", 0, "b", 1, NULL },
	{ "b=no", 0, "b", 0, NULL },
	{ "b=true", 0, "b", 1, NULL },
	{ "b=0", 0, "b", 0, NULL },
	{ "b=maybe", EINVAL, NULL, 0, NULL },
	{ "unknown=1", EINVAL, NULL, 0, NULL },
	{ "n", EINVAL, NULL, 0, NULL },
	{ "=1", EINVAL, NULL, 0, NULL },
	{ "", EINVAL, NULL, 0, NULL },
};

static long field_num(const struct obj *o, const char *f)
{
	if (!strcmp(f, "t"))
		return o->t;
	if (!strcmp(f, "n"))
		return o->n;
	if (!strcmp(f, "sig"))
		return o->sig;
	return o->b;
}

static void test_parse_one(void **state)
{
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(one_rows) / sizeof(one_rows[0]); i++) {
		struct obj o = { .n = 7 }, zero = { .n = 7 };
		int rc;

		err[0] = '\0';
		errno = 0;
		rc = kv_parse_one(keys, &o, NULL, one_rows[i].arg, err,
				  sizeof(err));
		if (one_rows[i].err) {
			if (rc != -1 || errno != one_rows[i].err || !err[0])
				fail_msg("'%s': rc %d errno %d err '%s'",
					 one_rows[i].arg, rc, errno, err);
			assert_memory_equal(&o, &zero, sizeof(o));
		} else if (rc != 0) {
			fail_msg("'%s': %s", one_rows[i].arg, err);
		} else if (one_rows[i].str) {
			assert_string_equal(!strcmp(one_rows[i].field, "str") ?
					    o.str : o.path, one_rows[i].str);
		} else if (field_num(&o, one_rows[i].field) !=
			   one_rows[i].num) {
			fail_msg("'%s': got %ld", one_rows[i].arg,
				 field_num(&o, one_rows[i].field));
		}
		kv_free(keys, &o);
	}
}

static void test_messages(void **state)
{
	struct obj o = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(kv_parse_one(keys, &o, NULL, "n=0", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "'0'"));
	assert_non_null(strstr(err, "1..1000"));
	assert_int_equal(kv_parse_one(keys, &o, NULL, "bogus=1", err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "bogus"));
	assert_non_null(strstr(err, "sig"));	/* lists the known keys */
	/* a tiny buffer is fine */
	assert_int_equal(kv_parse_one(keys, &o, NULL, "bogus=1", err, 5), -1);
	assert_int_equal(strlen(err), 4);
	assert_int_equal(kv_parse_one(keys, &o, NULL, "bogus=1", NULL, 0), -1);
}

static void test_argv(void **state)
{
	char *ok[] = { "str=a", "n=3", "str=b" };
	char *good[] = { "str=a", "n=3", "b=yes" };
	char *bad[] = { "str=x", "n=0" };
	struct obj o = { 0 };
	char err[256];

	(void)state;
	assert_int_equal(kv_parse_argv(keys, &o, 3, ok, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_null(o.str);		/* nothing stored on failure */
	assert_int_equal(kv_parse_argv(keys, &o, 2, bad, err, sizeof(err)), -1);
	assert_null(o.str);
	assert_int_equal(kv_parse_argv(keys, &o, 3, good, err, sizeof(err)), 0);
	assert_string_equal(o.str, "a");
	assert_int_equal(o.n, 3);
	assert_true(o.b);
	assert_int_equal(kv_parse_argv(keys, &o, 0, NULL, err, sizeof(err)), 0);
	kv_free(keys, &o);
	assert_null(o.str);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_file(void **state)
{
	char dir[] = "/tmp/test_kvconf.XXXXXX", path[64], err[256];
	struct obj o = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/conf", dir);
	write_file(path, "# comment\n\n  str = hello  \nn=5 # five\n"
		   "path=/x#y\n\tb=yes\n");
	assert_int_equal(kv_parse_file(keys, &o, path, err, sizeof(err)), 0);
	assert_string_equal(o.str, "hello");
	assert_string_equal(o.path, "/x#y");
	assert_int_equal(o.n, 5);
	assert_true(o.b);
	kv_free(keys, &o);
	memset(&o, 0, sizeof(o));

	write_file(path, "n=5\nstr=ok\nnokey\n");
	assert_int_equal(kv_parse_file(keys, &o, path, err, sizeof(err)), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err, ":3:"));
	assert_null(o.str);
	assert_int_equal(o.n, 0);

	write_file(path, "n=5\nn=6\n");
	assert_int_equal(kv_parse_file(keys, &o, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2:"));

	assert_int_equal(unlink(path), 0);
	assert_int_equal(kv_parse_file(keys, &o, path, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

static const struct {
	const char *in;
	int signo;		/* -1: EINVAL */
} sig_rows[] = {
	{ "HUP", SIGHUP }, { "SIGINT", SIGINT }, { "QUIT", SIGQUIT },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "CONT", SIGCONT }, { "URG", SIGURG },
	{ "WINCH", SIGWINCH }, { "XCPU", SIGXCPU }, { "PWR", SIGPWR },
	{ "12", 12 }, { "1", 1 }, { "64", 64 },
	{ "RTMIN", -2 }, { "SIGRTMIN+1", -3 }, { "RTMAX", -4 },
	{ "KILL", -1 }, { "SIGKILL", -1 }, { "STOP", -1 }, { "19", -1 },
	{ "0", -1 }, { "65", -1 }, { "", -1 }, { "SIG", -1 },
	{ "-1", -1 }, { "USR2 ", -1 }, { "RTMIN+99", -1 }, { "RTMIN-1", -1 },
};

static void test_signals(void **state)
{
	size_t i;
	int got, want;

	(void)state;
	for (i = 0; i < sizeof(sig_rows) / sizeof(sig_rows[0]); i++) {
		want = sig_rows[i].signo;
		if (want == -2)
			want = SIGRTMIN;
		else if (want == -3)
			want = SIGRTMIN + 1;
		else if (want == -4)
			want = SIGRTMAX;
		got = -7;
		if (want == -1) {
			if (signal_parse(sig_rows[i].in, &got) != -1 ||
			    errno != EINVAL || got != -7)
				fail_msg("'%s' accepted", sig_rows[i].in);
		} else if (signal_parse(sig_rows[i].in, &got) != 0 ||
			   got != want) {
			fail_msg("'%s': got %d want %d", sig_rows[i].in, got,
				 want);
		}
	}
	assert_string_equal(signal_name(SIGUSR2), "USR2");
	assert_string_equal(signal_name(SIGTERM), "TERM");
	assert_string_equal(signal_name(SIGRTMIN + 2), "RTMIN+2");
	assert_string_equal(signal_name(SIGRTMAX), "RTMAX");
	assert_string_equal(signal_name(0), "?");
	assert_string_equal(signal_name(999), "?");
	/* every name round-trips */
	for (got = 1; got <= 64; got++) {
		int back;

		if (got == SIGKILL || got == SIGSTOP || got == 32 || got == 33)
			continue;
		assert_int_equal(signal_parse(signal_name(got), &back), 0);
		assert_int_equal(back, got);
	}
}

static void test_ckpt_conf(void **state)
{
	char *args[] = { "min_interval=5:00", "keep=3", "signal=USR1",
			 "helper_optional=yes", "dir=/scratch/%u/%j",
			 "max_wait=60", "socket=/tmp/s.sock", "lead=0:45",
			 "max_requeue=3", "exit_code=85", "method=site-dmtcp",
			 "local=/dev/shm/ckpt-%n" };
	char *badm[] = { "method=Site/x" };
	char *badl[] = { "local=/dev/shm/%u" };
	char *rell[] = { "local=shm" };
	char *code256[] = { "exit_code=256" };
	char *badt[] = { "dir=/scratch/%x" };
	char *rel[] = { "dir=scratch" };
	char *keep0[] = { "keep=0" };
	char *unknown[] = { "keeep=2" };
	char *wait0[] = { "max_wait=0" };
	struct ckpt_conf c;
	char err[512];

	(void)state;
	assert_int_equal(ckpt_conf_init(&c), 0);
	assert_string_equal(c.socket, CKPT_SOCKET_DEFAULT);
	assert_null(c.dir);
	assert_int_equal(c.min_interval, 60);
	assert_int_equal(c.max_wait, 120);
	assert_int_equal(c.keep, 2);
	assert_int_equal(c.signo, SIGUSR2);
	assert_false(c.helper_optional);
	assert_int_equal(c.lead, 300);
	assert_int_equal(c.max_requeue, 0);
	assert_int_equal(c.exit_code, 0);

	assert_int_equal(ckpt_conf_parse(&c, 1, code256, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1 to 255"));
	assert_int_equal(ckpt_conf_parse(&c, 1, badt, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "%x"));
	assert_int_equal(ckpt_conf_parse(&c, 1, rel, err, sizeof(err)), -1);
	assert_int_equal(ckpt_conf_parse(&c, 1, keep0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "1 to 1000"));
	assert_int_equal(ckpt_conf_parse(&c, 1, unknown, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "keeep"));
	assert_int_equal(ckpt_conf_parse(&c, 1, wait0, err, sizeof(err)), -1);
	assert_int_equal(ckpt_conf_parse(&c, 1, badm, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid method 'Site/x'"));
	assert_null(c.method);
	assert_null(c.dir);
	assert_int_equal(c.keep, 2);
	assert_int_equal(ckpt_conf_parse(&c, 1, badl, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "invalid local"));
	assert_int_equal(ckpt_conf_parse(&c, 1, rell, err, sizeof(err)), -1);
	assert_null(c.local);

	assert_int_equal(ckpt_conf_parse(&c, 12, args, err, sizeof(err)), 0);
	assert_string_equal(c.local, "/dev/shm/ckpt-%n");
	assert_string_equal(c.method, "site-dmtcp");
	assert_int_equal(c.lead, 45);
	assert_int_equal(c.max_requeue, 3);
	assert_int_equal(c.exit_code, 85);
	assert_int_equal(c.min_interval, 300);
	assert_int_equal(c.max_wait, 60);
	assert_int_equal(c.keep, 3);
	assert_int_equal(c.signo, SIGUSR1);
	assert_true(c.helper_optional);
	assert_string_equal(c.dir, "/scratch/%u/%j");
	assert_string_equal(c.socket, "/tmp/s.sock");
	ckpt_conf_free(&c);
	assert_null(c.dir);
	assert_null(c.socket);
}

static const struct {
	const char *tmpl;
	const char *out;	/* NULL: EINVAL */
} expand_rows[] = {
	{ "/scratch/%u/ckpt", "/scratch/alice/ckpt" },
	{ "/s/%U/%j", "/s/1000/42" },
	{ "/s/100%%", "/s/100%" },
	{ "/plain", "/plain" },
	{ "/s/%x", NULL },
	{ "/s/%", NULL },
	{ "/s/%n", NULL },
	{ "relative/%u", NULL },
	{ "", NULL },
};

/* socket= templates, for node "c2" */
static const struct {
	const char *tmpl, *out;
} socket_rows[] = {
	{ "/run/ckptd.%n.sock", "/run/ckptd.c2.sock" },
	{ "/run/ckptd.sock", "/run/ckptd.sock" },
	{ "/run/%%n", "/run/%n" },
	{ "/run/%u.sock", NULL },
	{ "/run/%j", NULL },
	{ "/run/%", NULL },
	{ "run/%n", NULL },
};

static void test_expand_socket(void **state)
{
	char out[108];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(socket_rows) / sizeof(socket_rows[0]); i++) {
		int rc = ckpt_expand_socket(socket_rows[i].tmpl, "c2", out,
					    sizeof(out));

		if (!socket_rows[i].out) {
			assert_int_equal(rc, -1);
			assert_int_equal(errno, EINVAL);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(out, socket_rows[i].out);
		}
	}
	assert_int_equal(ckpt_expand_socket("/a/%n", "a/b", out, sizeof(out)),
			 -1);
	/* a node name never climbs: not "..", not "." */
	assert_int_equal(ckpt_expand_socket("/a/%n", "..", out, sizeof(out)),
			 -1);
	assert_int_equal(ckpt_expand_socket("/a/%n", ".", out, sizeof(out)),
			 -1);
	assert_int_equal(ckpt_expand_socket("/a/%n", "c2", out, 4), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

static void test_expand(void **state)
{
	size_t i;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(expand_rows) / sizeof(expand_rows[0]); i++) {
		out = NULL;
		int rc = ckpt_expand_dir(expand_rows[i].tmpl, "alice", 1000,
					 42, &out);

		if (!expand_rows[i].out) {
			assert_int_equal(rc, -1);
			assert_int_equal(errno, EINVAL);
			assert_null(out);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(out, expand_rows[i].out);
			free(out);
		}
	}
	assert_int_equal(ckpt_expand_dir("/a/%u", "", 0, 1, &out), -1);
	assert_int_equal(ckpt_expand_dir("/a/%u", "a/b", 0, 1, &out), -1);
}

/* signals=: a comma-separated list into a mask; nothing empty, no KILL
 * or STOP, nothing unknown. */
static void test_signal_list(void **state)
{
	static const char *const bad[] = {
		"", ",", "USR1,", ",USR1", "USR1,,USR2", "USR1,KILL", "STOP",
		"USR1,NOPE", "USR1 ,USR2", "0", "65",
	};
	struct ckpt_conf c;
	char *argv[] = { "signals=USR1,SIGTERM,12" };
	char err[256];
	uint64_t m;
	size_t i;

	(void)state;
	assert_int_equal(signal_parse_list("USR1,SIGTERM,12", &m), 0);
	assert_true(m == (1ULL << (SIGUSR1 - 1) | 1ULL << (SIGTERM - 1) |
			  1ULL << (SIGUSR2 - 1)));
	assert_int_equal(signal_parse_list("64", &m), 0);
	assert_true(m == 1ULL << 63);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (signal_parse_list(bad[i], &m) == 0)
			fail_msg("signals '%s' accepted", bad[i]);
	assert_int_equal(ckpt_conf_init(&c), 0);
	assert_true(c.signals == (1ULL << (SIGUSR1 - 1) |
				  1ULL << (SIGUSR2 - 1)));
	assert_int_equal(ckpt_conf_parse(&c, 1, argv, err, sizeof(err)), 0);
	assert_true(c.signals & 1ULL << (SIGTERM - 1));
	kv_free(ckpt_conf_keys, &c);
}

static void test_keys_table(void **state)
{
	const char *want[] = { "dir", "socket", "min_interval", "max_wait",
			       "keep", "signal", "signals", "lead",
			       "max_requeue", "exit_code", "method", "local",
			       "helper_optional" };
	size_t i;

	(void)state;
	for (i = 0; ckpt_conf_keys[i].name; i++) {
		assert_true(i < 13);
		assert_string_equal(ckpt_conf_keys[i].name, want[i]);
		assert_non_null(ckpt_conf_keys[i].help);
	}
	assert_int_equal(i, 13);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_one),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_argv),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_ckpt_conf),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_socket),
		cmocka_unit_test(test_signal_list),
		cmocka_unit_test(test_keys_table),
	};

	return cmocka_run_group_tests_name("kvconf", tests, NULL, NULL);
}
