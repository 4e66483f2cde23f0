/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method.h - checkpoint methods besides the cooperative signal: site
 * scripts and CRIU, loaded at start-up (method.c); their commands are
 * method_cmd.h's, a checkpoint by one in a worker method_run.h's. */
#ifndef CKPT_METHOD_H
#define CKPT_METHOD_H

#include <stddef.h>
#include <stdint.h>

#include "imagemac.h"
#include "proto.h"

/* A method, as its file <name>.method defines it (slurmckptd(8),
 * METHODS). */
struct method {
	struct method *next;
	char name[CKPT_METHOD_NAME_MAX + 1];
	char *checkpoint;	/* checkpoint=<path>, required */
	char *restart;		/* restart=<path>, run by the plugin */
	char *cleanup;		/* cleanup=<path>, after each checkpoint */
	char *check;		/* check=<path>, at start-up */
	char *criu;		/* criu=<path>: criu dumps, not checkpoint= */
	char *image_key;	/* image_key=<path>: keys the dumps' MAC */
	uint8_t key[IMAGEMAC_KEY_LEN];	/* derived from it (imagemac.h) */
};

/* At start-up, as root: the <name>.method files of dir. */
int methods_load(const char *dir, char *err, size_t errlen);
void methods_free(void);
size_t methods_count(void);
const struct method *method_find(const char *name);
/* A registration's method= (node: for the error): *m NULL for none or
 * "signal"; -1 (ENOENT) with err when this node has no such method. */
int method_lookup(const char *name, const char *node,
		  const struct method **m, char *err, size_t errlen);
const char *method_name(const struct method *m);
const char *method_restart(const struct method *m);
const char *method_criu(const struct method *m);
const char *method_image_key(const struct method *m);

#endif
