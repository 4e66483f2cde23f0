/* SPDX-License-Identifier: GPL-2.0-or-later */
/* resubmit.c - --checkpoint-resubmit: a job that a preemption cancels
 * (PreemptMode=CANCEL, where slurmctld never requeues; with no GraceTime
 * it ends before a final checkpoint) is submitted again from its newest
 * image, as its user would with "scheckpoint restart".  When the job's
 * batch step ends, a child asks slurmctld how the job ended (it may still
 * be completing, or have been requeued) and, for a preemption that ended
 * it, runs scheckpoint as the job's user, with a clean environment and
 * no terminal; the outcome goes into checkpoint.log and the daemon's
 * log. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "conf.h"
#include "log.h"
#include "method_cmd.h"
#include "privsep.h"
#include "report.h"
#include "resubmit.h"
#include "sched.h"

#define SETTLE_S 120	/* how long a job may take to end after its batch
			 * step (completing, KillWait) */

struct resubmit {
	uint32_t job, uid, gid, restarts;
	char *dir;
};

/* How the job ended: 1 cancelled by a preemption of this run, 0 not
 * (running again, requeued, completed, cancelled otherwise), -1 with err
 * (slurmctld not reachable, or still not ended). */
static int preempted_end(const struct resubmit *rs, char *err, size_t errlen)
{
	struct sched_job cur;
	int i;

	for (i = 0; i < SETTLE_S; i++) {
		if (sched_job(rs->job, &cur, err, errlen) < 0)
			return -1;
		if (!cur.found || cur.restarts > rs->restarts || cur.running)
			return 0;
		if (cur.done)
			return !cur.completed && cur.preempt &&
			       cur.preempt >= cur.start;
		sleep(1);
	}
	snprintf(err, errlen, "job %u had not ended %d s after its batch "
		 "step", rs->job, SETTLE_S);
	return -1;
}

/* As the user: scheckpoint restart, its last line kept in out. */
static int run_restart(const struct resubmit *rs, char *out, size_t outlen,
		       char *err, size_t errlen)
{
	char id[16], imgdir[4200], conf[4200];
	char *argv[] = { hconf.scheckpoint, "restart", id, imgdir, NULL };
	char *env[4] = { "PATH=/usr/local/bin:/usr/bin:/bin", "LC_ALL=C",
			 NULL, NULL };
	const char *slurm_conf = getenv("SLURM_CONF");
	int status;

	snprintf(id, sizeof(id), "%u", rs->job);
	snprintf(imgdir, sizeof(imgdir), "ImageDir=%s", rs->dir);
	if (slurm_conf) {
		snprintf(conf, sizeof(conf), "SLURM_CONF=%s", slurm_conf);
		env[2] = conf;
	}
	if (privsep_become(rs->uid, rs->gid, err, errlen) < 0)
		return -1;
	status = method_cmd_run_argv(argv, env, -1, 60, false, out, outlen,
				     err, errlen);
	if (status < 0)
		return -1;
	return method_cmd_describe(status, "scheckpoint restart", out, err,
				   errlen);
}

static int resubmit_child(void *arg, int out)
{
	const struct resubmit *rs = arg;
	char err[512] = "", text[1024], output[METHOD_OUTPUT_MAX];
	const char *action = "none";
	int rc;

	sched_init();
	rc = preempted_end(rs, err, sizeof(err));
	if (rc == 0)
		return report_write(out, json_pack("{s:s}", "action", action));
	if (rc < 0) {
		snprintf(text, sizeof(text), "%u.batch: not resubmitted: %s",
			 rs->job, err);
	} else if (run_restart(rs, output, sizeof(output), err,
			       sizeof(err)) < 0) {
		action = "failed";
		snprintf(text, sizeof(text), "%u.batch cancelled by a "
			 "preemption: resubmit failed: %s", rs->job, err);
	} else {
		action = "resubmitted";
		snprintf(text, sizeof(text), "%u.batch cancelled by a "
			 "preemption: resubmitted from its image: %s", rs->job,
			 method_cmd_last_line(output));
	}
	/* Written as the user (run_restart has become it, or does now). */
	err[0] = '\0';
	privsep_log_as(rs->uid, rs->gid, rs->dir, text, err, sizeof(err));
	return report_write(out, json_pack("{s:s,s:s,s:s}", "action", action,
					    "text", text, "log_error", err));
}

static void resubmit_done(void *arg, json_t *o, int status)
{
	struct resubmit *rs = arg;
	const char *action = "failed", *text = "no report", *lerr = "";

	if (o)
		json_unpack(o, "{s:s,s?s,s?s}", "action", &action, "text",
			    &text, "log_error", &lerr);
	if (strcmp(action, "none") != 0)
		log_msg(strcmp(action, "resubmitted") ? LOG_WARNING :
			LOG_NOTICE, "job %u: %s%s%s", rs->job, text,
			*lerr ? "; " : "", lerr);
	if (!o)
		log_msg(LOG_ERR, "job %u: resubmit child ended with status %d",
			rs->job, status);
	free(rs->dir);
	free(rs);
}

int resubmit_when_cancelled(uint32_t job, uint32_t uid, uint32_t gid,
			    const char *dir, uint32_t restarts)
{
	struct resubmit *rs = calloc(1, sizeof(*rs));
	char err[512];

	if (!rs || !(rs->dir = strdup(dir))) {
		free(rs);
		log_msg(LOG_ERR, "job %u: resubmit: out of memory", job);
		return -1;
	}
	rs->job = job;
	rs->uid = uid;
	rs->gid = gid;
	rs->restarts = restarts;
	if (child_start(resubmit_child, rs, resubmit_done, rs, err,
			sizeof(err)) < 0) {
		log_msg(LOG_ERR, "job %u: resubmit: %s", job, err);
		free(rs->dir);
		free(rs);
		return -1;
	}
	return 0;
}
