/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.h - one checkpoint in a worker (engine.c). */
#ifndef CKPT_ENGINE_H
#define CKPT_ENGINE_H

#include "run.h"

/* Take r's checkpoint (committing into imgdir, ImageDir=, when not NULL)
 * and write the report to out; releases r.  0, or -1. */
int engine_run(struct ckpt_run *r, const char *imgdir, int out);

#endif
