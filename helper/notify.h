/* SPDX-License-Identifier: GPL-2.0-or-later */
/* notify.h - what systemd is told of slurmckptd (Type=notify): ready,
 * stopping, and the event loop's watchdog ping (notify.c).  Nothing
 * where it was built without libsystemd or runs outside systemd. */
#ifndef CKPT_NOTIFY_H
#define CKPT_NOTIFY_H

/* Once the sockets listen: READY=1, and the watchdog's timer in the loop
 * when the unit has WatchdogSec= (a ping at half of it).  0/-1. */
int notify_ready(void);
/* A reload (SIGHUP): RELOADING=1 as it starts, READY=1 when it is done
 * (systemctl reload waits for it). */
void notify_reloading(void);
void notify_reloaded(void);
/* STOPPING=1, the watchdog timer gone. */
void notify_stopping(void);

#endif
