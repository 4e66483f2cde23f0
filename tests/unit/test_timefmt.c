/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_timefmt.c - Slurm time strings, from a table. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "timefmt.h"

static const struct {
	const char *in;
	long secs;
	int err;		/* 0: success */
} parse_rows[] = {
	/* minutes */
	{ "0", 0, 0 },
	{ "1", 60, 0 },
	{ "90", 5400, 0 },
	{ "007", 420, 0 },
	/* minutes:seconds (no limit on the fields, as in Slurm) */
	{ "0:10", 10, 0 },
	{ "1:30", 90, 0 },
	{ "90:00", 5400, 0 },
	{ "0:90", 90, 0 },
	/* hours:minutes:seconds */
	{ "1:00:00", 3600, 0 },
	{ "01:02:03", 3723, 0 },
	{ "1:90:00", 9000, 0 },
	/* days-hours[:minutes[:seconds]] */
	{ "1-0", 86400, 0 },
	{ "2-3", 2 * 86400 + 3 * 3600, 0 },
	{ "1-2:03", 86400 + 2 * 3600 + 180, 0 },
	{ "1-02:03:04", 86400 + 7200 + 180 + 4, 0 },
	{ "0-0:0:1", 1, 0 },
	/* limits: < 2^31 seconds */
	{ "35791394", 2147483640, 0 },
	{ "35791394:07", 2147483647, 0 },
	{ "35791394:08", 0, ERANGE },
	{ "24855-3:14:07", 2147483647, 0 },
	{ "24855-3:14:08", 0, ERANGE },
	{ "99999999999999999999999", 0, ERANGE },
	{ "1-99999999999999999999", 0, ERANGE },
	/* malformed */
	{ "", 0, EINVAL },
	{ "-1", 0, EINVAL },
	{ "+1", 0, EINVAL },
	{ " 1", 0, EINVAL },
	{ "1 ", 0, EINVAL },
	{ "1:", 0, EINVAL },
	{ ":1", 0, EINVAL },
	{ "1::2", 0, EINVAL },
	{ "1:2:3:4", 0, EINVAL },
	{ "1-", 0, EINVAL },
	{ "-", 0, EINVAL },
	{ "1-2-3", 0, EINVAL },
	{ "1:2-3", 0, EINVAL },
	{ "1-2:3:4:5", 0, EINVAL },
	{ "abc", 0, EINVAL },
	{ "10m", 0, EINVAL },
	{ "1.5", 0, EINVAL },
	{ "0x10", 0, EINVAL },
	{ "UNLIMITED", 0, EINVAL },
	{ "1\n", 0, EINVAL },
};

static void test_parse(void **state)
{
	size_t i;
	long got;

	(void)state;
	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		got = -42;
		errno = 0;
		int rc = timefmt_parse(parse_rows[i].in, &got);

		if (parse_rows[i].err) {
			if (rc != -1 || errno != parse_rows[i].err)
				fail_msg("'%s': rc %d errno %d, want errno %d",
					 parse_rows[i].in, rc, errno,
					 parse_rows[i].err);
			assert_int_equal(got, -42);	/* untouched */
		} else if (rc != 0 || got != parse_rows[i].secs) {
			fail_msg("'%s': rc %d got %ld, want %ld",
				 parse_rows[i].in, rc, got,
				 parse_rows[i].secs);
		}
	}
}

static void test_parse_null(void **state)
{
	long got;

	(void)state;
	assert_int_equal(timefmt_parse(NULL, &got), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(timefmt_parse("1", NULL), -1);
}

static const struct {
	long secs;
	const char *out;
	int err;
} format_rows[] = {
	{ 0, "00:00:00", 0 },
	{ 59, "00:00:59", 0 },
	{ 60, "00:01:00", 0 },
	{ 3723, "01:02:03", 0 },
	{ 86399, "23:59:59", 0 },
	{ 86400, "1-00:00:00", 0 },
	{ 2147483647, "24855-03:14:07", 0 },
	{ -1, NULL, EINVAL },
};

static void test_format(void **state)
{
	char buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]); i++) {
		errno = 0;
		int rc = timefmt_format(format_rows[i].secs, buf, sizeof(buf));

		if (format_rows[i].err) {
			assert_int_equal(rc, -1);
			assert_int_equal(errno, format_rows[i].err);
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(buf, format_rows[i].out);
		}
	}
}

static void test_format_space(void **state)
{
	char buf[9];
	long back;

	(void)state;
	assert_int_equal(timefmt_format(3723, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "01:02:03");
	strcpy(buf, "keep");
	assert_int_equal(timefmt_format(86400, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(buf, "keep");	/* untouched on failure */
	assert_int_equal(timefmt_format(1, buf, 0), -1);
	assert_int_equal(errno, ENOSPC);
	/* round trip */
	char big[32];
	assert_int_equal(timefmt_format(200000, big, sizeof(big)), 0);
	assert_int_equal(timefmt_parse(big, &back), 0);
	assert_int_equal(back, 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_null),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_space),
	};

	return cmocka_run_group_tests_name("timefmt", tests, NULL, NULL);
}
