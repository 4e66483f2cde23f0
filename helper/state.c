/* state.c - what the helper knows survives its own restart: the
 * registered steps (with their tasks' pids and start times, the time to
 * their next checkpoint, their last error) and their jobs (jobs.c) are
 * written to <state_dir>/state.json (temporary file, fsync, rename, fsync
 * of the directory) on every change, and read back at start-up.  Running
 * steps are then re-adopted, not restarted: each task's pidfd is opened
 * again on its saved pid, and kept only if that process started when the
 * saved one did.  Staging left by a checkpoint the restart interrupted is
 * removed first, with the user's credentials. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <jansson.h>

#include "helper.h"
#include "image.h"
#include "manifest.h"

#define STATE_VERSION 1
#define STATE_FILE "state.json"
#define STATE_TMP "state.json.tmp"
/* The most a change waits to be written: a registration, a task or a
 * step's end, and anything else.  Changes within it are written once. */
#define URGENT_DELAY_MS 50
#define SAVE_DELAY_MS 1000

enum ftype { F_U32, F_INT, F_LONG, F_U64, F_BOOL, F_STR };

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	bool runtime;		/* not part of the registration */
};

#define F(k, t, m, r) { k, t, offsetof(struct step, m), r }
/* time_t fields are saved as F_LONG. */
_Static_assert(sizeof(time_t) == sizeof(long), "time_t is not a long");

/* The saved fields of a step, in one place.  Registration fields rebuild
 * the registration (and go through its checks again); runtime fields are
 * copied onto the step afterwards and may be missing from an older file.
 * Besides these: "method" (its name), "due_in" and "tasks". */
static const struct field step_fields[] = {
	F("job", F_U32, job, false),
	F("step", F_U32, id, false),
	F("uid", F_U32, uid, false),
	F("gid", F_U32, gid, false),
	F("ntasks", F_U32, ntasks, false),
	F("interval", F_LONG, interval, false),
	F("max_wait", F_LONG, max_wait, false),
	F("keep", F_LONG, keep, false),
	F("lead", F_LONG, lead, false),
	F("max_requeue", F_LONG, max_requeue, false),
	F("exit_code", F_INT, exit_code, false),
	F("signo", F_INT, signo, false),
	F("dir", F_STR, dir, false),
	F("node", F_STR, node, false),
	F("last_seq", F_U64, last_seq, true),
	F("last_error", F_STR, last_error, true),
	F("uncaught_noted", F_BOOL, uncaught_noted, true),
	F("trigger", F_STR, trigger, true),
	F("local", F_STR, local, true),
	F("disabled", F_BOOL, disabled, true),
	F("last_errno", F_INT, last_errno, true),
	F("last_error_time", F_LONG, last_error_time, true),
	F("registered", F_LONG, registered, true),
	F("nodeid", F_U32, nodeid, true),
	F("nnodes", F_U32, nnodes, true),
	{ NULL, 0, 0, false },
};

static int state_fd = -1;
static struct watch timer = { .fd = -1 };
static bool dirty, armed, saving;
static long long armed_at;	/* ms, monotonic */
static char last_save_error[256];

/* ------------------------------------------------------------ writing */

static json_t *field_get(const struct field *f, const struct step *s)
{
	const char *p = (const char *)s + f->off;

	switch (f->type) {
	case F_U32: return json_integer(*(const uint32_t *)p);
	case F_INT: return json_integer(*(const int *)p);
	case F_LONG: return json_integer(*(const long *)p);
	case F_U64: return json_integer((json_int_t)*(const uint64_t *)p);
	case F_BOOL: return json_boolean(*(const bool *)p);
	case F_STR: return *(char *const *)p ? json_string(*(char *const *)p)
					     : json_null();
	}
	return NULL;
}

static json_t *step_save(const struct step *s)
{
	json_t *o = json_object(), *tasks = json_array();
	const struct field *f;
	const struct task *t;

	if (!o || !tasks) {
		json_decref(o);
		json_decref(tasks);
		return NULL;
	}
	for (f = step_fields; f->key; f++)
		json_object_set_new(o, f->key, field_get(f, s));
	json_object_set_new(o, "method", s->method ?
			    json_string(method_name(s->method)) : json_null());
	json_object_set_new(o, "due_in", json_integer(step_due_in(s)));
	for (t = s->tasks; t; t = t->next)
		if (t->pid > 0 && !t->exited)
			json_array_append_new(tasks, json_pack(
				"{s:I,s:I,s:I}", "id", (json_int_t)t->id,
				"pid", (json_int_t)t->pid, "start",
				(json_int_t)t->start));
	json_object_set_new(o, "tasks", tasks);
	return o;
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
	json_t *o, *steps = json_array();
	const struct step *s;
	char *text = NULL;
	int fd = -1;

	dirty = false;
	if (state_fd < 0 || !steps)
		goto fail_mem;
	for (s = steps_first(); s; s = s->next)
		if (!s->gone)
			json_array_append_new(steps, step_save(s));
	o = json_pack("{s:i,s:o,s:o*,s:o*}", "version", STATE_VERSION,
		      "steps", steps, "jobs", jobs_state_save(), "offsite",
		      offsite_state_save());
	steps = NULL;
	if (!o || !(text = json_dumps(o, JSON_COMPACT))) {
		json_decref(o);
		goto fail_mem;
	}
	json_decref(o);
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
	json_decref(steps);
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

	if (mkdir(hconf.state_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", hconf.state_dir,
			 strerror(errno));
		return -1;
	}
	state_fd = open(hconf.state_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (state_fd < 0 || fstat(state_fd, &st) < 0) {
		snprintf(err, errlen, "state_dir %s: %s", hconf.state_dir,
			 strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, errlen, "state_dir %s: must be owned by uid %u "
			 "and writable by it alone", hconf.state_dir,
			 (unsigned)geteuid());
		close(state_fd);
		state_fd = -1;
		errno = EPERM;
		return -1;
	}
	timer.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	timer.ready = timer_ready;
	if (timer.fd < 0 || loop_add(&timer, EPOLLIN) < 0) {
		snprintf(err, errlen, "state timer: %s", strerror(errno));
		return -1;
	}
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

static int field_set(const struct field *f, struct step *s, json_t *v)
{
	char *p = (char *)s + f->off;
	json_int_t i;

	if (f->type == F_STR) {
		if (json_is_null(v))
			return 0;
		if (!json_is_string(v) ||
		    !(*(char **)p = strdup(json_string_value(v))))
			return -1;
		return 0;
	}
	if (f->type == F_BOOL) {
		if (!json_is_boolean(v))
			return -1;
		*(bool *)p = json_is_true(v);
		return 0;
	}
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 0)
		return -1;
	switch (f->type) {
	case F_U32:
		if (i > UINT32_MAX)
			return -1;
		*(uint32_t *)p = (uint32_t)i;
		break;
	case F_INT:
		if (i > INT32_MAX)
			return -1;
		*(int *)p = (int)i;
		break;
	case F_LONG: *(long *)p = (long)i; break;
	case F_U64: *(uint64_t *)p = (uint64_t)i; break;
	default: return -1;
	}
	return 0;
}

static void field_move(const struct field *f, struct step *to,
		       struct step *from)
{
	char *d = (char *)to + f->off, *src = (char *)from + f->off;

	switch (f->type) {
	case F_U32: *(uint32_t *)d = *(uint32_t *)src; break;
	case F_INT: *(int *)d = *(int *)src; break;
	case F_LONG: *(long *)d = *(long *)src; break;
	case F_U64: *(uint64_t *)d = *(uint64_t *)src; break;
	case F_BOOL: *(bool *)d = *(bool *)src; break;
	case F_STR:
		free(*(char **)d);
		*(char **)d = *(char **)src;
		*(char **)src = NULL;
		break;
	}
}

static void tmp_free(struct step *t)
{
	const struct field *f;

	for (f = step_fields; f->key; f++)
		if (f->type == F_STR)
			free(*(char **)((char *)t + f->off));
}

/* Remove <dir>/<name>.partial and old images half removed, as the user,
 * in a child; waits for it. */
static void discard_staging(const struct step *t, const char *name)
{
	char err[512];
	int status, basefd, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		log_msg(LOG_ERR, "%s: fork: %s", name, strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;
		int keep = -1;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (privsep_close_fds(&keep, 1) < 0 ||
		    privsep_become(t->uid, t->gid, err, sizeof(err)) < 0)
			_exit(2);
		basefd = image_open_base(t->dir, err, sizeof(err));
		if (basefd < 0 || image_discard(basefd, name, err,
						sizeof(err)) < 0)
			_exit(1);
		/* A task that checkpoints by exiting writes into the staging
		 * directory unasked (the plugin made it at the task's start):
		 * it is made again, empty. */
		if (t->exit_code && (fd = image_stage(basefd, name, err,
						      sizeof(err))) < 0)
			_exit(1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0)
		log_msg(LOG_ERR, "waitpid(%d): %s", (int)pid, strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		log_msg(LOG_WARNING, "cannot remove staging %s/%s%s (status "
			"%d)", t->dir, name, IMAGE_STAGING_SUFFIX, status);
}

static void restore_tasks(struct step *s, json_t *tasks)
{
	json_int_t id, pid, start;
	json_t *e;
	size_t i;

	json_array_foreach(tasks, i, e) {
		if (json_unpack(e, "{s:I,s:I,s:I}", "id", &id, "pid", &pid,
				"start", &start) < 0 || pid <= 0)
			continue;
		if (step_restore_task(s, (uint32_t)id, (pid_t)pid,
				      (unsigned long long)start) < 0)
			log_msg(LOG_INFO, "%s task %u (pid %lld) is gone",
				s->label, (unsigned)id, (long long)pid);
	}
}

static void restore_step(json_t *o, int *adopted, int *dropped)
{
	struct step t = { 0 }, *s;
	struct ckpt_msg m = { .op = CKPT_OP_REGISTER };
	const struct field *f;
	const char *method = NULL;
	json_int_t due_in = 0;
	char name[64], err[512];
	json_t *v;

	for (f = step_fields; f->key; f++) {
		v = json_object_get(o, f->key);
		if (!v && f->runtime)
			continue;
		if (!v || field_set(f, &t, v) < 0) {
			log_msg(LOG_WARNING, "saved state: a step with a bad "
				"\"%s\" is ignored", f->key);
			goto out;
		}
	}
	json_unpack(o, "{s?s,s?I}", "method", &method, "due_in", &due_in);
	if (!t.dir || image_name(t.job, t.id, name, sizeof(name)) < 0) {
		log_msg(LOG_WARNING, "saved state: a step without a "
			"directory is ignored");
		goto out;
	}
	/* A follower's staging directory is its leader's. */
	if (t.nnodes <= 1 || t.nodeid == 0)
		discard_staging(&t, name);
	m.job = t.job;
	m.step = t.id;
	m.uid = t.uid;
	m.gid = t.gid;
	m.ntasks = t.ntasks;
	m.nodeid = t.nodeid;
	m.nnodes = t.nnodes;
	m.interval = t.interval;
	m.max_wait = t.max_wait;
	m.keep = t.keep;
	m.lead = t.lead;
	m.max_requeue = t.max_requeue;
	m.exit_code = t.exit_code;
	m.signo = t.signo;
	m.dir = t.dir;
	m.node = t.node;
	m.method = (char *)method;
	if (!(s = step_add(&m, err, sizeof(err)))) {
		log_msg(LOG_WARNING, "saved step %u: not re-adopted: %s",
			t.job, err);
		(*dropped)++;
		goto out;
	}
	for (f = step_fields; f->key; f++)
		if (f->runtime)
			field_move(f, s, &t);
	restore_tasks(s, json_object_get(o, "tasks"));
	if (!s->tasks) {
		log_msg(LOG_NOTICE, "step %s: its tasks are gone, dropped",
			s->label);
		step_remove(s);
		(*dropped)++;
		goto out;
	}
	step_set_due_in(s, (long)due_in);
	step_watch_tasks(s);
	log_msg(LOG_NOTICE, "step %s re-adopted: uid %u, dir %s, next "
		"checkpoint in %ld s", s->label, s->uid, s->dir,
		s->interval ? step_due_in(s) : 0L);
	(*adopted)++;
out:
	tmp_free(&t);
}

int state_recover(void)
{
	json_error_t jerr;
	json_t *o, *steps = NULL, *jobs = NULL, *offsite = NULL, *e;
	int fd, version = 0, adopted = 0, dropped = 0;
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
	if (!o || json_unpack(o, "{s:i,s:o,s?o,s?o}", "version", &version,
			      "steps", &steps, "jobs", &jobs, "offsite",
			      &offsite) < 0 ||
	    version != STATE_VERSION || !json_is_array(steps)) {
		log_msg(LOG_ERR, "%s/%s: not a state file of this version "
			"(%s); starting without it", hconf.state_dir,
			STATE_FILE, o ? "bad contents" : jerr.text);
		json_decref(o);
		saving = true;
		state_changed(true);
		return 0;
	}
	json_array_foreach(steps, i, e)
		restore_step(e, &adopted, &dropped);
	if (jobs)
		jobs_state_load(jobs);
	if (json_is_array(offsite))
		offsite_state_load(offsite);
	json_decref(o);
	saving = true;
	state_changed(true);
	state_flush();
	log_msg(LOG_NOTICE, "state recovered from %s: %d step(s) "
		"re-adopted, %d dropped", hconf.state_dir, adopted, dropped);
	return 0;
}
