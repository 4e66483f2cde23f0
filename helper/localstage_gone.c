/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage_gone.c - node-local staging (local= of the plugin), in the
 * event loop: when a job whose steps staged here has ended for good
 * (slurmctld says it is neither pending nor requeued) and no step of it
 * is registered here any more, its local directory is removed, as the
 * user, in a child. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "conf.h"
#include "image.h"
#include "localstage_gone.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "privsep.h"
#include "report.h"
#include "sched.h"
#include "steps.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct gone {
	struct gone *next;
	uint32_t job, uid, gid;
	char *dir;		/* <local>/<uid>/<job> */
	bool asking;		/* a child is asking slurmctld */
};

static struct gone *gone_list;
static struct watch gone_timer = { .fd = -1 };

static void gone_free(struct gone *g)
{
	struct gone **pp;

	for (pp = &gone_list; *pp; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	free(g->dir);
	free(g);
}

/* In a child, as root, then as the user: is the job over, and if so
 * remove <dir> (its last component, below the user's own directory). */
static int gone_child(void *arg, int out)
{
	const struct gone *g = arg;
	struct sched_job j = { 0 };
	char err[512] = "", *copy = NULL, *slash;
	int fd = -1, removed = 0;

	sched_init();
	if (sched_job(g->job, &j, err, sizeof(err)) < 0 && errno != ENOENT)
		goto report;
	err[0] = '\0';
	if (j.found && !j.done)
		goto report;
	if (privsep_become(g->uid, g->gid, err, sizeof(err)) < 0)
		goto report;
	if (!(copy = strdup(g->dir)) || !(slash = strrchr(copy, '/'))) {
		snprintf(err, sizeof(err), "out of memory");
		goto report;
	}
	*slash = '\0';
	fd = open(copy, OPEN_DIR);
	if (fd < 0 || (image_remove_tree(fd, slash + 1) < 0 &&
		       errno != ENOENT))
		snprintf(err, sizeof(err), "remove %s: %s", g->dir,
			 strerror(errno));
	else
		removed = 1;
report:
	if (fd >= 0)
		close(fd);
	free(copy);
	return report_write(out, json_pack("{s:b,s:s}", "removed", removed,
					    "error", err));
}

static void gone_done(void *arg, json_t *o, int status)
{
	struct gone *g = arg;
	const char *err = "";
	int removed = 0;

	(void)status;
	g->asking = false;
	if (o) {
		json_unpack(o, "{s:b,s:s}", "removed", &removed, "error", &err);
		metrics_slurmctld("job");
	}
	if (err && *err)
		log_msg(LOG_WARNING, "local staging of job %u: %s", g->job, err);
	if (removed) {
		log_msg(LOG_INFO, "job %u ended: removed its node-local "
			"staging %s", g->job, g->dir);
		gone_free(g);
	}
}

static bool job_here(uint32_t job)
{
	const struct step *s;

	for (s = steps_first(); s; s = s->next)
		if (s->job == job)
			return true;
	return false;
}

static void gone_arm(bool on)
{
	long secs = hconf.poll_interval > 0 ? hconf.poll_interval : 30;
	struct itimerspec it = { { secs, 0 }, { secs, 0 } };

	if (!on)
		memset(&it, 0, sizeof(it));
	if (gone_timer.fd >= 0 && timerfd_settime(gone_timer.fd, 0, &it,
						  NULL) < 0)
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
}

static void gone_tick(struct watch *w, uint32_t events)
{
	struct gone *g, *next;
	uint64_t ticks;
	char err[256];

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	for (g = gone_list; g; g = next) {
		next = g->next;
		if (g->asking)
			continue;
		if (job_here(g->job)) {	/* it runs here again */
			gone_free(g);
			continue;
		}
		if (child_start(gone_child, g, gone_done, g, err,
				sizeof(err)) == 0)
			g->asking = true;
		else
			log_msg(LOG_WARNING, "job %u: %s", g->job, err);
	}
	if (!gone_list)
		gone_arm(false);
}

static void step_removed(struct step *s)
{
	struct gone *g;

	if (!s->local)
		return;
	for (g = gone_list; g; g = g->next)
		if (strcmp(g->dir, s->local) == 0)
			return;
	if (gone_timer.fd < 0) {
		gone_timer.fd = timerfd_create(CLOCK_MONOTONIC,
					       TFD_NONBLOCK | TFD_CLOEXEC);
		gone_timer.ready = gone_tick;
		if (gone_timer.fd < 0 || loop_add(&gone_timer, EPOLLIN) < 0) {
			log_msg(LOG_ERR, "cannot watch ended jobs: %s",
				strerror(errno));
			if (gone_timer.fd >= 0)
				close(gone_timer.fd);
			gone_timer.fd = -1;
			return;
		}
	}
	if (!(g = calloc(1, sizeof(*g))) || !(g->dir = strdup(s->local))) {
		free(g);
		return;
	}
	g->job = s->job;
	g->uid = s->uid;
	g->gid = s->gid;
	g->next = gone_list;
	gone_list = g;
	gone_arm(true);
}

static struct step_listener listener = { .removed = step_removed };

int localstage_gone_init(void)
{
	steps_listen(&listener);
	return 0;
}

void localstage_gone_shutdown(void)
{
	while (gone_list)
		gone_free(gone_list);
	if (gone_timer.fd >= 0) {
		loop_del(&gone_timer);
		close(gone_timer.fd);
		gone_timer.fd = -1;
	}
}
