/* offsite_xfer.c - in a child of slurmckptd: copy one committed image to
 * the offsite store, or fetch the newest complete one back, with
 * libcurl.  The credentials file is read as root, then the child becomes
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
#include "log.h"
#include "offsite_xfer.h"
#include "privsep.h"
#include "report.h"
#include "steps.h"

enum offsite_kind offsite_kind = OFFSITE_NONE;

#define FETCH_INFIX ".fetch"	/* N.fetch.<k>.partial: node index k's fetch */

struct xfer {
	CURL *c;
	const struct offsite_creds *cr;
	struct curl_slist *hdrs;
	char cerr[CURL_ERROR_SIZE];
	/* in-memory bodies */
	const char *src;
	size_t srclen, srcoff;
	char *dst;
	size_t dstlen, dstmax;
	int dstfd;		/* GET into a file, or -1 */
	bool keep_body;		/* else the response body is dropped */
	uint64_t got;
};

/* ------------------------------------------------------------------ */
/* libcurl                                                            */

static size_t read_mem(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t want = size * n, left = x->srclen - x->srcoff;

	if (want > left)
		want = left;
	memcpy(buf, x->src + x->srcoff, want);
	x->srcoff += want;
	return want;
}

static size_t write_body(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t len = size * n;

	if (!x->keep_body)
		return len;
	if (x->dstfd >= 0) {
		if (manifest_write_all(x->dstfd, buf, len) < 0)
			return 0;
		x->got += len;
		return len;
	}
	if (!x->dst || x->dstlen + len > x->dstmax)
		return 0;
	memcpy(x->dst + x->dstlen, buf, len);
	x->dstlen += len;
	return len;
}

/* A fresh request on the handle: the common options.  (offsite_init
 * checked that libcurl takes CURLOPT_AWS_SIGV4.) */
static void begin(struct xfer *x, const char *url)
{
	const struct offsite_conf *c = &hconf.offsite;
	CURL *h = x->c;
	char sigv4[128];

	ccurl.easy_reset(h);
	ccurl.slist_free_all(x->hdrs);
	x->hdrs = NULL;
	x->cerr[0] = '\0';
	x->dstfd = -1;
	x->keep_body = false;
	x->dstlen = 0;
	x->got = 0;
	ccurl.easy_setopt(h, CURLOPT_URL, url);
	/* The path as built: libcurl must not squash "/../" (offsite_url
	 * refuses dot segments; this is the second lock).  libcurl 8.x
	 * refuses it with SigV4, whose canonical request has the path
	 * normalized: there the first lock is the one. */
	if (offsite_kind != OFFSITE_S3)
		ccurl.easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	ccurl.easy_setopt(h, CURLOPT_ERRORBUFFER, x->cerr);
	ccurl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	ccurl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	ccurl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	ccurl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled transfer: under 1 byte/s for a minute. */
	ccurl.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	ccurl.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	ccurl.easy_setopt(h, CURLOPT_WRITEFUNCTION, write_body);
	ccurl.easy_setopt(h, CURLOPT_WRITEDATA, x);
	if (c->ca_file)
		ccurl.easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->ca_path)
		ccurl.easy_setopt(h, CURLOPT_CAPATH, c->ca_path);
	if (c->max_rate > 0) {
		ccurl.easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)c->max_rate);
		ccurl.easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE,
				 (curl_off_t)c->max_rate);
	}
	if (offsite_kind == OFFSITE_S3) {
		snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3",
			 c->region ? c->region : "us-east-1");
		ccurl.easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
		ccurl.easy_setopt(h, CURLOPT_USERNAME, x->cr->access_key);
		ccurl.easy_setopt(h, CURLOPT_PASSWORD, x->cr->secret_key);
		x->hdrs = ccurl.slist_append(NULL, "x-amz-content-sha256: "
					    "UNSIGNED-PAYLOAD");
	} else if (x->cr->user) {
		ccurl.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		ccurl.easy_setopt(h, CURLOPT_USERNAME, x->cr->user);
		ccurl.easy_setopt(h, CURLOPT_PASSWORD, x->cr->password);
	}
}

/* Run the request; the HTTP status in *status.  0, or -1 with the
 * reason in err (a transport error). */
static int perform(struct xfer *x, const char *what, const char *url,
		   long *status, char *err, size_t errlen)
{
	CURLcode rc;

	if (x->hdrs)
		ccurl.easy_setopt(x->c, CURLOPT_HTTPHEADER, x->hdrs);
	rc = ccurl.easy_perform(x->c);
	*status = 0;
	ccurl.easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, status);
	if (rc != CURLE_OK)
		return errprintf(err, errlen, EIO, "%s %s: %s", what, url,
				 x->cerr[0] ? x->cerr
					    : ccurl.easy_strerror(rc));
	return 0;
}

static int bad_status(const char *what, const char *url, long status,
		      char *err, size_t errlen)
{
	errprintf(err, errlen, EIO, "%s %s: HTTP status %ld", what, url,
		  status);
	errno = status == 404 ? ENOENT : status == 401 || status == 403 ?
		EACCES : EIO;
	return -1;
}

static int put_fd(struct xfer *x, const char *url, int fd, uint64_t size,
		  char *err, size_t errlen)
{
	FILE *f = fdopen(fd, "rb");
	long status;
	int rc;

	if (!f) {
		close(fd);
		return errprintf(err, errlen, errno, "fdopen: %s",
				 strerror(errno));
	}
	begin(x, url);
	ccurl.easy_setopt(x->c, CURLOPT_UPLOAD, 1L);
	ccurl.easy_setopt(x->c, CURLOPT_READDATA, f);
	ccurl.easy_setopt(x->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)size);
	rc = perform(x, "PUT", url, &status, err, errlen);
	fclose(f);
	if (rc == 0 && (status < 200 || status > 299))
		rc = bad_status("PUT", url, status, err, errlen);
	return rc;
}

static int put_mem(struct xfer *x, const char *url, const char *buf,
		   size_t len, char *err, size_t errlen)
{
	long status;

	begin(x, url);
	x->src = buf;
	x->srclen = len;
	x->srcoff = 0;
	ccurl.easy_setopt(x->c, CURLOPT_UPLOAD, 1L);
	ccurl.easy_setopt(x->c, CURLOPT_READFUNCTION, read_mem);
	ccurl.easy_setopt(x->c, CURLOPT_READDATA, x);
	ccurl.easy_setopt(x->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	if (perform(x, "PUT", url, &status, err, errlen) < 0)
		return -1;
	if (status < 200 || status > 299)
		return bad_status("PUT", url, status, err, errlen);
	return 0;
}

/* GET into memory (at most max bytes, NUL-terminated), or into fd when
 * fd >= 0.  A 404 is -1 ENOENT. */
static int get(struct xfer *x, const char *url, int fd, size_t max,
	       char *err, size_t errlen)
{
	long status;
	int rc;

	begin(x, url);
	x->keep_body = true;
	free(x->dst);
	x->dst = fd < 0 ? malloc(max + 1) : NULL;
	x->dstmax = max;
	x->dstfd = fd;
	if (fd < 0 && !x->dst)
		return errprintf(err, errlen, ENOMEM, "out of memory");
	rc = perform(x, "GET", url, &status, err, errlen);
	if (rc == 0 && status != 200)
		return bad_status("GET", url, status, err, errlen);
	if (rc == 0 && x->dst)
		x->dst[x->dstlen] = '\0';
	return rc;
}

/* MKCOL, DELETE: statuses in ok (405 for an existing collection, 404
 * for a DELETE of something gone) count as success. */
static int simple(struct xfer *x, const char *method, const char *url,
		  long ok, char *err, size_t errlen)
{
	long status;

	begin(x, url);
	ccurl.easy_setopt(x->c, CURLOPT_CUSTOMREQUEST, method);
	if (perform(x, method, url, &status, err, errlen) < 0)
		return -1;
	if ((status < 200 || status > 299) && status != ok)
		return bad_status(method, url, status, err, errlen);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Upload                                                             */

struct names {
	const char *base, *user;
	uint32_t job;
	const char *name;
};

static char *url_of(const struct names *n, uint64_t seq, const char *path)
{
	return offsite_url(n->base, n->user, n->job, n->name, seq, path);
}

/* "a/b/c/" -> "a/b/" */
static void cut_last_segment(char *url)
{
	size_t len = strlen(url);

	if (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	while (len > 0 && url[len - 1] != '/')
		url[--len] = '\0';
}

static int mkcol(struct xfer *x, const char *url, char *err, size_t errlen)
{
	return simple(x, "MKCOL", url, 405, err, errlen);
}

/* Is dir ("a/b") last or one of last's parents? */
static bool made(const char *last, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(last, dir, n) == 0 && (last[n] == '\0' ||
					      last[n] == '/');
}

/* WebDAV: the collections above the image and inside it, each made once
 * (S3 has none).  An existing one answers 405. */
static int make_collections(struct xfer *x, const struct names *n,
			    uint64_t seq, const struct manifest *m,
			    char *err, size_t errlen)
{
	char *url, *dir, *slash, last[4096] = "";
	int rc = 0;
	size_t i;

	if (offsite_kind == OFFSITE_S3)
		return 0;
	if (!(url = url_of(n, 0, NULL)))
		return -1;
	cut_last_segment(url);
	cut_last_segment(url);
	rc = mkcol(x, url, err, errlen);	/* base/<user>/ */
	free(url);
	if (rc == 0 && (url = url_of(n, 0, NULL))) {
		cut_last_segment(url);		/* .../<job>/ */
		rc = mkcol(x, url, err, errlen);
		free(url);
	}
	if (rc == 0 && (url = url_of(n, 0, NULL))) {
		rc = mkcol(x, url, err, errlen);	/* .../<N>/ */
		free(url);
	}
	if (rc == 0 && (url = url_of(n, seq, NULL))) {
		rc = mkcol(x, url, err, errlen);	/* .../<seq>/ */
		free(url);
	}
	for (i = 0; i < m->nfiles && rc == 0; i++) {
		if (!(dir = strdup(m->files[i].path)))
			return -1;
		for (slash = strchr(dir, '/'); slash && rc == 0;
		     slash = strchr(slash + 1, '/')) {
			*slash = '\0';
			if (!made(last, dir)) {
				/* A collection's URL ends in '/' (nginx:
				 * 409 without). */
				url = url_of(n, seq, dir);
				rc = url && strlen(url) + 1 < OFFSITE_URL_MAX ?
				     mkcol(x, strcat(url, "/"), err, errlen) :
				     -1;
				free(url);
			}
			*slash = '/';
		}
		if ((slash = strrchr(dir, '/'))) {
			*slash = '\0';
			snprintf(last, sizeof(last), "%s", dir);
		}
		free(dir);
	}
	return rc;
}

static int put_image_file(struct xfer *x, const struct names *n,
			  uint64_t seq, int imgfd, const char *path,
			  char *err, size_t errlen)
{
	struct stat st;
	char *url;
	int fd, rc;

	fd = manifest_open_file(imgfd, path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		errprintf(err, errlen, errno, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!(url = url_of(n, seq, path))) {
		close(fd);
		return errprintf(err, errlen, errno, "%s: URL too long", path);
	}
	rc = put_fd(x, url, fd, (uint64_t)st.st_size, err, errlen);
	free(url);
	return rc;
}

/* The index: read (missing: empty), add seq, keep the newest keep, write
 * it back; the dropped seqs in *dropped (malloc'ed). */
static int update_index(struct xfer *x, const struct names *n, uint64_t seq,
			long keep, uint64_t **dropped, size_t *ndropped,
			char *err, size_t errlen)
{
	uint64_t *seqs = NULL, *grown;
	char *url = url_of(n, 0, OFFSITE_INDEX_NAME), *text = NULL;
	size_t ns = 0;
	int rc = -1;

	*dropped = NULL;
	*ndropped = 0;
	if (!url)
		return -1;
	if (get(x, url, -1, OFFSITE_INDEX_MAX, err, errlen) == 0) {
		if (offsite_index_parse(x->dst, x->dstlen, &seqs, &ns, err,
					errlen) < 0)
			goto out;
	} else if (errno != ENOENT) {
		goto out;
	}
	grown = realloc(seqs, (ns + 1) * sizeof(*seqs));
	*dropped = calloc(ns + 1, sizeof(**dropped));
	if (!grown || !*dropped) {
		free(grown ? grown : seqs);
		seqs = NULL;
		errprintf(err, errlen, ENOMEM, "out of memory");
		goto out;
	}
	seqs = grown;
	offsite_index_add(seqs, &ns, seq, keep, *dropped, ndropped);
	if (!(text = offsite_index_format(seqs, ns)))
		goto out;
	rc = put_mem(x, url, text, strlen(text), err, errlen);
out:
	free(text);
	free(seqs);
	free(url);
	return rc;
}

/* An image no longer listed: its manifest first (so that it reads as
 * incomplete at once), then its files (S3: as its manifest lists them,
 * when that manifest parses strictly: its paths are the store's word,
 * and the store is not trusted more than a user) or its collection
 * (WebDAV). */
static void delete_image(struct xfer *x, const struct names *n, uint64_t seq)
{
	char err[1024], *url = url_of(n, seq, MANIFEST_NAME), *f;
	struct manifest m = { 0 };
	bool listed = false;
	size_t i;

	if (!url)
		return;
	if (offsite_kind == OFFSITE_S3 &&
	    get(x, url, -1, 64 << 20, err, sizeof(err)) == 0) {
		listed = manifest_parse(x->dst, x->dstlen, &m, err,
					sizeof(err)) == 0;
		if (!listed)
			log_msg(LOG_WARNING, "offsite: %s: %s; only the "
				"manifest is deleted", url, err);
	}
	if (simple(x, "DELETE", url, 404, err, sizeof(err)) < 0)
		log_msg(LOG_WARNING, "offsite: %s", err);
	free(url);
	if (offsite_kind != OFFSITE_S3) {
		if ((url = url_of(n, seq, NULL)) &&
		    simple(x, "DELETE", url, 404, err, sizeof(err)) < 0)
			log_msg(LOG_WARNING, "offsite: %s", err);
		free(url);
		return;
	}
	for (i = 0; listed && i < m.nfiles; i++) {
		if (!(f = url_of(n, seq, m.files[i].path)))
			continue;
		if (simple(x, "DELETE", f, 404, err, sizeof(err)) < 0)
			log_msg(LOG_WARNING, "offsite: %s", err);
		free(f);
	}
	manifest_free(&m);
}

/* The parent directory of the image and its last component. */
static int open_image(const char *image, int *basefd, char *err,
		      size_t errlen)
{
	char *copy = strdup(image), *slash;
	int fd = -1;

	*basefd = -1;
	if (!copy || !(slash = strrchr(copy, '/')) || slash == copy) {
		free(copy);
		return errprintf(err, errlen, errno, "bad image path %s",
				 image);
	}
	*slash = '\0';
	*basefd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*basefd >= 0)
		fd = openat(*basefd, slash + 1, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		errprintf(err, errlen, errno, "%s: %s", image, strerror(errno));
	free(copy);
	return fd;
}

static int upload(struct xfer *x, const struct offsite_job *j,
		  const struct names *n, int imgfd, json_t *rep, char *err,
		  size_t errlen)
{
	struct manifest m = { 0 };
	uint64_t *dropped = NULL;
	char *text = NULL, *url = NULL;
	size_t i, nd = 0;
	int rc = -1;

	/* The manifest is read once: what goes to the store is what was
	 * checked here, whatever the user does to the file meanwhile. */
	if (manifest_read(imgfd, &m, err, errlen) < 0)
		return -1;
	if (m.job != j->job || m.step != j->id) {
		errprintf(err, errlen, errno, "the image is of %u.%u", m.job,
			  m.step);
		goto out;
	}
	if (make_collections(x, n, m.seq, &m, err, errlen) < 0)
		goto out;
	for (i = 0; i < m.nfiles; i++)
		if (put_image_file(x, n, m.seq, imgfd, m.files[i].path, err,
				   errlen) < 0)
			goto out;
	/* Last: an image without its manifest is incomplete. */
	if (!(text = manifest_format(&m)) ||
	    !(url = url_of(n, m.seq, MANIFEST_NAME))) {
		errprintf(err, errlen, errno, "%s: %s", MANIFEST_NAME,
			  strerror(errno));
		goto out;
	}
	if (put_mem(x, url, text, strlen(text), err, errlen) < 0 ||
	    update_index(x, n, m.seq, j->keep, &dropped, &nd, err,
			 errlen) < 0)
		goto out;
	for (i = 0; i < nd; i++)
		delete_image(x, n, dropped[i]);
	json_object_set_new(rep, "seq", json_integer((json_int_t)m.seq));
	json_object_set_new(rep, "files", json_integer((json_int_t)m.nfiles));
	json_object_set_new(rep, "bytes",
			    json_integer((json_int_t)manifest_bytes(&m)));
	json_object_set_new(rep, "deleted", json_integer((json_int_t)nd));
	rc = 0;
out:
	free(text);
	free(url);
	free(dropped);
	manifest_free(&m);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Fetch                                                              */

/* Create the directories of path under dirfd (0700) and the file itself
 * (O_EXCL, never through a link).  An fd, or -1. */
static int create_file(int dirfd, const char *path)
{
	char *copy = strdup(path), *c, *slash;
	int fd = dirfd, next, rc = -1;

	if (!copy)
		return -1;
	for (c = copy; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		if (mkdirat(fd, c, 0700) < 0 && errno != EEXIST)
			goto out;
		next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		if (fd != dirfd)
			close(fd);
		fd = next;
		if (fd < 0)
			goto out;
	}
	rc = openat(fd, c, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
out:
	if (fd >= 0 && fd != dirfd)
		close(fd);
	free(copy);
	return rc;
}

static int get_file(struct xfer *x, const char *url, int stagefd,
		    const char *path, char *err, size_t errlen)
{
	int fd = create_file(stagefd, path), rc;

	if (fd < 0)
		return errprintf(err, errlen, errno, "%s: %s", path,
				 strerror(errno));
	rc = get(x, url, fd, 0, err, errlen);
	/* Read-only, and the owner's alone: the store does not keep the
	 * modes the application gave its files. */
	if (rc == 0 && (fsync(fd) < 0 || fchmod(fd, 0400) < 0)) {
		errprintf(err, errlen, errno, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	close(fd);
	return rc;
}

/* The directories of the image read-only (0500) too, deepest first. */
static int seal_dirs(int stagefd, const struct manifest *m)
{
	char *dir, *slash;
	size_t i;
	int rc = 0;

	for (i = m->nfiles; i-- > 0 && rc == 0;) {
		if (!(dir = strdup(m->files[i].path)))
			return -1;
		while (rc == 0 && (slash = strrchr(dir, '/'))) {
			*slash = '\0';
			rc = fchmodat(stagefd, dir, 0500, 0);
		}
		free(dir);
	}
	return rc;
}

/* Does image dir of basefd hold a manifest of this seq?  (Another node
 * of a multi-node step fetched the same image into the shared
 * directory first.) */
static bool same_seq(int basefd, const char *dir, uint64_t seq)
{
	struct manifest m = { 0 };
	char err[256];
	bool same = false;
	int fd = openat(basefd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);

	if (fd < 0)
		return false;
	if (manifest_read(fd, &m, err, sizeof(err)) == 0)
		same = m.seq == seq;
	manifest_free(&m);
	close(fd);
	return same;
}

/* N if there is none, else N.<seq>; already there (of the same seq,
 * fetched by another node of the step) is success. */
static int publish_fetched(int basefd, const struct offsite_job *j,
			   const char *partial, uint64_t seq, char *target,
			   size_t tlen, char *err, size_t errlen)
{
	snprintf(target, tlen, "%s", j->name);
	if (faccessat(basefd, target, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !same_seq(basefd, target, seq))
		snprintf(target, tlen, "%s.%" PRIu64, j->name, seq);
	if (renameat2(basefd, partial, basefd, target, RENAME_NOREPLACE) < 0) {
		if ((errno == EEXIST || errno == ENOTEMPTY) &&
		    same_seq(basefd, target, seq))
			return 1;	/* the caller discards its own copy */
		return errprintf(err, errlen, errno, "%s -> %s: %s", partial,
				 target, strerror(errno));
	}
	if (fsync(basefd) < 0)
		return errprintf(err, errlen, errno, "%s: fsync: %s", j->name,
				 strerror(errno));
	return 0;
}

/* One remote image into N.fetch.partial, checked, then published. */
static int fetch_one(struct xfer *x, const struct offsite_job *j,
		     const struct names *n, int basefd, uint64_t seq,
		     char *target, size_t tlen, char *err, size_t errlen)
{
	char stage[96], partial[128], *url = NULL;
	struct manifest m = { 0 };
	int stagefd, rc = -1;
	size_t i;

	snprintf(stage, sizeof(stage), "%s%s.%u", j->name, FETCH_INFIX,
		 (unsigned)j->nodeid);
	snprintf(partial, sizeof(partial), "%s%s", stage,
		 IMAGE_STAGING_SUFFIX);
	if ((stagefd = image_stage(basefd, stage, err, errlen)) < 0)
		return -1;
	if (!(url = url_of(n, seq, MANIFEST_NAME)) ||
	    get_file(x, url, stagefd, MANIFEST_NAME, err, errlen) < 0 ||
	    manifest_read(stagefd, &m, err, errlen) < 0)
		goto out;
	if (m.job != j->job || m.step != j->id || m.seq != seq) {
		errprintf(err, errlen, errno,
			  "seq %" PRIu64 ": its manifest is of "
			  "%u.%u seq %" PRIu64,
			  seq, m.job, m.step, m.seq);
		goto out;
	}
	for (i = 0; i < m.nfiles; i++) {
		free(url);
		if (!(url = url_of(n, seq, m.files[i].path)) ||
		    get_file(x, url, stagefd, m.files[i].path, err,
			     errlen) < 0)
			goto out;
	}
	if (manifest_verify(stagefd, &m, err, errlen) < 0 ||
	    seal_dirs(stagefd, &m) < 0 || fsync(stagefd) < 0 ||
	    fchmod(stagefd, 0500) < 0)
		goto out;
	rc = publish_fetched(basefd, j, partial, seq, target, tlen, err,
			     errlen);
	if (rc > 0) {		/* another node's copy is in place */
		image_discard(basefd, stage, NULL, 0);
		rc = 0;
	}
out:
	if (rc < 0 && !err[0])
		errprintf(err, errlen, errno, "seq %" PRIu64 ": %s", seq,
			  strerror(errno));
	free(url);
	manifest_free(&m);
	close(stagefd);
	if (rc < 0)
		image_discard(basefd, stage, NULL, 0);
	return rc;
}

static int fetch(struct xfer *x, const struct offsite_job *j,
		 const struct names *n, int basefd, json_t *rep, char *err,
		 size_t errlen)
{
	char *url = url_of(n, 0, OFFSITE_INDEX_NAME), target[96];
	char why[2048] = "", one[1024], line[4400];
	uint64_t *seqs = NULL;
	size_t ns = 0, i;
	int rc = -1;

	if (!url)
		return -1;
	if (get(x, url, -1, OFFSITE_INDEX_MAX, err, errlen) < 0 ||
	    offsite_index_parse(x->dst, x->dstlen, &seqs, &ns, err,
				errlen) < 0)
		goto out;
	for (i = ns; i-- > 0;) {
		one[0] = '\0';
		if (fetch_one(x, j, n, basefd, seqs[i], target,
			      sizeof(target), one, sizeof(one)) == 0)
			break;
		snprintf(why + strlen(why), sizeof(why) - strlen(why), "%s%s",
			 why[0] ? "; " : "", one);
	}
	if (i == (size_t)-1) {
		errprintf(err, errlen, ENOENT,
			  "no complete image of %s in the offsite "
			  "store%s%s",
			  j->name, why[0] ? ": " : "", why);
		goto out;
	}
	free(url);
	url = url_of(n, seqs[i], NULL);
	snprintf(line, sizeof(line), "%s seq=%" PRIu64 " fetched from the "
		 "offsite store %.2048s into %s%s%.1024s", j->label, seqs[i],
		 url ? url : hconf.offsite.url, target,
		 why[0] ? "; skipped: " : "", why);
	image_log(basefd, line);
	snprintf(line, sizeof(line), "%s/%s", j->dir, target);
	json_object_set_new(rep, "seq", json_integer((json_int_t)seqs[i]));
	json_object_set_new(rep, "image", json_string(line));
	rc = 0;
out:
	free(seqs);
	free(url);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The child                                                          */

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
		return fetch(x, j, n, *basefd, rep, err, errlen);
	}
	if ((imgfd = open_image(j->image, basefd, err, errlen)) < 0)
		return -1;
	rc = upload(x, j, n, imgfd, rep, err, errlen);
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
