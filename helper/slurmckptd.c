/* SPDX-License-Identifier: GPL-2.0-or-later */
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

#include "access.h"
#include "child.h"
#include "ckptconf.h"
#include "conf.h"
#include "jobs.h"
#include "localstage_gone.h"
#include "log.h"
#include "loop.h"
#include "method.h"
#include "metrics_file.h"
#include "notify.h"
#include "offsite_loop.h"
#include "peer.h"
#include "periodic.h"
#include "readopt.h"
#include "server.h"
#include "state.h"
#include "steps.h"
#include "tcp.h"
#include "worker.h"

static struct watch sigw = { .fd = -1 };
/* The configuration as given on the command line, for a reload. */
static const char *conf_path = CONF_DEFAULT, *conf_sock;
static bool conf_given;

static void usage(FILE *f)
{
	fprintf(f, "Usage: slurmckptd [-f conf] [-s socket] [-v]... "
		"[--check-config]\n"
		"  -f conf    configuration file (default %s)\n"
		"  -s socket  Unix socket to listen on (default %s)\n"
		"  -v         more log output (repeat for debug)\n"
		"  -V         print the version and exit\n"
		"  --check-config  read the configuration, the method files "
		"and the\n"
		"             offsite settings, say what is wrong, and exit "
		"(0: good)\n",
		CONF_DEFAULT, CKPT_SOCKET_DEFAULT);
}

/* --check-config: what start-up reads, and nothing started.  For admins
 * and for a package's postinst. */
static int check_config(const char *path)
{
	char err[1024];

	if (methods_load(hconf.method_dir, err, sizeof(err)) < 0 ||
	    offsite_check(err, sizeof(err)) < 0 ||
	    metrics_file_check(err, sizeof(err)) < 0) {
		fprintf(stderr, "slurmckptd: %s\n", err);
		return 1;
	}
	printf("slurmckptd: %s: configuration OK (%zu method(s))\n", path,
	       methods_count());
	return 0;
}

static int load_config(int argc, char **argv, int *verbosity, bool *check,
		       const char **path)
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "f:s:vVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': conf_path = optarg; conf_given = true; break;
		case 's': conf_sock = optarg; break;
		case 'v': (*verbosity)++; break;
		case 'C': *check = true; break;
		case 'V': printf("slurmckptd %s\n", PACKAGE_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
	*path = conf_path;
	if (conf_load(conf_path, conf_given, conf_sock, err, sizeof(err)) < 0) {
		fprintf(stderr, "slurmckptd: %s\n", err);
		return -1;
	}
	return 0;
}

/* SIGHUP (systemctl reload): slurmckptd.conf again; the registered steps,
 * the connections and the checkpoints in progress go on. */
static void reload(void)
{
	char err[512];

	notify_reloading();
	if (conf_reload(conf_path, conf_given, conf_sock, err,
			sizeof(err)) < 0)
		log_msg(LOG_ERR, "reload: %s; the configuration in use is "
			"kept", err);
	else
		log_msg(LOG_NOTICE, "reloaded %s", conf_path);
	notify_reloaded();
}

static void signal_ready(struct watch *w, uint32_t events)
{
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload();
			continue;
		}
		log_msg(LOG_NOTICE, "signal %d, exiting", (int)si.ssi_signo);
		loop_stop();
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

int main(int argc, char **argv)
{
	char err[1024];
	int verbosity = 0, rc = 1;
	const char *path;
	bool check = false;

	if (load_config(argc, argv, &verbosity, &check, &path) < 0)
		return 1;
	log_init(verbosity);
	if (check) {
		rc = check_config(path);
		methods_free();
		conf_free();
		return rc;
	}
	if (geteuid() != 0)
		log_msg(LOG_WARNING, "not running as root: only the user's "
			"own jobs can be checkpointed");
	else if (setgroups(0, NULL) < 0)
		log_msg(LOG_WARNING, "setgroups: %s", strerror(errno));
	umask(022);
	raise_nofile();
	child_init();
	if (methods_load(hconf.method_dir, err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	/* What reacts to a step's events, in this order: its periodic
	 * checkpoints, the saved state, its job, the other nodes of its
	 * step, its node-local staging, the offsite store, the metrics. */
	if (loop_init() < 0 || signals_init() < 0 || periodic_init() < 0 ||
	    readopt_init() < 0 || jobs_init() < 0 || peer_init() < 0 ||
	    localstage_gone_init() < 0) {
		log_msg(LOG_ERR, "cannot set up the event loop: %s",
			strerror(errno));
		goto out;
	}
	if (offsite_init(err, sizeof(err)) < 0 ||
	    metrics_file_init(err, sizeof(err)) < 0 ||
	    state_init(err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		goto out;
	}
	if (server_listen(hconf.socket) < 0 || tcp_listen(hconf.port) < 0 ||
	    state_recover() < 0)
		goto out;
	log_msg(LOG_NOTICE, "started, listening on %s", hconf.socket);
	access_init();
	if (notify_ready() < 0)
		log_msg(LOG_WARNING, "no watchdog timer: %s", strerror(errno));
	rc = loop_run() < 0 ? 1 : 0;
	notify_stopping();
	tcp_close();
	server_close();
out:
	/* Saved as it is now: the steps are re-adopted at the next start. */
	state_shutdown();
	metrics_file_shutdown();
	steps_shutdown();
	periodic_shutdown();
	child_shutdown();
	localstage_gone_shutdown();
	jobs_shutdown();
	methods_free();
	offsite_shutdown();
	if (sigw.fd >= 0)
		close(sigw.fd);
	loop_close();
	conf_free();
	return rc;
}
