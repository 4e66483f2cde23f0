/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loop.c - the event loop: one epoll set of watches, timerfd timers,
 * and listening sockets that leave the set for a moment when accept()
 * runs out of descriptors (no spin at EMFILE). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

static int epfd = -1;
static bool stopping;

int loop_add(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_mod(struct watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_del(struct watch *w)
{
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL) < 0)
		log_msg(LOG_ERR, "epoll_ctl(DEL, %d): %s", w->fd,
			strerror(errno));
}

long long loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int loop_timer_add(struct watch *t, void (*ready)(struct watch *w,
						   uint32_t events))
{
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	t->ready = ready;
	if (t->fd >= 0 && loop_add(t, EPOLLIN) == 0)
		return 0;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	return -1;
}

void loop_timer_set(struct watch *t, long long ms)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (ms > 0) {
		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	}
	if (timerfd_settime(t->fd, 0, &its, NULL) < 0)
		log_msg(LOG_ERR, "timerfd_settime: %s", strerror(errno));
}

void loop_timer_ack(struct watch *t)
{
	uint64_t ticks;

	if (read(t->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		log_msg(LOG_ERR, "timerfd: %s", strerror(errno));
}

void loop_timer_del(struct watch *t)
{
	if (t->fd < 0)
		return;
	loop_del(t);
	close(t->fd);
	t->fd = -1;
}

int loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd < 0 ? -1 : 0;
}

int loop_run(void)
{
	struct epoll_event ev[64];
	struct watch *w;
	int i, n;

	while (!stopping) {
		n = epoll_wait(epfd, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (i = 0; i < n; i++) {
			w = ev[i].data.ptr;
			w->ready(w, ev[i].events);
		}
	}
	return 0;
}

bool loop_stopping(void)
{
	return stopping;
}

void loop_stop(void)
{
	stopping = true;
}

void loop_close(void)
{
	if (epfd >= 0)
		close(epfd);
	epfd = -1;
}

/* ------------------------------------------------------- listeners */

#define LISTEN_BACKOFF_MS 200

static void backoff_ready(struct watch *w, uint32_t events)
{
	struct listener *l = (struct listener *)(void *)
		((char *)w - offsetof(struct listener, backoff));

	(void)events;
	loop_timer_ack(w);
	if (loop_add(&l->w, EPOLLIN) == 0)
		l->out = false;
	else
		loop_timer_set(w, LISTEN_BACKOFF_MS);
}

int listener_add(struct listener *l, int fd, const char *name,
		 void (*ready)(struct watch *w, uint32_t events))
{
	l->w.fd = fd;
	l->w.ready = ready;
	l->name = name;
	l->pauses = 0;
	l->out = false;
	if (loop_timer_add(&l->backoff, backoff_ready) < 0) {
		l->w.fd = -1;
		return -1;
	}
	if (loop_add(&l->w, EPOLLIN) < 0) {
		loop_timer_del(&l->backoff);
		l->w.fd = -1;
		return -1;
	}
	return 0;
}

int listener_failed(struct listener *l)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == EINTR || errno == ECONNABORTED)
		return 1;
	/* EMFILE, ENFILE, ENOBUFS, ENOMEM...: what is waiting stays
	 * waiting (the backlog) until descriptors are free again. */
	if (!l->pauses++) {
		l->paused_at = loop_now_ms();
		log_msg(LOG_ERR, "accept on %s: %s: not accepting for %d ms at "
			"a time until it works again", l->name,
			strerror(errno), LISTEN_BACKOFF_MS);
	}
	loop_del(&l->w);
	l->out = true;
	loop_timer_set(&l->backoff, LISTEN_BACKOFF_MS);
	return 0;
}

void listener_accepted(struct listener *l)
{
	if (!l->pauses)
		return;
	log_msg(LOG_NOTICE, "accepting on %s again, after %lld ms (%u "
		"pauses)", l->name, loop_now_ms() - l->paused_at, l->pauses);
	l->pauses = 0;
}

void listener_del(struct listener *l)
{
	if (l->w.fd < 0)
		return;
	if (!l->out)
		loop_del(&l->w);
	loop_timer_del(&l->backoff);
	close(l->w.fd);
	l->w.fd = -1;
}
