/* SPDX-License-Identifier: GPL-2.0-or-later */
/* staging_tidy.c - the staging directory of a step with a checkpoint
 * exit code, or SIGTERM as its signal: the plugin makes <name>.partial
 * when the step starts, for its tasks to write into unasked.  When the step
 * ends and it is still empty (the tasks finished without checkpointing),
 * it is removed, as the user, in a child; one with something in it is
 * left for the commit or for the user. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "errbuf.h"
#include "image.h"
#include "log.h"
#include "privsep.h"
#include "report.h"
#include "staging_tidy.h"
#include "steps.h"

struct tidy {
	uint32_t uid, gid;
	char *dir;
	char name[80];		/* <name>.partial */
	char label[32];
};

static void tidy_free(struct tidy *t)
{
	free(t->dir);
	free(t);
}

/* In the child: become the user, then rmdir <dir>/<name>.partial if it
 * is empty. */
static int tidy_child(void *arg, int out)
{
	const struct tidy *t = arg;
	char err[600] = "";
	int fd = -1;

	if (privsep_become(t->uid, t->gid, err, sizeof(err)) == 0 &&
	    (fd = image_open_base(t->dir, err, sizeof(err))) >= 0 &&
	    unlinkat(fd, t->name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
	    errno != ENOTEMPTY && errno != EEXIST)
		errprintf(err, sizeof(err), errno, "%s/%s: %s", t->dir,
			  t->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return report_write(out, json_pack("{s:s}", "error", err));
}

static void tidy_done(void *arg, json_t *o, int status)
{
	struct tidy *t = arg;
	const char *err = NULL;

	(void)status;
	if (o)
		json_unpack(o, "{s:s}", "error", &err);
	if (err && *err)
		log_msg(LOG_WARNING, "%s: empty staging left: %s", t->label,
			err);
	tidy_free(t);
}

void staging_tidy(const struct step *s)
{
	struct tidy *t;
	char err[256];

	if (!s->exit_code && !step_on_sigterm(s))
		return;
	if (!(t = calloc(1, sizeof(*t))) || !(t->dir = strdup(s->dir))) {
		free(t);
		log_msg(LOG_WARNING, "%s: empty staging left: out of memory",
			s->label);
		return;
	}
	t->uid = s->uid;
	t->gid = s->gid;
	snprintf(t->name, sizeof(t->name), "%s%s", s->name,
		 IMAGE_STAGING_SUFFIX);
	snprintf(t->label, sizeof(t->label), "%s", s->label);
	if (child_start(tidy_child, t, tidy_done, t, err, sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: empty staging left: %s", s->label,
			err);
		tidy_free(t);
	}
}
