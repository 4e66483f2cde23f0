/* worker.c - each checkpoint runs in a child process ("worker") so that
 * the event loop never blocks and no file under a user's directory is
 * touched with root's rights.  The child reports one JSON object through
 * a pipe; the parent learns of its end through its pidfd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "engine.h"
#include "errbuf.h"
#include "log.h"
#include "loop.h"
#include "method.h"
#include "peer_worker.h"
#include "pidfd.h"
#include "privsep.h"
#include "report.h"
#include "run.h"
#include "state.h"
#include "steps.h"
#include "worker.h"

struct worker {
	struct watch w;		/* the child's pidfd */
	pid_t pid;
	int pipefd;
	struct step *step;
	worker_done_fn done;	/* told first, then the step's listeners */
	void *done_arg;
	bool part;		/* a follower's part (peer.c) */
	struct worker *next;	/* in workers */
};

static struct worker *workers;	/* in flight */
static int nworkers;

int worker_count(void)
{
	return nworkers;
}

/* Checkpoints in flight per user, counted as nworkers is: one entry per
 * uid that has any (the queue asks for each step it considers). */
struct user_workers {
	struct user_workers *next;
	uid_t uid;
	long n;
};
static struct user_workers *user_workers;

static struct user_workers **user_find(uid_t uid)
{
	struct user_workers **pp;

	for (pp = &user_workers; *pp && (*pp)->uid != uid; pp = &(*pp)->next)
		;
	return pp;
}

/* d: +1 or -1.  0, or -1 (out of memory: the worker is not started). */
static int user_count(uid_t uid, int d)
{
	struct user_workers **pp = user_find(uid), *u = *pp;

	if (!u) {
		if (d < 0 || !(u = calloc(1, sizeof(*u))))
			return -1;
		u->uid = uid;
		*pp = u;
	}
	if ((u->n += d) <= 0) {
		*pp = u->next;
		free(u);
	}
	return 0;
}

bool worker_user_may(const struct step *s)
{
	const struct user_workers *u = *user_find(s->uid);

	return (u ? u->n : 0) < hconf.max_user_workers;
}

void worker_record_error(struct step *s, int code, const char *error)
{
	char *e = strdup(error);

	if (e) {
		free(s->last_error);
		s->last_error = e;
		s->last_errno = code > 0 ? code : EIO;
		s->last_error_time = time(NULL);
		state_changed(false);
	}
	log_msg(LOG_WARNING, "checkpoint of %s failed: %s", s->label, error);
}

void worker_cancel(struct worker *wk)
{
	if (pidfd_signal(wk->w.fd, SIGKILL) < 0)
		log_msg(LOG_ERR, "cannot stop worker %d: %s", (int)wk->pid,
			strerror(errno));
}

static __attribute__((noreturn)) void child_main(struct step *s,
						 const char *reason,
						 const char *image_dir, int out,
						 pid_t parent, bool part)
{
	struct ckpt_run r;
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
		report_write(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    "cannot close descriptors"));
		_exit(1);
	}
	free(keep);
	run_init(&r, s, reason);
	/* restart submits the batch script again: its image keeps it. */
	if (s->id == CKPT_STEP_BATCH)
		run_fetch_job(&r, s->method ? method_name(s->method) :
			      "signal");
	/* A multi-node step's leader seals its requests as root. */
	if (!part && s->nnodes > 1)
		peer_leader_seal(s);
	/* The criu method runs "criu dump --unprivileged" as the user. */
	if ((s->method && method_criu(s->method) ?
	     privsep_become_ckpt(s->uid, s->gid, err, sizeof(err)) :
	     privsep_become(s->uid, s->gid, err, sizeof(err))) < 0) {
		report_write(out, json_pack("{s:b,s:s}", "ok", 0, "error",
					    err));
		_exit(1);
	}
	/* A worker outliving a killed helper would race the next one in the
	 * staging directory: it dies with its helper (set after the change
	 * of credentials, which clears it). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	/* privsep_become left it not dumpable: a leader holds requests
	 * sealed as root (peer.c), which the user must not read. */
	if (part)
		_exit(peer_part_run(&r, out) < 0 ? 1 : 0);
	_exit(engine_run(&r, image_dir, out) < 0 ? 1 : 0);
}

/* Spawning a worker without copying the daemon's descriptors.  With a
 * thousand steps the daemon holds two thousand (a connection and a pidfd
 * each); fork() copies them all and the child closes them all, a fifth of
 * the CPU a checkpoint costs.  Instead the child starts on the daemon's
 * own descriptor table (CLONE_FILES) and at once takes a private copy of
 * only its first slot_end entries (close_range(CLOSE_RANGE_UNSHARE)
 * copies the entries below the range it closes): slots, a few low
 * descriptors reserved at start, of which one holds the end of a socket
 * through which its descriptors (the report pipe, the tasks' pidfds) were
 * sent before the clone.  The child then closes everything but that
 * socket, receives them, and says so with one byte; until that byte the
 * slot is not reused.  No slot free, or too many tasks for one message:
 * plain fork(). */
#define NSLOTS 32
#define MAX_PASSED 250		/* SCM_MAX_FD is 253 */

static int slot_fd[NSLOTS];	/* its descriptor number */
static int slot_sock[NSLOTS];	/* the daemon's end of the child's socket;
				 * -1: free */
static struct worker *slot_owner[NSLOTS];
static int placeholder = -1, slot_end;
static unsigned long fast_spawns, plain_spawns;

void worker_init(void)
{
	int i;

	placeholder = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; placeholder >= 0 && i < NSLOTS; i++) {
		slot_sock[i] = -1;
		if ((slot_fd[i] = fcntl(placeholder, F_DUPFD_CLOEXEC, 3)) < 0)
			break;
		if (slot_fd[i] >= slot_end)
			slot_end = slot_fd[i] + 1;
	}
	if (placeholder < 0 || i < NSLOTS) {
		log_msg(LOG_WARNING, "workers are forked with all descriptors: "
			"cannot reserve %d: %s", NSLOTS, strerror(errno));
		while (i-- > 0)
			close(slot_fd[i]);
		if (placeholder >= 0)
			close(placeholder);
		placeholder = -1;
	}
}

/* The workers still in flight are killed (as their death signal would)
 * and reaped; their steps were freed by steps_shutdown().  What they
 * point to stays, reachable from workers, until the exit. */
void worker_shutdown(void)
{
	struct worker *wk;

	for (wk = workers; wk; wk = wk->next) {
		worker_cancel(wk);
		if (waitpid(wk->pid, NULL, 0) < 0)
			log_msg(LOG_ERR, "waitpid(%d): %s", (int)wk->pid,
				strerror(errno));
		wk->step = NULL;
	}
	log_msg(LOG_INFO, "workers: %lu spawned with their own descriptors "
		"only, %lu forked with all", fast_spawns, plain_spawns);
}

static void slot_close(int i)
{
	close(slot_fd[i]);
	slot_fd[i] = -1;
}

static void slot_release(int i)
{
	/* The placeholder back in the slot closes the child's socket end;
	 * with no fast path any more, the slot is closed. */
	if (placeholder < 0) {
		slot_close(i);
	} else if (dup3(placeholder, slot_fd[i], O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "slot %d: dup3: %s", slot_fd[i],
			strerror(errno));
		slot_fd[i] = -1;	/* never used again */
	}
	close(slot_sock[i]);
	slot_sock[i] = -1;
	slot_owner[i] = NULL;
}

/* The worker has ended: its slot, if it still holds one.  A worker
 * killed before it took its descriptors leaves the write end of its pipe
 * in flight in the slot's socket, so this comes before reading the pipe. */
static void slot_release_of(const struct worker *wk)
{
	int i;

	for (i = 0; i < NSLOTS; i++)
		if (slot_owner[i] == wk && slot_sock[i] >= 0)
			slot_release(i);
}

/* The slots whose child has its own table now. */
static int slot_free(void)
{
	int i, fr = -1;
	char b;

	for (i = 0; i < NSLOTS; i++) {
		if (slot_fd[i] < 0)
			continue;
		if (slot_sock[i] >= 0 &&
		    recv(slot_sock[i], &b, 1, MSG_DONTWAIT) == 1)
			slot_release(i);
		if (slot_sock[i] < 0 && fr < 0)
			fr = i;
	}
	return fr;
}

/* In the child, on the daemon's table: a private one, with only the
 * descriptors sent through slot i. */
static __attribute__((noreturn)) void fast_child(struct step *s,
						 const char *reason,
						 const char *image_dir,
						 pid_t parent, bool part,
						 int i, size_t n)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED)];
	} u;
	int me = slot_fd[i], *fds;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	struct task *t;
	char b;
	size_t k;

	iov = (struct iovec){ .iov_base = &b, .iov_len = 1 };
	if (close_range((unsigned int)slot_end, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		_exit(1);
	if ((me > 3 && close_range(3, (unsigned int)me - 1, 0) < 0) ||
	    (me + 1 < slot_end &&
	     close_range((unsigned int)me + 1, (unsigned int)slot_end - 1,
			 0) < 0))
		_exit(1);
	if (recvmsg(me, &mh, MSG_CMSG_CLOEXEC) != 1 ||
	    (mh.msg_flags & MSG_CTRUNC) || !(c = CMSG_FIRSTHDR(&mh)) ||
	    c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int) * n))
		_exit(1);
	fds = (int *)CMSG_DATA(c);
	if (write(me, "u", 1) != 1)
		_exit(1);
	close(me);
	for (t = s->tasks, k = 1; t && k < n; t = t->next, k++)
		t->w.fd = fds[k];
	child_main(s, reason, image_dir, fds[0], parent, part);
}

/* 0: spawned, 1: use fork() instead, -1: failed. */
static int spawn_fast(struct step *s, const char *reason,
		      const char *image_dir, bool part, struct worker *wk,
		      pid_t *pid, int *rfd, int *pidfd, char *err,
		      size_t errlen)
{
	struct clone_args ca = { .flags = CLONE_FILES | CLONE_PIDFD,
				 .exit_signal = SIGCHLD };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED)];
	} u;
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf };
	pid_t parent = getpid();
	int sv[2], p[2], i, *fds;
	struct cmsghdr *c;
	struct task *t;
	size_t n = 1;
	long r;

	for (t = s->tasks; t; t = t->next)
		n++;
	if (placeholder < 0 || n > MAX_PASSED || (i = slot_free()) < 0)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return errprintf(err, errlen, errno, "socketpair: %s",
				 strerror(errno));
	if (pipe2(p, O_CLOEXEC) < 0) {
		errprintf(err, errlen, errno, "pipe: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	memset(&u, 0, sizeof(u));
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	fds = (int *)CMSG_DATA(c);
	fds[0] = p[1];
	for (t = s->tasks, n = 1; t; t = t->next)
		fds[n++] = t->w.fd;
	if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) != 1 ||
	    dup3(sv[1], slot_fd[i], O_CLOEXEC) < 0) {
		errprintf(err, errlen, errno, "cannot pass descriptors: %s",
			  strerror(errno));
		close(sv[0]);
		close(sv[1]);
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(sv[1]);
	close(p[1]);
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		fast_child(s, reason, image_dir, parent, part, i, n);
	slot_sock[i] = sv[0];
	if (r < 0 && (errno == EAGAIN || errno == ENOMEM)) {
		/* fork() would fail too: this checkpoint fails. */
		errprintf(err, errlen, errno, "clone3: %s", strerror(errno));
		slot_release(i);
		close(p[0]);
		return -1;
	}
	if (r < 0) {
		/* An older kernel (clone3: 5.3) or a filter: fork() from now
		 * on, and the slots not in use are closed (those in use are
		 * when their worker ends). */
		log_msg(LOG_WARNING, "clone3: %s: workers are forked with all "
			"descriptors", strerror(errno));
		close(p[0]);
		close(placeholder);
		placeholder = -1;
		slot_release(i);
		for (i = 0; i < NSLOTS; i++)
			if (slot_fd[i] >= 0 && slot_sock[i] < 0)
				slot_close(i);
		return 1;
	}
	slot_owner[i] = wk;
	*pid = (pid_t)r;
	/* Read once the worker has ended: never wait on it. */
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0)
		log_msg(LOG_WARNING, "worker pipe: %s", strerror(errno));
	*rfd = p[0];
	fast_spawns++;
	return 0;
}

static int spawn(struct step *s, const char *reason, const char *image_dir,
		 bool part, pid_t *pid, int *rfd, char *err, size_t errlen)
{
	pid_t parent = getpid();
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return errprintf(err, errlen, errno, "pipe: %s",
				 strerror(errno));
	*pid = fork();
	if (*pid < 0) {
		errprintf(err, errlen, errno, "fork: %s", strerror(errno));
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
	plain_spawns++;
	return 0;
}

static void worker_ready(struct watch *w, uint32_t events);

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, worker_done_fn done, void *arg, char *err,
		 size_t errlen);

int worker_start(struct step *s, const char *reason, const char *image_dir,
		 worker_done_fn done, void *arg, char *err, size_t errlen)
{
	return start(s, reason, image_dir, false, done, arg, err, errlen);
}

int worker_start_part(struct step *s, char *err, size_t errlen)
{
	return start(s, "part", NULL, true, NULL, NULL, err, errlen);
}

static int start(struct step *s, const char *reason, const char *image_dir,
		 bool part, worker_done_fn done, void *arg, char *err,
		 size_t errlen)
{
	struct worker *wk;
	pid_t pid;
	int rfd, pidfd, fast;

	if (s->worker)
		return errprintf(err, errlen, EALREADY,
				 "checkpoint of %s already in progress",
				 s->label);
	if (nworkers >= hconf.max_workers)
		return errprintf(err, errlen, EAGAIN,
				 "too many checkpoints in progress (%ld)",
				 hconf.max_workers);
	/* One user's steps that never answer cannot hold every worker:
	 * the others' deadline and preemption checkpoints find one. */
	if (!worker_user_may(s))
		return errprintf(err, errlen, EAGAIN,
				 "uid %u has %ld checkpoints in progress "
				 "(max_user_workers)",
				 (unsigned)s->uid, hconf.max_user_workers);
	if (!s->tasks)
		return errprintf(err, errlen, ESRCH, "%s has no running task",
				 s->label);
	if (!(wk = calloc(1, sizeof(*wk))) || user_count(s->uid, 1) < 0) {
		free(wk);
		return errprintf(err, errlen, ENOMEM, "out of memory");
	}
	privsep_prefetch(s->uid, s->gid);
	pidfd = -1;
	if ((fast = spawn_fast(s, reason, image_dir, part, wk, &pid, &rfd,
			       &pidfd, err, errlen)) < 0 ||
	    (fast > 0 &&
	     spawn(s, reason, image_dir, part, &pid, &rfd, err, errlen) < 0)) {
		user_count(s->uid, -1);
		free(wk);
		return -1;
	}
	/* The child is ours and not yet reaped: its pid cannot be reused. */
	if (fast > 0)
		pidfd = pidfd_open(pid);
	wk->w.fd = pidfd;
	wk->w.ready = worker_ready;
	if (pidfd < 0 || loop_add(&wk->w, EPOLLIN) < 0) {
		errprintf(err, errlen, errno, "cannot watch worker: %s",
			  strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		slot_release_of(wk);
		if (pidfd >= 0)
			close(pidfd);
		close(rfd);
		user_count(s->uid, -1);
		free(wk);
		return -1;
	}
	wk->pid = pid;
	wk->pipefd = rfd;
	wk->step = s;
	wk->done = done;
	wk->done_arg = arg;
	wk->part = part;
	wk->next = workers;
	workers = wk;
	s->worker = wk;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	nworkers++;
	log_msg(LOG_INFO, "checkpoint of %s (%s) started, worker %d%s%s",
		s->label, reason, (int)pid, image_dir ? ", ImageDir=" : "",
		image_dir ? image_dir : "");
	return 0;
}

/* Read the child's report into r, which points into the returned object
 * (or into why); anything unexpected is a failure (report.c). */
static json_t *read_result(struct worker *wk, int status,
			   struct ckpt_result *r, char *why, size_t whylen)
{
	char buf[8192];
	json_t *o;
	ssize_t n;

	n = read(wk->pipefd, buf, sizeof(buf));
	o = report_parse(buf, n > 0 ? (size_t)n : 0, wk->part, r);
	if (!o) {
		if (WIFSIGNALED(status))
			snprintf(why, whylen, "worker killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(why, whylen, "worker exited %d without a "
				 "report", WEXITSTATUS(status));
		r->error = why;
	}
	return o;
}

/* The outcome on the step (its last seq or error, said in the log),
 * then to the step's listeners. */
static void checkpoint_done(struct step *s, const struct ckpt_result *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	s->worker = NULL;
	if (r->part) {
		if (!r->ok)
			worker_record_error(s, EIO, r->error);
	} else if (r->ok) {
		s->last_seq = r->seq;
		state_changed(false);
		log_msg(LOG_NOTICE, "checkpoint of %s committed: %s (seq %llu)",
			s->label, r->image, (unsigned long long)r->seq);
	} else if (r->uncaught && s->uncaught_noted) {
		log_msg(LOG_DEBUG, "%s: %s", s->label, r->error);
	} else {
		s->uncaught_noted |= r->uncaught;
		worker_record_error(s, r->uncaught ? ENOTSUP : EIO, r->error);
	}
	steps_done(s, r, (long)(now.tv_sec - s->started.tv_sec));
}

static void worker_ready(struct watch *w, uint32_t events)
{
	struct worker *wk = (struct worker *)w, **pp;
	struct ckpt_result r;
	char why[256];
	int status = 0;
	json_t *o;

	(void)events;
	for (pp = &workers; *pp && *pp != wk; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = wk->next;
	if (waitpid(wk->pid, &status, 0) < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)wk->pid,
			strerror(errno));
	slot_release_of(wk);
	o = read_result(wk, status, &r, why, sizeof(why));
	loop_del(w);
	close(w->fd);
	close(wk->pipefd);
	nworkers--;
	user_count(wk->step->uid, -1);
	if (wk->done)
		wk->done(wk->done_arg, wk->step, &r);
	checkpoint_done(wk->step, &r);
	json_decref(o);
	free(wk);
}
