/* method_run.h - a checkpoint by a method, in the worker (method_run.c). */
#ifndef CKPT_METHOD_RUN_H
#define CKPT_METHOD_RUN_H

#include <stddef.h>

#include "run.h"

struct manifest;
struct method;

/* As the user: stage, run the method (or criu), commit, clean up. */
int method_checkpoint(struct ckpt_run *r, const struct method *m, int basefd,
		      struct manifest *mf, char *err, size_t errlen);

#endif
