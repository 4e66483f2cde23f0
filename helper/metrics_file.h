/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics_file.h - metrics_file=: the counters of metrics.c written for
 * node-exporter's textfile collector, and each checkpoint's outcome
 * counted and handed to events.c as one line of JSON (metrics_file.c). */
#ifndef CKPT_METRICS_FILE_H
#define CKPT_METRICS_FILE_H

#include <stddef.h>

/* The directory of metrics_file=, as start-up checks it (slurmckptd
 * --check-config): 0, or -1 with err.  0 when the key is not set. */
int metrics_file_check(char *err, size_t errlen);
/* Listen to the steps' events (the event line is logged and kept with or
 * without metrics_file=) and, with metrics_file=, write it now and after each
 * change, at most every METRICS_FILE_MIN_MS.  0, or -1 with err. */
int metrics_file_init(char *err, size_t errlen);
/* The last file, with slurmckptd_up 0. */
void metrics_file_shutdown(void);

#define METRICS_FILE_MIN_MS 5000

#endif
