/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_xfer.c - in a child of slurmckptd: copy one committed image to
 * the offsite store (offsite_upload.c), or fetch the newest complete one
 * back (offsite_fetch.c), with libcurl (offsite_http.c).  The credentials file is read as root, then the child becomes
 * the job's user (and not dumpable, so that the user can neither trace
 * it nor read its memory) before it opens anything of the user's; every
 * file is reached with O_NOFOLLOW through the manifest's list. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "curl.h"
#include "errbuf.h"
#include "image.h"
#include "offsite.h"
#include "offsite_fetch.h"
#include "offsite_http.h"
#include "offsite_upload.h"
#include "offsite_xfer.h"
#include "privsep.h"
#include "report.h"

/* As root: the credentials and the user's name; then the user. */
static int become(const struct offsite_job *j, struct offsite_creds *cr,
		  char *user, size_t ulen, char *err, size_t errlen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];

	if (getpwuid_r(j->uid, &pw, buf, sizeof(buf), &res) != 0 || !res)
		return errprintf(err, errlen, errno, "unknown uid %u",
				 (unsigned)j->uid);
	snprintf(user, ulen, "%s", pw.pw_name);
	if (hconf.offsite.credentials &&
	    offsite_creds_read(hconf.offsite.credentials, offsite_kind, cr,
			       err, errlen) < 0)
		return -1;
	/* Not traceable by the user, whose uid this is now (privsep_become
	 * sees to it): the credentials are in this memory. */
	return privsep_become(j->uid, j->gid == USER_PRIMARY_GID ?
			      pw.pw_gid : j->gid, err, errlen);
}

static void note_failure(const struct offsite_job *j, int basefd,
			 const char *err)
{
	char line[4400], *p;

	if (j->fetch || basefd < 0)
		return;
	snprintf(line, sizeof(line), "%s seq=%" PRIu64 " not copied to the "
		 "offsite store (retried at the next commit): %.4096s",
		 j->label, j->seq, err);
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	image_log(basefd, line);
}

static int run_job(const struct offsite_job *j, struct xfer *x,
		   const struct names *n, int *basefd, json_t *rep,
		   char *err, size_t errlen)
{
	char line[4400];
	int imgfd, rc;

	if (j->fetch) {
		if ((*basefd = image_open_base(j->dir, err, errlen)) < 0)
			return -1;
		return offsite_fetch_newest(x, j, n, *basefd, rep, err, errlen);
	}
	if ((imgfd = offsite_open_image(j->image, basefd, err, errlen)) < 0)
		return -1;
	rc = offsite_upload(x, j, n, imgfd, rep, err, errlen);
	close(imgfd);
	if (rc == 0) {
		snprintf(line, sizeof(line), "%s seq=%" PRIu64 " copied to the "
			 "offsite store %.4096s", j->label,
			 (uint64_t)json_integer_value(json_object_get(rep,
								      "seq")),
			 hconf.offsite.url);
		image_log(*basefd, line);
	}
	return rc;
}

static int transfer(const struct offsite_job *j, int out)
{
	struct offsite_creds cr = { 0 };
	struct xfer x = { .cr = &cr, .dstfd = -1 };
	char err[4096] = "", user[256];
	struct names n = { .base = hconf.offsite.url, .user = user,
			   .job = j->job, .name = j->name };
	json_t *rep = json_object();
	int basefd = -1, rc = -1, e = 0;

	/* As root, from the system's library path, before the user can
	 * reach this process. */
	if (ckpt_curl_load(err, sizeof(err)) < 0 ||
	    become(j, &cr, user, sizeof(user), err, sizeof(err)) < 0)
		goto out;
	if (!(x.c = ccurl.easy_init())) {
		snprintf(err, sizeof(err), "curl_easy_init failed");
		goto out;
	}
	rc = run_job(j, &x, &n, &basefd, rep, err, sizeof(err));
	e = errno;
out:
	if (rc < 0) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", strerror(errno));
		note_failure(j, basefd, err);
		json_object_set_new(rep, "error", json_string(err));
		json_object_set_new(rep, "err", json_integer(e > 0 &&
							     e < 4096 ?
							     e : EIO));
	}
	json_object_set_new(rep, "ok", json_boolean(rc == 0));
	if (basefd >= 0)
		close(basefd);
	ccurl.slist_free_all(x.hdrs);
	if (x.c)
		ccurl.easy_cleanup(x.c);
	free(x.dst);
	offsite_creds_free(&cr);
	if (report_write(out, rep) < 0)
		rc = -1;
	return rc;
}

/* The transfer runs in a grandchild with the user's uid, which the user
 * may stop or signal; this child stays root, out of the user's reach, and
 * kills it at offsite_timeout, so that a transfer never holds its place
 * (offsite_max_uploads, the step's one upload) longer.  (A report the
 * grandchild had begun is then cut short: the parent takes none.) */
int offsite_xfer_run(void *arg, int out)
{
	const struct offsite_job *j = arg;
	struct timespec left = { .tv_sec = hconf.offsite.timeout };
	struct timespec t0, now;
	sigset_t chld;
	pid_t pid, w = 0;
	int status = 0;
	char err[256];

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0 || (pid = fork()) < 0) {
		snprintf(err, sizeof(err), "fork: %s", strerror(errno));
		goto report;
	}
	if (pid == 0) {
		sigprocmask(SIG_UNBLOCK, &chld, NULL);
		_exit(transfer(j, out) < 0 ? 1 : 0);
	}
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && left.tv_sec > 0) {
		if (sigtimedwait(&chld, NULL, &left) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = hconf.offsite.timeout - (now.tv_sec - t0.tv_sec);
	}
	if (w == pid)
		return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
	snprintf(err, sizeof(err), "not done within offsite_timeout=%ld s",
		 hconf.offsite.timeout);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
report:
	return report_write(out, json_pack("{s:b,s:s,s:i}", "ok", 0,
					    "error", err, "err", ETIMEDOUT));
}
