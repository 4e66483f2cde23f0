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
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "helper.h"

struct worker {
	struct watch w;		/* the child's pidfd */
	pid_t pid;
	int pipefd;
	struct step *step;
	struct waiter *waiter;
	bool part;		/* a follower's part (peer.c) */
};

static int nworkers;

int worker_count(void)
{
	return nworkers;
}

void worker_cancel(struct worker *wk)
{
	if (syscall(SYS_pidfd_send_signal, wk->w.fd, SIGKILL, NULL, 0) < 0)
		log_msg(LOG_ERR, "cannot stop worker %d: %s", (int)wk->pid,
			strerror(errno));
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
						 const char *reason,
						 const char *image_dir, int out,
						 pid_t parent, bool part)
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
			keep[n++] = t->w.fd;
	}
	if (!keep || privsep_close_fds(keep, n) < 0) {
		worker_report(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    "cannot close descriptors"));
		_exit(1);
	}
	/* restart submits the batch script again: its image keeps it. */
	if (s->id == CKPT_STEP_BATCH)
		cooperate_fetch_job(s);
	/* A multi-node step's leader reaches its followers as root. */
	if (!part && s->nnodes > 1)
		peer_leader_connect(s);
	/* The criu method runs "criu dump --unprivileged" as the user. */
	if ((s->method && method_criu(s->method) ?
	     privsep_become_ckpt(s->uid, s->gid, err, sizeof(err)) :
	     privsep_become(s->uid, s->gid, err, sizeof(err))) < 0) {
		worker_report(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    err));
		_exit(1);
	}
	/* A worker outliving a killed helper would race the next one in the
	 * staging directory: it dies with its helper (set after the change
	 * of credentials, which clears it). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* A leader holds requests sealed as root (peer.c): the user must
	 * not read its memory, whatever fs.suid_dumpable says. */
	if (!part && s->nnodes > 1 && prctl(PR_SET_DUMPABLE, 0) < 0)
		_exit(1);
	if (part)
		_exit(peer_part_run(s, out) < 0 ? 1 : 0);
	_exit(cooperate_run(s, reason, image_dir, out) < 0 ? 1 : 0);
}

static int spawn(struct step *s, const char *reason, const char *image_dir,
		 bool part, pid_t *pid, int *rfd, char *err, size_t errlen)
{
	pid_t parent = getpid();
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
		child_main(s, reason, image_dir, p[1], parent, part);
	}
	close(p[1]);
	*rfd = p[0];
	return 0;
}

static void worker_ready(struct watch *w, uint32_t events);

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, struct waiter *wt, char *err, size_t errlen);

int worker_start(struct step *s, const char *reason, const char *image_dir,
		 struct waiter *wt, char *err, size_t errlen)
{
	return start(s, reason, image_dir, false, wt, err, errlen);
}

int worker_start_part(struct step *s, char *err, size_t errlen)
{
	return start(s, "part", NULL, true, NULL, err, errlen);
}

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, struct waiter *wt, char *err, size_t errlen)
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
	privsep_prefetch(s->uid, s->gid);
	if (spawn(s, reason, image_dir, part, &pid, &rfd, err, errlen) < 0) {
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
	wk->part = part;
	s->worker = wk;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	nworkers++;
	log_msg(LOG_INFO, "checkpoint of %s (%s) started, worker %d%s%s",
		s->label, reason, (int)pid, image_dir ? ", ImageDir=" : "",
		image_dir ? image_dir : "");
	return 0;
}

/* Decode the child's report into r, which points into the returned
 * object (or into why); anything unexpected is a failure. */
static json_t *read_result(struct worker *wk, int status,
			   struct ckpt_result *r, char *why, size_t whylen)
{
	char buf[8192];
	json_error_t jerr;
	json_t *o = NULL;
	int ok = 0, uncaught = 0;
	json_int_t seq = 0;
	ssize_t n;

	*r = (struct ckpt_result){ .error = "malformed report from worker",
				   .part = wk->part };
	n = read(wk->pipefd, buf, sizeof(buf));
	if (n > 0)
		o = json_loadb(buf, (size_t)n, 0, &jerr);
	if (!o) {
		if (WIFSIGNALED(status))
			snprintf(why, whylen, "worker killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, whylen, "worker exited %d without a "
				 "report", WEXITSTATUS(status));
		r->error = why;
		return NULL;
	}
	if (json_unpack_ex(o, &jerr, 0, "{s:b,s?I,s?s,s?s,s?b}", "ok", &ok,
			   "seq", &seq, "image", &r->image, "error",
			   &r->error, "uncaught", &uncaught) < 0)
		return o;
	r->part = wk->part;
	r->ok = ok && ((r->image && seq > 0) || wk->part);
	r->uncaught = uncaught;
	r->seq = (uint64_t)seq;
	if (!r->ok && !r->error)
		r->error = "unknown error";
	return o;
}

static void worker_ready(struct watch *w, uint32_t events)
{
	struct worker *wk = (struct worker *)w;
	struct ckpt_result r;
	char why[256];
	int status = 0;
	json_t *o;

	(void)events;
	if (waitpid(wk->pid, &status, 0) < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)wk->pid,
			strerror(errno));
	o = read_result(wk, status, &r, why, sizeof(why));
	loop_del(w);
	close(w->fd);
	close(wk->pipefd);
	nworkers--;
	if (wk->waiter)
		waiter_step_done(wk->waiter, wk->step, &r);
	step_checkpoint_done(wk->step, &r);
	json_decref(o);
	free(wk);
}
