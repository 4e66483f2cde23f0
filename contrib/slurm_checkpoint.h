/* SPDX-License-Identifier: GPL-2.0-or-later */
/* slurm_checkpoint.h - the application side of slurm-checkpoint's
 * cooperative protocol (spank-checkpoint(8), THE CHECKPOINT PROTOCOL), for
 * C and C++ codes.  Header only, no library, no Slurm headers; copy it
 * into your tree if you like.
 *
 *	#include "slurm_checkpoint.h"
 *
 *	if (slurm_ckpt_init() < 0)		// install the handler
 *		perror("slurm_ckpt_init");
 *	dir = slurm_ckpt_restart_dir();		// NULL on a fresh start
 *	if (dir)
 *		read_state(dir);
 *	for (;;) {
 *		compute_a_little();
 *		if (slurm_ckpt_requested()) {	// set by the signal handler
 *			write_state(slurm_ckpt_dir());
 *			slurm_ckpt_done();	// acknowledge: commit it
 *		}
 *	}
 *
 * The handler only sets a flag: write the state where the program's data
 * are consistent, then call slurm_ckpt_done() within the site's max_wait.
 * Every task of a step writes into the same directory: use names of the
 * task's own (slurm_ckpt_task() is SLURM_PROCID).
 *
 * Functions return -1 with errno set on failure, like system calls. */
#ifndef SLURM_CHECKPOINT_H
#define SLURM_CHECKPOINT_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t slurm_ckpt_flag_;

static inline void slurm_ckpt_handler_(int sig)
{
	(void)sig;
	slurm_ckpt_flag_ = 1;
}

/* The signal named by $SLURM_CHECKPOINT_SIGNAL ("USR2", "RTMIN+3", "12"),
 * or -1 when it is not set or not understood. */
static inline int slurm_ckpt_signal(void)
{
	static const struct { const char *name; int sig; } names[] = {
		{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
		{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "PIPE", SIGPIPE },
		{ "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "CONT", SIGCONT },
		{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "VTALRM", SIGVTALRM },
		{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
		{ "PWR", SIGPWR }, { "SYS", SIGSYS },
	};
	const char *s = getenv("SLURM_CHECKPOINT_SIGNAL");
	char *end;
	long n;
	size_t i;

	if (!s || !*s)
		return -1;
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	if (strncmp(s, "RTMIN", 5) == 0 || strncmp(s, "RTMAX", 5) == 0) {
		n = 0;
		if (s[5]) {
			n = strtol(s + 5, &end, 10);
			if (*end || (s[5] != '+' && s[5] != '-'))
				return -1;
		}
		n += s[4] == 'N' ? SIGRTMIN : SIGRTMAX;
		return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
	}
	n = strtol(s, &end, 10);
	return *end || n <= 0 || n >= 65 ? -1 : (int)n;
}

/* Install the checkpoint signal's handler.  Returns 1 when the step is
 * checkpointed (the handler is installed), 0 when it is not (no
 * $SLURM_CHECKPOINT_SIGNAL: nothing to do), -1 on error. */
static inline int slurm_ckpt_init(void)
{
	struct sigaction sa;
	int sig;

	if (!getenv("SLURM_CHECKPOINT_SIGNAL"))
		return 0;
	if ((sig = slurm_ckpt_signal()) < 0) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = slurm_ckpt_handler_;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) < 0 ? -1 : 1;
}

/* Has a checkpoint been asked for since the last slurm_ckpt_done()? */
static inline int slurm_ckpt_requested(void)
{
	return slurm_ckpt_flag_ != 0;
}

/* Where to write the state now ($SLURM_CHECKPOINT_DIR), or NULL. */
static inline const char *slurm_ckpt_dir(void)
{
	const char *d = getenv("SLURM_CHECKPOINT_DIR");

	return d && *d ? d : NULL;
}

/* The image to resume from ($SLURM_RESTART_DIR, read-only), or NULL on a
 * fresh start. */
static inline const char *slurm_ckpt_restart_dir(void)
{
	const char *d = getenv("SLURM_RESTART_DIR");

	return d && *d ? d : NULL;
}

/* This task's number in the step (SLURM_PROCID), 0 if unknown. */
static inline int slurm_ckpt_task(void)
{
	const char *s = getenv("SLURM_PROCID");

	return s ? atoi(s) : 0;
}

/* The code to exit with after writing the state, for a step started with
 * --checkpoint-exit-code (checkpoint-and-exit), or 0. */
static inline int slurm_ckpt_exit_code(void)
{
	const char *s = getenv("SLURM_CHECKPOINT_EXIT_CODE");

	return s ? atoi(s) : 0;
}

/* Say that this task's state is written: create $SLURM_CHECKPOINT_DONE.
 * The state's files must be complete (closed) before. */
static inline int slurm_ckpt_done(void)
{
	const char *f = getenv("SLURM_CHECKPOINT_DONE");
	int fd;

	if (!f || !*f) {
		errno = ENOENT;
		return -1;
	}
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	slurm_ckpt_flag_ = 0;
	return close(fd);
}

#endif /* SLURM_CHECKPOINT_H */
