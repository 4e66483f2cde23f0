/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c - what the helper knows survives its own restart: one JSON
 * object of sections, each saved and loaded by the module it belongs to
 * (readopt.c: the steps; jobs.c; offsite_loop.c), written to
 * <state_dir>/state.json (temporary file, fsync, rename, fsync of the
 * directory) soon after every change, and read back at start-up. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "errbuf.h"
#include "log.h"
#include "loop.h"
#include "manifest.h"
#include "state.h"

#define STATE_VERSION 1
#define STATE_FILE "state.json"
#define STATE_TMP "state.json.tmp"
/* The most a change waits to be written: a registration, a task or a
 * step's end, and anything else.  Changes within it are written once. */
#define URGENT_DELAY_MS 50
#define SAVE_DELAY_MS 1000

#define MAX_SECTIONS 8

static struct section {
	const char *key;
	state_save_fn save;
	state_load_fn load;
} sections[MAX_SECTIONS];
static size_t nsections;

static int state_fd = -1;
static struct watch timer = { .fd = -1 };
static bool dirty, armed, saving;
static long long armed_at;	/* ms, monotonic */
static char last_save_error[256];

/* ------------------------------------------------------------ writing */

int state_section(const char *key, state_save_fn save, state_load_fn load)
{
	if (nsections == MAX_SECTIONS) {
		errno = ENOSPC;
		return -1;
	}
	sections[nsections++] = (struct section){ key, save, load };
	return 0;
}

static void save_failed(const char *what)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s", what, strerror(errno));
	if (strcmp(msg, last_save_error) != 0)
		log_msg(LOG_ERR, "cannot save the state in %s: %s",
			hconf.state_dir, msg);
	snprintf(last_save_error, sizeof(last_save_error), "%s", msg);
}

static void save(void)
{
	json_t *o = json_pack("{s:i}", "version", STATE_VERSION), *v;
	char *text = NULL;
	size_t i;
	int fd = -1;

	dirty = false;
	if (state_fd < 0 || !o)
		goto fail_mem;
	for (i = 0; i < nsections; i++)
		if ((v = sections[i].save()) &&
		    json_object_set_new(o, sections[i].key, v) < 0)
			goto fail_mem;
	if (!(text = json_dumps(o, JSON_COMPACT)))
		goto fail_mem;
	json_decref(o);
	o = NULL;
	fd = openat(state_fd, STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		save_failed("open " STATE_TMP);
		goto out;
	}
	if (manifest_write_all(fd, text, strlen(text)) < 0 ||
	    manifest_write_all(fd, "\n", 1) < 0 ||
	    fsync(fd) < 0) {
		save_failed("write " STATE_TMP);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		save_failed("close " STATE_TMP);
		goto out;
	}
	fd = -1;
	if (renameat(state_fd, STATE_TMP, state_fd, STATE_FILE) < 0) {
		save_failed("rename");
		goto out;
	}
	if (fsync(state_fd) < 0) {
		save_failed("fsync");
		goto out;
	}
	last_save_error[0] = '\0';
	goto out;
fail_mem:
	json_decref(o);
	errno = ENOMEM;
	save_failed("encode");
	dirty = true;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	/* Encoding every step churns the heap; give the freed pages back,
	 * or each worker's fork copies their page tables (issue 4's load:
	 * 6 MB of heap with 1,000 steps). */
	malloc_trim(0);
}

static struct timespec mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static long long ms_of(struct timespec ts)
{
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Save within ms milliseconds (sooner if already due sooner). */
static void arm(long ms)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	long long at = ms_of(mono()) + ms;

	if (armed && armed_at <= at)
		return;
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = (ms % 1000) * 1000000 + 1;
	if (timerfd_settime(timer.fd, 0, &its, NULL) < 0) {
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
		return;
	}
	armed = true;
	armed_at = at;
}

static void timer_ready(struct watch *w, uint32_t events)
{
	uint64_t ticks;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
	armed = false;
	if (dirty)
		save();
}

void state_changed(bool urgent)
{
	if (!saving)
		return;
	dirty = true;
	arm(urgent ? URGENT_DELAY_MS : SAVE_DELAY_MS);
}

void state_flush(void)
{
	if (saving && dirty)
		save();
}

/* ----------------------------------------------------------- set-up */

/* The directory must be root's (the daemon's) alone: what is in it is
 * believed at start-up. */
int state_init(char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(hconf.state_dir, 0700) < 0 && errno != EEXIST)
		return errprintf(err, errlen, errno, "state_dir %s: %s",
				 hconf.state_dir, strerror(errno));
	state_fd = open(hconf.state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (state_fd < 0 || fstat(state_fd, &st) < 0)
		return errprintf(err, errlen, errno, "state_dir %s: %s",
				 hconf.state_dir, strerror(errno));
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		errprintf(err, errlen, errno,
			  "state_dir %s: must be owned by uid %u "
			  "and writable by it alone",
			  hconf.state_dir, (unsigned)geteuid());
		close(state_fd);
		state_fd = -1;
		errno = EPERM;
		return -1;
	}
	timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	timer.ready = timer_ready;
	if (timer.fd < 0 || loop_add(&timer, EPOLLIN) < 0)
		return errprintf(err, errlen, errno, "state timer: %s",
				 strerror(errno));
	return 0;
}

void state_shutdown(void)
{
	if (saving && dirty)
		save();
	saving = false;
	if (timer.fd >= 0) {
		loop_del(&timer);
		close(timer.fd);
		timer.fd = -1;
	}
	if (state_fd >= 0)
		close(state_fd);
	state_fd = -1;
}

/* --------------------------------------------------------- recovery */

int state_recover(void)
{
	json_error_t jerr;
	json_t *o;
	int fd, version = 0;
	size_t i;

	fd = openat(state_fd, STATE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		log_msg(LOG_ERR, "%s/%s: %s", hconf.state_dir, STATE_FILE,
			strerror(errno));
		return -1;
	}
	unlinkat(state_fd, STATE_TMP, 0);
	if (fd < 0) {
		saving = true;
		return 0;
	}
	o = json_loadfd(fd, 0, &jerr);
	close(fd);
	if (!o || json_unpack(o, "{s:i}", "version", &version) < 0 ||
	    version != STATE_VERSION) {
		log_msg(LOG_ERR, "%s/%s: not a state file of this version "
			"(%s); starting without it", hconf.state_dir,
			STATE_FILE, o ? "bad contents" : jerr.text);
		json_decref(o);
		saving = true;
		state_changed(true);
		return 0;
	}
	/* In the order registered: the steps before their jobs. */
	for (i = 0; i < nsections; i++)
		sections[i].load(json_object_get(o, sections[i].key));
	json_decref(o);
	saving = true;
	state_changed(true);
	state_flush();
	log_msg(LOG_NOTICE, "state recovered from %s", hconf.state_dir);
	return 0;
}
