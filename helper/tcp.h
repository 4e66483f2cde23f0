/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tcp.h - scheckpoint and the peers from other nodes, over TCP and
 * MUNGE (tcp.c). */
#ifndef CKPT_TCP_H
#define CKPT_TCP_H

int tcp_listen(long port);
void tcp_close(void);

#endif
