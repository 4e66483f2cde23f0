/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method_run.h - a checkpoint by a method, in the worker (method_run.c). */
#ifndef CKPT_METHOD_RUN_H
#define CKPT_METHOD_RUN_H

#include <stddef.h>

#include "run.h"

struct manifest;
struct method;

/* As the user: stage, run the step's method (or criu), commit, clean
 * up. */
extern const struct ckpt_way method_way;

#endif
