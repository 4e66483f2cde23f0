/* verbs_child.c - in the children of scheckpoint's verbs: the list of a
 * job's images, read with the user's credentials, never root's; the end
 * of vacate and requeue, asking slurmctld as root (sched.c blocks). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "manifest.h"
#include "privsep.h"
#include "report.h"
#include "sched.h"
#include "verbs_child.h"

#define LIST_MAX 1000		/* images listed at most */

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
int verbs_list_child(void *arg, int out)
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

/* In the child (root): cancel or requeue the job. */
int verbs_act_child(void *arg, int out)
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
