/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h - slurmckptd's log (log.c). */
#ifndef CKPT_LOG_H
#define CKPT_LOG_H

#include <syslog.h>

void log_init(int verbosity);
void log_msg(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
