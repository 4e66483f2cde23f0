/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sched.h - what slurmckptd asks of slurmctld, through libslurm.  This is
 * the only file of the helper that knows Slurm's API; its functions block
 * on the network and are called in child processes only (DESIGN.md,
 * invariant 5). */
#ifndef CKPT_SCHED_H
#define CKPT_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct sched_job {
	uint32_t id;
	bool found;		/* slurmctld knows it */
	bool running;		/* JOB_RUNNING (not completing, pending...) */
	bool requeue_ok;	/* --requeue (or JobRequeue=1) */
	time_t start, end;	/* start and (expected) end time */
	time_t preempt;		/* when it was selected for preemption, or 0 */
	uint32_t restarts;	/* Slurm's restart count */
	bool done;		/* ended for good: not pending, running,
				 * completing or requeued */
	bool completed;		/* ended on its own with exit code 0 */
};

/* Read slurm.conf (SLURM_CONF) once per process. */
void sched_init(void);

/* One request for all jobs: fills jobs[i] (by jobs[i].id) for n jobs.
 * *since is the time of the data already held: when slurmctld has nothing
 * newer, *unchanged is set and jobs[] is left alone; otherwise *since is
 * updated.  0/-1 with a message in err. */
int sched_jobs(time_t *since, bool *unchanged, struct sched_job *jobs,
	       size_t n, char *err, size_t errlen);

/* The job's current record.  0/-1 (err says why; ENOENT when unknown). */
int sched_job(uint32_t id, struct sched_job *job, char *err, size_t errlen);

/* The job id of task <task> of job array <array_job> ("55_2", as
 * scontrol takes it).  0/-1 (ENOENT: no such task, or not started). */
int sched_array_task(uint32_t array_job, uint32_t task, uint32_t *id,
		     char *err, size_t errlen);

/* Requeue the job (held when hold), retrying while slurmctld says the
 * job is between states.  0/-1. */
int sched_requeue(uint32_t id, bool hold, char *err, size_t errlen);

/* Set the job's AdminComment (shown by scontrol show job).  0/-1. */
int sched_comment(uint32_t id, const char *text, char *err, size_t errlen);

/* The SlurmUser's uid, from slurmctld's configuration.  0/-1. */
int sched_slurm_user(uint32_t *uid, char *err, size_t errlen);

/* End the job, like scancel (SIGKILL to every step).  0/-1. */
int sched_cancel(uint32_t id, char *err, size_t errlen);

/* For "scheckpoint restart": the job's submission record (job_id,
 * user_id, group_id, name, partition, time_limit in minutes (0 none),
 * num_nodes, num_tasks, work_dir, std_out, std_err, std_in, nodes,
 * batch_host, requeue) in *info and its batch script (malloc'ed, NUL
 * ended) in *script.  Root or the owner only.  0/-1. */
int sched_job_save(uint32_t id, json_t **info, char **script, char *err,
		   size_t errlen);

/* scheckpoint on another node: where the job runs.  *nodes is a
 * NULL-ended array of the job's node names, expanded; *batch_host its
 * batch host or NULL; free both with sched_nodes_free().  0/-1 (ENOENT:
 * unknown job; ESRCH: running on no node), err says why. */
int sched_job_nodes(uint32_t id, char ***nodes, char **batch_host,
		    char *err, size_t errlen);
void sched_nodes_free(char **nodes, char *batch_host);
/* A host list ("c[1-3],d1") expanded: NULL-ended, free with
 * sched_nodes_free(); NULL (errno) when it is not one. */
char **sched_expand_nodes(const char *list);

/* A multi-node step's nodes, in its node index order (S_JOB_NODEID):
 * *nodes NULL-ended and expanded, free with sched_nodes_free().  0/-1
 * (err says why). */
int sched_step_nodes(uint32_t job, uint32_t step, char ***nodes, char *err,
		     size_t errlen);

/* The node's NodeAddr, else its name, into addr. */
void sched_node_addr(const char *node, char *addr, size_t len);

/* munged's socket from slurm.conf's AuthInfo socket= (malloc'ed), or
 * NULL for libmunge's default. */
char *sched_munge_socket(void);

#endif
