/* SPDX-License-Identifier: GPL-2.0-or-later */
/* plugin.h - state shared by the files of checkpoint.so. */
#ifndef CKPT_PLUGIN_H
#define CKPT_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <slurm/spank.h>
#include "ckptconf.h"
#include "imagemac.h"
#include "manifest.h"

#define PFX "checkpoint: "

enum { OPT_INTERVAL, OPT_DIR, OPT_RESTART, OPT_EXIT_CODE, OPT_METHOD,
       OPT_TRIGGER, OPT_LOCAL, OPT_SIGNAL, OPT_WATCH, OPT_RESUBMIT,
       OPT_COUNT };

/* What the user asked for, from options or the environment. */
struct ckpt_opts {
	bool enabled;		/* --checkpoint or SLURM_CHECKPOINT given */
	long interval;		/* seconds */
	char *dir;		/* --checkpoint-dir / SLURM_CHECKPOINT_DIR */
	char *restart_dir;	/* --restart-dir / SLURM_RESTART_DIR */
	long exit_code;		/* --checkpoint-exit-code, else conf's */
	char *method;		/* --checkpoint-method, else conf's */
	char *trigger;		/* --checkpoint-trigger: a file, not a signal */
	char *watch;		/* --checkpoint-watch: the app's own file */
	int local;		/* --checkpoint-local: 1 yes, 0 no, -1 unset */
	int signo;		/* --checkpoint-signal, else 0: conf's */
	int resubmit;		/* --checkpoint-resubmit: 1 yes, 0 no */
	bool cli[OPT_COUNT];	/* given on the command line */
};

/* The step as registered with slurmckptd (remote context). */
struct step_info {
	bool registered;
	uint32_t job, id;
	char *dir;		/* the resolved checkpoint directory */
	char name[64];		/* <job>[.<step>].ckpt */
	char label[32];		/* <job>.<step|batch>, for messages */
	uint32_t nodeid, nnodes;	/* S_JOB_NODEID, S_JOB_NNODES: over
					 * several nodes, each node's part is
					 * node.<nodeid> of the image */
	char *failed;		/* why registration failed: tasks refuse */
	char *restart_cmd;	/* the method's restart command, or NULL */
	char *criu;		/* a criu= method's criu: restore its tasks */
	uint8_t criu_key[IMAGEMAC_KEY_LEN];	/* keys the MAC of its dumps
						 * (imagemac.h); wiped in each
						 * task once used */
	bool criu_key_ok;
	char sock[108];		/* the helper's socket (fetch.c) */
	char *local;		/* node-local staging <local>/<uid>/<job>, or
				 * NULL (local.c) */
};

/* state.c */
extern struct ckpt_conf conf;
extern struct step_info step;
extern struct ckpt_opts opts;

/* options.c */
int options_register(spank_t sp);
long options_exit_code(void);
const char *options_method(void);
/* The signal that asks the tasks for a checkpoint. */
int options_signo(void);
bool options_unasked(void);
int options_env_fallback(spank_t sp);
void options_free(void);

/* remote.c */
int remote_register(spank_t sp);
int remote_task_post_fork(spank_t sp);
void remote_task_exit(spank_t sp);
void remote_exit(void);

/* nohelper.c: drain node (the helper did not answer: err) and requeue a
 * batch step's job; what was done (or not) appended to said. */
void nohelper_act(const char *node, const char *err, char *said,
		  size_t len);
/* slurmver.c: slurm_requeue(job) of slurmstepd's libslurm; 0/-1. */
int slurmver_requeue(uint32_t job);

/* fetch.c: the offsite store's newest image into step.dir; 0 (why
 * emptied), 1 when there is none (no store, or none of this step in
 * it), or -1; 1 and -1 append the reason to why, if there is one. */
int fetch_offsite(char *why, size_t whylen);
/* local.c: node-local staging (local= of the admin). */
void local_resolve(uid_t uid, gid_t gid, const char *node);
/* The directory the tasks write into: step.local, else step.dir. */
const char *local_stage_dir(void);
/* A restart on this node: the local image when it is at least as new as
 * the shared one found (rc 0 with path, *m) or when none was (rc -1). */
int local_prefer(int rc, char *path, size_t len, struct manifest *m,
		 char *why, size_t whylen);
/* Is path (from local_prefer) in the node-local directory? */
bool local_is_local(const char *path);

/* lookup.c: the image to restart from in dir (an image, or a directory
 * of them: this step's newest that verifies) into path and m; 0, or -1
 * with why (errno ENOENT: dir holds no image of this step at all, good
 * or bad). */
int lookup_image(const char *dir, char *path, size_t len,
		 struct manifest *m, char *why, size_t whylen);

/* task.c */
int task_init(spank_t sp);
int task_init_privileged(spank_t sp);

/* restore.c */
int restore_keep_caps(void);
int restore_limit_caps(void);
void restore_drop_caps(void);
void restore_wipe_key(void);
int restore_criu(spank_t sp, const char *image, uint32_t task);

#endif
