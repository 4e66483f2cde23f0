/* helper.h - slurmckptd's parts: the event loop (slurmckptd.c), the
 * socket and its clients (server.c), the registered steps and their
 * timers (steps.c), checkpoint workers (worker.c), the two-phase commit
 * of steps over several nodes (peer.c), dropping to a user's
 * credentials (privsep.c) and logging (log.c). */
#ifndef CKPT_HELPER_H
#define CKPT_HELPER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "offsite.h"
#include "pidfd.h"
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
struct waiter;
struct method;
struct manifest;

struct step {
	struct step *next;
	uint32_t job, id, uid, gid, ntasks;
	uint32_t nodeid, nnodes;	/* this node's index in the step, and
					 * the step's node count (peer.c) */
	long interval, max_wait, keep;
	long lead, max_requeue;
	int exit_code;
	int signo;
	char *dir, *node;
	char name[64];		/* image name: <job>[.<step>].ckpt */
	char label[32];		/* for messages: <job>.<step|batch> */
	struct task *tasks;
	struct timespec due;	/* next periodic checkpoint (monotonic) */
	struct worker *worker;	/* the checkpoint in flight, or NULL */
	bool gone;		/* unregistered while a worker ran */
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
	char *local;		/* node-local staging (flush.c), or NULL */
	/* scheckpoint's verbs (server.c, verbs.c) */
	bool disabled;		/* periodic checkpoints suspended */
	int last_errno;		/* of last_error */
	time_t last_error_time;
	time_t registered;
};

/* method.c */
int methods_load(const char *dir, char *err, size_t errlen);
const struct method *method_find(const char *name);
const char *method_name(const struct method *m);
const char *method_restart(const struct method *m);
const char *method_criu(const struct method *m);
const char *method_image_key(const struct method *m);
int method_checkpoint(const struct step *s, const struct method *m,
		      const char *reason, int basefd, struct manifest *mf,
		      char *err, size_t errlen);
void methods_free(void);

/* steps.c */
int steps_init(void);
struct step *step_add(const struct ckpt_msg *m, char *err, size_t errlen);
void step_remove(struct step *s);
int step_add_task(struct step *s, uint32_t id, int pidfd, char *err,
		  size_t errlen);
struct step *step_find(uint32_t job, uint32_t id);
struct step *steps_first(void);
/* A step re-adopted from the saved state (no owner): watch its tasks'
 * pidfds, and drop it when the last one has exited. */
int step_restore_task(struct step *s, uint32_t id, pid_t pid,
		      unsigned long long start);
void step_watch_tasks(struct step *s);
/* A connection of the plugin names a re-adopted step: it owns it now. */
void step_attach(struct step *s, void *owner);
void steps_rearm(void);
/* No worker free for s now (EAGAIN from worker_start): its checkpoint for
 * why ("periodic", or a final one of jobs.c, s->final set) waits its turn;
 * final ones go first, and a user at max_user_workers waits for their
 * own.  A final one that never starts (its step ends) is reported to
 * jobs_checkpoint_done as failed. */
void steps_enqueue(struct step *s, const char *why);
/* The time left to the next periodic checkpoint, and setting it. */
long step_due_in(const struct step *s);
void step_set_due_in(struct step *s, long seconds);
void steps_shutdown(void);

/* A client waiting for the outcome of checkpoints it asked for
 * (server.c); told of each step's outcome by the worker. */
void waiter_step_done(struct waiter *wt, const struct step *s,
		      const struct ckpt_result *r);

/* jobs.c: end times, preemption, final checkpoints and requeues. */
int jobs_init(void);
void jobs_shutdown(void);
void jobs_step_added(const struct step *s);
void jobs_step_removed(const struct step *s);
void jobs_checkpoint_done(struct step *s, const struct ckpt_result *r,
			  long took);
void jobs_task_exit(struct step *s, uint32_t task, int status);
json_t *jobs_state_save(void);
void jobs_state_load(json_t *a);

/* state.c: the registered steps and their jobs, saved in state_dir
 * (atomically, on every change) and re-adopted at start-up.
 * state_changed(): something saved changed; urgent (a registration, a
 * task, a step gone) is written within 50 ms, the rest within a second,
 * changes in between together.  state_flush(): write it now. */
int state_init(char *err, size_t errlen);
int state_recover(void);
void state_changed(bool urgent);
void state_flush(void);
void state_shutdown(void);

/* child.c: fn runs in a child (with only its report pipe, out, open) and
 * writes one JSON object with report_write(); done runs in the loop
 * with it (NULL if none) and the child's wait status. */
typedef int (*child_fn)(void *arg, int out);
typedef void (*child_done_fn)(void *arg, json_t *report, int status);
int child_start(child_fn fn, void *arg, child_done_fn done, void *donearg,
		char *err, size_t errlen);

/* worker.c */

/* image_dir: ImageDir= of create/vacate/requeue (commit there), or NULL. */
int worker_start(struct step *s, const char *reason, const char *image_dir,
		 struct waiter *wt, char *err, size_t errlen);
int worker_count(void);
/* May s's user start one more checkpoint (max_user_workers)? */
bool worker_user_may(const struct step *s);
/* At start, before other descriptors: reserve the slots through which
 * workers get theirs (worker.c). */
void worker_init(void);
void worker_shutdown(void);
/* A follower's part of a multi-node step (peer.c): the child runs
 * peer_part_run(), and its end goes to peer_part_done(). */
int worker_start_part(struct step *s, char *err, size_t errlen);
/* Kill a worker (its commit is crash-safe); its end is handled as usual. */
void worker_cancel(struct worker *wk);
/* Called by steps.c when a worker finished; s may be gone. */
void step_checkpoint_done(struct step *s, const struct ckpt_result *r);

/* cooperate.c: the worker child, with the user's credentials. */
int cooperate_run(const struct step *s, const char *reason,
		  const char *image_dir, int out);
/* Before the drop to the user: fetch the job's submission to save. */
void cooperate_fetch_job(const struct step *s);
/* Write the saved job into N.partial, then image_commit(); with an
 * ImageDir=, N.partial is moved there first and committed there. */
int cooperate_commit(const struct step *s, int basefd, struct manifest *m,
		     char *err, size_t errlen);

/* cooperate.c: ask the step's local tasks and wait for their
 * acknowledgements in partfd (a staging directory, or node.<k> of one);
 * nothing committed.  0/-1 with err; *uncaught as for cooperate_run. */
int cooperate_part(const struct step *s, int partfd, bool *uncaught,
		   char *err, size_t errlen);
/* The same, for a part of a step over several nodes: with node-local
 * staging (s->local) the tasks write into the local N.partial, which is
 * committed there as this node's part (released tasks go on computing)
 * and copied into partfd, node.<k> of basefd's N.partial. */
int cooperate_part_staged(const struct step *s, int basefd, int partfd,
			  bool *uncaught, char *err, size_t errlen);

/* peer.c: the two-phase commit of a step over several nodes.  Node index
 * 0 (the leader) runs the step's checkpoints: its worker learns the
 * step's nodes and seals a PREPARE and an ABORT for each follower
 * (peer_leader_seal, as root, before the drop to the user), stages
 * N.partial with one node.<k> per node, connects to every follower's
 * slurmckptd and sends PREPARE at once, checkpoints node.0, and commits once every follower answered
 * PREPARED; otherwise it sends ABORT and nothing is committed. */
bool step_is_follower(const struct step *s);
void peer_leader_seal(const struct step *s);
int peer_leader_checkpoint(const struct step *s, int basefd,
			   struct manifest *m, char *err, size_t errlen);
/* A PREPARE or ABORT over TCP from uid (authenticated by tcp.c); fd is
 * blocking, answered with one frame (PREPARE: when the part is done). */
void peer_request(int fd, uid_t uid, const struct ckpt_msg *m);
int peer_part_run(const struct step *s, int out);
void peer_part_done(struct step *s, const struct ckpt_result *r);
void peer_step_removed(const struct step *s);
/* flush.c: node-local staging.  The worker (as the user) has committed
 * the tasks' image N in lbase (s->local); copy it into the shared base:
 * with part NULL into a fresh N.partial, committed there with m's seq
 * (m is the local image's manifest); with part ("node.<k>") into
 * N.partial/<part> only, for a commit by another party.  On failure the
 * shared N.partial is left for image_discard() and the local image and
 * the shared one before it are untouched. */
int flush_image(const struct step *s, int lbase, int sbase, const char *part,
		const struct manifest *m, char *err, size_t errlen);
/* Open (creating as the user) the step's local base; -1 with err. */
int flush_open_local(const struct step *s, char *err, size_t errlen);

/* A step with node-local staging is gone: once slurmctld says its job
 * ended for good (not pending or requeued) and no step of it is
 * registered here again, its local directory is removed, as the user. */
void flush_step_gone(const struct step *s);
void flush_shutdown(void);

/* A gid that stands for the user's primary group, looked up (as root, in
 * a child: never in the event loop) where the user's identity is taken:
 * the restart fetch's, whose connection's gid may be another's. */
#define USER_PRIMARY_GID ((gid_t)-1)

/* subtree.c: fork() for a command that must not outlive its caller.
 * Returns 0 in the command's process (its own session; exec it), the pid
 * of its guardian in the caller (-1 on error), which stands for the
 * command: waitpid() gives the command's status, and the guardian kills
 * everything the command started when the command ends, on
 * subtree_stop(), and when the caller dies. */
pid_t subtree_fork(void);
void subtree_stop(pid_t guardian);

/* privsep.c */
/* Become uid/gid with the user's groups and no capability, not dumpable
 * before, during and after the change (whatever fs.suid_dumpable says):
 * no process of the user can trace the caller or read its memory. */
int privsep_become(uid_t uid, gid_t gid, char *err, size_t errlen);
/* In the daemon, before forking a worker for uid: look the user's groups
 * up once a minute, not in every worker. */
void privsep_prefetch(uid_t uid, gid_t gid);
int privsep_become_ckpt(uid_t uid, gid_t gid, char *err, size_t errlen);
int privsep_ambient_ckpt(void);
int privsep_close_fds(const int *keep, size_t nkeep);

/* verbs.c: scheckpoint's requests that need a child (list, the end of
 * vacate and requeue) and who may make them. */
void verbs_init(void);
bool verbs_may_act(uid_t client, uid_t owner);
json_t *verbs_step_info(const struct step *s, enum ckpt_op op);
/* done(arg, ok, err, info or message) runs in the loop. */
typedef void (*verbs_done_fn)(void *arg, bool ok, int err, const char *text);
int verbs_list(const struct step *const *steps, size_t n, const char *dir,
	       verbs_done_fn done, void *arg, char *err, size_t errlen);
int verbs_act(uint32_t job, enum ckpt_op op, verbs_done_fn done, void *arg,
	      char *err, size_t errlen);

/* offsite.c: copies of committed images on an HTTP(S) store, and
 * fetching one back at a restart that finds none on disk. */
int offsite_init(char *err, size_t errlen);
bool offsite_enabled(void);
void offsite_committed(const struct step *s, const struct ckpt_result *r);
/* done(arg, ok, err, the image's path or the error, seq) runs in the
 * loop, at once when a recent answer is known. */
typedef void (*offsite_fetch_fn)(void *arg, bool ok, int err,
				 const char *text, uint64_t seq);
unsigned offsite_fetches_running(void);
/* Those of one user (the uid they run as). */
unsigned offsite_fetches_of(uint32_t uid);
int offsite_fetch(const struct step *s, bool fresh, offsite_fetch_fn done,
		  void *arg, char *err, size_t errlen);
void offsite_shutdown(void);
json_t *offsite_state_save(void);
void offsite_state_load(json_t *a);

/* tcp.c */
int tcp_listen(long port);
void tcp_close(void);

/* server.c */
int server_listen(const char *path);
/* A request that came over TCP from uid (authenticated): fd is the
 * connection (blocking), answered with one frame, then closed. */
void server_tcp_request(int fd, uid_t uid, const struct ckpt_msg *m);
void server_close(void);

#endif
