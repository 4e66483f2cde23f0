/* slurmckptd.c - the per-node checkpoint helper.  main() reads top to
 * bottom: configuration, logging, signals, event loop set-up, socket,
 * the loop itself, teardown in reverse. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ckptconf.h"
#include "helper.h"
#include "kvconf.h"

#define CONF_DEFAULT SYSCONFDIR "/slurm/slurmckptd.conf"
#define METHOD_DIR_DEFAULT SYSCONFDIR "/slurm/slurmckptd.d"
#define STATE_DIR_DEFAULT LOCALSTATEDIR "/lib/slurm-checkpoint"

struct helper_conf hconf;

static const struct kv_key helper_keys[] = {
	{ "socket", KV_PATH, offsetof(struct helper_conf, socket), 0, 0,
	  "absolute path of the Unix socket" },
	{ "max_workers", KV_UINT, offsetof(struct helper_conf, max_workers),
	  1, 100000, "checkpoints in progress at once, 1..100000" },
	{ "max_user_workers", KV_UINT,
	  offsetof(struct helper_conf, max_user_workers), 0, 100000,
	  "checkpoints in progress at once of one user, 0 (half of "
	  "max_workers, at least 1)..100000" },
	{ "poll_interval", KV_UINT,
	  offsetof(struct helper_conf, poll_interval), 1, 3600,
	  "seconds between requests to slurmctld, 1..3600" },
	{ "method_dir", KV_PATH, offsetof(struct helper_conf, method_dir),
	  0, 0, "absolute path of the directory of <name>.method files" },
	{ "port", KV_UINT, offsetof(struct helper_conf, port), 0, 65535,
	  "TCP port for scheckpoint from other nodes, 0 (off)..65535" },
	{ "munge_socket", KV_PATH, offsetof(struct helper_conf, munge_socket),
	  0, 0, "absolute path of munged's socket" },
	{ "state_dir", KV_PATH, offsetof(struct helper_conf, state_dir),
	  0, 0, "absolute path of the directory of the saved state" },
	{ "peer_ports", KV_STRING, offsetof(struct helper_conf, peer_ports),
	  0, 0, "the other nodes' slurmckptd ports: <port> or "
	  "<node>:<port>,..." },
	{ "offsite_url", KV_STRING, offsetof(struct helper_conf, offsite.url),
	  0, 0, "http:// or https:// URL of the offsite store" },
	{ "offsite_kind", KV_STRING,
	  offsetof(struct helper_conf, offsite.kind), 0, 0, "webdav or s3" },
	{ "offsite_credentials", KV_PATH,
	  offsetof(struct helper_conf, offsite.credentials), 0, 0,
	  "absolute path of a root-only credentials file" },
	{ "offsite_ca_file", KV_PATH,
	  offsetof(struct helper_conf, offsite.ca_file), 0, 0,
	  "absolute path of a CA certificate bundle" },
	{ "offsite_ca_path", KV_PATH,
	  offsetof(struct helper_conf, offsite.ca_path), 0, 0,
	  "absolute path of a directory of CA certificates" },
	{ "offsite_region", KV_STRING,
	  offsetof(struct helper_conf, offsite.region), 0, 0,
	  "the S3 region that SigV4 signs for" },
	{ "offsite_max_rate", KV_UINT,
	  offsetof(struct helper_conf, offsite.max_rate), 0, 100000000000L,
	  "bytes per second per transfer, 0 (no limit).." },
	{ "offsite_max_uploads", KV_UINT,
	  offsetof(struct helper_conf, offsite.max_uploads), 1, 64,
	  "uploads at once, 1..64" },
	{ "offsite_timeout", KV_UINT,
	  offsetof(struct helper_conf, offsite.timeout), 10, 840,
	  "seconds for the transfer of one image, 10..840" },
	{ "idle_timeout", KV_UINT,
	  offsetof(struct helper_conf, idle_timeout), 1, 3600,
	  "seconds a client may stay idle (TCP: until its credential "
	  "is in), 1..3600" },
	{ "max_user_connections", KV_UINT,
	  offsetof(struct helper_conf, max_user_conns), 1, 100000,
	  "connections at once of one user other than root, 1..100000" },
	{ "max_host_connections", KV_UINT,
	  offsetof(struct helper_conf, max_host_conns), 1, 64,
	  "TCP connections not yet authenticated from one address, 1..64" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static int epfd = -1;
static int stopping;
static struct watch sigw = { .fd = -1 };

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

static void usage(FILE *f)
{
	fprintf(f, "Usage: slurmckptd [-f conf] [-s socket] [-v]...\n"
		"  -f conf    configuration file (default %s)\n"
		"  -s socket  Unix socket to listen on (default %s)\n"
		"  -v         more log output (repeat for debug)\n"
		"  -V         print the version and exit\n",
		CONF_DEFAULT, CKPT_SOCKET_DEFAULT);
}

static int load_config(int argc, char **argv, int *verbosity)
{
	const char *path = CONF_DEFAULT, *sock = NULL;
	bool given = false;
	char err[512];
	int c;

	while ((c = getopt(argc, argv, "f:s:vVh")) != -1) {
		switch (c) {
		case 'f': path = optarg; given = true; break;
		case 's': sock = optarg; break;
		case 'v': (*verbosity)++; break;
		case 'V': printf("slurmckptd %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	hconf.max_workers = 64;
	hconf.poll_interval = 10;
	hconf.idle_timeout = 10;
	hconf.max_user_conns = 512;
	hconf.max_host_conns = 8;
	if ((given || access(path, F_OK) == 0) &&
	    kv_parse_file(helper_keys, &hconf, path, err, sizeof(err)) < 0) {
		fprintf(stderr, "slurmckptd: %s\n", err);
		return -1;
	}
	if (!hconf.max_user_workers)
		hconf.max_user_workers = hconf.max_workers > 1 ?
					 hconf.max_workers / 2 : 1;
	if (sock && sock[0] != '/') {
		fprintf(stderr, "slurmckptd: -s %s: not an absolute path\n",
			sock);
		return -1;
	}
	if (sock || !hconf.socket) {
		free(hconf.socket);
		hconf.socket = strdup(sock ? sock : CKPT_SOCKET_DEFAULT);
	}
	if (!hconf.method_dir)
		hconf.method_dir = strdup(METHOD_DIR_DEFAULT);
	if (!hconf.state_dir)
		hconf.state_dir = strdup(STATE_DIR_DEFAULT);
	return hconf.socket && hconf.method_dir && hconf.state_dir ? 0 : -1;
}

static void signal_ready(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		log_msg(LOG_NOTICE, "signal %d, exiting", (int)si.ssi_signo);
		stopping = 1;
	}
}

static int signals_init(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigw.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	sigw.ready = signal_ready;
	return sigw.fd < 0 ? -1 : loop_add(&sigw, EPOLLIN);
}

/* Each step holds a connection and a pidfd per task: a node with a
 * thousand steps needs more than the usual soft limit of 1024. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_msg(LOG_WARNING, "setrlimit(RLIMIT_NOFILE): %s",
			strerror(errno));
}

static void run(void)
{
	struct epoll_event ev[64];
	struct watch *w;
	int i, n;

	while (!stopping) {
		n = epoll_wait(epfd, ev, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_msg(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			w = ev[i].data.ptr;
			w->ready(w, ev[i].events);
		}
	}
}

int main(int argc, char **argv)
{
	char err[1024];
	int verbosity = 0, rc = 1;

	if (load_config(argc, argv, &verbosity) < 0)
		return 1;
	log_init(verbosity);
	if (geteuid() != 0)
		log_msg(LOG_WARNING, "not running as root: only the user's "
			"own jobs can be checkpointed");
	else if (setgroups(0, NULL) < 0)
		log_msg(LOG_WARNING, "setgroups: %s", strerror(errno));
	umask(022);
	raise_nofile();
	worker_init();
	if (methods_load(hconf.method_dir, err, sizeof(err)) < 0 ||
	    offsite_init(err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0 || signals_init() < 0 || steps_init() < 0 ||
	    jobs_init() < 0) {
		log_msg(LOG_ERR, "cannot set up the event loop: %s",
			strerror(errno));
		goto out;
	}
	if (state_init(err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	if (server_listen(hconf.socket) < 0 || tcp_listen(hconf.port) < 0 ||
	    state_recover() < 0)
		goto out;
	log_msg(LOG_NOTICE, "started, listening on %s", hconf.socket);
	verbs_init();
	run();
	rc = 0;
	tcp_close();
	server_close();
out:
	/* Saved as it is now: the steps are re-adopted at the next start. */
	state_shutdown();
	steps_shutdown();
	worker_shutdown();
	flush_shutdown();
	jobs_shutdown();
	methods_free();
	offsite_shutdown();
	if (sigw.fd >= 0)
		close(sigw.fd);
	if (epfd >= 0)
		close(epfd);
	kv_free(helper_keys, &hconf);
	return rc;
}
