/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_frame.c - libFuzzer target for the TCP framing of common/proto.c
 * (proto_frame_recv): a 4-byte big-endian length, then that many bytes.
 * scheckpoint and slurmckptd (peer.c) read their answers from another
 * node this way, before anything authenticates them.
 *
 * The input is written into one end of a SOCK_STREAM socketpair, that
 * end is closed, and proto_frame_recv() is called on the other end until
 * it returns anything but 1.  Each call is compared with a model of the
 * framing run over the input.  Properties beyond "no sanitizer report":
 *   - a frame is accepted (1) only when its length prefix is at most
 *     CKPT_FRAME_MAX and that many bytes follow; *buf then holds exactly
 *     those bytes plus a NUL, *len their number;
 *   - a prefix over CKPT_FRAME_MAX is -1 EMSGSIZE, a body cut short by
 *     end of file -1 EPIPE; *buf is NULL whenever nothing was accepted;
 *   - 0 (end of file) only when fewer than 4 bytes were left: none, or a
 *     length prefix cut short (which proto_frame_recv reports as end of
 *     file, not as an error);
 *   - no call reads past its frame: after each call the bytes still
 *     queued on the socket (FIONREAD) are what the model leaves;
 *   - no leak (LeakSanitizer), and both descriptors are closed. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bytes still queued on fd. */
static size_t queued(int fd)
{
	int n = -1;

	if (ioctl(fd, FIONREAD, &n) < 0 || n < 0)
		abort();
	return (size_t)n;
}

/* One call of proto_frame_recv against the model, with rem = size - off
 * bytes of the input left.  Returns the bytes it consumed when a frame
 * was accepted, else 0 (the caller stops: so do proto_frame_recv's
 * callers after anything but 1). */
static size_t one_call(int fd, const uint8_t *p, size_t rem, int *more)
{
	static char dummy;
	char *buf = &dummy;	/* must be replaced, by NULL or a frame */
	size_t len = 0, n;
	int rc;

	errno = 0;
	rc = proto_frame_recv(fd, &buf, &len);
	*more = 0;
	if (rem < 4) {
		/* Nothing, or a length prefix cut short: end of file. */
		if (rc != 0 || buf || queued(fd) != 0)
			abort();
		return 0;
	}
	n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (n > CKPT_FRAME_MAX) {
		/* Only the prefix was read. */
		if (rc != -1 || errno != EMSGSIZE || buf ||
		    queued(fd) != rem - 4)
			abort();
		return 0;
	}
	if (rem - 4 < n) {
		if (rc != -1 || errno != EPIPE || buf || queued(fd) != 0)
			abort();
		return 0;
	}
	if (rc != 1 || !buf || len != n || memcmp(buf, p + 4, n) != 0 ||
	    buf[n] != '\0' || queued(fd) != rem - 4 - n)
		abort();
	free(buf);
	*more = 1;
	return 4 + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2], more = 1, sndbuf = 1 << 20;
	size_t off = 0;
	ssize_t w;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	w = size ? send(sv[1], data, size, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
	if (w < 0 || (size_t)w != size) {
		/* More than the socket holds (not with run.sh's -max_len):
		 * the model needs all of it written before the first read. */
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	if (close(sv[1]) < 0)
		abort();
	while (more)
		off += one_call(sv[0], data + off, size - off, &more);
	if (close(sv[0]) < 0)
		abort();
	return 0;
}
