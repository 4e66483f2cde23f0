/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer_worker.c - a step over several nodes: one image, committed once, from
 * parts that every node's slurmckptd checkpoints at the same moment.
 *
 * The step's node index 0 is its leader: only there do the periodic
 * timer, deadlines, preemption and scheckpoint's create/vacate/requeue
 * start a checkpoint (periodic.c, jobs.c and server.c skip a follower's
 * step).  The leader's worker
 *   1. as root, before it drops to the user: asks slurmctld for the
 *      step's nodes (in node index order), and for every follower k
 *      seals a PREPARE and an ABORT request in MUNGE credentials of
 *      uid 0;
 *   2. as the user: stages N.partial with node.0 .. node.<n-1> in it,
 *      connects to every follower's slurmckptd (peer_ports=, else
 *      port=) and sends it PREPARE at once, checkpoints its own tasks into
 *      node.0, and waits (max_wait + PEER_GRACE_S) for each follower's
 *      answer;
 *   3. commits N.partial once (one manifest over every part) only when
 *      every part is complete; otherwise sends ABORT to every follower
 *      and fails, and engine_run discards N.partial: the previous
 *      image stays.
 * A follower's slurmckptd answers a PREPARE (tcp.c: MUNGE, root or the
 * SlurmUser only) with a part worker (worker_start_part): as the user it
 * signals its local tasks, waits for their ".done.<task>" in node.<k>
 * within max_wait, removes those markers and fsyncs the part - nothing
 * committed - and the loop answers on the PREPARE's connection: ok, or
 * the error.  An ABORT, or the leader's connection closing first, kills
 * the part worker.  The loop never waits on a peer: the leader's side
 * runs in its worker, the follower's answer is written when its part
 * worker ends.
 *
 * This file is what runs in the workers (the leader's, a follower's
 * part); peer.c is the follower's side in the event loop. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "cooperate.h"
#include "errbuf.h"
#include "image.h"
#include "nodelink.h"
#include "peer_worker.h"
#include "report.h"
#include "run.h"
#include "sched.h"
#include "steps.h"

#define PEER_GRACE_S 15		/* beyond max_wait: a part's fsync, the net */
#define PEER_IO_S 10		/* connect, send, and an ABORT's answer */
#define PART_DEPTH_MAX 64

/* ------------------------------------------------ the leader (worker) */

struct peer {
	char *node;
	int fd;			/* the PREPARE's connection, or -1 */
	char *prepare, *abort;	/* sealed requests */
	bool answered;
	bool gone;		/* its node has no part of the step: its
				 * tasks have ended */
	char err[1024];		/* why this part failed, or "" */
};

/* The requests are sealed as root before the worker drops to the user,
 * and then sit in the memory of a process of the user's (made not dumpable,
 * so not readable by the user: worker.c).  Were one taken anyway, it names this job
 * and step and nothing else, and munged refuses it a second time: the
 * most it could do is start or stop a part of the user's own step. */
static struct peer *peers;	/* [1 .. nnodes-1] */
static uint32_t npeers;
static char lead_err[1024];	/* no part can be asked: why */

static char *seal(const struct step *s, enum ckpt_op op, const char *node,
		  char *err, size_t errlen)
{
	struct ckpt_msg m = { .op = op, .job = s->job, .step = s->id,
			      .to = (char *)node };

	return nodelink_seal(&m, hconf.munge_socket, err, errlen);
}

static int dial(const char *node, char *err, size_t errlen)
{
	long port = proto_port_of(hconf.peer_ports, node);
	char why[512];
	int fd;

	if (!port)
		port = hconf.port;
	if (!port)
		return errprintf(err, errlen, errno,
				 "no slurmckptd port known for it "
				 "(peer_ports=, port=)");
	if ((fd = nodelink_dial(node, port, PEER_IO_S, why, sizeof(why))) < 0)
		errprintf(err, errlen, errno, "slurmckptd at %s", why);
	return fd;
}

void peer_leader_seal(const struct step *s)
{
	char **nodes = NULL, err[512];
	uint32_t k, n = 0;

	sched_init();
	if (sched_step_nodes(s->job, s->id, &nodes, err, sizeof(err)) < 0) {
		snprintf(lead_err, sizeof(lead_err), "the step's nodes: %s",
			 err);
		return;
	}
	while (nodes[n])
		n++;
	if (n != s->nnodes || strcmp(nodes[0], s->node) != 0) {
		snprintf(lead_err, sizeof(lead_err), "slurmctld lists %u "
			 "node(s) for the step, first %s; registered: %u, "
			 "this node %s", n, n ? nodes[0] : "none", s->nnodes,
			 s->node);
		goto out;
	}
	if (!(peers = calloc(n, sizeof(*peers)))) {
		snprintf(lead_err, sizeof(lead_err), "out of memory");
		goto out;
	}
	npeers = n;
	for (k = 1; k < n; k++) {
		struct peer *p = &peers[k];

		p->node = nodes[k];
		nodes[k] = NULL;
		p->fd = -1;
		if (!(p->prepare = seal(s, CKPT_OP_PREPARE, p->node, p->err,
					sizeof(p->err))))
			continue;
		p->abort = seal(s, CKPT_OP_ABORT, p->node, p->err,
				sizeof(p->err));
	}
out:
	/* nodes[k] moved into peers are NULL: free the rest by hand. */
	for (k = 0; k < n; k++)
		free(nodes[k]);
	free(nodes);
}

/* Send a sealed request on fd, and read its answer: 0 ok, -1 with err. */
static int exchange_send(int fd, const char *cred, char *err, size_t errlen)
{
	if (nodelink_send(fd, cred) < 0)
		return errprintf(err, errlen, errno, "send: %s",
				 strerror(errno));
	return 0;
}

/* *gone (when not NULL): the answer is ENOENT, no part of the step
 * there. */
static int exchange_recv(int fd, bool *gone, char *err, size_t errlen)
{
	struct ckpt_msg r;
	int rc;

	if ((rc = nodelink_reply(fd, &r, err, errlen)) <= 0) {
		if (rc == 0)
			errprintf(err, errlen, errno,
				  "its slurmckptd closed the "
				  "connection");
		return -1;
	}
	rc = r.ok ? 0 : -1;
	if (!r.ok)
		errprintf(err, errlen, errno, "%s",
			  r.error ? r.error : "failed");
	if (gone)
		*gone = !r.ok && r.err == ENOENT;
	proto_msg_clear(&r);
	return rc;
}

static long ms_until(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (t->tv_sec - now.tv_sec) * 1000 +
	       (t->tv_nsec - now.tv_nsec) / 1000000;
}

/* The followers' answers, until each has answered or the deadline. */
static void wait_answers(const struct timespec *deadline, long max_wait)
{
	struct pollfd *pf = calloc(npeers, sizeof(*pf));
	uint32_t k, left;
	long ms;

	if (!pf) {
		for (k = 1; k < npeers; k++)
			if (!peers[k].err[0] && !peers[k].answered)
				snprintf(peers[k].err, sizeof(peers[k].err),
					 "out of memory");
		return;
	}
	for (;;) {
		left = 0;
		for (k = 1; k < npeers; k++) {
			bool wait = !peers[k].answered && !peers[k].err[0];

			pf[k] = (struct pollfd){ .fd = wait ? peers[k].fd : -1,
						 .events = POLLIN };
			left += wait;
		}
		ms = ms_until(deadline);
		if (!left || ms <= 0)
			break;
		if (poll(pf + 1, npeers - 1, (int)ms) < 0 && errno != EINTR)
			break;
		for (k = 1; k < npeers; k++) {
			if (!pf[k].revents)
				continue;
			peers[k].answered = true;
			exchange_recv(peers[k].fd, &peers[k].gone,
				      peers[k].err, sizeof(peers[k].err));
		}
	}
	for (k = 1; k < npeers; k++)
		if (!peers[k].answered && !peers[k].err[0])
			snprintf(peers[k].err, sizeof(peers[k].err),
				 "no answer within %ld s", max_wait +
				 PEER_GRACE_S);
	free(pf);
}

/* Tell every follower to stop; a new connection each (its PREPARE's may
 * be where it still works).  The answers are not needed. */
static void abort_all(void)
{
	char err[512];
	uint32_t k;
	int fd;

	for (k = 1; k < npeers; k++) {
		if (peers[k].fd >= 0) {
			close(peers[k].fd);
			peers[k].fd = -1;
		}
		if (!peers[k].abort ||
		    (fd = dial(peers[k].node, err, sizeof(err))) < 0)
			continue;
		if (exchange_send(fd, peers[k].abort, err, sizeof(err)) == 0)
			exchange_recv(fd, NULL, err, sizeof(err));
		close(fd);
	}
}

/* Every failed part, "node c2 (index 1): why; ...", into err. */
static bool collect_errors(const struct step *s, const char *own, char *err,
			   size_t errlen)
{
	size_t used = 0;
	uint32_t k;
	int w;

	err[0] = '\0';
	if (own[0]) {
		w = snprintf(err, errlen, "node %s (index 0): %s", s->node, own);
		used = w > 0 ? (size_t)w : 0;
	}
	for (k = 1; k < npeers && used < errlen; k++) {
		if (!peers[k].err[0])
			continue;
		w = snprintf(err + used, errlen - used, "%snode %s (index %u): "
			     "%s", used ? "; " : "", peers[k].node, k,
			     peers[k].err);
		if (w > 0)
			used += (size_t)w;
	}
	return err[0] != '\0';
}

/* node.0 .. node.<n-1> in the staging directory; node.0 opened. */
static int make_parts(const struct step *s, int stagefd, char *err,
		      size_t errlen)
{
	char name[32];
	uint32_t k;
	int fd;

	for (k = 0; k < s->nnodes; k++) {
		snprintf(name, sizeof(name), "node.%u", k);
		if (mkdirat(stagefd, name, 0700) < 0)
			return errprintf(err, errlen, errno, "%s%s/%s: %s",
					 s->name, IMAGE_STAGING_SUFFIX, name,
					 strerror(errno));
	}
	fd = openat(stagefd, "node.0", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		errprintf(err, errlen, errno, "node.0: %s", strerror(errno));
	return fd;
}

static int seal_part(int partfd, int depth, char *err, size_t errlen);

static int lead(struct ckpt_run *r, int basefd, struct manifest *m,
		char *err, size_t errlen)
{
	const struct step *s = r->s;
	struct timespec deadline;
	char own[1024] = "";
	bool uncaught = false;
	int stagefd = -1, partfd = -1, rc = -1;
	uint32_t k;

	if (lead_err[0] || npeers != s->nnodes)
		return errprintf(err, errlen, errno, "%s",
				 lead_err[0] ? lead_err
					     : "the followers are unknown");
	if ((stagefd = image_stage(basefd, s->name, err, errlen)) < 0 ||
	    (partfd = make_parts(s, stagefd, err, errlen)) < 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += s->max_wait + PEER_GRACE_S;
	/* Connected only now, and the PREPARE sent at once: a connection
	 * that says nothing is the first a follower closes when one host
	 * opens too many (tcp.c, max_host_connections). */
	for (k = 1; k < npeers; k++)
		if (!peers[k].prepare || !peers[k].abort ||
		    (peers[k].fd = dial(peers[k].node, peers[k].err,
					sizeof(peers[k].err))) < 0 ||
		    exchange_send(peers[k].fd, peers[k].prepare, peers[k].err,
				  sizeof(peers[k].err)) < 0)
			peers[k].answered = true;
	if (!collect_errors(s, "", err, errlen) &&
	    cooperate_part_staged(r, basefd, partfd, &uncaught, own,
				  sizeof(own)) == 0)
		seal_part(partfd, 0, own, sizeof(own));
	if (!collect_errors(s, own, err, errlen))
		wait_answers(&deadline, s->max_wait);
	if (collect_errors(s, own, err, errlen)) {
		abort_all();
		/* A node whose tasks have ended has nothing left to give: no
		 * whole image can be made any more, and none is lost. */
		for (k = 1; k < npeers; k++)
			if (peers[k].gone) {
				r->skipped = true;
				errprintf(err, errlen, ENOENT, "node %s (index "
					  "%u) has no tasks of the step any "
					  "more (they ended): no image of the "
					  "whole step can be made; the last "
					  "one stays", peers[k].node, k);
				break;
			}
		goto out;
	}
	m->seq = image_next_seq(basefd, s->name);
	rc = run_commit(r, basefd, m, err, errlen);
out:
	if (partfd >= 0)
		close(partfd);
	if (stagefd >= 0)
		close(stagefd);
	return rc;
}

const struct ckpt_way peer_leader_way = { "leader of several nodes", lead };

/* ------------------------------------------------ a part, as the user */

/* The acknowledgements go, every file and directory is fsynced: the part
 * is as the leader will commit it. */
static int seal_part(int partfd, int depth, char *err, size_t errlen)
{
	struct dirent *e;
	struct stat st;
	int dfd, fd, rc = 0;
	DIR *d;

	if (depth > PART_DEPTH_MAX || (dfd = dup(partfd)) < 0 ||
	    !(d = fdopendir(dfd)))
		return errprintf(err, errlen, errno, "part: %s",
				 depth > PART_DEPTH_MAX ? "too deep"
							: strerror(errno));
	rewinddir(d);
	while (rc == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (depth == 0 && !strncmp(e->d_name, ".done.", 6)) {
			if (unlinkat(partfd, e->d_name, 0) < 0) {
				errprintf(err, errlen, errno, "%s: %s",
					  e->d_name, strerror(errno));
				rc = -1;
			}
			continue;
		}
		fd = openat(partfd, e->d_name, O_RDONLY | O_NOFOLLOW |
			    O_NONBLOCK | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0) {
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = seal_part(fd, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode) && fsync(fd) < 0) {
			rc = -1;
		}
		if (rc < 0 && !err[0])
			errprintf(err, errlen, errno, "%s: %s", e->d_name,
				  strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	if (rc == 0 && fsync(partfd) < 0) {
		errprintf(err, errlen, errno, "fsync: %s", strerror(errno));
		rc = -1;
	}
	return rc;
}

/* node.<k> of the leader's staging directory (made here if the leader
 * has not yet). */
static int open_part(const struct step *s, char *err, size_t errlen)
{
	char staging[96], name[32];
	int basefd, stagefd = -1, fd = -1;

	snprintf(staging, sizeof(staging), "%s%s", s->name,
		 IMAGE_STAGING_SUFFIX);
	snprintf(name, sizeof(name), "node.%u", s->nodeid);
	if ((basefd = image_open_base(s->dir, err, errlen)) < 0)
		return -1;
	stagefd = openat(basefd, staging, O_RDONLY | O_DIRECTORY |
			 O_NOFOLLOW | O_CLOEXEC);
	if (stagefd < 0 ||
	    (mkdirat(stagefd, name, 0700) < 0 && errno != EEXIST) ||
	    (fd = openat(stagefd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC)) < 0)
		errprintf(err, errlen, errno, "%s/%s/%s: %s", s->dir, staging,
			  stagefd < 0 ? "" : name, strerror(errno));
	if (stagefd >= 0)
		close(stagefd);
	close(basefd);
	return fd;
}

int peer_part_run(struct ckpt_run *r, int out)
{
	const struct step *s = r->s;
	char err[1024] = "";
	bool uncaught = false;
	int fd, basefd = -1, rc = -1;

	if ((fd = open_part(s, err, sizeof(err))) >= 0 &&
	    (basefd = image_open_base(s->dir, err, sizeof(err))) >= 0 &&
	    cooperate_part_staged(r, basefd, fd, &uncaught, err,
				  sizeof(err)) == 0)
		rc = seal_part(fd, 0, err, sizeof(err));
	if (basefd >= 0)
		close(basefd);
	if (fd >= 0)
		close(fd);
	if (report_write(out, rc == 0 ?
			  json_pack("{s:b,s:I}", "ok", 1, "flushed",
				    (json_int_t)r->flushed) :
			  json_pack("{s:b,s:s}", "ok", 0, "error", err)) < 0)
		rc = -1;
	return rc;
}

