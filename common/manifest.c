/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manifest.c - build, write, read and verify an image's manifest.json.
 *
 * Every file is reached with openat(O_NOFOLLOW) from the image directory,
 * so a symbolic link (at any level) is never followed.  Only the top
 * level of an image holds manifest.json and the ".done.<task>"
 * acknowledgement markers; in subdirectories those names are data. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <xxhash.h>
#if defined(HAVE_XXH_X86DISPATCH_H) && defined(__x86_64__)
/* libxxhash's run-time choice of SSE2/AVX2/AVX512 for XXH3, as xxhsum
 * makes it; the plain entry points are the SSE2 code on x86-64. */
#include <xxh_x86dispatch.h>
#endif

#include "errbuf.h"
#include "manifest.h"

#define MANIFEST_READ_MAX (64L << 20)
#define DONE_PREFIX ".done."
#define HASH_CHUNK (1024 * 1024)	/* fewer read(2)s on big files */
#define OPEN_FILE (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

struct walk {
	struct manifest_file *files;
	size_t n, alloc;
	mode_t keep;		/* the mode bits a seal keeps */
	const struct manifest *m;	/* verify: the manifest to match */
	char *err;
	size_t errlen;
};

static bool is_marker(const char *name, bool top)
{
	return top && (strcmp(name, MANIFEST_NAME) == 0 ||
		       strncmp(name, DONE_PREFIX, strlen(DONE_PREFIX)) == 0);
}

static char *join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s%s%s", dir, *dir ? "/" : "", name) < 0)
		return NULL;
	return p;
}

static int cmp_files(const void *a, const void *b)
{
	const struct manifest_file *fa = a, *fb = b;

	return strcmp(fa->path, fb->path);
}

static void free_files(struct manifest_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(files[i].path);
	free(files);
}

/* Hash fd from its current offset to EOF: XXH3-128 as 32 hex digits,
 * high 64 bits first. */
static int hash_fd(int fd, char hex[33], uint64_t *size)
{
	XXH3_state_t *st;
	XXH128_hash_t h;
	char *buf = NULL;
	ssize_t n;
	int rc = -1;

	*size = 0;
	st = XXH3_createState();
	buf = malloc(HASH_CHUNK);
	if (!st || !buf || XXH3_128bits_reset(st) != XXH_OK) {
		errno = ENOMEM;
		goto out;
	}
	while ((n = read(fd, buf, HASH_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (XXH3_128bits_update(st, buf, (size_t)n) != XXH_OK) {
			errno = EIO;
			goto out;
		}
		*size += (uint64_t)n;
	}
	h = XXH3_128bits_digest(st);
	snprintf(hex, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	rc = 0;
out:
	free(buf);
	XXH3_freeState(st);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Build                                                              */

static int add_file(struct walk *w, char *path, uint64_t size,
		    const char *hex)
{
	struct manifest_file *nf;
	size_t na;

	if (w->n >= MANIFEST_MAX_FILES)
		return errprintf(w->err, w->errlen, E2BIG, "%s: more than %d "
			      "files in the image", path, MANIFEST_MAX_FILES);
	if (w->n == w->alloc) {
		na = w->alloc ? w->alloc * 2 : 64;
		nf = reallocarray(w->files, na, sizeof(*nf));
		if (!nf)
			return -1;
		w->files = nf;
		w->alloc = na;
	}
	w->files[w->n].path = path;
	w->files[w->n].size = size;
	memcpy(w->files[w->n].xxh3, hex, 33);
	w->n++;
	return 0;
}

/* Open dirfd/name, which fstatat() said is like *st, and check that the
 * object opened is the same one (no swap in between). */
static int open_same(int dirfd, const char *name, int flags,
		     const struct stat *st, const char *path, struct walk *w)
{
	struct stat st2;
	int fd;

	fd = openat(dirfd, name, flags);
	if (fd < 0)
		return errsys(w->err, w->errlen, "open", path);
	if (fstat(fd, &st2) < 0) {
		errsys(w->err, w->errlen, "stat", path);
		close(fd);
		return -1;
	}
	if (st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		close(fd);
		return errprintf(w->err, w->errlen, EAGAIN,
			      "%s: changed while the image was built", path);
	}
	return fd;
}

static int build_file(int dirfd, const char *name, char *path,
		      const struct stat *st, struct walk *w)
{
	char hex[33];
	uint64_t size;
	int fd, rc = -1;

	fd = open_same(dirfd, name, OPEN_FILE, st, path, w);
	if (fd < 0)
		goto out;
	if (hash_fd(fd, hex, &size) < 0) {
		errsys(w->err, w->errlen, "read", path);
		goto out;
	}
	if (fchmod(fd, (st->st_mode & w->keep) | 0400) < 0 || fsync(fd) < 0) {
		errsys(w->err, w->errlen, "chmod/fsync", path);
		goto out;
	}
	if (add_file(w, path, size, hex) < 0)
		goto out;
	path = NULL;		/* owned by w now */
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

static int build_dir(int dirfd, const char *path, int depth, struct walk *w);

static int build_subdir(int dirfd, const char *name, char *path,
			const struct stat *st, int depth, struct walk *w)
{
	int fd, rc = -1;

	if (depth + 1 > MANIFEST_MAX_DEPTH) {
		errprintf(w->err, w->errlen, ELOOP, "%s: deeper than %d "
		       "directories", path, MANIFEST_MAX_DEPTH);
		free(path);
		return -1;
	}
	fd = open_same(dirfd, name, OPEN_DIR, st, path, w);
	if (fd < 0)
		goto out;
	if (build_dir(fd, path, depth + 1, w) < 0)
		goto out;
	if (fchmod(fd, (st->st_mode & w->keep) | 0500) < 0 || fsync(fd) < 0) {
		errsys(w->err, w->errlen, "chmod/fsync", path);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* One directory entry of the walk. */
static int build_entry(int dirfd, const char *dpath, const char *name,
		       int depth, struct walk *w)
{
	struct stat st;
	char *path;

	if (depth == 0 && strncmp(name, DONE_PREFIX, strlen(DONE_PREFIX)) == 0)
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ?
		       errsys(w->err, w->errlen, "remove", name) : 0;
	if (is_marker(name, depth == 0))
		return 0;
	path = join(dpath, name);
	if (!path)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		errsys(w->err, w->errlen, "stat", path);
		free(path);
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return build_subdir(dirfd, name, path, &st, depth, w);
	if (S_ISREG(st.st_mode))
		return build_file(dirfd, name, path, &st, w);
	errprintf(w->err, w->errlen, EINVAL, "%s: %s (only regular files and "
	       "directories are allowed)", path, S_ISLNK(st.st_mode) ?
	       "is a symbolic link" : "is not a regular file");
	free(path);
	return -1;
}

/* Call fn for each entry of dirfd (except "." and ".."). */
static int for_each_entry(int dirfd, const char *dpath, int depth,
			  struct walk *w,
			  int (*fn)(int, const char *, const char *, int,
				    struct walk *))
{
	struct dirent *de;
	DIR *d;
	int fd, rc = -1;

	fd = dup(dirfd);
	if (fd < 0)
		return errsys(w->err, w->errlen, "dup", dpath);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return errsys(w->err, w->errlen, "opendir", dpath);
	}
	rewinddir(d);
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fn(dirfd, dpath, de->d_name, depth, w) < 0)
			goto out;
	}
	if (errno) {
		errsys(w->err, w->errlen, "readdir", *dpath ? dpath : ".");
		goto out;
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

static int build_dir(int dirfd, const char *path, int depth, struct walk *w)
{
	return for_each_entry(dirfd, path, depth, w, build_entry);
}

int manifest_build(int dirfd, struct manifest *m, char *err, size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };

	if (!m) {
		errno = EINVAL;
		return -1;
	}
	/* Write bits go (and set-id, sticky); what else the application
	 * chose stays, unless the image is a process's memory. */
	w.keep = m->process_image ? 0500 : 0555;
	if (build_dir(dirfd, "", 0, &w) < 0)
		goto error;
	if (fsync(dirfd) < 0) {
		errsys(err, errlen, "fsync", "image directory");
		goto error;
	}
	if (w.n)
		qsort(w.files, w.n, sizeof(*w.files), cmp_files);
	free_files(m->files, m->nfiles);
	m->files = w.files;
	m->nfiles = w.n;
	return 0;
error:
	free_files(w.files, w.n);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Write                                                              */

static json_t *files_json(const struct manifest *m)
{
	json_t *a, *o;
	size_t i;

	a = json_array();
	for (i = 0; a && i < m->nfiles; i++) {
		o = json_pack("{s:s, s:I, s:s}", "path", m->files[i].path,
			      "size", (json_int_t)m->files[i].size,
			      "xxh3", m->files[i].xxh3);
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

char *manifest_format(const struct manifest *m)
{
	json_t *o, *files;
	char *s, *nl = NULL;

	files = files_json(m);
	if (!files)
		return NULL;
	o = json_pack("{s:i, s:I, s:I, s:I, s:I, s:s, s:s, s:o}",
		      "version", MANIFEST_VERSION, "seq", (json_int_t)m->seq,
		      "time", (json_int_t)m->time, "job", (json_int_t)m->job,
		      "step", (json_int_t)m->step, "reason", m->reason,
		      "node", m->node, "files", files);
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s && asprintf(&nl, "%s\n", s) < 0)
		nl = NULL;
	free(s);
	return nl;
}

int manifest_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool manifest_ok(const struct manifest *m)
{
	size_t i;

	if (!m->reason || !*m->reason || !m->node || !*m->node ||
	    m->seq > INT64_MAX || m->time < 0 || (m->nfiles && !m->files))
		return false;
	for (i = 0; i < m->nfiles; i++)
		if (m->files[i].size > INT64_MAX)
			return false;
	return true;
}

int manifest_write(int dirfd, const struct manifest *m, char *err,
		   size_t errlen)
{
	char *s = NULL;
	int fd = -1, rc = -1;
	mode_t mode;

	if (!m || !manifest_ok(m))
		return errprintf(err, errlen, EINVAL, "incomplete manifest");
	s = manifest_format(m);
	if (!s) {
		errprintf(err, errlen, ENOMEM, "cannot encode the manifest");
		goto out;
	}
	if (unlinkat(dirfd, MANIFEST_NAME, 0) < 0 && errno != ENOENT) {
		errsys(err, errlen, "remove", MANIFEST_NAME);
		goto out;
	}
	mode = m->process_image ? 0400 : 0444;
	fd = openat(dirfd, MANIFEST_NAME, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) < 0 ||
	    manifest_write_all(fd, s, strlen(s)) < 0 ||
	    fsync(fd) < 0 || fsync(dirfd) < 0) {
		errsys(err, errlen, "write", MANIFEST_NAME);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = errsys(err, errlen, "close", MANIFEST_NAME);
	free(s);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Read                                                               */

/* Read dirfd/manifest.json into a malloc'ed buffer, at most the limit. */
static char *slurp(int dirfd, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = openat(dirfd, MANIFEST_NAME, OPEN_FILE);
	if (fd < 0 || fstat(fd, &st) < 0) {
		errsys(err, errlen, "open", MANIFEST_NAME);
		goto error;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MANIFEST_READ_MAX) {
		errprintf(err, errlen, EFBIG, "%s: not a regular file of at most "
		       "%ld bytes", MANIFEST_NAME, MANIFEST_READ_MAX);
		goto error;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		goto error;
	while (got <= (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errsys(err, errlen, "read", MANIFEST_NAME);
			goto error;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		errprintf(err, errlen, EBADMSG, "%s: changed while read",
		       MANIFEST_NAME);
		goto error;
	}
	close(fd);
	*len = got;
	return buf;
error:
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* A relative path of good components, not deeper than the walk goes. */
static bool path_ok(const char *p)
{
	const char *c = p, *slash;
	size_t len, depth = 0;

	if (!*p || *p == '/' || strlen(p) >= PATH_MAX)
		return false;
	for (;; c = slash + 1, depth++) {
		slash = strchr(c, '/');
		len = slash ? (size_t)(slash - c) : strlen(c);
		if (len == 0 || len > NAME_MAX || (c[0] == '.' && (len == 1 ||
		    (len == 2 && c[1] == '.'))) || depth > MANIFEST_MAX_DEPTH)
			return false;
		if (!slash)
			break;
	}
	return !is_marker(p, depth == 0);
}

static bool hex_ok(const char *h)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		      (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return h[32] == '\0';
}

static int read_file_entry(json_t *o, size_t i, struct manifest_file *f,
			   char *err, size_t errlen)
{
	json_error_t je;
	const char *path, *hex;
	json_int_t size;

	if (json_unpack_ex(o, &je, 0, "{s:s, s:I, s:s !}", "path", &path,
			   "size", &size, "xxh3", &hex) < 0)
		return errprintf(err, errlen, EINVAL, "%s: files[%zu]: %s",
			      MANIFEST_NAME, i, je.text);
	if (!path_ok(path) || size < 0 || !hex_ok(hex))
		return errprintf(err, errlen, EINVAL, "%s: files[%zu]: invalid "
			      "path '%s', size or xxh3 '%s'", MANIFEST_NAME,
			      i, path, hex);
	f->path = strdup(path);
	if (!f->path)
		return -1;
	f->size = (uint64_t)size;
	memcpy(f->xxh3, hex, 33);
	return 0;
}

/* Sorted files: no duplicate, no file that is also a directory. */
static int check_unique(const struct manifest *m, char *err, size_t errlen)
{
	struct manifest_file key;
	char *slash;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < m->nfiles; i++) {
		if (i > 0 &&
		    strcmp(m->files[i - 1].path, m->files[i].path) == 0)
			return errprintf(err, errlen, EINVAL, "%s: '%s' listed "
				      "twice", MANIFEST_NAME, m->files[i].path);
		key.path = strdup(m->files[i].path);
		if (!key.path)
			return -1;
		while (rc == 0 && (slash = strrchr(key.path, '/'))) {
			*slash = '\0';
			if (bsearch(&key, m->files, m->nfiles, sizeof(key),
				    cmp_files))
				rc = errprintf(err, errlen, EINVAL, "%s: '%s' is "
					    "both a file and a directory",
					    MANIFEST_NAME, key.path);
		}
		free(key.path);
	}
	return rc;
}

static int read_files(json_t *a, struct manifest *m, char *err,
		      size_t errlen)
{
	size_t i, n = json_array_size(a);

	if (!json_is_array(a) || n > MANIFEST_MAX_FILES)
		return errprintf(err, errlen, EINVAL, "%s: 'files' must be an "
			      "array of at most %d entries", MANIFEST_NAME,
			      MANIFEST_MAX_FILES);
	m->files = calloc(n ? n : 1, sizeof(*m->files));
	if (!m->files)
		return -1;
	for (i = 0; i < n; i++) {
		if (read_file_entry(json_array_get(a, i), i, &m->files[i],
				    err, errlen) < 0)
			return -1;
		m->nfiles++;
	}
	qsort(m->files, m->nfiles, sizeof(*m->files), cmp_files);
	return check_unique(m, err, errlen);
}

static int parse_manifest(json_t *o, struct manifest *m, char *err,
			  size_t errlen)
{
	json_error_t je;
	json_int_t version, seq, time, job, step;
	const char *reason, *node;
	json_t *files;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:I, s:I, s:I, s:I, s:s, s:s, "
			   "s:o !}", "version", &version, "seq", &seq,
			   "time", &time, "job", &job, "step", &step,
			   "reason", &reason, "node", &node, "files",
			   &files) < 0)
		return errprintf(err, errlen, EINVAL, "%s: %s", MANIFEST_NAME,
			      je.text);
	if (version != MANIFEST_VERSION || seq < 0 || time < 0 || job < 0 ||
	    job > UINT32_MAX || step < 0 || step > UINT32_MAX || !*reason ||
	    !*node)
		return errprintf(err, errlen, EINVAL, "%s: invalid version, seq, "
			      "time, job, step, reason or node", MANIFEST_NAME);
	m->seq = (uint64_t)seq;
	m->time = time;
	m->job = (uint32_t)job;
	m->step = (uint32_t)step;
	m->reason = strdup(reason);
	m->node = strdup(node);
	if (!m->reason || !m->node)
		return -1;
	return read_files(files, m, err, errlen);
}

int manifest_read(int dirfd, struct manifest *m, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int rc, saved;

	if (!m) {
		errno = EINVAL;
		return -1;
	}
	buf = slurp(dirfd, &len, err, errlen);
	if (!buf)
		return -1;
	rc = manifest_parse(buf, len, m, err, errlen);
	saved = errno;
	free(buf);
	errno = saved;
	return rc;
}

int manifest_parse(const char *buf, size_t len, struct manifest *m,
		   char *err, size_t errlen)
{
	struct manifest t = { 0 };
	json_error_t je;
	json_t *o = NULL;
	int rc = -1, saved;

	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		errprintf(err, errlen, EINVAL, "%s: line %d: %s", MANIFEST_NAME,
		       je.line, je.text);
		goto out;
	}
	if (parse_manifest(o, &t, err, errlen) < 0)
		goto out;
	*m = t;
	rc = 0;
out:
	saved = errno;
	if (rc < 0)
		manifest_free(&t);
	json_decref(o);
	errno = saved;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Verify                                                             */

int manifest_open_file(int dirfd, const char *path)
{
	char *copy, *c, *slash;
	struct stat st;
	int fd = dirfd, next, rc = -1;

	copy = strdup(path);
	if (!copy)
		return -1;
	for (c = copy; (slash = strchr(c, '/')); c = slash + 1) {
		*slash = '\0';
		next = openat(fd, c, OPEN_DIR);
		if (fd != dirfd)
			close(fd);
		fd = next;
		if (fd < 0)
			goto out;
	}
	if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	rc = openat(fd, c, OPEN_FILE);
out:
	if (fd >= 0 && fd != dirfd)
		close(fd);
	free(copy);
	return rc;
}

static int verify_file(int dirfd, const struct manifest_file *f, char *err,
		       size_t errlen)
{
	char hex[33];
	uint64_t size;
	int fd, rc = -1;

	fd = manifest_open_file(dirfd, f->path);
	if (fd < 0)
		return errprintf(err, errlen, errno == ENOMEM ? ENOMEM : EBADMSG,
			      "%s: %s", f->path, errno == EINVAL ?
			      "not a regular file" : strerror(errno));
	if (hash_fd(fd, hex, &size) < 0) {
		errprintf(err, errlen, EBADMSG, "%s: %s", f->path,
		       strerror(errno));
		goto out;
	}
	if (size != f->size) {
		errprintf(err, errlen, EBADMSG, "%s: size %llu, the manifest says "
		       "%llu", f->path, (unsigned long long)size,
		       (unsigned long long)f->size);
		goto out;
	}
	if (strcmp(hex, f->xxh3) != 0) {
		errprintf(err, errlen, EBADMSG, "%s: checksum mismatch", f->path);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int verify_dir(int dirfd, const char *path, int depth, struct walk *w);

/* An entry present on disk must be a directory or a listed file. */
static int verify_entry(int dirfd, const char *dpath, const char *name,
			int depth, struct walk *w)
{
	struct manifest_file key;
	struct stat st;
	int fd, rc = -1;

	if (is_marker(name, depth == 0))
		return 0;
	key.path = join(dpath, name);
	if (!key.path)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		errprintf(w->err, w->errlen, EBADMSG, "%s: %s", key.path,
		       strerror(errno));
	} else if (S_ISREG(st.st_mode)) {
		if (w->m->nfiles && bsearch(&key, w->m->files, w->m->nfiles,
					    sizeof(key), cmp_files))
			rc = 0;
		else
			errprintf(w->err, w->errlen, EBADMSG, "%s: not listed in "
			       "the manifest", key.path);
	} else if (!S_ISDIR(st.st_mode) || depth + 1 > MANIFEST_MAX_DEPTH) {
		errprintf(w->err, w->errlen, EBADMSG, "%s: unexpected %s",
		       key.path, S_ISDIR(st.st_mode) ? "depth" : "file type");
	} else if ((fd = openat(dirfd, name, OPEN_DIR)) < 0) {
		errprintf(w->err, w->errlen, EBADMSG, "%s: %s", key.path,
		       strerror(errno));
	} else {
		rc = verify_dir(fd, key.path, depth + 1, w);
		close(fd);
	}
	free(key.path);
	return rc;
}

static int verify_dir(int dirfd, const char *path, int depth, struct walk *w)
{
	return for_each_entry(dirfd, path, depth, w, verify_entry);
}

int manifest_verify(int dirfd, const struct manifest *m, char *err,
		    size_t errlen)
{
	struct walk w = { .m = m, .err = err, .errlen = errlen };
	size_t i;

	if (!m || (m->nfiles && !m->files)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < m->nfiles; i++)
		if (verify_file(dirfd, &m->files[i], err, errlen) < 0)
			return -1;
	if (verify_dir(dirfd, "", 0, &w) < 0) {
		if (errno != ENOMEM)
			errno = EBADMSG;
		return -1;
	}
	return 0;
}

int manifest_read_file(int dirfd, const struct manifest *m,
		       const char *path, size_t max, char **buf, size_t *len,
		       char *err, size_t errlen)
{
	const struct manifest_file *f = NULL;
	XXH128_hash_t h;
	char hex[33], *b = NULL;
	size_t i, got = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	*len = 0;
	for (i = 0; i < m->nfiles && !f; i++)
		if (strcmp(m->files[i].path, path) == 0)
			f = &m->files[i];
	if (!f)
		return errprintf(err, errlen, ENOENT, "%s: not in the "
				 "manifest", path);
	if (f->size > max)
		return errprintf(err, errlen, E2BIG, "%s: %llu bytes, more "
				 "than %zu", path,
				 (unsigned long long)f->size, max);
	if ((fd = manifest_open_file(dirfd, path)) < 0)
		return errsys(err, errlen, "open", path);
	/* One byte more than listed, to see a file that grew. */
	if (!(b = malloc((size_t)f->size + 2))) {
		close(fd);
		return errprintf(err, errlen, ENOMEM, "out of memory");
	}
	while (got <= f->size &&
	       ((n = read(fd, b + got, (size_t)f->size + 1 - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	if (got <= f->size && n < 0) {
		errsys(err, errlen, "read", path);
		goto fail;
	}
	close(fd);
	fd = -1;
	h = XXH3_128bits(b, got);
	snprintf(hex, sizeof(hex), "%016llx%016llx",
		 (unsigned long long)h.high64, (unsigned long long)h.low64);
	if (got != f->size || strcmp(hex, f->xxh3) != 0) {
		errprintf(err, errlen, EBADMSG, "%s: %s", path,
			  got != f->size ? "size mismatch" :
			  "checksum mismatch");
		goto fail;
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(b);
	return -1;
}

uint64_t manifest_bytes(const struct manifest *m)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; m && i < m->nfiles; i++)
		sum += m->files[i].size;
	return sum;
}

void manifest_free(struct manifest *m)
{
	if (!m)
		return;
	free_files(m->files, m->nfiles);
	free(m->reason);
	free(m->node);
	memset(m, 0, sizeof(*m));
}
