/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verbs.h - scheckpoint's requests that need a child: list, and the
 * end of vacate and requeue (verbs.c). */
#ifndef CKPT_VERBS_H
#define CKPT_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto.h"

struct step;

json_t *verbs_step_info(const struct step *s, enum ckpt_op op);
/* done(arg, ok, err, info or message) runs in the loop. */
typedef void (*verbs_done_fn)(void *arg, bool ok, int err, const char *text);
int verbs_list(const struct step *const *steps, size_t n, const char *dir,
	       verbs_done_fn done, void *arg, char *err, size_t errlen);
int verbs_act(uint32_t job, enum ckpt_op op, verbs_done_fn done, void *arg,
	      char *err, size_t errlen);

#endif
