/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nodelink.h - one request to another node's slurmckptd over TCP, sealed
 * in a MUNGE credential: what scheckpoint and a multi-node step's leader
 * both send (nodelink.c). */
#ifndef CKPT_NODELINK_H
#define CKPT_NODELINK_H

#include <stddef.h>

#include "proto.h"

/* m encoded and sealed in a MUNGE credential of the caller's uid
 * (malloc'ed), through munged's socket msock (NULL: libmunge's default);
 * NULL with err ("MUNGE: ..."). */
char *nodelink_seal(const struct ckpt_msg *m, const char *msock, char *err,
		    size_t errlen);
/* A TCP connection to node's slurmckptd at port, with timeout_s (> 0) as
 * its send and receive timeouts.  fd, or -1 with err ("<addr>:<port>:
 * <why>"). */
int nodelink_dial(const char *node, long port, long timeout_s, char *err,
		  size_t errlen);
/* Send a sealed request (one frame).  0, or -1 with errno. */
int nodelink_send(int fd, const char *cred);
/* Read the reply into *r: 1, or 0 when the other side closed the
 * connection first, or -1 with err (errno EAGAIN: no answer within the
 * timeout). */
int nodelink_reply(int fd, struct ckpt_msg *r, char *err, size_t errlen);

#endif
