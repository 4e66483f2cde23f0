/* scheckpoint.c - the checkpoint command, like legacy
 * "scontrol checkpoint <verb> <job_id>[.<step_id>]".  This release has
 * the verb "create", spoken to the helper on this node. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptconf.h"
#include "proto.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f, "Usage: scheckpoint [-s socket] create "
		"<job_id>[.<step_id>|.batch]\n"
		"  create   checkpoint the job (every step on this node) or "
		"one step now\n"
		"  -s socket  slurmckptd's socket (default "
		"$SLURM_CHECKPOINT_SOCKET, else %s)\n", CKPT_SOCKET_DEFAULT);
}

static int parse_u32(const char *s, char **end, uint32_t *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v >= CKPT_STEP_BATCH)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "<job>", "<job>.<step>" or "<job>.batch" */
static int parse_id(const char *s, uint32_t *job, uint32_t *step)
{
	char *end;

	if (parse_u32(s, &end, job) < 0)
		return -1;
	if (*end == '\0') {
		*step = CKPT_STEP_ALL;
		return 0;
	}
	if (*end++ != '.')
		return -1;
	if (strcmp(end, "batch") == 0) {
		*step = CKPT_STEP_BATCH;
		return 0;
	}
	if (parse_u32(end, &end, step) < 0 || *end)
		return -1;
	return 0;
}

static int create(const char *sock, const char *id)
{
	struct ckpt_msg m = { .op = CKPT_OP_CREATE }, r;
	char err[512];
	int fd, rc = -1;

	if (parse_id(id, &m.job, &m.step) < 0) {
		fprintf(stderr, "scheckpoint: invalid job id '%s': use "
			"<job_id>, <job_id>.<step_id> or <job_id>.batch\n", id);
		return EXIT_USAGE;
	}
	if ((fd = proto_connect(sock, 0)) < 0) {
		fprintf(stderr, "scheckpoint: slurmckptd is not running on "
			"this node (%s: %s)\n", sock, strerror(errno));
		return 1;
	}
	if (proto_send(fd, &m, -1) < 0 ||
	    (rc = proto_recv(fd, &r, NULL, err, sizeof(err))) <= 0) {
		fprintf(stderr, "scheckpoint: slurmckptd: %s\n",
			rc == 0 ? "connection closed" : strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	rc = 0;
	if (!r.ok) {
		fprintf(stderr, "scheckpoint: %s\n",
			r.error ? r.error : strerror(r.err));
		rc = 1;
	} else {
		printf("Checkpoint of %s committed: %s (seq %llu)\n", id,
		       r.image ? r.image : "", (unsigned long long)r.seq);
	}
	proto_msg_clear(&r);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = getenv("SLURM_CHECKPOINT_SOCKET");
	int c;

	while ((c = getopt(argc, argv, "+s:hV")) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("scheckpoint %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!sock || !*sock)
		sock = CKPT_SOCKET_DEFAULT;
	if (argc - optind != 2 || strcmp(argv[optind], "create") != 0) {
		if (argc - optind >= 1 && strcmp(argv[optind], "create"))
			fprintf(stderr, "scheckpoint: unknown verb '%s'\n",
				argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return create(sock, argv[optind + 1]);
}
