/* SPDX-License-Identifier: GPL-2.0-or-later */
/* server.h - what the daemon's clients ask: the plugin's registrations,
 * scheckpoint's requests (server.c), on the socket at path (conn.c). */
#ifndef CKPT_SERVER_H
#define CKPT_SERVER_H

int server_listen(const char *path);
void server_close(void);

#endif
