/* verbs.c - what scheckpoint's verbs need beyond the loop: the steps'
 * registrations as JSON, the list of a job's images (read in a child
 * with the user's credentials, never root's), and the end of vacate and requeue (a child
 * that asks slurmctld to cancel or requeue the job: sched.c blocks). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "errbuf.h"
#include "log.h"
#include "manifest.h"
#include "method.h"
#include "privsep.h"
#include "report.h"
#include "sched.h"
#include "steps.h"
#include "verbs.h"

#define LIST_MAX 1000		/* images listed at most */

/* ------------------------------------------------------ registrations */

static json_int_t realtime_of(const struct timespec *mono_due)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (json_int_t)(time(NULL) + (mono_due->tv_sec - now.tv_sec));
}

json_t *verbs_step_info(const struct step *s, enum ckpt_op op)
{
	const char *periodic = s->interval <= 0 ? "none" :
			       s->disabled ? "disabled" : "enabled";
	unsigned ntasks = 0;
	const struct task *t;

	for (t = s->tasks; t; t = t->next)
		ntasks++;
	switch (op) {
	case CKPT_OP_ABLE:
		return json_pack("{s:s,s:b,s:I}", "step", s->label,
				 "able", 1, "since", (json_int_t)s->registered);
	case CKPT_OP_ERROR:
		return json_pack("{s:s,s:i,s:s,s:I}", "step", s->label,
				 "error_code", s->last_error ? s->last_errno : 0,
				 "error_msg", s->last_error ? s->last_error : "",
				 "error_time",
				 (json_int_t)(s->last_error ? s->last_error_time
							    : 0));
	case CKPT_OP_ENABLE:
	case CKPT_OP_DISABLE:
		return json_pack("{s:s,s:s}", "step", s->label,
				 "periodic", periodic);
	default:
		break;
	}
	return json_pack("{s:s,s:I,s:s,s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:I,"
			 "s:I,s:b,s:I,s:I}",
			 "step", s->label, "job", (json_int_t)s->job,
			 "node", s->node, "uid", (json_int_t)s->uid,
			 "dir", s->dir,
			 "method", s->method ? method_name(s->method) : "signal",
			 "interval", (json_int_t)s->interval,
			 "keep", (json_int_t)s->keep,
			 "max_wait", (json_int_t)s->max_wait,
			 "periodic", periodic,
			 "next_checkpoint", (json_int_t)(s->interval > 0 &&
				!s->disabled ? realtime_of(&s->due) : 0),
			 "last_seq", (json_int_t)s->last_seq,
			 "in_progress", s->worker != NULL,
			 "tasks", (json_int_t)ntasks,
			 "registered", (json_int_t)s->registered);
}

/* ------------------------------------------------------ children */

struct verbs_req {
	verbs_done_fn done;
	void *arg;
	uint32_t job;
	enum ckpt_op op;
	size_t n;
	struct {			/* list: the steps' images */
		char *dir;
		char name[64];
		uid_t uid;
		gid_t gid;
	} steps[];
};

static void req_free(struct verbs_req *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->steps[i].dir);
	free(r);
}

/* The image's name is N or N.<seq>. */
static bool is_image_of(const char *entry, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(entry, name, n) != 0)
		return false;
	if (entry[n] == '\0')
		return true;
	if (entry[n] != '.' || !entry[n + 1])
		return false;
	return strspn(entry + n + 1, "0123456789") == strlen(entry + n + 1);
}

/* Insert o into a by ascending seq. */
static void insert_by_seq(json_t *a, json_t *o, json_int_t seq)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (json_integer_value(json_object_get(json_array_get(a, i),
						       "seq")) > seq)
			break;
	json_array_insert_new(a, i, o);
}

static void list_dir(int basefd, const char *dir, const char *name,
		     json_t *images, json_t *errors)
{
	char err[512], path[4200];
	struct manifest m;
	struct dirent *de;
	DIR *d;
	int fd, dfd = dup(basefd);

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		json_array_append_new(errors, json_sprintf("%s: %s", dir,
							   strerror(errno)));
		return;
	}
	while ((de = readdir(d)) && json_array_size(images) < LIST_MAX) {
		if (!is_image_of(de->d_name, name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = openat(basefd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || manifest_read(fd, &m, err, sizeof(err)) < 0) {
			json_array_append_new(errors, json_sprintf("%s: %s",
				path, fd < 0 ? strerror(errno) : err));
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		insert_by_seq(images, json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}",
			"image", path, "seq", (json_int_t)m.seq,
			"time", (json_int_t)m.time,
			"size", (json_int_t)manifest_bytes(&m),
			"reason", m.reason ? m.reason : "",
			"node", m.node ? m.node : ""), (json_int_t)m.seq);
		manifest_free(&m);
	}
	closedir(d);
}

/* In the child: every step's directory, as the step's user. */
static int list_child(void *arg, int out)
{
	struct verbs_req *r = arg;
	json_t *images = json_array(), *errors = json_array();
	char err[512];
	size_t i;
	int basefd;

	if (privsep_become(r->steps[0].uid, r->steps[0].gid, err,
			   sizeof(err)) < 0)
		return report_write(out, json_pack("{s:o,s:[s]}", "images",
						    images, "errors", err));
	for (i = 0; i < r->n; i++) {
		basefd = open(r->steps[i].dir, O_RDONLY | O_DIRECTORY |
			      O_CLOEXEC);
		if (basefd < 0) {
			json_array_append_new(errors, json_sprintf("%s: %s",
				r->steps[i].dir, strerror(errno)));
			continue;
		}
		list_dir(basefd, r->steps[i].dir, r->steps[i].name, images,
			 errors);
		close(basefd);
	}
	return report_write(out, json_pack("{s:o,s:o}", "images", images,
					    "errors", errors));
}

static void list_done(void *arg, json_t *o, int status)
{
	struct verbs_req *r = arg;
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

	if (text)
		r->done(r->arg, true, 0, text);
	else
		r->done(r->arg, false, EIO, status ? "the list child failed"
						   : "out of memory");
	free(text);
	req_free(r);
}

int verbs_list(const struct step *const *steps, size_t n, const char *dir,
	       verbs_done_fn done, void *arg, char *err, size_t errlen)
{
	struct verbs_req *r;
	size_t i, k;

	r = calloc(1, sizeof(*r) + n * sizeof(r->steps[0]));
	if (!r)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	r->done = done;
	r->arg = arg;
	r->op = CKPT_OP_LIST;
	/* One directory per image name; the first step's user reads them
	 * all (every step of a job belongs to its owner). */
	for (i = 0; i < n; i++) {
		const char *d = dir ? dir : steps[i]->dir;	/* ImageDir= */

		for (k = 0; k < r->n; k++)
			if (strcmp(r->steps[k].dir, d) == 0 &&
			    strcmp(r->steps[k].name, steps[i]->name) == 0)
				break;
		if (k < r->n)
			continue;
		if (!(r->steps[r->n].dir = strdup(d))) {
			req_free(r);
			return errprintf(err, errlen, ENOMEM, "out of memory");
		}
		snprintf(r->steps[r->n].name, sizeof(r->steps[r->n].name),
			 "%s", steps[i]->name);
		r->steps[r->n].uid = steps[i]->uid;
		r->steps[r->n].gid = steps[i]->gid;
		r->n++;
	}
	if (child_start(list_child, r, list_done, r, err, errlen) < 0) {
		req_free(r);
		return -1;
	}
	return 0;
}

/* In the child (root): cancel or requeue the job. */
static int act_child(void *arg, int out)
{
	const struct verbs_req *r = arg;
	char err[512] = "";
	int rc;

	sched_init();
	if (r->op == CKPT_OP_VACATE)
		rc = sched_cancel(r->job, err, sizeof(err));
	else
		rc = sched_requeue(r->job, false, err, sizeof(err));
	return report_write(out, json_pack("{s:b,s:s}", "ok", rc == 0,
					    "error", err));
}

static void act_done(void *arg, json_t *o, int status)
{
	struct verbs_req *r = arg;
	const char *error = "no report from the child";
	int ok = 0;

	if (o)
		json_unpack(o, "{s:b,s:s}", "ok", &ok, "error", &error);
	if (!o)
		log_msg(LOG_ERR, "job %u: %s child ended with status %d",
			r->job, r->op == CKPT_OP_VACATE ? "cancel" : "requeue",
			status);
	log_msg(ok ? LOG_NOTICE : LOG_WARNING, "job %u: %s%s%s", r->job,
		r->op == CKPT_OP_VACATE ? "vacated" : "requeued",
		ok ? "" : " failed: ", ok ? "" : error);
	r->done(r->arg, ok, ok ? 0 : EIO, ok ? NULL : error);
	req_free(r);
}

int verbs_act(uint32_t job, enum ckpt_op op, verbs_done_fn done, void *arg,
	      char *err, size_t errlen)
{
	struct verbs_req *r = calloc(1, sizeof(*r));

	if (!r)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	r->done = done;
	r->arg = arg;
	r->job = job;
	r->op = op;
	if (child_start(act_child, r, act_done, r, err, errlen) < 0) {
		free(r);
		return -1;
	}
	return 0;
}
