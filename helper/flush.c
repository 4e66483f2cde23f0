/* flush.c - node-local staging (local= of the plugin): the worker, with
 * the user's credentials, has committed the tasks' image in the step's
 * node-local directory and the tasks are computing again; the image is
 * now copied into the shared checkpoint directory and committed there
 * under the same seq, so that a restart on another node finds it.
 * Only regular files and directories are copied, never through a link
 * (image_copy_file); the copy is checked against the local manifest.
 * When the job has ended for good (slurmctld says it is neither pending
 * nor requeued) and no step of it is registered here any more, its local
 * directory is removed, as the user. */
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

#include "helper.h"
#include "image.h"
#include "localstage.h"
#include "manifest.h"
#include "sched.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

int flush_open_local(const struct step *s, char *err, size_t errlen)
{
	char why[512];
	int fd;

	if ((fd = image_open_base(s->local, why, sizeof(why))) < 0)
		snprintf(err, errlen, "local staging %s: %s", s->local, why);
	return fd;
}

/* The shared copy must hold what the local image held. */
static int same_files(const struct manifest *a, const struct manifest *b,
		      char *err, size_t errlen)
{
	size_t i;

	if (a->nfiles != b->nfiles) {
		snprintf(err, errlen, "flush: %zu files copied, the local "
			 "image has %zu", b->nfiles, a->nfiles);
		return -1;
	}
	for (i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].path, b->files[i].path) ||
		    a->files[i].size != b->files[i].size ||
		    strcmp(a->files[i].xxh3, b->files[i].xxh3)) {
			snprintf(err, errlen, "flush: %.512s differs from the "
				 "local image", b->files[i].path);
			return -1;
		}
	return 0;
}

/* Copy lbase/N into dst (an open directory). */
static int copy_image(const struct step *s, int lbase,
		      const struct manifest *m, int dst, char *err,
		      size_t errlen)
{
	char why[512];
	int src, rc;

	if ((src = openat(lbase, s->name, OPEN_DIR)) < 0) {
		snprintf(err, errlen, "flush: local image %s/%s: %s", s->local,
			 s->name, strerror(errno));
		return -1;
	}
	rc = localstage_copy(src, m, dst, why, sizeof(why));
	if (rc < 0)
		snprintf(err, errlen, "flush to %s: %s", s->dir, why);
	close(src);
	return rc;
}

/* A part of a multi-node image: N.partial/<part>, not committed here. */
static int flush_part(const struct step *s, int lbase, int sbase,
		      const char *part, const struct manifest *m, char *err,
		      size_t errlen)
{
	char sub[128], why[512];
	int dst, rc;

	snprintf(sub, sizeof(sub), "%s%s/%s", s->name, IMAGE_STAGING_SUFFIX,
		 part);
	if ((dst = localstage_open_dest(sbase, sub, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "flush to %s: %s", s->dir, why);
		return -1;
	}
	rc = copy_image(s, lbase, m, dst, err, errlen);
	close(dst);
	return rc;
}

int flush_image(const struct step *s, int lbase, int sbase, const char *part,
		const struct manifest *m, char *err, size_t errlen)
{
	struct manifest sm = { .seq = m->seq, .job = m->job, .step = m->step,
			       .reason = m->reason, .node = m->node,
			       .process_image = m->process_image };
	char why[512];
	int dst, rc;

	if (part)
		return flush_part(s, lbase, sbase, part, m, err, errlen);
	if ((dst = image_stage(sbase, s->name, why, sizeof(why))) < 0) {
		snprintf(err, errlen, "flush to %s: %s", s->dir, why);
		return -1;
	}
	rc = copy_image(s, lbase, m, dst, err, errlen);
	close(dst);
	if (rc < 0)
		return -1;
	if (image_commit(sbase, s->name, &sm, s->keep, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "flush to %s: %s", s->dir, why);
		rc = -1;
	} else {
		rc = same_files(m, &sm, err, errlen);
	}
	sm.reason = NULL;
	sm.node = NULL;
	manifest_free(&sm);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The local space of a job that ended for good                       */

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
	if (o)
		json_unpack(o, "{s:b,s:s}", "removed", &removed, "error", &err);
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

void flush_step_gone(const struct step *s)
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

void flush_shutdown(void)
{
	while (gone_list)
		gone_free(gone_list);
	if (gone_timer.fd >= 0) {
		loop_del(&gone_timer);
		close(gone_timer.fd);
		gone_timer.fd = -1;
	}
}
