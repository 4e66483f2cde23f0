/* SPDX-License-Identifier: GPL-2.0-or-later */
/* notify.c - systemd's notification protocol through libsystemd's
 * sd_notify(): READY=1 when slurmckptd listens, STOPPING=1 when it exits,
 * and WATCHDOG=1 from a timer of the event loop, so that a loop that
 * blocks is seen (and restarted) by systemd.  The one place that knows of
 * libsystemd; without it these do nothing. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "loop.h"
#include "notify.h"

#ifdef HAVE_LIBSYSTEMD
static struct watch dog = { .fd = -1 };
static long long dog_ms;

static void dog_ready(struct watch *w, uint32_t events)
{
	(void)events;
	loop_timer_ack(w);
	sd_notify(0, "WATCHDOG=1");
	loop_timer_set(w, dog_ms);
}

int notify_ready(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		if (loop_timer_add(&dog, dog_ready) < 0)
			return -1;
		dog_ms = (long long)(usec / 2000);
		loop_timer_set(&dog, dog_ms);
	}
	sd_notify(0, "READY=1");
	return 0;
}

void notify_reloading(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)now.tv_sec * 1000000ULL +
		   (unsigned long long)now.tv_nsec / 1000ULL);
}

void notify_reloaded(void)
{
	sd_notify(0, "READY=1");
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
	loop_timer_del(&dog);
}
#else
int notify_ready(void)
{
	return 0;
}

void notify_reloading(void)
{
}

void notify_reloaded(void)
{
}

void notify_stopping(void)
{
}
#endif
