/* SPDX-License-Identifier: GPL-2.0-or-later */
/* manifest.h - the manifest of a checkpoint image: manifest.json inside
 * the image directory, listing every regular file with size and XXH3-128
 * checksum, plus the image's sequence number, time, job, step, reason. */
#ifndef CKPT_MANIFEST_H
#define CKPT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_FILES 100000
#define MANIFEST_MAX_DEPTH 32

struct manifest_file {
	char *path;		/* relative, '/'-separated, no "." or ".." */
	uint64_t size;
	char xxh3[33];		/* XXH3-128, 32 lower-case hex digits */
};

struct manifest {
	uint64_t seq;
	int64_t time;		/* seconds since the epoch, when committed */
	uint32_t job, step;	/* step CKPT_STEP_BATCH for the batch script */
	char *reason;		/* "periodic", "create", ... */
	char *node;
	size_t nfiles;
	struct manifest_file *files;	/* sorted by path */
	bool process_image;	/* the memory of processes (a checkpoint
				 * method's dump: CRIU, DMTCP, a site
				 * script): sealed for the owner alone; not
				 * in manifest.json */
	struct timespec asked;	/* when the checkpoint was asked for
				 * (CLOCK_MONOTONIC), or zero: the log's
				 * took= counts from there; not in
				 * manifest.json */
};

/* Walk the directory dirfd recursively (openat, O_NOFOLLOW): every
 * regular file except manifest.json and names starting with ".done." is
 * hashed, fsync'ed and made read-only: its write bits (and set-id and
 * sticky bits) are cleared, the other bits the application gave it are
 * kept, and its owner may read it; every directory is fsync'ed and sealed
 * the same way after its contents (its owner may list it).  With
 * m->process_image, group and others lose every right: files are at most
 * 0500, directories 0500.  manifest.json and ".done.*" are
 * special at the top level only (the ".done.*" markers are deleted
 * there); dirfd itself is fsync'ed but left writable for manifest_write
 * (image_commit makes it 0555).  Files already sealed stay sealed when
 * it fails.  A symlink, FIFO, socket or device,
 * more than MANIFEST_MAX_FILES files or deeper than MANIFEST_MAX_DEPTH is
 * an error (EINVAL/E2BIG/ELOOP) naming the path.  Fills m->files/nfiles. */
int manifest_build(int dirfd, struct manifest *m, char *err, size_t errlen);

/* Write manifest.json (mode 0444; 0400 with m->process_image) into dirfd
 * and fsync it and dirfd. */
int manifest_write(int dirfd, const struct manifest *m, char *err,
		   size_t errlen);

/* Read and strictly parse dirfd/manifest.json (unknown keys, bad paths,
 * duplicate paths, bad hex are EINVAL).  At most 64 MiB. */
int manifest_read(int dirfd, struct manifest *m, char *err, size_t errlen);

/* The same for the len bytes of buf (a manifest.json from elsewhere: an
 * offsite store).  Every path is relative, without "." or ".." or an
 * empty component. */
int manifest_parse(const char *buf, size_t len, struct manifest *m,
		   char *err, size_t errlen);

/* m as manifest.json holds it, newline-terminated (malloc'ed), or NULL. */
char *manifest_format(const struct manifest *m);

/* Check every listed file: regular, same size, same XXH3-128; and that
 * no other regular file is present.  0, or -1 EBADMSG with the reason. */
int manifest_verify(int dirfd, const struct manifest *m, char *err,
		    size_t errlen);

/* Open dirfd/path (a manifest path) read-only, component by component,
 * never following a link; the last component must be a regular file.
 * An fd, or -1 with errno. */
int manifest_open_file(int dirfd, const char *path);

/* Read the file path of the manifest m into memory (*buf, NUL-terminated,
 * *len bytes; free() it) through manifest_open_file, and check those very
 * bytes against m: what the caller uses is what was verified, whatever
 * happens to the file afterwards.  At most max bytes (E2BIG); a path not
 * in m is ENOENT; another size or another checksum is EBADMSG. */
int manifest_read_file(int dirfd, const struct manifest *m,
		       const char *path, size_t max, char **buf, size_t *len,
		       char *err, size_t errlen);

/* Sum of the file sizes. */
uint64_t manifest_bytes(const struct manifest *m);
void manifest_free(struct manifest *m);

/* write(2) all of buf, again after EINTR or a short write.  0/-1 errno. */
int manifest_write_all(int fd, const char *buf, size_t len);

#endif
