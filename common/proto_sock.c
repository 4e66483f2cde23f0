/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proto_sock.c - the sockets that carry wire messages (proto.c): one
 * strict JSON object per SOCK_SEQPACKET packet, with at most one file
 * descriptor in SCM_RIGHTS; and the length-prefixed frames of the TCP
 * port. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "errbuf.h"
#include "proto.h"

#define MAX_FDS 16		/* room to see (and close) extra fds */

/* ------------------------------------------------------------------ */
/* Sockets                                                            */

long proto_port_of(const char *map, const char *node)
{
	size_t n = strlen(node);
	const char *p = map;
	char *end;
	long v;

	if (!map)
		return 0;
	v = strtol(map, &end, 10);
	if (end != map && *end == '\0')
		return v > 0 && v < 65536 ? v : 0;
	while (p && *p) {
		if (strncmp(p, node, n) == 0 && p[n] == ':') {
			v = strtol(p + n + 1, &end, 10);
			if (end != p + n + 1 && (*end == ',' || !*end) &&
			    v > 0 && v < 65536)
				return v;
			return 0;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

int proto_connect(const char *path, int timeout_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	struct ucred peer;
	socklen_t plen = sizeof(peer);
	int fd, saved;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((timeout_s > 0 &&
	     (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &plen) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	/* slurmckptd runs as root: a socket another user listens on (in a
	 * directory they could write) is theirs, and so would its replies be. */
	if (peer.uid != 0 && peer.uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int proto_send(int fd, const struct ckpt_msg *m, int passfd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { 0 };
	struct iovec iov;
	struct cmsghdr *cm;
	char *s;
	ssize_t n;
	int saved;

	s = proto_encode(m);
	if (!s)
		return -1;
	iov.iov_base = s;
	iov.iov_len = strlen(s);
	if (iov.iov_len > CKPT_MSG_MAX) {
		free(s);
		errno = EMSGSIZE;
		return -1;
	}
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (passfd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &passfd, sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	saved = errno;
	free(s);
	errno = saved;
	return n < 0 ? -1 : 0;
}

/* Collect the fds of SCM_RIGHTS messages: the first into *got, the others
 * closed.  Returns how many came. */
static int take_fds(struct msghdr *mh, int *got)
{
	struct cmsghdr *cm;
	int fd, count = 0;
	size_t i, nfds;

	*got = -1;
	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
			       sizeof(int));
			if (count++ == 0)
				*got = fd;
			else
				close(fd);
		}
	}
	return count;
}

static ssize_t recv_packet(int fd, char *buf, int *got)
{
	union {
		char buf[CMSG_SPACE(MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = CKPT_MSG_MAX };
	ssize_t n;

	*got = -1;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	do {
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	take_fds(&mh, got);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*got >= 0)
			close(*got);
		*got = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return n;
}

int proto_recv(int fd, struct ckpt_msg *m, int *passfd, char *err,
	       size_t errlen)
{
	char *buf;
	ssize_t n;
	int got = -1, rc = -1, saved;

	if (!m) {
		errno = EINVAL;
		return -1;
	}
	buf = malloc(CKPT_MSG_MAX);
	if (!buf)
		return -1;
	n = recv_packet(fd, buf, &got);
	if (n < 0) {
		if (errno == EMSGSIZE && err && errlen)
			snprintf(err, errlen, "message larger than %d bytes "
				 "or with too many file descriptors",
				 CKPT_MSG_MAX);
		goto out;
	}
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (proto_decode(buf, (size_t)n, m, err, errlen) < 0)
		goto out;
	rc = 1;
out:
	saved = errno;
	free(buf);
	if (rc == 1 && passfd) {
		*passfd = got;
	} else {
		if (got >= 0)
			close(got);
		if (passfd)
			*passfd = -1;
	}
	errno = saved;
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, char *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

char *proto_frame_pack(const char *buf, size_t len, size_t *outlen)
{
	unsigned char *f;

	if (len > CKPT_FRAME_MAX) {
		errno = EMSGSIZE;
		return NULL;
	}
	if (!(f = malloc(len + 4)))
		return NULL;
	f[0] = (unsigned char)(len >> 24);
	f[1] = (unsigned char)(len >> 16);
	f[2] = (unsigned char)(len >> 8);
	f[3] = (unsigned char)len;
	memcpy(f + 4, buf, len);
	*outlen = len + 4;
	return (char *)f;
}

int proto_frame_send(int fd, const char *buf, size_t len)
{
	size_t n;
	char *f;
	int rc, saved;

	if (!(f = proto_frame_pack(buf, len, &n)))
		return -1;
	rc = write_all(fd, f, n);
	saved = errno;
	free(f);
	errno = saved;
	return rc;
}

int proto_frame_recv(int fd, char **buf, size_t *len)
{
	unsigned char hdr[4];
	size_t n;
	int rc;

	*buf = NULL;
	if ((rc = read_all(fd, (char *)hdr, 4)) <= 0)
		return rc;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (n > CKPT_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (!(*buf = malloc(n + 1)))
		return -1;
	if ((rc = read_all(fd, *buf, n)) <= 0) {
		free(*buf);
		*buf = NULL;
		if (rc == 0)
			errno = EPIPE;
		return -1;
	}
	(*buf)[n] = '\0';
	*len = n;
	return 1;
}

int proto_reply_ok(int fd)
{
	struct ckpt_msg m = { .op = CKPT_OP_REPLY, .ok = 1 };

	return proto_send(fd, &m, -1);
}

int proto_reply_err(int fd, int err, const char *text)
{
	struct ckpt_msg m = { .op = CKPT_OP_REPLY, .ok = 0, .err = err };

	if (err < 1 || err > CKPT_ERRNO_MAX)
		m.err = EIO;

	m.error = (char *)(text ? text : strerror(m.err));
	return proto_send(fd, &m, -1);
}
