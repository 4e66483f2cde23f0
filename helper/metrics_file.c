/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics_file.c - a listener of the steps' events that counts each
 * checkpoint's outcome (metrics.c) and hands it to events.c as one line
 * of JSON, and, with metrics_file=, the file node-exporter's textfile
 * collector reads: rewritten from the loop at most every
 * METRICS_FILE_MIN_MS after a change, and at exit.  A temporary file in
 * the same directory renamed over it: the collector never reads half a
 * file.  No fsync: after a crash the next start writes it anew.  The
 * directory is root's (the admin's choice, checked at start-up), and
 * small writes to it do not make the loop wait. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "errbuf.h"
#include "events.h"
#include "log.h"
#include "loop.h"
#include "method.h"
#include "metrics.h"
#include "metrics_file.h"
#include "periodic.h"
#include "steps.h"
#include "worker.h"

static struct watch timer = { .fd = -1 };
static bool armed, closed = true;
static long long last_write = -METRICS_FILE_MIN_MS;
static char last_error[256];

int metrics_file_check(char *err, size_t errlen)
{
	char *copy, *dir;
	struct stat st;
	int rc = 0;

	if (!hconf.metrics_file)
		return 0;
	if (!(copy = strdup(hconf.metrics_file)))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	dir = dirname(copy);
	if (stat(dir, &st) < 0)
		rc = errprintf(err, errlen, errno, "metrics_file=%s: %s: %s",
			       hconf.metrics_file, dir, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = errprintf(err, errlen, ENOTDIR, "metrics_file=%s: %s: "
			       "not a directory", hconf.metrics_file, dir);
	else if (st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX))
		rc = errprintf(err, errlen, EPERM, "metrics_file=%s: %s: "
			       "writable by anyone", hconf.metrics_file, dir);
	free(copy);
	return rc;
}

static long steps_registered(void)
{
	const struct step *s;
	long n = 0;

	for (s = steps_first(); s; s = s->next)
		n++;
	return n;
}

/* Said once until it changes: a full disk is not news every 5 s. */
static void write_failed(const char *what)
{
	char msg[sizeof(last_error)];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errno));
	if (strcmp(msg, last_error) != 0)
		log_msg(LOG_WARNING, "metrics_file=%s: %s", hconf.metrics_file,
			msg);
	memcpy(last_error, msg, sizeof(msg));
}

/* The file as it is now: <file>.tmp written, then renamed over it. */
static void write_file(bool up)
{
	struct metrics_gauges g = { .steps = steps_registered(),
				    .queued = (long)periodic_queued(),
				    .workers = worker_count(), .up = up };
	char tmp[4096];
	FILE *f;
	int fd;

	last_write = loop_now_ms();
	snprintf(tmp, sizeof(tmp), "%s.tmp", hconf.metrics_file);
	if (unlink(tmp) < 0 && errno != ENOENT)
		return write_failed(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		write_failed(tmp);
		if (fd >= 0)
			close(fd);
		return;
	}
	if (metrics_render(f, &g) < 0) {
		write_failed(tmp);
		fclose(f);
	} else if (fclose(f) == EOF) {
		write_failed(tmp);
	} else if (rename(tmp, hconf.metrics_file) < 0) {
		write_failed("rename");
	} else {
		last_error[0] = '\0';
		return;
	}
	unlink(tmp);
}

static void timer_ready(struct watch *w, uint32_t events)
{
	(void)events;
	loop_timer_ack(w);
	armed = false;
	write_file(true);
}

/* metrics.c's counters changed: the file within METRICS_FILE_MIN_MS. */
static void changed(void)
{
	long long wait;

	if (closed || armed)
		return;
	wait = last_write + METRICS_FILE_MIN_MS - loop_now_ms();
	loop_timer_set(&timer, wait > 0 ? wait : 1);
	armed = true;
}

/* ------------------------------------------------ from steps.c */

static void step_changed(struct step *s)
{
	(void)s;
	metrics_changed();
}

static const char *outcome_of(const struct ckpt_result *r)
{
	if (r->ok)
		return "committed";
	return r->skipped ? "skipped" : "failed";
}

/* A checkpoint of s ended: counted, and an event of one line of JSON.
 * A follower's part is the leader's to count. */
static void step_done(struct step *s, const struct ckpt_result *r,
		      long took)
{
	struct metrics_ckpt c = {
		.job = s->job, .step = s->id, .seq = r->ok ? r->seq : 0,
		.reason = r->reason, .node = s->node,
		.method = s->method ? method_name(s->method) : "signal",
		.outcome = outcome_of(r), .error = r->ok ? NULL : r->error,
		.bytes = r->bytes, .flushed = r->flushed,
		.duration = r->seconds, .time = time(NULL),
	};
	char *line;

	(void)took;
	if (r->part) {
		if (r->flushed)
			metrics_flushed_bytes(r->flushed);
		return;
	}
	metrics_checkpoint(&c);
	if ((line = metrics_event(&c)))
		events_add(s->job, s->id, s->uid, s->node, line);
	free(line);
}

static struct step_listener listener = {
	.added = step_changed,
	.removed = step_changed,
	.done = step_done,
};

int metrics_file_init(char *err, size_t errlen)
{
	metrics_reset(time(NULL));
	steps_listen(&listener);
	if (!hconf.metrics_file)
		return 0;
	if (metrics_file_check(err, errlen) < 0)
		return -1;
	if (loop_timer_add(&timer, timer_ready) < 0)
		return errprintf(err, errlen, errno, "metrics_file: timer: %s",
				 strerror(errno));
	metrics_on_change(changed);
	closed = false;
	write_file(true);
	return 0;
}

void metrics_file_shutdown(void)
{
	if (closed)
		return;
	closed = true;
	metrics_on_change(NULL);
	write_file(false);
	loop_timer_del(&timer);
}
