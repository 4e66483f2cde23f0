/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.c - who may act on a user's job through slurmckptd: the job's
 * owner, root and the SlurmUser (looked up once, in a child: libslurm
 * blocks). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include <jansson.h>

#include "access.h"
#include "child.h"
#include "log.h"
#include "report.h"
#include "sched.h"

static bool slurm_user_known;
static uid_t slurm_user;

static int slurm_user_child(void *arg, int out)
{
	char err[512] = "";
	uint32_t uid = 0;
	int ok;

	(void)arg;
	sched_init();
	ok = sched_slurm_user(&uid, err, sizeof(err)) == 0;
	return report_write(out, json_pack("{s:b,s:I,s:s}", "ok", ok,
					    "uid", (json_int_t)uid,
					    "error", err));
}

static void slurm_user_done(void *arg, json_t *o, int status)
{
	json_int_t uid = 0;
	const char *error = "no report";
	int ok = 0;

	(void)arg;
	if (o)
		json_unpack(o, "{s:b,s:I,s:s}", "ok", &ok, "uid", &uid,
			    "error", &error);
	if (!ok || uid < 0) {
		log_msg(LOG_WARNING, "SlurmUser unknown (%s, status %d): only "
			"root and the job's owner may use scheckpoint", error,
			status);
		return;
	}
	slurm_user = (uid_t)uid;
	slurm_user_known = true;
	log_msg(LOG_INFO, "SlurmUser is uid %u", (unsigned)slurm_user);
}

void access_init(void)
{
	char err[512];

	if (child_start(slurm_user_child, NULL, slurm_user_done, NULL, err,
			sizeof(err)) < 0)
		log_msg(LOG_WARNING, "SlurmUser: %s", err);
}

bool access_may_act(uid_t client, uid_t owner)
{
	return client == 0 || client == owner ||
	       (slurm_user_known && client == slurm_user);
}
