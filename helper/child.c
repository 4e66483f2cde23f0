/* child.c - run a function in a child process and hand its JSON report
 * to a callback in the event loop.  For the helper's calls to slurmctld
 * (which block on the network) and anything else that must not stall the
 * loop.  The child keeps only its report pipe open. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "child.h"
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

static __attribute__((noreturn)) void child_main(child_fn fn, void *arg,
						 int out)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (privsep_close_fds(&out, 1) < 0)
		_exit(1);
	_exit(fn(arg, out) < 0 ? 1 : 0);
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

static void child_ready(struct watch *w, uint32_t events)
{
	struct child *c = (struct child *)w, **pp;
	json_error_t jerr;
	json_t *o = NULL;
	int status = 0;

	(void)events;
	for (pp = &children; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	drain(c);
	if (waitpid(c->pid, &status, 0) < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)c->pid,
			strerror(errno));
	if (c->len > 0)
		o = json_loadb(c->buf, c->len, 0, &jerr);
	loop_del(w);
	close(w->fd);
	close(c->pipefd);
	c->done(c->arg, o, status);
	json_decref(o);
	free(c->buf);
	free(c);
}

int child_start(child_fn fn, void *arg, child_done_fn done, void *donearg,
		char *err, size_t errlen)
{
	struct child *c = calloc(1, sizeof(*c));
	int p[2] = { -1, -1 };

	if (!c || pipe2(p, O_CLOEXEC) < 0) {
		errprintf(err, errlen, errno, "cannot start a child: %s",
			  strerror(errno));
		free(c);
		return -1;
	}
	/* The parent reads the report when the child has exited: give the
	 * pipe room for all of it. */
	if (fcntl(p[1], F_SETPIPE_SZ, REPORT_MAX) < 0)
		log_msg(LOG_DEBUG, "F_SETPIPE_SZ: %s", strerror(errno));
	c->pid = fork();
	if (c->pid < 0) {
		errprintf(err, errlen, errno, "fork: %s", strerror(errno));
		goto fail;
	}
	if (c->pid == 0) {
		close(p[0]);
		free(c);	/* the parent's */
		child_main(fn, arg, p[1]);
	}
	close(p[1]);
	p[1] = -1;
	c->pipefd = p[0];
	if (fcntl(c->pipefd, F_SETFL, O_NONBLOCK) < 0)
		log_msg(LOG_WARNING, "fcntl: %s", strerror(errno));
	/* Ours and not yet reaped: the pid cannot be reused. */
	c->w.fd = pidfd_open(c->pid);
	c->w.ready = child_ready;
	c->done = done;
	c->arg = donearg;
	if (c->w.fd < 0 || loop_add(&c->w, EPOLLIN) < 0) {
		errprintf(err, errlen, errno, "cannot watch a child: %s",
			  strerror(errno));
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		if (c->w.fd >= 0)
			close(c->w.fd);
		goto fail;
	}
	c->next = children;
	children = c;
	return 0;
fail:
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
	free(c);
	return -1;
}

/* The children still running are killed and reaped; their callbacks are
 * not called, and what they point to stays, reachable, until the exit. */
void child_shutdown(void)
{
	struct child *c;

	for (c = children; c; c = c->next) {
		if (pidfd_signal(c->w.fd, SIGKILL) < 0 && errno != ESRCH)
			log_msg(LOG_ERR, "cannot stop child %d: %s",
				(int)c->pid, strerror(errno));
		if (waitpid(c->pid, NULL, 0) < 0)
			log_msg(LOG_ERR, "waitpid(%d): %s", (int)c->pid,
				strerror(errno));
	}
}
