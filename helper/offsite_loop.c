/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_loop.c - in the event loop: copy each committed image to the
 * offsite store in the background, one upload per step at a time and at
 * most offsite_max_uploads at once (a commit while its step's upload
 * runs is copied when that one ends: the newest image only), and fetch
 * a step's newest remote image when a restart finds none on disk (one
 * fetch for all the tasks that ask, its answer kept for a minute).  The
 * transfers run in children (offsite_xfer.c, child.c): the loop never
 * waits on the network. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "child.h"
#include "conf.h"
#include "curl.h"
#include "errbuf.h"
#include "log.h"
#include "metrics.h"
#include "offsite_http.h"
#include "offsite_loop.h"
#include "offsite_xfer.h"
#include "report.h"
#include "state.h"
#include "steps.h"

#define FETCH_ANSWER_KEPT_S 60

struct upload {
	struct upload *next;
	struct offsite_job job;
	bool running, pending;
	char *next_image;	/* the newest commit while running */
	uint64_t next_seq;
	struct timespec started;
};

struct asker {
	struct asker *next;
	offsite_fetch_fn done;
	void *arg;
};

struct fetch {
	struct fetch *next;
	struct offsite_job job;
	bool running;
	struct asker *askers;
	/* the answer, once there */
	bool ok;
	int err;
	char *text;		/* image, or the error */
	uint64_t seq;
	time_t answered;
};

static struct upload *uploads;
static struct fetch *fetches;
static int nrunning;

bool offsite_enabled(void)
{
	return offsite_kind != OFFSITE_NONE;
}

/* Can this libcurl sign requests with SigV4 (7.75 and later)? */
static int sigv4_check(char *err, size_t errlen)
{
	CURL *c = ccurl.easy_init();
	CURLcode rc;

	if (!c)
		return errprintf(err, errlen, errno,
				 "offsite: curl_easy_init failed");
	rc = ccurl.easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
	ccurl.easy_cleanup(c);
	if (rc != CURLE_OK)
		return errprintf(err, errlen, errno,
				 "offsite_kind=s3: this libcurl cannot "
				 "sign with AWS SigV4: %s",
				 ccurl.easy_strerror(rc));
	return 0;
}

/* In a child (child_fn): loads libcurl; a report {"error"} if it cannot
 * (or cannot sign for s3). */
static int curl_child(void *arg, int out)
{
	enum offsite_kind kind = *(enum offsite_kind *)arg;
	char why[512] = "";

	if (ckpt_curl_load(why, sizeof(why)) == 0 && kind == OFFSITE_S3)
		sigv4_check(why, sizeof(why));
	if (!why[0])
		return 0;
	report_write(out, json_pack("{s:s}", "error", why));
	return -1;
}

/* libcurl is loaded only by the transfers' children (curl.h): whether it
 * loads, and can sign for s3, is tried at start in a child of its own,
 * so that a missing library is an error now, not at the first commit. */
static int curl_check(enum offsite_kind kind, char *err, size_t errlen)
{
	const char *why = NULL;
	json_t *report;
	int status, rc;

	if (child_run(curl_child, &kind, &report, &status, err, errlen) < 0)
		return -1;
	rc = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
	if (rc < 0) {
		json_unpack(report, "{s:s}", "error", &why);
		errprintf(err, errlen, EIO, "offsite: %s",
			  why ? why : "the libcurl check failed");
	}
	json_decref(report);
	return rc;
}

static void committed(struct step *s, const struct ckpt_result *r,
		      long took);
static json_t *state_save(void);
static void state_load(json_t *a);

static struct step_listener listener = { .done = committed };

/* The offsite settings, their credentials file and libcurl's support for
 * the store: refused at start-up, not at the first commit. */
static int verify(enum offsite_kind *kind, char *err, size_t errlen)
{
	struct offsite_creds cr = { 0 };

	if (offsite_conf_check(&hconf.offsite, kind, err, errlen) < 0)
		return -1;
	if (*kind == OFFSITE_NONE)
		return 0;
	offsite_conf_defaults(&hconf.offsite);
	if (hconf.offsite.credentials &&
	    offsite_creds_read(hconf.offsite.credentials, *kind, &cr, err,
			       errlen) < 0)
		return -1;
	offsite_creds_free(&cr);
	return curl_check(*kind, err, errlen);
}

int offsite_check(char *err, size_t errlen)
{
	enum offsite_kind kind;

	return verify(&kind, err, errlen);
}

int offsite_init(char *err, size_t errlen)
{
	enum offsite_kind kind;

	if (state_section("offsite", state_save, state_load) < 0)
		return errprintf(err, errlen, errno, "offsite: %s",
				 strerror(errno));
	steps_listen(&listener);
	if (verify(&kind, err, errlen) < 0)
		return -1;
	if (kind == OFFSITE_NONE)
		return 0;
	offsite_kind = kind;
	log_msg(LOG_NOTICE, "offsite store: %s (%s), at most %ld upload(s) "
		"at once", hconf.offsite.url,
		kind == OFFSITE_S3 ? "s3" : "webdav", hconf.offsite.max_uploads);
	return 0;
}

static void job_fill(struct offsite_job *j, const struct step *s)
{
	j->job = s->job;
	j->id = s->id;
	j->uid = s->uid;
	j->gid = s->gid;
	j->keep = s->keep;
	snprintf(j->name, sizeof(j->name), "%s", s->name);
	snprintf(j->label, sizeof(j->label), "%s", s->label);
}

static void upload_free(struct upload *u)
{
	struct upload **pp;

	for (pp = &uploads; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	free(u->job.image);
	free(u->next_image);
	free(u);
	state_changed(false);
}

static void start_pending(void);

static void upload_done(void *arg, json_t *rep, int status)
{
	struct upload *u = arg;
	struct timespec now;
	const char *error = NULL;
	json_int_t seq = 0, files = 0, bytes = 0, deleted = 0;
	int ok = 0;

	(void)status;

	nrunning--;
	u->running = false;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (rep)
		json_unpack(rep, "{s:b,s?s,s?I,s?I,s?I,s?I}", "ok", &ok,
			    "error", &error, "seq", &seq, "files", &files,
			    "bytes", &bytes, "deleted", &deleted);
	if (ok && bytes > 0)
		metrics_offsite_bytes((uint64_t)bytes);
	if (ok)
		log_msg(LOG_NOTICE, "%s: seq %lld copied to the offsite store "
			"(%lld files, %lld bytes, %ld s, %lld older deleted)",
			u->job.label, (long long)seq, (long long)files,
			(long long)bytes, (long)(now.tv_sec - u->started.tv_sec),
			(long long)deleted);
	else
		log_msg(LOG_WARNING, "%s: offsite copy of seq %llu failed "
			"(retried at the next commit): %s", u->job.label,
			(unsigned long long)u->job.seq,
			error ? error : "no report from the child");
	if (u->next_image) {
		free(u->job.image);
		u->job.image = u->next_image;
		u->job.seq = u->next_seq;
		u->next_image = NULL;
		u->pending = true;
	}
	if (!u->pending)
		upload_free(u);
	start_pending();
}

static void upload_start(struct upload *u)
{
	char err[512];

	u->pending = false;
	if (child_start(offsite_xfer_run, &u->job, upload_done, u, err,
			sizeof(err)) < 0) {
		log_msg(LOG_WARNING, "%s: offsite copy of seq %llu not "
			"started: %s", u->job.label,
			(unsigned long long)u->job.seq, err);
		upload_free(u);
		return;
	}
	u->running = true;
	nrunning++;
	clock_gettime(CLOCK_MONOTONIC, &u->started);
}

static void start_pending(void)
{
	struct upload *u, *next;

	for (u = uploads; u && nrunning < hconf.offsite.max_uploads; u = next) {
		next = u->next;
		if (u->pending && !u->running)
			upload_start(u);
	}
}

static void committed(struct step *s, const struct ckpt_result *r,
		      long took)
{
	struct upload *u;
	char *image;

	(void)took;
	if (!offsite_enabled() || !r->ok || r->part || !r->image)
		return;
	if (!(image = strdup(r->image)))
		return;
	for (u = uploads; u; u = u->next)
		if (u->job.job == s->job && u->job.id == s->id)
			break;
	if (u && u->running) {	/* after it, the newest only */
		free(u->next_image);
		u->next_image = image;
		u->next_seq = r->seq;
		return;
	}
	if (!u) {
		if (!(u = calloc(1, sizeof(*u)))) {
			free(image);
			return;
		}
		u->next = uploads;
		uploads = u;
	}
	job_fill(&u->job, s);
	free(u->job.image);
	u->job.image = image;
	u->job.seq = r->seq;
	u->pending = true;
	state_changed(false);
	start_pending();
}

/* The uploads not yet done survive a restart of the helper (state.c):
 * each is made again, whole, at the next start.  One that had ended
 * before the state was last saved is made again too; the store then
 * holds the same image twice over, which is harmless. */
static json_t *state_save(void)
{
	json_t *a = json_array();
	const struct upload *u;

	for (u = uploads; a && u; u = u->next) {
		bool newer = u->next_image != NULL;

		json_array_append_new(a, json_pack(
			"{s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:I}",
			"job", (json_int_t)u->job.job,
			"id", (json_int_t)u->job.id,
			"uid", (json_int_t)u->job.uid,
			"gid", (json_int_t)u->job.gid,
			"keep", (json_int_t)u->job.keep,
			"name", u->job.name, "label", u->job.label,
			"image", newer ? u->next_image : u->job.image,
			"seq", (json_int_t)(newer ? u->next_seq :
					    u->job.seq)));
	}
	return a;
}

static void state_load(json_t *a)
{
	json_int_t job, id, uid, gid, keep, seq;
	const char *name, *label, *image;
	struct upload *u;
	size_t i, n = 0;
	json_t *e;

	json_array_foreach(a, i, e) {
		if (json_unpack(e, "{s:I,s:I,s:I,s:I,s:I,s:s,s:s,s:s,s:I}",
				"job", &job, "id", &id, "uid", &uid,
				"gid", &gid, "keep", &keep, "name", &name,
				"label", &label, "image", &image,
				"seq", &seq) < 0 || image[0] != '/' ||
		    strlen(name) >= sizeof(u->job.name) ||
		    strlen(label) >= sizeof(u->job.label))
			continue;
		n++;
		if (!offsite_enabled())
			continue;
		if (!(u = calloc(1, sizeof(*u))) ||
		    !(u->job.image = strdup(image))) {
			free(u);
			break;
		}
		u->job.job = (uint32_t)job;
		u->job.id = (uint32_t)id;
		u->job.uid = (uint32_t)uid;
		u->job.gid = (uint32_t)gid;
		u->job.keep = (long)keep;
		u->job.seq = (uint64_t)seq;
		snprintf(u->job.name, sizeof(u->job.name), "%s", name);
		snprintf(u->job.label, sizeof(u->job.label), "%s", label);
		u->pending = true;
		u->next = uploads;
		uploads = u;
		log_msg(LOG_NOTICE, "%s: offsite copy of seq %llu, not done "
			"at the last stop, made again", u->job.label,
			(unsigned long long)u->job.seq);
	}
	if (n && !offsite_enabled())
		log_msg(LOG_WARNING, "%zu offsite copies not done at the last "
			"stop are dropped: no offsite store now", n);
	start_pending();
}

/* ------------------------------------------------------------------ */
/* Fetch                                                              */

static void fetch_free(struct fetch *f)
{
	struct fetch **pp;

	for (pp = &fetches; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	free(f->job.dir);
	free(f->text);
	free(f);
}

static void fetch_answer(struct fetch *f)
{
	struct asker *a;

	while ((a = f->askers)) {
		f->askers = a->next;
		a->done(a->arg, f->ok, f->err, f->text, f->seq);
		free(a);
	}
}

static void fetch_done(void *arg, json_t *rep, int status)
{
	struct fetch *f = arg;
	const char *text = NULL;
	json_int_t seq = 0, e = EIO;
	int ok = 0;

	(void)status;

	f->running = false;
	if (rep)
		json_unpack(rep, "{s:b,s?s,s?s,s?I,s?I}", "ok", &ok, "image",
			    &text, "error", &text, "seq", &seq, "err", &e);
	f->ok = ok && seq > 0 && text && text[0] == '/';
	f->err = f->ok ? 0 : (int)e;
	f->seq = f->ok ? (uint64_t)seq : 0;
	f->text = strdup(text ? text : "no report from the child");
	f->answered = time(NULL);
	if (f->ok)
		log_msg(LOG_NOTICE, "%s: seq %llu fetched from the offsite "
			"store into %s", f->job.label,
			(unsigned long long)f->seq, f->text);
	else
		log_msg(LOG_WARNING, "%s: no image fetched from the offsite "
			"store: %s", f->job.label, f->text ? f->text : "?");
	if (!f->text) {
		f->ok = false;
		f->err = ENOMEM;
	}
	fetch_answer(f);
}

/* Answers older than FETCH_ANSWER_KEPT_S are forgotten.  A fetch is the
 * same one only for the same user and directory. */
static struct fetch *fetch_find(const struct step *s)
{
	struct fetch *f, *next;
	time_t now = time(NULL);

	for (f = fetches; f; f = next) {
		next = f->next;
		if (!f->running && now - f->answered > FETCH_ANSWER_KEPT_S)
			fetch_free(f);
	}
	for (f = fetches; f; f = f->next)
		if (f->job.job == s->job && f->job.id == s->id &&
		    f->job.uid == s->uid && strcmp(f->job.dir, s->dir) == 0)
			return f;
	return NULL;
}

unsigned offsite_fetches_running(void)
{
	const struct fetch *f;
	unsigned n = 0;

	for (f = fetches; f; f = f->next)
		n += f->running;
	return n;
}

unsigned offsite_fetches_of(uint32_t uid)
{
	const struct fetch *f;
	unsigned n = 0;

	for (f = fetches; f; f = f->next)
		n += f->running && f->job.uid == uid;
	return n;
}

int offsite_fetch(const struct step *s, bool fresh, offsite_fetch_fn done,
		  void *arg, char *err, size_t errlen)
{
	struct asker *a;
	struct fetch *f;

	if (!offsite_enabled())
		return errprintf(err, errlen, ENOTSUP,
				 "no offsite store is configured");
	if (!(a = calloc(1, sizeof(*a))))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	a->done = done;
	a->arg = arg;
	/* fresh: not an answer given before, only one still to come. */
	if ((f = fetch_find(s)) && fresh && !f->running) {
		fetch_free(f);
		f = NULL;
	}
	if (f) {
		a->next = f->askers;
		f->askers = a;
		if (!f->running)
			fetch_answer(f);
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (f) {
		job_fill(&f->job, s);
		f->job.fetch = true;
		f->job.nodeid = s->nodeid;
		f->job.dir = strdup(s->dir);
	}
	if (!f || !f->job.dir ||
	    child_start(offsite_xfer_run, &f->job, fetch_done, f, err,
			errlen) < 0) {
		if (f && !f->job.dir)
			errprintf(err, errlen, ENOMEM, "out of memory");
		free(a);
		if (f)
			free(f->job.dir);
		free(f);
		return -1;
	}
	f->running = true;
	f->askers = a;
	f->next = fetches;
	fetches = f;
	log_msg(LOG_INFO, "%s: fetching the newest image from the offsite "
		"store", f->job.label);
	return 0;
}

void offsite_shutdown(void)
{
	struct fetch *f;

	/* Children still running report to nobody; the askers' clients are
	 * gone with the helper. */
	while ((f = fetches)) {
		while (f->askers) {
			struct asker *a = f->askers;

			f->askers = a->next;
			free(a);
		}
		fetch_free(f);
	}
	while (uploads)
		upload_free(uploads);
	offsite_kind = OFFSITE_NONE;
}
