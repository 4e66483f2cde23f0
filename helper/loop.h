/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.h - slurmckptd's one event loop: epoll, its timers, and the
 * listening sockets that pause at EMFILE (loop.c). */
#ifndef CKPT_LOOP_H
#define CKPT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Everything in the epoll set starts with a watch. */
struct watch {
	int fd;
	void (*ready)(struct watch *w, uint32_t events);
};

int loop_init(void);
/* Call each ready watch until loop_stop(); 0, or -1 when epoll fails. */
int loop_run(void);
void loop_stop(void);
/* loop_stop() was called: the daemon is exiting. */
bool loop_stopping(void);
void loop_close(void);

int loop_add(struct watch *w, uint32_t events);
int loop_mod(struct watch *w, uint32_t events);
void loop_del(struct watch *w);
/* The monotonic clock in milliseconds. */
long long loop_now_ms(void);
/* A timer of the loop: a timerfd watch made at set-up (never when
 * descriptors may have run out); set to fire once in ms (0: disarmed);
 * its ready() calls loop_timer_ack(). */
int loop_timer_add(struct watch *t, void (*ready)(struct watch *w,
						   uint32_t events));
void loop_timer_set(struct watch *t, long long ms);
void loop_timer_ack(struct watch *t);
void loop_timer_del(struct watch *t);

/* A listening socket (server.c, tcp.c).  accept() level-triggered at
 * EMFILE or ENFILE would wake the loop again at once: the listener leaves
 * the loop for a moment instead (LISTEN_BACKOFF_MS), said once in the log
 * when it begins and once when accepting works again. */
struct listener {
	struct watch w;		/* the listening socket */
	struct watch backoff;	/* back in the loop when it fires */
	const char *name;	/* for the log */
	unsigned pauses;	/* back-offs since the last accept */
	long long paused_at;
	bool out;		/* out of the loop until backoff fires */
};
#define LISTEN_BATCH 32		/* accepts per wake-up of the loop */
int listener_add(struct listener *l, int fd, const char *name,
		 void (*ready)(struct watch *w, uint32_t events));
/* After accept() failed: 1 to try again, 0 to return to the loop (none
 * waiting, or paused). */
int listener_failed(struct listener *l);
void listener_accepted(struct listener *l);
void listener_del(struct listener *l);

#endif
