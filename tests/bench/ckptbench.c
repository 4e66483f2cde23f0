/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ckptbench.c - time the project's own commit and verification code
 * (common/image.c, common/manifest.c) beside the floor they cannot beat.
 * Built by `make bench`; driven by tests/bench/run.sh.
 *
 *   ckptbench commit <dir> <bytes>
 *     In <dir> (created), twice, with the same amount of freshly written,
 *     not yet synced data (what a task leaves when it signals "done"):
 *       commit: image_stage, write <bytes> into one file, then time
 *               image_commit (hash with XXH3-128 + fsync + chmod +
 *               manifest.json + rename + fsync of the directory);
 *       floor:  write <bytes> into a file, then time fsync + rename +
 *               fsync of the directory (the least an atomic commit costs).
 *     Then, warm cache, time image_find_newest (manifest_read +
 *     manifest_verify: what a restart does) on the committed image.
 *     Prints "commit_s=.. floor_s=.. verify_s=.. image=<path>".
 *   ckptbench verify <dir> <name>
 *     Time image_find_newest on an existing image; prints "verify_s=..".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "manifest.h"

#define CHUNK (4u << 20)
#define NAME "1.0.ckpt"

static double now(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_MONOTONIC, &t) < 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "ckptbench: %s: %s\n", what, msg);
	exit(1);
}

/* Write <bytes> of varied data (not zeros: no filesystem shortcut) to
 * dirfd/name and close it, unsynced. */
static void write_file(int dirfd, const char *name, uint64_t bytes,
		       unsigned char *buf)
{
	uint64_t done = 0;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0600);
	if (fd < 0)
		die(name, strerror(errno));
	while (done < bytes) {
		size_t n = bytes - done < CHUNK ? (size_t)(bytes - done) : CHUNK;
		ssize_t w;

		buf[0] = (unsigned char)(done >> 22);	/* each chunk differs */
		w = write(fd, buf, n);
		if (w <= 0)
			die(name, w < 0 ? strerror(errno) : "short write");
		done += (uint64_t)w;
	}
	if (close(fd) < 0)
		die(name, strerror(errno));
}

static double time_commit(int basefd, uint64_t bytes, unsigned char *buf)
{
	struct manifest m = { 0 };
	char err[512];
	double t0;
	int fd;

	fd = image_stage(basefd, NAME, err, sizeof(err));
	if (fd < 0)
		die("image_stage", err);
	write_file(fd, "data", bytes, buf);
	close(fd);
	m.seq = image_next_seq(basefd, NAME);
	m.job = 1;
	m.step = 0;
	m.reason = strdup("bench");
	m.node = strdup("bench");
	if (!m.reason || !m.node)
		die("strdup", strerror(errno));
	t0 = now();
	if (image_commit(basefd, NAME, &m, 1, err, sizeof(err)) < 0)
		die("image_commit", err);
	t0 = now() - t0;
	manifest_free(&m);
	return t0;
}

static double time_floor(int basefd, uint64_t bytes, unsigned char *buf)
{
	double t0;
	int fd;

	write_file(basefd, "floor.tmp", bytes, buf);
	t0 = now();
	fd = openat(basefd, "floor.tmp", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0 || close(fd) < 0)
		die("floor fsync", strerror(errno));
	if (renameat(basefd, "floor.tmp", basefd, "floor") < 0 ||
	    fsync(basefd) < 0)
		die("floor rename", strerror(errno));
	t0 = now() - t0;
	if (unlinkat(basefd, "floor", 0) < 0)
		die("floor unlink", strerror(errno));
	return t0;
}

static double time_verify(int basefd, const char *name)
{
	struct manifest m = { 0 };
	char out[256], skipped[1024] = "";
	double t0;

	t0 = now();
	if (image_find_newest(basefd, name, out, sizeof(out), &m, skipped,
			      sizeof(skipped)) < 0)
		die("image_find_newest", skipped[0] ? skipped : "no image");
	t0 = now() - t0;
	manifest_free(&m);
	return t0;
}

static int open_base(const char *dir)
{
	char err[512];
	int fd = image_open_base(dir, err, sizeof(err));

	if (fd < 0)
		die(dir, err);
	return fd;
}

static uint64_t parse_bytes(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0)
		die(s, "not a positive number of bytes");
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	unsigned char *buf;
	double c, f, v;
	int basefd;
	size_t i;

	if (argc == 4 && !strcmp(argv[1], "verify")) {
		basefd = open_base(argv[2]);
		printf("verify_s=%.6f\n", time_verify(basefd, argv[3]));
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "commit")) {
		fprintf(stderr, "usage: ckptbench commit <dir> <bytes>\n"
			"       ckptbench verify <dir> <image-name>\n");
		return 2;
	}
	buf = malloc(CHUNK);
	if (!buf)
		die("malloc", strerror(errno));
	for (i = 0; i < CHUNK; i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	basefd = open_base(argv[2]);
	c = time_commit(basefd, parse_bytes(argv[3]), buf);
	f = time_floor(basefd, parse_bytes(argv[3]), buf);
	v = time_verify(basefd, NAME);
	printf("commit_s=%.6f floor_s=%.6f verify_s=%.6f image=%s/%s\n",
	       c, f, v, argv[2], NAME);
	free(buf);
	close(basefd);
	return 0;
}
