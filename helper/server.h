/* server.h - the Unix socket and its clients: the plugin and
 * scheckpoint (server.c). */
#ifndef CKPT_SERVER_H
#define CKPT_SERVER_H

#include <sys/types.h>

#include "proto.h"

int server_listen(const char *path);
/* A request that came over TCP from uid (authenticated): fd is the
 * connection (blocking), answered with one frame, then closed. */
void server_tcp_request(int fd, uid_t uid, const struct ckpt_msg *m);
void server_close(void);

#endif
