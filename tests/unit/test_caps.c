/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_caps.c - caps_ckpt_restore: the sets it leaves in the calling
 * process are CAP_CHECKPOINT_RESTORE where asked and nothing else, and a
 * capability dropped cannot be taken back.  Each case runs in a child of
 * root (the plugin and the helper call it as root, or as a user who kept
 * root's permitted set); skipped unless root can hold the capability. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "caps.h"

#define BIT ((uint64_t)1 << CAP_CHECKPOINT_RESTORE)

/* CapInh, CapPrm, CapEff and CapBnd of /proc/self/status. */
struct sets {
	uint64_t inh, prm, eff, bnd;
};

static int read_sets(struct sets *s)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n += sscanf(line, "CapInh: %" SCNx64, &s->inh);
		n += sscanf(line, "CapPrm: %" SCNx64, &s->prm);
		n += sscanf(line, "CapEff: %" SCNx64, &s->eff);
		n += sscanf(line, "CapBnd: %" SCNx64, &s->bnd);
	}
	fclose(f);
	return n == 4 ? 0 : -1;
}

static bool usable(void)
{
	struct sets s;

	return geteuid() == 0 && read_sets(&s) == 0 && (s.prm & BIT) &&
	       (s.bnd & BIT);
}

/* In a child: the sets after caps_ckpt_restore(p, i, e), as exit codes:
 * 0 as expected, 1 the call failed, 2 the sets differ. */
static int child_case(bool p, bool i, bool e)
{
	struct sets s;

	if (caps_ckpt_restore(p, i, e) < 0)
		return 1;
	if (read_sets(&s) < 0 || s.prm != (p ? BIT : 0) ||
	    s.inh != (i ? BIT : 0) || s.eff != (e ? BIT : 0))
		return 2;
	return 0;
}

static int run(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int dump_worker(void)	/* helper/privsep.c */
{
	return child_case(true, true, false);
}

static int criu_child(void)	/* spank/restore.c, before execve(criu) */
{
	return child_case(true, true, true);
}

static int task_limit(void)	/* spank/restore.c, task_init */
{
	return child_case(true, false, false);
}

/* Dropped: nothing left, and the capability cannot come back. */
static int drop_for_good(void)
{
	int rc = child_case(false, false, false);

	if (rc)
		return rc;
	if (caps_ckpt_restore(true, false, false) == 0 || errno != EPERM)
		return 3;
	return 0;
}

static void test_sets(void **state)
{
	(void)state;
	if (!usable())
		skip();
	assert_int_equal(run(dump_worker), 0);
	assert_int_equal(run(criu_child), 0);
	assert_int_equal(run(task_limit), 0);
	assert_int_equal(run(drop_for_good), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
