/* SPDX-License-Identifier: GPL-2.0-or-later */
/* run.c - the checkpoint in flight in a worker (struct ckpt_run), and
 * its commit: the job's submission, fetched from slurmctld as root before
 * the worker drops to the user (slurm_job_batch_script wants root or the
 * owner), is written as the user into the image, for "scheckpoint
 * restart"; with ImageDir= the image is moved there first. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "errbuf.h"
#include "image.h"
#include "log.h"
#include "run.h"
#include "sched.h"
#include "steps.h"

void run_init(struct ckpt_run *r, const struct step *s, const char *reason)
{
	*r = (struct ckpt_run){ .s = s, .reason = reason, .image_dirfd = -1,
				.paused_ms = -1, .flush_ms = -1 };
}

void run_free(struct ckpt_run *r)
{
	if (r->image_dirfd >= 0)
		close(r->image_dirfd);
	r->image_dirfd = -1;
	json_decref(r->saved_job);
	r->saved_job = NULL;
	free(r->saved_script);
	r->saved_script = NULL;
}

void run_fetch_job(struct ckpt_run *r, const char *method)
{
	const struct step *s = r->s;
	json_t *saved_job;
	char err[512];

	if (sched_job_save(s->job, &r->saved_job, &r->saved_script, err,
			   sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: the job is not saved with its "
			"image (no scheckpoint restart): %s", s->label, err);
		return;
	}
	saved_job = r->saved_job;
	json_object_set_new(saved_job, "checkpoint",
			    json_integer((json_int_t)s->interval));
	json_object_set_new(saved_job, "checkpoint_dir", json_string(s->dir));
	json_object_set_new(saved_job, "checkpoint_method",
			    json_string(method));
	if (s->trigger)
		json_object_set_new(saved_job, "checkpoint_trigger",
				    json_string(s->trigger));
	if (s->watch)
		json_object_set_new(saved_job, "checkpoint_watch",
				    json_string(s->watch));
	if (s->exit_code >= 0)
		json_object_set_new(saved_job, "checkpoint_exit_code",
				    json_integer(s->exit_code));
}

static int write_file(int dirfd, const char *name, const char *text,
		      char *err, size_t errlen)
{
	int fd;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		goto fail;
	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (manifest_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		close(fd);
		goto fail;
	}
	if (close(fd) < 0)
		goto fail;
	return 0;
fail:
	return errprintf(err, errlen, errno, "%s: %s", name, strerror(errno));
}

/* ImageDir= as the user: created like a checkpoint directory, and
 * writable by the user (nothing is written into it here). */
int run_open_image_dir(struct ckpt_run *r, const char *dir, char *err,
		       size_t errlen)
{
	char why[512];
	int fd;

	if ((fd = image_open_base(dir, why, sizeof(why))) < 0)
		return errprintf(err, errlen, errno, "ImageDir=%s: %s", dir,
				 why);
	if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0) {
		errprintf(err, errlen, errno,
			  "ImageDir=%s: not writable by uid %u: "
			  "%s",
			  dir, (unsigned)geteuid(), strerror(errno));
		close(fd);
		return -1;
	}
	r->image_dirfd = fd;
	return 0;
}

/* The staging directory into ImageDir= (a rename, or a copy across
 * filesystems), numbered after the images there. */
static int move_to_image_dir(struct ckpt_run *r, int basefd,
			     struct manifest *m, char *err, size_t errlen)
{
	const char *name = r->s->name;

	if (image_move(basefd, r->image_dirfd, name, err, errlen) < 0)
		return -1;
	m->seq = image_next_seq(r->image_dirfd, name);
	return 0;
}

/* The saved job into N.partial (so that the manifest covers it), then
 * the commit.  Failing to save it is no reason to lose the image. */
int run_commit(struct ckpt_run *r, int basefd, struct manifest *m,
	       char *err, size_t errlen)
{
	const struct step *s = r->s;
	char staging[80], why[512] = "", *js;
	int fd;

	m->asked = s->started;	/* took= from the request */
	if (r->image_dirfd >= 0) {
		if (move_to_image_dir(r, basefd, m, err, errlen) < 0)
			return -1;
		basefd = r->image_dirfd;
	}

	if (r->saved_job && r->saved_script) {
		snprintf(staging, sizeof(staging), "%s%s", s->name,
			 IMAGE_STAGING_SUFFIX);
		fd = openat(basefd, staging, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
		js = json_dumps(r->saved_job, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (fd < 0)
			snprintf(why, sizeof(why), "%s: %s", staging,
				 strerror(errno));
		else if (!js)
			snprintf(why, sizeof(why), "out of memory");
		else if (write_file(fd, IMAGE_JOB_NAME, js, why,
				    sizeof(why)) == 0)
			write_file(fd, IMAGE_SCRIPT_NAME, r->saved_script, why,
				   sizeof(why));
		free(js);
		if (fd >= 0)
			close(fd);
		if (why[0])
			log_msg(LOG_WARNING, "%s: the job is not saved with "
				"its image: %s", s->label, why);
	}
	return image_commit(basefd, s->name, m, s->keep, err, errlen);
}
