/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sched.c - slurmckptd's and scheckpoint's requests to slurmctld, through
 * libslurm (Slurm 22.05 to 26.05).  Everything version-specific about the
 * scheduler lives here, in the block below the includes.
 *
 * slurm_get_end_time()/slurm_get_rem_time() are not used: they cache for
 * 60 s and would miss a preemption (which shortens the end time). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include "errbuf.h"
#include "sched.h"

#define REQUEUE_TRIES 20	/* x 0.5 s while the job changes state */

/* --- what differs between the Slurm releases (SLURM_VERSION_NUMBER) -----
 * 23.11: hostlist_t is the struct; slurm_hostlist_*() take a pointer.
 * 24.11: slurm_get_errno() is gone: libslurm sets errno (as it always did).
 * 25.11: slurm_get_job_steps() takes a slurm_step_id_t *; JOB_EXPEDITING.
 * 26.05: slurm_load_job(), slurm_requeue(), slurm_kill_job() and
 *        slurm_job_batch_script() take a slurm_step_id_t;
 *        slurm_free_ctl_conf() is slurm_free_conf().
 * job_desc_msg_t.job_id went in 25.11: job_id_str with slurm_update_job2()
 * works on every release, so nothing here chooses. */
#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(23, 11, 0)
typedef hostlist_t *hostlist_ptr;
#else
typedef hostlist_t hostlist_ptr;
#endif

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(25, 11, 0)
static int get_job_steps(uint32_t job, uint32_t step,
			 job_step_info_response_msg_t **r)
{
	slurm_step_id_t id = SLURM_STEP_ID_INITIALIZER;

	id.job_id = job;
	id.step_id = step;
	return slurm_get_job_steps(&id, r, SHOW_ALL);
}
#else
static int get_job_steps(uint32_t job, uint32_t step,
			 job_step_info_response_msg_t **r)
{
	return slurm_get_job_steps((time_t)0, job, step, r, SHOW_ALL);
}
#endif

#if SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(26, 5, 0)
static slurm_step_id_t job_ref(uint32_t job)
{
	slurm_step_id_t id = SLURM_STEP_ID_INITIALIZER;

	id.job_id = job;
	return id;
}
#define free_conf slurm_free_conf
#else
static uint32_t job_ref(uint32_t job)
{
	return job;
}
#define free_conf slurm_free_ctl_conf
#endif

#ifndef JOB_EXPEDITING
#define JOB_EXPEDITING 0	/* before 25.11 */
#endif
#define JOB_BETWEEN_RUNS (JOB_COMPLETING | JOB_REQUEUE | JOB_REQUEUE_HOLD | \
			  JOB_SPECIAL_EXIT | JOB_REQUEUE_FED | JOB_EXPEDITING)
/* --- end of the version-specific block ---------------------------------- */

/* libslurm needs slurm_init() in each process before any request from
 * 23.11 on (22.05 did it lazily); a forked process inherits it. */
void sched_init(void)
{
	static bool done;

	if (!done)
		slurm_init(NULL);
	done = true;
}

static int slurm_err(char *err, size_t errlen, const char *what)
{
	int e = errno;

	errprintf(err, errlen, errno, "%s: %s", what, slurm_strerror(e));
	errno = e == ESLURM_INVALID_JOB_ID ? ENOENT : EIO;
	return -1;
}

static void copy_job(const slurm_job_info_t *in, struct sched_job *out)
{
	out->found = true;
	out->running = (in->job_state & JOB_STATE_BASE) == JOB_RUNNING &&
		       !(in->job_state & JOB_COMPLETING);
	out->requeue_ok = in->requeue != 0 && in->batch_flag != 0;
	out->start = in->start_time;
	out->end = in->end_time;
	out->preempt = in->preempt_time;
	out->restarts = in->restart_cnt;
	out->done = (in->job_state & JOB_STATE_BASE) > JOB_SUSPENDED &&
		    !(in->job_state & JOB_BETWEEN_RUNS);
	out->completed = (in->job_state & JOB_STATE_BASE) == JOB_COMPLETE;
}

int sched_jobs(time_t *since, bool *unchanged, struct sched_job *jobs,
	       size_t n, char *err, size_t errlen)
{
	job_info_msg_t *msg = NULL;
	uint32_t i;
	size_t k;

	sched_init();
	*unchanged = false;
	if (slurm_load_jobs(*since, &msg, SHOW_ALL) != SLURM_SUCCESS) {
		if (errno == SLURM_NO_CHANGE_IN_DATA) {
			*unchanged = true;
			return 0;
		}
		return slurm_err(err, errlen, "slurm_load_jobs");
	}
	for (k = 0; k < n; k++)
		jobs[k].found = false;
	for (i = 0; i < msg->record_count; i++)
		for (k = 0; k < n; k++)
			if (msg->job_array[i].job_id == jobs[k].id)
				copy_job(&msg->job_array[i], &jobs[k]);
	*since = msg->last_update;
	slurm_free_job_info_msg(msg);
	return 0;
}

int sched_job(uint32_t id, struct sched_job *job, char *err, size_t errlen)
{
	job_info_msg_t *msg = NULL;

	sched_init();
	*job = (struct sched_job){ .id = id };
	if (slurm_load_job(&msg, job_ref(id), SHOW_ALL) != SLURM_SUCCESS)
		return slurm_err(err, errlen, "slurm_load_job");
	if (msg->record_count > 0)
		copy_job(&msg->job_array[0], job);
	slurm_free_job_info_msg(msg);
	if (!job->found)
		return errprintf(err, errlen, ENOENT,
				 "job %u is not known to slurmctld", id);
	return 0;
}

/* Whether <task> is in a pending record's array_task_str: "3",
 * "3-5%2", "1,4,7-9", "1-9:2" (a step). */
static bool task_listed(const char *list, uint32_t task)
{
	unsigned long lo, hi, step;
	const char *p = list;
	char *end;

	while (*p >= '0' && *p <= '9') {
		lo = hi = strtoul(p, &end, 10);
		step = 1;
		if (*end == '-' && end[1] >= '0' && end[1] <= '9')
			hi = strtoul(end + 1, &end, 10);
		if (*end == ':' && end[1] >= '1' && end[1] <= '9')
			step = strtoul(end + 1, &end, 10);
		if (task >= lo && task <= hi && (task - lo) % step == 0)
			return true;
		if (*end != ',')
			break;
		p = end + 1;
	}
	return false;
}

int sched_array_task(uint32_t array_job, uint32_t task, uint32_t *id,
		     char *err, size_t errlen)
{
	job_info_msg_t *msg = NULL;
	const slurm_job_info_t *j;
	bool pending = false;
	uint32_t i;

	sched_init();
	if (slurm_load_job(&msg, job_ref(array_job), SHOW_ALL) != SLURM_SUCCESS)
		return slurm_err(err, errlen, "slurm_load_job");
	*id = 0;
	for (i = 0; i < msg->record_count && !*id; i++) {
		j = &msg->job_array[i];
		if (j->array_job_id != array_job)
			continue;
		if (j->array_task_id == task &&
		    (j->job_state & JOB_STATE_BASE) == JOB_PENDING)
			pending = true;	/* the last task keeps the array's id */
		else if (j->array_task_id == task)
			*id = j->job_id;
		else if (j->array_task_id == NO_VAL && j->array_task_str &&
			 task_listed(j->array_task_str, task))
			pending = true;	/* tasks not started yet */
	}
	slurm_free_job_info_msg(msg);
	if (*id)
		return 0;
	if (pending)
		return errprintf(err, errlen, ENOENT, "job %u_%u has not "
				 "started", array_job, task);
	return errprintf(err, errlen, ENOENT, "job %u_%u is not known to "
			 "slurmctld", array_job, task);
}

int sched_requeue(uint32_t id, bool hold, char *err, size_t errlen)
{
	int i, e;

	sched_init();
	for (i = 0; i < REQUEUE_TRIES; i++) {
		if (slurm_requeue(job_ref(id), hold ? JOB_REQUEUE_HOLD : 0) ==
		    SLURM_SUCCESS)
			return 0;
		e = errno;
		if (e != ESLURM_TRANSITION_STATE_NO_UPDATE)
			break;
		usleep(500000);
	}
	return slurm_err(err, errlen, "requeue");
}

int sched_comment(uint32_t id, const char *text, char *err, size_t errlen)
{
	job_array_resp_msg_t *resp = NULL;
	job_desc_msg_t d;
	char idstr[16];
	int rc;

	sched_init();
	snprintf(idstr, sizeof(idstr), "%u", id);
	slurm_init_job_desc_msg(&d);
	d.job_id_str = idstr;
	d.admin_comment = (char *)text;
	rc = slurm_update_job2(&d, &resp);
	if (rc == SLURM_SUCCESS && resp && resp->job_array_count > 0 &&
	    resp->error_code[0] != SLURM_SUCCESS) {
		errno = (int)resp->error_code[0];
		rc = SLURM_ERROR;
	}
	if (resp)
		slurm_free_job_array_resp(resp);
	if (rc != SLURM_SUCCESS)
		return slurm_err(err, errlen, "update AdminComment");
	return 0;
}

int sched_slurm_user(uint32_t *uid, char *err, size_t errlen)
{
	slurm_conf_t *conf = NULL;

	sched_init();
	if (slurm_load_ctl_conf((time_t)0, &conf) != SLURM_SUCCESS)
		return slurm_err(err, errlen, "slurm_load_ctl_conf");
	*uid = conf->slurm_user_id;
	free_conf(conf);
	return 0;
}

int sched_cancel(uint32_t id, char *err, size_t errlen)
{
	sched_init();
	if (slurm_kill_job(job_ref(id), SIGKILL, 0) != SLURM_SUCCESS)
		return slurm_err(err, errlen, "cancel");
	return 0;
}

static const char *nonull(const char *s)
{
	return s ? s : "";
}

/* 22.05 keeps NO_VAL/INFINITE in the record: 0 = not set / no limit. */
static json_int_t limit(uint32_t v)
{
	return v == NO_VAL || v == INFINITE ? 0 : (json_int_t)v;
}

int sched_job_save(uint32_t id, json_t **info, char **script, char *err,
		   size_t errlen)
{
	job_info_msg_t *msg = NULL;
	slurm_job_info_t *j;
	size_t len = 0;
	FILE *f;
	int rc;

	sched_init();
	*info = NULL;
	*script = NULL;
	if (slurm_load_job(&msg, job_ref(id), SHOW_ALL) != SLURM_SUCCESS)
		return slurm_err(err, errlen, "slurm_load_job");
	if (msg->record_count < 1 || !msg->job_array[0].batch_flag) {
		errprintf(err, errlen, errno, "job %u has no batch script", id);
		slurm_free_job_info_msg(msg);
		errno = ENOENT;
		return -1;
	}
	j = &msg->job_array[0];
	*info = json_pack("{s:I,s:I,s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s,s:s,"
			  "s:s,s:s,s:b}",
			  "job_id", (json_int_t)j->job_id,
			  "user_id", (json_int_t)j->user_id,
			  "group_id", (json_int_t)j->group_id,
			  "name", nonull(j->name),
			  "partition", nonull(j->partition),
			  "time_limit", limit(j->time_limit),
			  "num_nodes", limit(j->num_nodes),
			  "num_tasks", limit(j->num_tasks),
			  "work_dir", nonull(j->work_dir),
			  "std_out", nonull(j->std_out),
			  "std_err", nonull(j->std_err),
			  "std_in", nonull(j->std_in),
			  "nodes", nonull(j->nodes),
			  "batch_host", nonull(j->batch_host),
			  "requeue", j->requeue != 0);
	slurm_free_job_info_msg(msg);
	if (!*info)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	if (!(f = open_memstream(script, &len))) {
		errprintf(err, errlen, errno, "open_memstream: %s",
			  strerror(errno));
		goto fail;
	}
	rc = slurm_job_batch_script(f, job_ref(id));
	if (fclose(f) != 0 || rc != SLURM_SUCCESS) {
		slurm_err(err, errlen, "slurm_job_batch_script");
		goto fail;
	}
	return 0;
fail:
	json_decref(*info);
	*info = NULL;
	free(*script);
	*script = NULL;
	errno = EIO;
	return -1;
}

int sched_job_nodes(uint32_t id, char ***nodes, char **batch_host,
		    char *err, size_t errlen)
{
	job_info_msg_t *jm = NULL;
	hostlist_ptr hl = NULL;
	const slurm_job_info_t *j;
	char **v = NULL, *node, what[32];
	size_t n = 0;
	int rc = -1;

	sched_init();
	*nodes = NULL;
	*batch_host = NULL;
	snprintf(what, sizeof(what), "job %u", id);
	if (slurm_load_job(&jm, job_ref(id), SHOW_ALL) != SLURM_SUCCESS ||
	    jm->record_count < 1) {
		slurm_err(err, errlen, what);
		goto out;
	}
	j = &jm->job_array[0];
	if (!j->nodes || !*j->nodes ||
	    !(hl = slurm_hostlist_create(j->nodes))) {
		errprintf(err, errlen, ESRCH,
			  "job %u is not running on any node", id);
		goto out;
	}
	if (!(v = calloc((size_t)slurm_hostlist_count(hl) + 1, sizeof(*v))))
		goto nomem;
	while ((node = slurm_hostlist_shift(hl))) {
		v[n] = strdup(node);
		free(node);
		if (!v[n++])
			goto nomem;
	}
	if (j->batch_host && *j->batch_host &&
	    !(*batch_host = strdup(j->batch_host)))
		goto nomem;
	*nodes = v;
	v = NULL;
	rc = 0;
	goto out;
nomem:
	errprintf(err, errlen, ENOMEM, "%s", strerror(ENOMEM));
out:
	sched_nodes_free(v, NULL);
	if (hl)
		slurm_hostlist_destroy(hl);
	if (jm)
		slurm_free_job_info_msg(jm);
	return rc;
}

void sched_nodes_free(char **nodes, char *batch_host)
{
	size_t i;

	for (i = 0; nodes && nodes[i]; i++)
		free(nodes[i]);
	free(nodes);
	free(batch_host);
}

char **sched_expand_nodes(const char *list)
{
	hostlist_ptr hl = slurm_hostlist_create(list);
	char **v = NULL, *node;
	size_t n = 0;

	if (!hl) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc((size_t)slurm_hostlist_count(hl) + 1, sizeof(*v));
	while (v && (node = slurm_hostlist_shift(hl))) {
		v[n] = strdup(node);
		free(node);
		if (!v[n++]) {
			sched_nodes_free(v, NULL);
			v = NULL;
		}
	}
	slurm_hostlist_destroy(hl);
	return v;
}

int sched_step_nodes(uint32_t job, uint32_t step, char ***nodes, char *err,
		     size_t errlen)
{
	job_step_info_response_msg_t *r = NULL;
	char what[48];
	int rc = -1;

	sched_init();
	*nodes = NULL;
	snprintf(what, sizeof(what), "step %u.%u", job, step);
	if (get_job_steps(job, step, &r) != SLURM_SUCCESS) {
		slurm_err(err, errlen, what);
		return -1;
	}
	if (r->job_step_count < 1 || !r->job_steps[0].nodes ||
	    !*r->job_steps[0].nodes) {
		errprintf(err, errlen, ESRCH,
			  "%s: slurmctld knows no nodes of it", what);
	} else if (!(*nodes = sched_expand_nodes(r->job_steps[0].nodes))) {
		errprintf(err, errlen, ENOMEM, "%s: nodes '%s': %s", what,
			  r->job_steps[0].nodes, strerror(ENOMEM));
	} else {
		rc = 0;
	}
	slurm_free_job_step_info_response_msg(r);
	return rc;
}

void sched_node_addr(const char *node, char *addr, size_t len)
{
	node_info_msg_t *nm = NULL;

	sched_init();
	snprintf(addr, len, "%s", node);
	if (slurm_load_node_single(&nm, (char *)node, SHOW_ALL) ==
	    SLURM_SUCCESS && nm->record_count > 0 &&
	    nm->node_array[0].node_addr)
		snprintf(addr, len, "%s", nm->node_array[0].node_addr);
	if (nm)
		slurm_free_node_info_msg(nm);
}

char *sched_munge_socket(void)
{
	slurm_conf_t *conf = NULL;
	char *s = NULL, *p, *e;

	sched_init();
	if (slurm_load_ctl_conf((time_t)0, &conf) != SLURM_SUCCESS)
		return NULL;
	if (conf->authinfo && (p = strstr(conf->authinfo, "socket="))) {
		p += strlen("socket=");
		e = strchr(p, ',');
		s = e ? strndup(p, (size_t)(e - p)) : strdup(p);
	}
	free_conf(conf);
	return s;
}
