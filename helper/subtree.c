/* SPDX-License-Identifier: GPL-2.0-or-later */
/* subtree.c - a command and every process it starts, as one.
 *
 * subtree_fork() puts a guardian between the caller and the command: the
 * guardian starts a session, becomes the child subreaper of everything
 * below it (an orphan of the command, even one in a session of its own,
 * is reparented to it), forks the command and waits.  When the command
 * ends, when the caller asks (subtree_stop) and when the caller dies
 * (PR_SET_PDEATHSIG: a worker killed, the daemon gone), the guardian
 * kills every process left below it and exits with the command's status.
 * Without it, a method's background loop outlived its worker by hours. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "subtree.h"

/* SIGKILL every child of this process; true when one was found. */
static bool kill_children(pid_t self)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	bool any = false;
	long ppid;
	DIR *d;
	FILE *f;

	if (!(d = opendir("/proc")))
		return false;
	while ((e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (!(f = fopen(path, "re")))
			continue;
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		/* "pid (comm) state ppid ...": comm may hold anything */
		if (p && sscanf(p + 1, " %*c %ld", &ppid) == 1 &&
		    ppid == (long)self) {
			kill((pid_t)atol(e->d_name), SIGKILL);
			any = true;
		}
	}
	closedir(d);
	return any;
}

/* Kill and reap everything below; new orphans keep coming to us until
 * the last one is gone. */
static void kill_subtree(void)
{
	pid_t self = getpid();

	for (;;) {
		kill_children(self);
		if (waitpid(-1, NULL, 0) < 0 && errno == ECHILD)
			return;
	}
}

static __attribute__((noreturn)) void guard(pid_t cmd, const sigset_t *set)
{
	int status = -1, st, sig;
	pid_t w;

	for (;;) {
		sig = sigwaitinfo(set, NULL);
		if (sig == SIGCHLD) {
			while ((w = waitpid(-1, &st, WNOHANG)) > 0)
				if (w == cmd)
					status = st;
			if (status != -1)
				break;
		} else if (sig > 0) {
			break;	/* SIGTERM: stop; SIGHUP: our parent died */
		}
	}
	kill_subtree();
	if (status != -1 && WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (status != -1 && WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, set, NULL);
		raise(sig);
		_exit(128 + sig);
	}
	_exit(128 + SIGTERM);
}

pid_t subtree_fork(void)
{
	sigset_t set, old;
	pid_t g, cmd, parent = getpid();

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, &old) < 0)
		return -1;
	g = fork();
	if (g != 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		return g;
	}
	if (prctl(PR_SET_PDEATHSIG, SIGHUP) < 0 || getppid() != parent ||
	    setsid() < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		_exit(127);
	cmd = fork();
	if (cmd < 0)
		_exit(127);
	if (cmd == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
			_exit(127);
		return 0;
	}
	guard(cmd, &set);
}

void subtree_stop(pid_t guardian)
{
	kill(guardian, SIGTERM);
}
