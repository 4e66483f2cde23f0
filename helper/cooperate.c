/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cooperate.c - the cooperative checkpoint, run by a worker that already
 * has the job user's credentials: create the staging directory, signal
 * the tasks that catch the checkpoint signal (through their pidfds), wait
 * for each one's ".done.<task>" file (inotify, bounded by max_wait), then
 * commit the image (run.c).  A failure removes the staging directory only: the
 * previous image is never touched.  With a trigger file
 * (--checkpoint-trigger), the request is that file, created in each
 * task's working directory (or at its absolute path) instead of the
 * signal, and a task has answered when it removed the file or wrote its
 * ".done.<task>".  With a watched file (--checkpoint-watch), a task has
 * also answered when that file was written after the request (watch.c),
 * and the file is copied into the image. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cooperate.h"
#include "errbuf.h"
#include "image.h"
#include "kvconf.h"
#include "localstage_flush.h"
#include "log.h"
#include "pidfd.h"
#include "run.h"
#include "steps.h"
#include "watch.h"

#define TRIGGER_POLL_MS 200	/* how often a trigger or watched file is
				 * looked at */

struct asked {
	const struct task *t;
	bool exited;
	bool exit_answers;	/* its end answers (SIGTERM: it may end
				 * once it has written its state) */
	int tdir;		/* the trigger's directory (O_PATH), or -1 */
	const char *tname;	/* the trigger's name in it */
	int wdir;		/* the watched file's directory, or -1 */
	const char *wname;	/* the watched file's name in it */
	struct timespec since;	/* asked at (file time) */
};

/* Does the process catch signo?  (A shell without a trap must not be
 * killed by a checkpoint request.) */
static bool catches(pid_t pid, int signo)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "SigCgt: %llx", &mask) == 1;
	fclose(f);
	return found && (mask >> (signo - 1)) & 1;
}

/* An error may name a file of the user's, and a file name may hold any
 * byte but '/' and NUL: control characters are shown as '?', so that the
 * message stays one line in the helper's log, checkpoint.log and on the
 * terminal of scheckpoint (a newline in a name must not forge a line). */
/* The live tasks that catch the signal; returns how many. */
static size_t select_tasks(const struct step *s, struct asked *a)
{
	const struct task *t;
	size_t n = 0;
	pid_t pid;

	for (t = s->tasks; t; t = t->next) {
		pid = pidfd_pid(t->w.fd);
		if (pid <= 0 || (!s->trigger && !catches(pid, s->signo)))
			continue;
		/* Still alive now, so /proc/<pid> was this task's. */
		if (!pidfd_alive(t->w.fd))
			continue;
		a[n].t = t;
		a[n].exited = false;
		a[n].exit_answers = step_on_sigterm(s);
		a[n].tdir = -1;
		a[n].wdir = -1;
		n++;
	}
	return n;
}

/* Create a's trigger file, as the user: never through a symbolic link,
 * never opening a FIFO or device for writing.  On failure a->tdir is
 * -1 again. */
static int trigger_create(const struct step *s, struct asked *a, char *err,
			  size_t errlen)
{
	struct stat st;
	int fd;

	if (watch_dir("trigger file", s->trigger, a->t->w.fd, a->t->id,
		      &a->tdir, &a->tname, err, errlen) < 0)
		return -1;
	fd = openat(a->tdir, a->tname, O_WRONLY | O_CREAT | O_NOFOLLOW |
		    O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		errprintf(err, errlen, errno,
			  "cannot create trigger file %.512s for task "
			  "%u: %s",
			  s->trigger, a->t->id,
			  fd < 0 ? strerror(errno) : "not a regular file");
		if (fd >= 0)
			close(fd);
		close(a->tdir);
		a->tdir = -1;
		return -1;
	}
	close(fd);
	return 0;
}

/* A request not answered must not fire later, out of turn; an answered
 * one (".done") must not fire again. */
static void triggers_remove(struct asked *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i].wdir >= 0)
			close(a[i].wdir);
		a[i].wdir = -1;
		if (a[i].tdir < 0)
			continue;
		if (unlinkat(a[i].tdir, a[i].tname, 0) < 0 && errno != ENOENT)
			log_msg(LOG_WARNING, "cannot remove trigger file %s: %s",
				a[i].tname, strerror(errno));
		close(a[i].tdir);
		a[i].tdir = -1;
	}
}

/* Signal the selected tasks, or create their trigger files; those
 * already gone are dropped.  With a trigger, a file that cannot be
 * created fails the checkpoint. */
static ssize_t ask_tasks(const struct step *s, struct asked *a, size_t n,
			 char *err, size_t errlen)
{
	size_t i, asked = 0;

	for (i = 0; i < n; i++) {
		watch_now(&a[i].since);
		if (s->watch &&
		    watch_dir("watched file", s->watch, a[i].t->w.fd,
			      a[i].t->id, &a[i].wdir, &a[i].wname, err,
			      errlen) < 0) {
			if (!pidfd_alive(a[i].t->w.fd))
				continue;
			triggers_remove(a, asked);
			return -1;
		}
		if (s->trigger) {
			if (trigger_create(s, &a[i], err, errlen) < 0) {
				bool gone = !pidfd_alive(a[i].t->w.fd);

				triggers_remove(&a[i], 1);
				if (gone)
					continue;
				/* Only a[0..asked) hold a created trigger. */
				triggers_remove(a, asked);
				return -1;
			}
			a[asked++] = a[i];
		} else if (pidfd_signal(a[i].t->w.fd, s->signo) == 0) {
			a[asked++] = a[i];
		} else {
			triggers_remove(&a[i], 1);
		}
	}
	return (ssize_t)asked;
}

static bool acked(int stagefd, const struct asked *a)
{
	char name[32];

	if (a->exited && a->exit_answers)
		return true;
	snprintf(name, sizeof(name), ".done.%u", a->t->id);
	if (faccessat(stagefd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	if (a->wdir >= 0 &&
	    watch_written(a->wdir, a->wname, &a->since, a->exited))
		return true;
	return a->tdir >= 0 &&
	       faccessat(a->tdir, a->tname, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
	       errno == ENOENT;
}

static long ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* The tasks that have not acknowledged, as "0,3,5" into buf. */
static void missing(int stagefd, const struct asked *a, size_t n, char *buf,
		    size_t len)
{
	size_t i, used = 0;
	int w;

	buf[0] = '\0';
	for (i = 0; i < n && used < len; i++) {
		if (acked(stagefd, &a[i]))
			continue;
		w = snprintf(buf + used, len - used, "%s%u", used ? "," : "",
			     a[i].t->id);
		if (w > 0)
			used += (size_t)w;
	}
}

static int all_acked(int stagefd, const struct asked *a, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!acked(stagefd, &a[i]))
			return 0;
	return 1;
}

/* One poll() round: inotify events or task exits.  -1 when a task that
 * was asked ended without acknowledging. */
static int wait_round(int ifd, int stagefd, struct asked *a, size_t n,
		      struct pollfd *p, long ms, char *err, size_t errlen)
{
	char buf[4096] __attribute__((aligned(8)));
	size_t i;

	p[0] = (struct pollfd){ .fd = ifd, .events = POLLIN };
	for (i = 0; i < n; i++)
		p[i + 1] = (struct pollfd){
			.fd = a[i].exited ? -1 : a[i].t->w.fd,
			.events = POLLIN };
	/* The removal of a trigger file elsewhere is not watched: looked
	 * at every TRIGGER_POLL_MS. */
	if ((a[0].tdir >= 0 || a[0].wdir >= 0) && ms > TRIGGER_POLL_MS)
		ms = TRIGGER_POLL_MS;
	if (poll(p, n + 1, (int)(ms > INT_MAX ? INT_MAX : ms)) < 0 &&
	    errno != EINTR)
		return errprintf(err, errlen, errno, "poll: %s",
				 strerror(errno));
	while (p[0].revents && read(ifd, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < n; i++) {
		if (!(p[i + 1].revents & POLLIN))
			continue;
		a[i].exited = true;
		if (!acked(stagefd, &a[i]))
			return errprintf(err, errlen, errno,
					 "task %u exited before "
					 "acknowledging",
					 a[i].t->id);
	}
	return 0;
}

static int wait_acks(const struct step *s, int stagefd, int ifd,
		     struct asked *a, size_t n, char *err, size_t errlen)
{
	struct pollfd *p = calloc(n + 1, sizeof(*p));
	struct timespec deadline;
	char which[256];
	int rc = -1;
	long ms;

	if (!p)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->max_wait;
	while (!all_acked(stagefd, a, n)) {
		if ((ms = ms_left(&deadline)) <= 0) {
			missing(stagefd, a, n, which, sizeof(which));
			errprintf(err, errlen, errno,
				  "task %s did not acknowledge "
				  "within %ld s",
				  which, s->max_wait);
			goto out;
		}
		if (wait_round(ifd, stagefd, a, n, p, ms, err, errlen) < 0)
			goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

static int watch_staging(int stagefd, char *err, size_t errlen)
{
	char path[64];
	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	snprintf(path, sizeof(path), "/proc/self/fd/%d", stagefd);
	if (ifd < 0 || inotify_add_watch(ifd, path, IN_CREATE | IN_MOVED_TO |
					 IN_ATTRIB | IN_CLOSE_WRITE |
					 IN_ONLYDIR) < 0) {
		errprintf(err, errlen, errno, "inotify: %s", strerror(errno));
		if (ifd >= 0)
			close(ifd);
		return -1;
	}
	return ifd;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The tasks have all answered and go on computing: say so, with the
 * time they were paused (request to last acknowledgement). */
static void note_released(const struct ckpt_run *r, int basefd,
			  uint64_t seq)
{
	const struct step *s = r->s;
	char line[1024];

	if (s->local && r->image_dirfd < 0) {
		log_msg(LOG_INFO, "%s: tasks released after %ld ms, flushing "
			"%s to %s", s->label, r->paused_ms, s->local, s->dir);
		snprintf(line, sizeof(line), "%s seq=%" PRIu64 " tasks released"
			 " paused=%ldms staged in %.512s, flushing", s->label,
			 seq, r->paused_ms, s->local);
	} else {
		snprintf(line, sizeof(line), "%s seq=%" PRIu64 " tasks released"
			 " paused=%ldms", s->label, seq, r->paused_ms);
	}
	image_log(basefd, line);
}

/* The tasks answered into the local staging: commit it there, then
 * flush it to the shared directory under the same seq. */
static int commit_local(struct ckpt_run *r, int lbase, int basefd,
			struct manifest *m, char *err, size_t errlen)
{
	const struct step *s = r->s;
	struct timespec t1;
	char line[256];

	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (run_commit(r, lbase, m, err, errlen) < 0 ||
	    flush_image(s, lbase, basefd, NULL, m, err, errlen) < 0)
		return -1;
	r->flush_ms = ms_since(&t1);
	r->flushed = manifest_bytes(m);
	snprintf(line, sizeof(line), "%s seq=%" PRIu64 " flushed paused=%ldms "
		 "flush=%ldms", s->label, m->seq, r->paused_ms, r->flush_ms);
	image_log(basefd, line);
	return 0;
}

/* The watched files written since the request go into the image. */
static int copy_watched(int stagefd, const struct asked *a, size_t n,
			char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i].wdir >= 0 &&
		    watch_written(a[i].wdir, a[i].wname, &a[i].since, true) &&
		    watch_copy(a[i].wdir, a[i].wname, &a[i].since, stagefd,
			       err, errlen) < 0)
			return -1;
	return 0;
}

int cooperate_part(struct ckpt_run *r, int partfd, bool *uncaught,
		   char *err, size_t errlen)
{
	const struct step *s = r->s;
	struct asked *a = NULL;
	const struct task *t;
	struct timespec t0;
	int ifd = -1, rc = -1;
	size_t n = 0;
	ssize_t asked;

	for (t = s->tasks; t; t = t->next)
		n++;
	if (!(a = calloc(n ? n : 1, sizeof(*a)))) {
		errprintf(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	if ((n = select_tasks(s, a)) == 0) {
		errprintf(err, errlen, errno,
			  "not checkpointable: no task of %s "
			  "catches SIG%s",
			  s->label, signal_name(s->signo));
		*uncaught = true;
		goto out;
	}
	if ((ifd = watch_staging(partfd, err, errlen)) < 0) {
		n = 0;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((asked = ask_tasks(s, a, n, err, errlen)) <= 0) {
		if (asked == 0)
			errprintf(err, errlen, ESRCH, "every task of %s ended",
				  s->label);
		n = 0;
		goto out;
	}
	n = (size_t)asked;
	rc = wait_acks(s, partfd, ifd, a, n, err, errlen);
	if (rc == 0)
		r->paused_ms = ms_since(&t0);
	if (rc == 0 && s->watch)
		rc = copy_watched(partfd, a, n, err, errlen);
out:
	if (a)
		triggers_remove(a, n);
	free(a);
	if (ifd >= 0)
		close(ifd);
	return rc;
}

int cooperate_wait_unasked(struct ckpt_run *r, int stagefd, char *err,
			   size_t errlen)
{
	const struct step *s = r->s;
	const struct task *t;
	struct asked *a;
	struct timespec t0;
	size_t n = 0, waited = 0;
	int ifd, rc;
	pid_t pid;

	for (t = s->tasks; t; t = t->next)
		n++;
	if (!(a = calloc(n ? n : 1, sizeof(*a))))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	/* An ended task has said all it will; a live one that does not
	 * catch SIGTERM was not asked anything. */
	for (t = s->tasks; t; t = t->next) {
		pid = pidfd_pid(t->w.fd);
		if (pid > 0 && pidfd_alive(t->w.fd) && !catches(pid, SIGTERM))
			continue;
		a[waited++] = (struct asked){ .t = t, .exit_answers = true,
					      .exited = !pidfd_alive(t->w.fd),
					      .tdir = -1, .wdir = -1 };
	}
	if (!waited) {
		free(a);
		r->uncaught = true;
		return errprintf(err, errlen, ESRCH, "not checkpointable: no "
				 "task of %s catches SIGTERM", s->label);
	}
	if ((ifd = watch_staging(stagefd, err, errlen)) < 0) {
		free(a);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = wait_acks(s, stagefd, ifd, a, waited, err, errlen);
	if (rc == 0)
		r->paused_ms = ms_since(&t0);
	close(ifd);
	free(a);
	return rc;
}

int cooperate_part_staged(struct ckpt_run *r, int basefd, int partfd,
			  bool *uncaught, char *err, size_t errlen)
{
	const struct step *s = r->s;
	struct manifest lm = { .job = s->job, .step = s->id,
			       .process_image = s->method != NULL };
	char part[32], line[256];
	struct timespec t1;
	int lbase, lstage = -1, rc = -1;
	bool committed = false;
	uint64_t seq;

	if (!s->local)
		return cooperate_part(r, partfd, uncaught, err, errlen);
	if ((lbase = flush_open_local(s, err, errlen)) < 0)
		return -1;
	if ((lstage = image_stage(lbase, s->name, err, errlen)) < 0 ||
	    cooperate_part(r, lstage, uncaught, err, errlen) < 0)
		goto out;
	/* The seq the leader will commit (only it commits there). */
	lm.seq = image_next_seq(lbase, s->name);
	if ((seq = image_next_seq(basefd, s->name)) > lm.seq)
		lm.seq = seq;
	lm.reason = "part";
	lm.node = s->node;
	note_released(r, basefd, lm.seq);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(part, sizeof(part), "node.%u", s->nodeid);
	if (image_commit(lbase, s->name, &lm, s->keep, err, errlen) < 0)
		goto out;
	committed = true;
	if (flush_image(s, lbase, basefd, part, &lm, err, errlen) < 0)
		goto out;
	r->flush_ms = ms_since(&t1);
	r->flushed = manifest_bytes(&lm);
	snprintf(line, sizeof(line), "%s seq=%" PRIu64 " %s flushed "
		 "paused=%ldms flush=%ldms", s->label, lm.seq, part,
		 r->paused_ms, r->flush_ms);
	image_log(basefd, line);
	rc = 0;
out:
	/* A local part that did not commit leaves no debris; a committed
	 * one stays (a restart on this node may read it, see local.c). */
	if (rc < 0 && !committed)
		image_discard(lbase, s->name, NULL, 0);
	if (lstage >= 0)
		close(lstage);
	close(lbase);
	lm.reason = NULL;
	lm.node = NULL;
	manifest_free(&lm);
	return rc;
}

void cooperate_restage(const struct step *s, int basefd)
{
	char err[512];
	int fd;

	if (!step_on_sigterm(s))
		return;
	if ((fd = image_stage(basefd, s->name, err, sizeof(err))) < 0)
		log_msg(LOG_WARNING, "%s: no staging for the next SIGTERM: %s",
			s->label, err);
	else
		close(fd);
}

/* Ask, wait, and commit; fills m on success.  r->uncaught: no task
 * catches the signal, so nothing was asked and nothing staged.  With
 * node-local staging (s->local) the tasks write into the local
 * directory; without ImageDir= the image is committed there and flushed
 * to the shared directory after the tasks were released. */
static int take(struct ckpt_run *r, int basefd, struct manifest *m,
		char *err, size_t errlen)
{
	const struct step *s = r->s;
	const struct task *t;
	int stagefd, rc = -1, lbase = -1, stagebase = basefd;
	bool any = false;
	uint64_t seq;

	/* Nothing is staged for a step none of whose tasks catches it. */
	for (t = s->tasks; t && !any; t = t->next) {
		pid_t pid = pidfd_pid(t->w.fd);

		any = pid > 0 && (s->trigger || catches(pid, s->signo));
	}
	if (!any) {
		errprintf(err, errlen, errno,
			  "not checkpointable: no task of %s "
			  "catches SIG%s",
			  s->label, signal_name(s->signo));
		r->uncaught = true;
		return -1;
	}
	if (s->local && (lbase = flush_open_local(s, err, errlen)) < 0)
		return -1;
	if (lbase >= 0)
		stagebase = lbase;
	stagefd = image_stage(stagebase, s->name, err, errlen);
	if (stagefd < 0)
		goto out;
	if (cooperate_part(r, stagefd, &r->uncaught, err, errlen) == 0) {
		m->seq = image_next_seq(stagebase, s->name);
		if (lbase >= 0 && r->image_dirfd < 0 &&
		    (seq = image_next_seq(basefd, s->name)) > m->seq)
			m->seq = seq;
		note_released(r, basefd, m->seq);
		if (lbase >= 0 && r->image_dirfd < 0)
			rc = commit_local(r, lbase, basefd, m, err, errlen);
		else
			rc = run_commit(r, stagebase, m, err, errlen);
	}
	close(stagefd);
	if (rc == 0)
		cooperate_restage(s, basefd);
out:
	/* A failed local commit leaves no debris; a committed local image
	 * that did not flush stays, for a restart on this node. */
	if (rc < 0 && lbase >= 0)
		image_discard(lbase, s->name, NULL, 0);
	if (lbase >= 0)
		close(lbase);
	/* engine_run leaves the staging of an uncaught step alone. */
	if (rc < 0 && r->uncaught && lbase < 0) {
		char why[512];

		image_discard(basefd, s->name, why, sizeof(why));
	}
	return rc;
}

const struct ckpt_way cooperate_way = { "cooperative", take };
