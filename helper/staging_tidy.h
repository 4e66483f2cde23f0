/* SPDX-License-Identifier: GPL-2.0-or-later */
/* staging_tidy.h - an ended step's empty staging (staging_tidy.c). */
#ifndef CKPT_STAGING_TIDY_H
#define CKPT_STAGING_TIDY_H

struct step;

/* s, which has a checkpoint exit code, has ended: remove its
 * <name>.partial if its tasks left it empty (in a child, as the user).
 * Nothing for a step without an exit code. */
void staging_tidy(const struct step *s);

#endif
