/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.h - a follower's side of a step over several nodes (peer.c). */
#ifndef CKPT_PEER_H
#define CKPT_PEER_H

#include <sys/types.h>

#include "proto.h"

int peer_init(void);
/* A PREPARE or ABORT over TCP from uid (authenticated by tcp.c); fd is
 * blocking, answered with one frame (PREPARE: when the part is done). */
void peer_request(int fd, uid_t uid, const struct ckpt_msg *m);

#endif
