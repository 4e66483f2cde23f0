/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_escape.c - control characters never get through escape_ctl. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"

static const struct {
	const char *in;
	size_t n;		/* 0: strlen(in) */
	bool keep_newline;
	const char *out;
} rows[] = {
	{ "plain text /tmp/x.ckpt", 0, false, "plain text /tmp/x.ckpt" },
	{ "tab\tstays", 0, false, "tab\tstays" },
	{ "a\nb", 0, false, "a\\x0ab" },
	{ "a\nb", 0, true, "a\nb" },
	{ "\x1b]0;owned\x07", 0, true, "\\x1b]0;owned\\x07" },
	{ "cr\rdel\x7f", 0, false, "cr\\x0ddel\\x7f" },
	{ "nul\0after", 9, false, "nul\\x00after" },
	{ "utf-8 \xc3\xa9 kept", 0, false, "utf-8 \xc3\xa9 kept" },
};

static void test_rows(void **state)
{
	char out[128];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n ? rows[i].n : strlen(rows[i].in);
		escape_ctl(out, sizeof(out), rows[i].in, n,
			   rows[i].keep_newline);
		assert_string_equal(out, rows[i].out);
	}
}

/* Truncation never splits an escape and always terminates. */
static void test_truncate(void **state)
{
	char out[6];

	(void)state;
	assert_string_equal(escape_ctl(out, sizeof(out), "ab\x1b", 3, false),
			    "ab");
	assert_string_equal(escape_ctl(out, sizeof(out), "\x1b" "abc", 4,
				       false), "\\x1ba");
	assert_string_equal(escape_ctl(out, 1, "abc", 3, false), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_truncate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
