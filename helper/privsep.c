/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep.c - a worker becomes the job's user before it touches anything
 * under the user's directory or signals the user's tasks, and keeps no
 * descriptor it does not need. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "errbuf.h"
#include "image.h"
#include "privsep.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The user's groups, as initgroups() would set them. */
static int user_groups(uid_t uid, gid_t gid, gid_t **out, int *n,
		       char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	gid_t *g = NULL, *ng;
	int count = 32;

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return errprintf(err, errlen, ENOENT, "unknown uid %u",
				 (unsigned)uid);
	for (;;) {
		if (!(ng = realloc(g, sizeof(*g) * (size_t)count))) {
			free(g);
			return errprintf(err, errlen, ENOMEM, "out of memory");
		}
		g = ng;
		if (getgrouplist(pw.pw_name, gid, g, &count) >= 0)
			break;
		if (count > 65536) {
			free(g);
			return errprintf(err, errlen, E2BIG,
					 "too many groups for uid %u",
					 (unsigned)uid);
		}
	}
	*out = g;
	*n = count;
	return 0;
}

/* The groups of the users whose steps have workers, looked up by the
 * daemon (privsep_prefetch) so that a forked worker finds them in its copy
 * of this list instead of loading the NSS modules and reading the user
 * and group databases once per checkpoint.  An entry is used for
 * GROUPS_TTL seconds, as nscd would; a user's steps live with the groups
 * they were launched with anyway. */
#define GROUPS_TTL 60

struct groups {
	struct groups *next;
	uid_t uid;
	gid_t gid;
	time_t at;		/* CLOCK_MONOTONIC seconds */
	int n;
	gid_t *g;
};

static struct groups *cache;

static time_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct groups *cached(uid_t uid, gid_t gid, time_t now)
{
	struct groups **pp = &cache, *c;

	while ((c = *pp)) {
		if (now - c->at >= GROUPS_TTL) {
			*pp = c->next;
			free(c->g);
			free(c);
			continue;
		}
		if (c->uid == uid && c->gid == gid)
			return c;
		pp = &c->next;
	}
	return NULL;
}

void privsep_prefetch(uid_t uid, gid_t gid)
{
	time_t now = mono_sec();
	struct groups *c;
	char err[256];

	if (cached(uid, gid, now) || !(c = calloc(1, sizeof(*c))))
		return;
	/* Not found: the worker looks again and says why. */
	if (user_groups(uid, gid, &c->g, &c->n, err, sizeof(err)) < 0) {
		free(c);
		return;
	}
	c->uid = uid;
	c->gid = gid;
	c->at = now;
	c->next = cache;
	cache = c;
}

/* Become uid/gid with the user's groups, never traceable by the user on
 * the way.  Not dumpable before the change; but the change itself sets
 * dumpability to fs.suid_dumpable (1 on some sites), so the permitted
 * capabilities are kept across it (PR_SET_KEEPCAPS): a process of the
 * user cannot trace one whose capabilities are not a subset of its own.
 * Not dumpable again, and only then are they dropped (all of them, or all
 * but CAP_CHECKPOINT_RESTORE, permitted and inheritable, with keep_ckpt):
 * dropping capabilities leaves dumpability alone. */
static int become(uid_t uid, gid_t gid, bool keep_ckpt, char *err,
		  size_t errlen)
{
	struct groups *c = cached(uid, gid, mono_sec());
	gid_t *looked_up = NULL;
	const gid_t *groups;
	uid_t r, e, s;
	int n, rc;

	if (c) {
		groups = c->g;
		n = c->n;
	} else if (user_groups(uid, gid, &looked_up, &n, err, errlen) < 0) {
		return -1;
	} else {
		groups = looked_up;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		free(looked_up);
		return errprintf(err, errlen, errno, "prctl: %s",
				 strerror(errno));
	}
	rc = setgroups((size_t)n, groups);
	free(looked_up);
	if (rc < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		return errprintf(err, errlen, errno,
				 "cannot become uid %u gid %u: %s",
				 (unsigned)uid, (unsigned)gid, strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    caps_ckpt_restore(keep_ckpt, keep_ckpt, false) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return errprintf(err, errlen, errno,
				 "cannot drop capabilities: %s",
				 strerror(errno));
	if (getresuid(&r, &e, &s) < 0 || r != uid || e != uid || s != uid ||
	    (uid != 0 && setuid(0) == 0))
		return errprintf(err, errlen, EPERM,
				 "privileges not dropped to uid %u",
				 (unsigned)uid);
	return 0;
}

int privsep_become(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	return become(uid, gid, false, err, errlen);
}

int privsep_log_as(uid_t uid, gid_t gid, const char *dir, const char *text,
		   char *err, size_t errlen)
{
	int basefd, rc;

	if (geteuid() != uid && privsep_become(uid, gid, err, errlen) < 0)
		return -1;
	if ((basefd = image_open_base(dir, err, errlen)) < 0)
		return -1;
	rc = image_log(basefd, text);
	if (rc < 0)
		snprintf(err, errlen, "checkpoint.log: %s", strerror(errno));
	close(basefd);
	return rc;
}

/* privsep_become, keeping CAP_CHECKPOINT_RESTORE (only that one)
 * permitted and inheritable, not effective: what "criu dump
 * --unprivileged" needs to dump the user's own processes, and nothing
 * that would let it reach another user's (ptrace's checks still apply).
 * A process of the user cannot trace this one: its capabilities are not
 * a subset of theirs. */
int privsep_become_ckpt(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	return become(uid, gid, true, err, errlen);
}

/* In a child of privsep_become_ckpt's process, just before execve: the
 * program gets CAP_CHECKPOINT_RESTORE, as an ambient capability. */
int privsep_ambient_ckpt(void)
{
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
		     CAP_CHECKPOINT_RESTORE, 0, 0);
}

/* Close every descriptor above 2 that is not in keep[]. */
int privsep_close_fds(const int *keep, size_t nkeep)
{
	int *k = malloc(sizeof(*k) * (nkeep + 1));
	unsigned int from = 3;
	size_t i;

	if (!k)
		return -1;
	memcpy(k, keep, sizeof(*k) * nkeep);
	qsort(k, nkeep, sizeof(*k), cmp_int);
	for (i = 0; i < nkeep; i++) {
		if (k[i] < (int)from)
			continue;
		if ((unsigned int)k[i] > from &&
		    close_range(from, (unsigned int)k[i] - 1, 0) < 0)
			goto fail;
		from = (unsigned int)k[i] + 1;
	}
	if (close_range(from, ~0U, 0) < 0)
		goto fail;
	free(k);
	return 0;
fail:
	free(k);
	return -1;
}
