/* SPDX-License-Identifier: GPL-2.0-or-later */
/* child_clone.c - starting a child without copying the daemon's
 * descriptors.  With a thousand steps the daemon holds two thousand (a
 * connection and a pidfd each); fork() copies them all and the child
 * closes them all, a fifth of the CPU a checkpoint costs.  Instead the
 * child starts on the daemon's own descriptor table (CLONE_FILES) and at
 * once takes a private copy of only its first slot_end entries
 * (close_range(CLOSE_RANGE_UNSHARE) copies the entries below the range it
 * closes): slots, a few low descriptors reserved at start, of which one
 * holds the end of a socket through which its descriptors were sent
 * before the clone.  The child then closes everything but that socket,
 * receives them, and says so with one byte; until that byte the slot is
 * not reused.  No slot free, too many descriptors for one message, or no
 * clone3: the caller forks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>

#include "child_clone.h"
#include "errbuf.h"
#include "log.h"

#define NSLOTS 32
#define MAX_PASSED 250		/* SCM_MAX_FD is 253 */

static int slot_fd[NSLOTS];	/* its descriptor number */
static int slot_sock[NSLOTS];	/* the daemon's end of the child's socket;
				 * -1: free */
static const void *slot_owner[NSLOTS];
static int placeholder = -1, slot_end;
static unsigned long cloned, forked;

void child_clone_init(void)
{
	int i;

	placeholder = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; placeholder >= 0 && i < NSLOTS; i++) {
		slot_sock[i] = -1;
		if ((slot_fd[i] = fcntl(placeholder, F_DUPFD_CLOEXEC, 3)) < 0)
			break;
		if (slot_fd[i] >= slot_end)
			slot_end = slot_fd[i] + 1;
	}
	if (placeholder < 0 || i < NSLOTS) {
		log_msg(LOG_WARNING, "children are forked with all "
			"descriptors: cannot reserve %d: %s", NSLOTS,
			strerror(errno));
		while (i-- > 0)
			close(slot_fd[i]);
		if (placeholder >= 0)
			close(placeholder);
		placeholder = -1;
	}
}

void child_clone_counts(unsigned long *c, unsigned long *f)
{
	*c = cloned;
	*f = forked;
}

void child_clone_forked(void)
{
	forked++;
}

static void slot_close(int i)
{
	close(slot_fd[i]);
	slot_fd[i] = -1;
}

static void slot_release(int i)
{
	/* The placeholder back in the slot closes the child's socket end;
	 * with no fast path any more, the slot is closed. */
	if (placeholder < 0) {
		slot_close(i);
	} else if (dup3(placeholder, slot_fd[i], O_CLOEXEC) < 0) {
		log_msg(LOG_ERR, "slot %d: dup3: %s", slot_fd[i],
			strerror(errno));
		slot_fd[i] = -1;	/* never used again */
	}
	close(slot_sock[i]);
	slot_sock[i] = -1;
	slot_owner[i] = NULL;
}

void child_clone_release(const void *owner)
{
	int i;

	for (i = 0; i < NSLOTS; i++)
		if (slot_owner[i] == owner && slot_sock[i] >= 0)
			slot_release(i);
}

/* The slots whose child has its own table now. */
static int slot_free(void)
{
	int i, fr = -1;
	char b;

	for (i = 0; i < NSLOTS; i++) {
		if (slot_fd[i] < 0)
			continue;
		if (slot_sock[i] >= 0 &&
		    recv(slot_sock[i], &b, 1, MSG_DONTWAIT) == 1)
			slot_release(i);
		if (slot_sock[i] < 0 && fr < 0)
			fr = i;
	}
	return fr;
}

/* In the child, on the daemon's table: a private one, with only the
 * descriptors sent through slot i. */
static __attribute__((noreturn)) void clone_child(int i, size_t n,
						  child_clone_body body,
						  void *ctx)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED)];
	} u;
	int me = slot_fd[i];
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c;
	char b;

	iov = (struct iovec){ .iov_base = &b, .iov_len = 1 };
	if (close_range((unsigned int)slot_end, ~0U, CLOSE_RANGE_UNSHARE) < 0)
		_exit(1);
	if ((me > 3 && close_range(3, (unsigned int)me - 1, 0) < 0) ||
	    (me + 1 < slot_end &&
	     close_range((unsigned int)me + 1, (unsigned int)slot_end - 1,
			 0) < 0))
		_exit(1);
	if (recvmsg(me, &mh, MSG_CMSG_CLOEXEC) != 1 ||
	    (mh.msg_flags & MSG_CTRUNC) || !(c = CMSG_FIRSTHDR(&mh)) ||
	    c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int) * n))
		_exit(1);
	if (write(me, "u", 1) != 1)
		_exit(1);
	close(me);
	body(ctx, (int *)CMSG_DATA(c), n);
}

int child_clone(const int *fds, size_t n, child_clone_body body, void *ctx,
		const void *owner, pid_t *pid, int *pidfd, char *err,
		size_t errlen)
{
	struct clone_args ca = { .flags = CLONE_FILES | CLONE_PIDFD,
				 .exit_signal = SIGCHLD };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * MAX_PASSED)];
	} u;
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf };
	struct cmsghdr *c;
	int sv[2], i;
	long r;

	if (placeholder < 0 || n < 1 || n > MAX_PASSED ||
	    (i = slot_free()) < 0)
		return 1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return errprintf(err, errlen, errno, "socketpair: %s",
				 strerror(errno));
	memset(&u, 0, sizeof(u));
	mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	if (sendmsg(sv[0], &mh, MSG_NOSIGNAL) != 1 ||
	    dup3(sv[1], slot_fd[i], O_CLOEXEC) < 0) {
		errprintf(err, errlen, errno, "cannot pass descriptors: %s",
			  strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	ca.pidfd = (uint64_t)(uintptr_t)pidfd;
	r = syscall(SYS_clone3, &ca, sizeof(ca));
	if (r == 0)
		clone_child(i, n, body, ctx);
	slot_sock[i] = sv[0];
	if (r < 0 && (errno == EAGAIN || errno == ENOMEM)) {
		/* fork() would fail too: this child fails. */
		errprintf(err, errlen, errno, "clone3: %s", strerror(errno));
		slot_release(i);
		return -1;
	}
	if (r < 0) {
		/* An older kernel (clone3: 5.3) or a filter: fork() from now
		 * on, and the slots not in use are closed (those in use are
		 * when their child ends). */
		log_msg(LOG_WARNING, "clone3: %s: children are forked with "
			"all descriptors", strerror(errno));
		close(placeholder);
		placeholder = -1;
		slot_release(i);
		for (i = 0; i < NSLOTS; i++)
			if (slot_fd[i] >= 0 && slot_sock[i] < 0)
				slot_close(i);
		return 1;
	}
	slot_owner[i] = owner;
	*pid = (pid_t)r;
	cloned++;
	return 0;
}
