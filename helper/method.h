/* method.h - checkpoint methods besides the cooperative signal: site
 * scripts and CRIU (method.c). */
#ifndef CKPT_METHOD_H
#define CKPT_METHOD_H

#include <stddef.h>

#include "run.h"

struct manifest;
struct method;

/* At start-up, as root: the <name>.method files of dir. */
int methods_load(const char *dir, char *err, size_t errlen);
void methods_free(void);
const struct method *method_find(const char *name);
/* A registration's method= (node: for the error): *m NULL for none or
 * "signal"; -1 (ENOENT) with err when this node has no such method. */
int method_lookup(const char *name, const char *node,
		  const struct method **m, char *err, size_t errlen);
const char *method_name(const struct method *m);
const char *method_restart(const struct method *m);
const char *method_criu(const struct method *m);
const char *method_image_key(const struct method *m);
/* In the worker, as the user: stage, run the method, commit. */
int method_checkpoint(struct ckpt_run *r, const struct method *m, int basefd,
		      struct manifest *mf, char *err, size_t errlen);

#endif
