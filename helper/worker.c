/* worker.c - each checkpoint runs in a child process ("worker") so that
 * the event loop never blocks and no file under a user's directory is
 * touched with root's rights.  The child reports one JSON object through
 * a pipe; the parent learns of its end through its pidfd. */
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

#include <jansson.h>

#include "helper.h"

struct worker {
	struct watch w;		/* the child's pidfd */
	pid_t pid;
	int pipefd;
	struct step *step;
	struct waiter *waiter;
};

static int nworkers;

int worker_count(void)
{
	return nworkers;
}

/* In the child: write the report (and release it).  0/-1. */
int worker_report(int out, json_t *o)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = 0;

	if (!s || write(out, s, strlen(s)) < 0)
		rc = -1;
	free(s);
	json_decref(o);
	return rc;
}

static __attribute__((noreturn)) void child_main(struct step *s,
						 const char *reason, int out)
{
	char err[512];
	struct task *t;
	size_t n = 1;
	sigset_t none;
	int *keep;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (t = s->tasks; t; t = t->next)
		n++;
	keep = calloc(n, sizeof(*keep));
	n = 0;
	if (keep) {
		keep[n++] = out;
		for (t = s->tasks; t; t = t->next)
			keep[n++] = t->pidfd;
	}
	if (!keep || privsep_close_fds(keep, n) < 0) {
		worker_report(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    "cannot close descriptors"));
		_exit(1);
	}
	if (privsep_become(s->uid, s->gid, err, sizeof(err)) < 0) {
		worker_report(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    err));
		_exit(1);
	}
	_exit(cooperate_run(s, reason, out) < 0 ? 1 : 0);
}

static int spawn(struct step *s, const char *reason, pid_t *pid, int *rfd,
		 char *err, size_t errlen)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	*pid = fork();
	if (*pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (*pid == 0) {
		close(p[0]);
		child_main(s, reason, p[1]);
	}
	close(p[1]);
	*rfd = p[0];
	return 0;
}

static void worker_ready(struct watch *w, uint32_t events);

int worker_start(struct step *s, const char *reason, struct waiter *wt,
		 char *err, size_t errlen)
{
	struct worker *wk;
	pid_t pid;
	int rfd, pidfd;

	if (s->worker) {
		snprintf(err, errlen, "checkpoint of %s already in progress",
			 s->label);
		errno = EALREADY;
		return -1;
	}
	if (nworkers >= hconf.max_workers) {
		snprintf(err, errlen, "too many checkpoints in progress (%ld)",
			 hconf.max_workers);
		errno = EAGAIN;
		return -1;
	}
	if (!s->tasks) {
		snprintf(err, errlen, "%s has no running task", s->label);
		errno = ESRCH;
		return -1;
	}
	if (!(wk = calloc(1, sizeof(*wk)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (spawn(s, reason, &pid, &rfd, err, errlen) < 0) {
		free(wk);
		return -1;
	}
	/* The child is ours and not yet reaped: its pid cannot be reused. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	wk->w.fd = pidfd;
	wk->w.ready = worker_ready;
	if (pidfd < 0 || loop_add(&wk->w, EPOLLIN) < 0) {
		snprintf(err, errlen, "cannot watch worker: %s",
			 strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (pidfd >= 0)
			close(pidfd);
		close(rfd);
		free(wk);
		return -1;
	}
	wk->pid = pid;
	wk->pipefd = rfd;
	wk->step = s;
	wk->waiter = wt;
	s->worker = wk;
	nworkers++;
	log_msg(LOG_INFO, "checkpoint of %s (%s) started, worker %d",
		s->label, reason, (int)pid);
	return 0;
}

/* Decode the child's report; anything unexpected is a failure. */
static int read_result(struct worker *wk, int status, uint64_t *seq,
		       char **image, char **error)
{
	char buf[8192], why[256];
	json_error_t jerr;
	json_t *o = NULL;
	const char *img = NULL, *msg = NULL;
	json_int_t sq = 0;
	int ok = 0;
	ssize_t n;

	n = read(wk->pipefd, buf, sizeof(buf) - 1);
	if (n > 0)
		o = json_loadb(buf, (size_t)n, 0, &jerr);
	if (o && json_unpack_ex(o, &jerr, 0, "{s:b,s?I,s?s,s?s}", "ok", &ok,
				"seq", &sq, "image", &img, "error", &msg) < 0)
		ok = 0, msg = "malformed report from worker";
	if (!o) {
		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "worker killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, sizeof(why), "worker exited %d without "
				 "a report", WEXITSTATUS(status));
		msg = why;
	}
	*seq = (uint64_t)sq;
	*image = img ? strdup(img) : NULL;
	*error = msg ? strdup(msg) : NULL;
	json_decref(o);
	return ok && *image ? 1 : 0;
}

static void worker_ready(struct watch *w, uint32_t events)
{
	struct worker *wk = (struct worker *)w;
	struct step *s = wk->step;
	char *image = NULL, *error = NULL;
	uint64_t seq = 0;
	int status = 0, ok;

	(void)events;
	if (waitpid(wk->pid, &status, 0) < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)wk->pid,
			strerror(errno));
	ok = read_result(wk, status, &seq, &image, &error);
	loop_del(w);
	close(w->fd);
	close(wk->pipefd);
	nworkers--;
	if (wk->waiter)
		waiter_step_done(wk->waiter, s, ok, seq, image,
				 error ? error : "unknown error");
	step_checkpoint_done(s, ok, seq, image,
			     error ? error : "unknown error");
	free(image);
	free(error);
	free(wk);
}
