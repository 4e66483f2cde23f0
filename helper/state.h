/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.h - what survives slurmckptd's restart (state.c). */
#ifndef CKPT_STATE_H
#define CKPT_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* A section of the saved state: save() returns its value (NULL: none),
 * load() gets it back at start-up (NULL when the file has none).
 * Sections are loaded in the order they were registered. */
typedef json_t *(*state_save_fn)(void);
typedef void (*state_load_fn)(json_t *v);
int state_section(const char *key, state_save_fn save, state_load_fn load);

int state_init(char *err, size_t errlen);
/* Read the saved state, if any, into each section.  0, or -1. */
int state_recover(void);
/* Something saved changed: urgent (a registration, a task, a step gone)
 * is written within 50 ms, the rest within a second, changes in between
 * together.  state_flush(): write it now. */
void state_changed(bool urgent);
void state_flush(void);
void state_shutdown(void);

#endif
