/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child.c - run a function in a child process and hand its JSON report
 * to a callback in the event loop: the helper's calls to slurmctld (which
 * block on the network), each checkpoint's worker (worker.c), and
 * anything else that must not stall the loop.  A child starts on its own
 * descriptors where it can (child_clone.c), by fork() otherwise, and
 * keeps only its report pipe and the descriptors it was given. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
#include "child_clone.h"
#include "errbuf.h"
#include "log.h"
#include "loop.h"
#include "pidfd.h"
#include "privsep.h"

#define REPORT_MAX (1 << 20)

struct child {
	struct watch w;		/* the child's pidfd */
	pid_t pid;
	int pipefd;
	char *buf;
	size_t len, cap;
	child_done_fn done;
	void *arg;
	struct child *next;	/* in children */
};

static struct child *children;	/* running */

/* What the child runs, and what it frees of the parent's. */
struct body {
	child_fn fn;
	void *arg;
	int *keep;		/* gets the child's numbers */
	pid_t parent;
	int *fds;		/* the report pipe, then keep[] */
	struct child *c;
};

static __attribute__((noreturn)) void child_body(void *ctx, const int *fds,
						 size_t n)
{
	struct body *b = ctx;
	sigset_t none;
	int out = fds[0];

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != b->parent)
		_exit(1);
	if (n > 1)
		memcpy(b->keep, fds + 1, (n - 1) * sizeof(*fds));
	free(b->fds);
	free(b->c);
	_exit(b->fn(b->arg, out) < 0 ? 1 : 0);
}

static int fork_child(struct body *b, size_t n, pid_t *pid, char *err,
		      size_t errlen)
{
	*pid = fork();
	if (*pid < 0)
		return errprintf(err, errlen, errno, "fork: %s",
				 strerror(errno));
	if (*pid == 0) {
		if (privsep_close_fds(b->fds, n) < 0)
			_exit(1);
		child_body(b, b->fds, n);
	}
	child_clone_forked();
	return 0;
}

/* Read the child's report; 1 at end of file. */
static int drain(struct child *c)
{
	char *nb;
	ssize_t n;

	for (;;) {
		if (c->cap - c->len < 4096) {
			if (c->cap >= REPORT_MAX)
				return 1;
			nb = realloc(c->buf, c->cap ? c->cap * 2 : 8192);
			if (!nb)
				return 1;
			c->buf = nb;
			c->cap = c->cap ? c->cap * 2 : 8192;
		}
		n = read(c->pipefd, c->buf + c->len, c->cap - c->len - 1);
		if (n > 0) {
			c->len += (size_t)n;
			continue;
		}
		if (n == 0)
			return 1;
		return errno == EAGAIN || errno == EINTR ? 0 : 1;
	}
}

/* c has ended, or will: reaped (its wait status in *status; *werr: 0,
 * or waitpid's errno), its slot released before its pipe is read, its
 * report returned (NULL if none) and its pipe closed. */
static json_t *reap(struct child *c, int *status, int *werr)
{
	json_error_t jerr;
	json_t *o = NULL;
	pid_t w;

	*status = 0;
	while ((w = waitpid(c->pid, status, 0)) < 0 && errno == EINTR)
		;
	*werr = w < 0 ? errno : 0;
	if (w < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)c->pid,
			strerror(*werr));
	child_clone_release(c);
	drain(c);
	if (c->len > 0)
		o = json_loadb(c->buf, c->len, 0, &jerr);
	close(c->pipefd);
	return o;
}

static void child_ready(struct watch *w, uint32_t events)
{
	struct child *c = (struct child *)w, **pp;
	int status, werr;
	json_t *o;

	(void)events;
	for (pp = &children; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	o = reap(c, &status, &werr);
	loop_del(w);
	close(w->fd);
	c->done(c->arg, o, status);
	json_decref(o);
	free(c->buf);
	free(c);
}

/* c started with fn (c->pid, c->pipefd; *pidfd, or -1: none yet).
 * 0/-1 with err. */
static int spawn(struct child *c, child_fn fn, void *arg, int *keep,
		 size_t nkeep, int *pidfd, char *err, size_t errlen)
{
	struct body b = { .fn = fn, .arg = arg, .keep = keep,
			  .parent = getpid(), .c = c };
	int p[2] = { -1, -1 }, r = -1;

	if (pipe2(p, O_CLOEXEC) < 0 ||
	    !(b.fds = malloc((nkeep + 1) * sizeof(*b.fds)))) {
		errprintf(err, errlen, errno, "cannot start a child: %s",
			  strerror(errno));
		goto out;
	}
	/* The parent reads the report when the child has exited: give the
	 * pipe room for all of it. */
	if (fcntl(p[1], F_SETPIPE_SZ, REPORT_MAX) < 0)
		log_msg(LOG_DEBUG, "F_SETPIPE_SZ: %s", strerror(errno));
	b.fds[0] = p[1];
	if (nkeep)
		memcpy(b.fds + 1, keep, nkeep * sizeof(*keep));
	r = child_clone(b.fds, nkeep + 1, child_body, &b, c, &c->pid, pidfd,
			err, errlen);
	if (r > 0)
		r = fork_child(&b, nkeep + 1, &c->pid, err, errlen);
	if (r < 0)
		goto out;
	c->pipefd = p[0];
	p[0] = -1;
	if (fcntl(c->pipefd, F_SETFL, O_NONBLOCK) < 0)
		log_msg(LOG_WARNING, "fcntl: %s", strerror(errno));
out:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(b.fds);
	return r;
}

struct child *child_spawn(child_fn fn, void *arg, int *keep, size_t nkeep,
			  child_done_fn done, void *donearg, char *err,
			  size_t errlen)
{
	struct child *c = calloc(1, sizeof(*c));
	int pidfd = -1;

	if (!c) {
		errprintf(err, errlen, errno, "cannot start a child: %s",
			  strerror(errno));
		return NULL;
	}
	if (spawn(c, fn, arg, keep, nkeep, &pidfd, err, errlen) < 0) {
		free(c);
		return NULL;
	}
	/* Ours and not yet reaped: the pid cannot be reused. */
	c->w.fd = pidfd >= 0 ? pidfd : pidfd_open(c->pid);
	c->w.ready = child_ready;
	c->done = done;
	c->arg = donearg;
	if (c->w.fd < 0 || loop_add(&c->w, EPOLLIN) < 0) {
		errprintf(err, errlen, errno, "cannot watch a child: %s",
			  strerror(errno));
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		child_clone_release(c);
		if (c->w.fd >= 0)
			close(c->w.fd);
		close(c->pipefd);
		free(c);
		return NULL;
	}
	c->next = children;
	children = c;
	return c;
}

int child_run(child_fn fn, void *arg, json_t **report, int *status,
	      char *err, size_t errlen)
{
	struct child *c = calloc(1, sizeof(*c));
	int pidfd = -1, werr;

	*report = NULL;
	if (!c)
		return errprintf(err, errlen, errno, "cannot start a child: "
				 "%s", strerror(errno));
	if (spawn(c, fn, arg, NULL, 0, &pidfd, err, errlen) < 0) {
		free(c);
		return -1;
	}
	if (pidfd >= 0)
		close(pidfd);
	*report = reap(c, status, &werr);
	if (werr) {
		json_decref(*report);
		*report = NULL;
		errprintf(err, errlen, werr, "waitpid(%d): %s", (int)c->pid,
			  strerror(werr));
	}
	free(c->buf);
	free(c);
	return werr ? -1 : 0;
}

int child_start(child_fn fn, void *arg, child_done_fn done, void *donearg,
		char *err, size_t errlen)
{
	return child_spawn(fn, arg, NULL, 0, done, donearg, err, errlen) ?
	       0 : -1;
}

pid_t child_pid(const struct child *c)
{
	return c->pid;
}

int child_kill(struct child *c)
{
	return pidfd_signal(c->w.fd, SIGKILL);
}

void child_init(void)
{
	child_clone_init();
}

/* The children still running are killed and reaped; their callbacks are
 * not called, and what they point to stays, reachable, until the exit. */
void child_shutdown(void)
{
	unsigned long cloned, forked;
	struct child *c;

	for (c = children; c; c = c->next) {
		if (child_kill(c) < 0 && errno != ESRCH)
			log_msg(LOG_ERR, "cannot stop child %d: %s",
				(int)c->pid, strerror(errno));
		if (waitpid(c->pid, NULL, 0) < 0)
			log_msg(LOG_ERR, "waitpid(%d): %s", (int)c->pid,
				strerror(errno));
	}
	child_clone_counts(&cloned, &forked);
	log_msg(LOG_INFO, "children: %lu spawned with their own descriptors "
		"only, %lu forked with all", cloned, forked);
}
