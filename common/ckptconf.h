/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ckptconf.h - the admin's arguments on the plugstack.conf line. */
#ifndef CKPT_CKPTCONF_H
#define CKPT_CKPTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "kvconf.h"

#define CKPT_SOCKET_DEFAULT "/run/slurmckptd/slurmckptd.sock"

struct ckpt_conf {
	char *dir;		/* dir=<template>; NULL: the submit directory */
	char *socket;		/* socket=<path> of slurmckptd */
	long min_interval;	/* min_interval=<time>, default 60 s */
	long max_wait;		/* max_wait=<seconds>, default 120 */
	long keep;		/* keep=<n> images, 1..1000, default 2 */
	int signo;		/* signal=<sig>, default SIGUSR2 */
	uint64_t signals;	/* signals=<list>: what --checkpoint-signal
				 * may choose (bit signo - 1), besides
				 * signo; default USR1, USR2 */
	long lead;		/* lead=<time> before the end time, default 5:00 */
	long max_requeue;	/* max_requeue=<n> automatic requeues, 0: no limit */
	long exit_code;		/* exit_code=<n> checkpoint-and-exit, 0: none */
	bool helper_optional;	/* helper_optional=yes: warn, don't fail */
	char *method;		/* method=<name>; NULL: "signal" */
	char *local;		/* local=<dir>: node-local staging (%n: the
				 * node name, ckpt_expand_socket); NULL: none */
};

extern const struct kv_key ckpt_conf_keys[];

/* Set the defaults (socket strdup'ed). 0/-1 ENOMEM. */
int ckpt_conf_init(struct ckpt_conf *c);
/* Parse the plugstack arguments on top of the defaults. */
int ckpt_conf_parse(struct ckpt_conf *c, int argc, char *const argv[],
		    char *err, size_t errlen);
void ckpt_conf_free(struct ckpt_conf *c);

/* Expand a dir= template: %u user name, %U uid, %j job id, %% a '%'.
 * Any other %x is EINVAL.  The result must be absolute.  *out malloc'ed. */
int ckpt_expand_dir(const char *tmpl, const char *user, uid_t uid,
		    uint32_t job, char **out);

/* Expand a socket= path: %n the node name (several slurmd on one host,
 * one slurmckptd each), %% a '%'; any other %x, or a node name that is
 * not one path component ('/', a leading '.'), is EINVAL.  Into out
 * (ENAMETOOLONG when it does not fit). */
int ckpt_expand_socket(const char *tmpl, const char *node, char *out,
		       size_t outlen);

#endif
