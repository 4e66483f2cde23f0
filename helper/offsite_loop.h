/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offsite_loop.h - copies of committed images on an HTTP(S) store, and
 * fetching one back at a restart that finds none on disk: who copies
 * what, and when, in the event loop (offsite_loop.c; the transfers:
 * offsite_xfer.c). */
#ifndef CKPT_OFFSITE_LOOP_H
#define CKPT_OFFSITE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct step;

int offsite_init(char *err, size_t errlen);
/* The offsite settings alone, as offsite_init() checks them (slurmckptd
 * --check-config): 0/-1 with err. */
int offsite_check(char *err, size_t errlen);
bool offsite_enabled(void);
/* done(arg, ok, err, the image's path or the error, seq) runs in the
 * loop, at once when a recent answer is known. */
typedef void (*offsite_fetch_fn)(void *arg, bool ok, int err,
				 const char *text, uint64_t seq);
unsigned offsite_fetches_running(void);
/* Those of one user (the uid they run as). */
unsigned offsite_fetches_of(uint32_t uid);
int offsite_fetch(const struct step *s, bool fresh, offsite_fetch_fn done,
		  void *arg, char *err, size_t errlen);
void offsite_shutdown(void);

#endif
