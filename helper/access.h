/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.h - who may act on a user's job (access.c). */
#ifndef CKPT_ACCESS_H
#define CKPT_ACCESS_H

#include <stdbool.h>
#include <sys/types.h>

/* Learn the SlurmUser (in the background; until known, only root and the
 * owner may act). */
void access_init(void);
/* owner 0: a request for no user's job (root and the SlurmUser only). */
bool access_may_act(uid_t client, uid_t owner);

#endif
