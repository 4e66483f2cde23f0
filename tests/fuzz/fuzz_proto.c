/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_proto.c - libFuzzer target for the wire message decoder
 * (common/proto.c), the part of slurmckptd that reads what any local
 * user sends to its socket.
 *
 * Each input is (1) decoded from the buffer with proto_decode(), and
 * (2) sent as one packet through a SOCK_SEQPACKET socketpair and read
 * back with proto_recv(), the helper's own entry point.  Properties:
 *   - both paths agree (accept or reject the same input);
 *   - a rejection is -1 EINVAL with a message;
 *   - an accepted message encodes, and the encoding decodes to the same
 *     message (re-encoding gives the same bytes). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sv[2] = { -1, -1 };

static void roundtrip(const struct ckpt_msg *m)
{
	struct ckpt_msg m2;
	char *a, *b, err[256];

	if (!(a = proto_encode(m)))
		abort();	/* a message that decoded must encode */
	if (proto_decode(a, strlen(a), &m2, err, sizeof(err)) != 0)
		abort();
	if (!(b = proto_encode(&m2)) || strcmp(a, b) != 0)
		abort();
	proto_msg_clear(&m2);
	free(a);
	free(b);
}

/* proto_recv on a packet holding the input: 1 accepted, 0 rejected. */
static int via_socket(const uint8_t *data, size_t size)
{
	struct ckpt_msg m;
	char err[256] = "";
	int fd = -1, rc;

	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
				    0, sv) < 0)
		abort();
	if (send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size)
		return -1;	/* too large for one packet: not comparable */
	rc = proto_recv(sv[0], &m, &fd, err, sizeof(err));
	if (fd != -1)
		abort();	/* no descriptor was sent */
	if (rc == 1) {
		proto_msg_clear(&m);
		return 1;
	}
	if (rc == 0 && size == 0)
		return 0;	/* an empty packet reads as end of file */
	if (rc != -1 || !err[0])
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ckpt_msg m;
	char err[256] = "";
	int rc, sock;

	rc = proto_decode((const char *)data, size, &m, err, sizeof(err));
	if (rc == 0) {
		roundtrip(&m);
		proto_msg_clear(&m);
	} else if (rc != -1 || errno != EINVAL || !err[0]) {
		abort();
	}
	if (size > 0 && size <= CKPT_MSG_MAX) {
		sock = via_socket(data, size);
		if (sock >= 0 && sock != (rc == 0))
			abort();
	}
	return 0;
}
