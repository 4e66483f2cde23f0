/* SPDX-License-Identifier: GPL-2.0-or-later */
/* privsep.h - dropping to a user's credentials (privsep.c). */
#ifndef CKPT_PRIVSEP_H
#define CKPT_PRIVSEP_H

#include <stddef.h>
#include <sys/types.h>

/* A gid that stands for the user's primary group, looked up (as root, in
 * a child: never in the event loop) where the user's identity is taken:
 * the restart fetch's, whose connection's gid may be another's. */
#define USER_PRIMARY_GID ((gid_t)-1)

/* Become uid/gid with the user's groups and no capability, not dumpable
 * before, during and after the change (whatever fs.suid_dumpable says):
 * no process of the user can trace the caller or read its memory. */
int privsep_become(uid_t uid, gid_t gid, char *err, size_t errlen);
/* As uid/gid (become them unless already), append text to dir's
 * checkpoint.log.  0, or -1 with err. */
int privsep_log_as(uid_t uid, gid_t gid, const char *dir, const char *text,
		   char *err, size_t errlen);
/* In the daemon, before forking a worker for uid: look the user's groups
 * up once a minute, not in every worker. */
void privsep_prefetch(uid_t uid, gid_t gid);
int privsep_become_ckpt(uid_t uid, gid_t gid, char *err, size_t errlen);
int privsep_ambient_ckpt(void);
int privsep_close_fds(const int *keep, size_t nkeep);

#endif
