/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verbs_child.c - in the children of scheckpoint's verbs: the list of a
 * job's images, read with the user's credentials, never root's; the end
 * of vacate and requeue, asking slurmctld as root (sched.c blocks). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "image_list.h"
#include "privsep.h"
#include "report.h"
#include "sched.h"
#include "verbs_child.h"

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
		image_list(basefd, r->steps[i].dir, r->steps[i].name, 0,
			   images, errors);
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
