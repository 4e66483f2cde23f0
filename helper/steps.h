/* SPDX-License-Identifier: GPL-2.0-or-later */
/* steps.h - the steps registered on this node (steps.c): each with its
 * tasks, and the listeners that react to a step's events. */
#ifndef CKPT_STEPS_H
#define CKPT_STEPS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "loop.h"
#include "proto.h"
#include "report.h"

struct step;

struct task {
	struct watch w;		/* w.fd: the task's pidfd; watched only
				 * while the step is re-adopted */
	struct task *next;
	struct step *step;
	uint32_t id;		/* global task id */
	pid_t pid;
	unsigned long long start;	/* /proc/<pid>/stat starttime */
	bool watched;
	bool exited;		/* seen exiting (re-adopted steps only) */
};

struct worker;
struct method;

struct step {
	struct step *next;
	uint32_t job, id, uid, gid, ntasks;
	uint32_t nodeid, nnodes;	/* this node's index in the step, and
					 * the step's node count (peer*.c) */
	long interval, max_wait, keep;
	long lead, max_requeue;
	int exit_code;
	int signo;
	bool resubmit;		/* --checkpoint-resubmit (resubmit.c) */
	char *dir, *node;
	char name[64];		/* image name: <job>[.<step>].ckpt */
	char label[32];		/* for messages: <job>.<step|batch> */
	struct task *tasks;
	struct timespec due;	/* next periodic checkpoint (monotonic) */
	struct worker *worker;	/* the checkpoint in flight, or NULL */
	bool gone;		/* unregistered while a worker ran */
	struct step *gone_next;	/* the others gone (steps.c) */
	void *owner;		/* the connection that registered it; NULL
				 * for a step re-adopted after a restart */
	bool uncaught_noted;	/* "no task catches the signal" logged */
	uint64_t queued;	/* waiting for a free worker since (order) */
	const char *queued_why;	/* what for: "periodic", or a final
				 * checkpoint's reason (jobs.c) */
	uint64_t last_seq;
	char *last_error;
	bool final;		/* its checkpoint is the job's last (jobs.c) */
	struct timespec started;	/* of the checkpoint in flight */
	const struct method *method;	/* NULL: the cooperative signal */
	char *trigger;		/* create this file instead of signalling */
	char *watch;		/* the application's own checkpoint file */
	char *local;		/* node-local staging (localstage_*.c), or NULL */
	/* scheckpoint's verbs (server.c, verbs.c) */
	bool disabled;		/* periodic checkpoints suspended */
	int last_errno;		/* of last_error */
	time_t last_error_time;
	time_t registered;
};

/* Node index 0 of a step over several nodes leads its checkpoints; the
 * others are followers, asked by it (peer.c). */
static inline bool step_is_follower(const struct step *s)
{
	return s->nnodes > 1 && s->nodeid != 0;
}

/* Its tasks checkpoint on SIGTERM, which Slurm itself sends at
 * preemption (GraceTime) and at the time limit: they write their state
 * unasked, and may end after writing it (sigterm.c). */
static inline bool step_on_sigterm(const struct step *s)
{
	return s->signo == SIGTERM && !s->method && !s->trigger;
}

/* What reacts to a step's events, told in the order of steps_listen().
 * done: a checkpoint of s ended (r: its outcome; took: seconds), or a
 * final one could not start (r not ok, took 0); s may be gone
 * (s->gone), and is freed after the listeners. */
struct step_listener {
	void (*added)(struct step *s);
	void (*removed)(struct step *s);
	void (*done)(struct step *s, const struct ckpt_result *r, long took);
	struct step_listener *next;
};
void steps_listen(struct step_listener *l);

/* m: a registration; meth: its method (method_lookup), NULL for the
 * cooperative signal. */
struct step *step_add(const struct ckpt_msg *m, const struct method *meth,
		      char *err, size_t errlen);
void step_remove(struct step *s);
void steps_done(struct step *s, const struct ckpt_result *r, long took);
struct step *step_find(uint32_t job, uint32_t id);
struct step *steps_first(void);
int step_add_task(struct step *s, uint32_t id, int pidfd, char *err,
		  size_t errlen);
/* A step re-adopted from the saved state (no owner): watch its tasks'
 * pidfds, and drop it when the last one has exited. */
int step_restore_task(struct step *s, uint32_t id, pid_t pid,
		      unsigned long long start);
void step_watch_tasks(struct step *s);
/* A connection of the plugin names a re-adopted step: it owns it now. */
void step_attach(struct step *s, void *owner);
/* Every step freed, those gone included: their workers' ends are not
 * waited for (worker_shutdown() kills them, and touches no step). */
void steps_shutdown(void);

#endif
