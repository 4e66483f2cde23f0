/* SPDX-License-Identifier: GPL-2.0-or-later */
/* holdpid.c - run a command as a given pid (1331-criu-restore.t), so that
 * a test can hold a pid it needs taken without racing the rest of the
 * machine for it (writing ns_last_pid and forking is a lottery on a busy
 * host).
 *
 * holdpid <pid> <command...>: clone3() with set_tid = <pid> (root: it
 * needs CAP_SYS_ADMIN in the pid namespace); the child execs the command,
 * the parent waits for it and exits with its status.  Exits 111 with a
 * message when the pid cannot be had (EEXIST: it is in use).  Built by
 * the test with cc. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct clone_args ca;
	pid_t want, pid;
	int st;

	if (argc < 3 || (want = (pid_t)atol(argv[1])) <= 1) {
		fprintf(stderr, "usage: holdpid <pid> <command...>\n");
		return 2;
	}
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uint64_t)(uintptr_t)&want;
	ca.set_tid_size = 1;
	pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0) {
		fprintf(stderr, "holdpid: pid %ld: %s\n", (long)want,
			strerror(errno));
		return 111;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "holdpid: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return 111;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
