/* SPDX-License-Identifier: GPL-2.0-or-later */
/* loadapp.c - the applications of the load test (1070-load.t), one real
 * process per step, light enough that a thousand fit a small node.
 *
 * loadapp <n> <base> <first-job> <pidfile>: forks n children; child i is
 * the only task of step <first-job + i>.0 (image name <job>.0.ckpt, in
 * <base>/s<i>).  It catches SIGUSR2 and answers each checkpoint request at
 * once: writes "state" into the staging directory and creates .done.0
 * there, as the plugin's SLURM_CHECKPOINT_DIR/DONE would say.  The parent
 * writes "<i> <pid>" lines to <pidfile> once all children run, and waits;
 * the children die with it.  Built by the test with cc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t asked;

static void on_usr2(int sig)
{
	(void)sig;
	asked = 1;
}

static void answer(const char *base, int i, long job, unsigned long n)
{
	char path[4096], text[64];
	int fd, len;

	len = snprintf(text, sizeof(text), "%d %lu\n", i, n);
	snprintf(path, sizeof(path), "%s/s%d/%ld.0.ckpt.partial/state", base,
		 i, job);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, (size_t)len) != len) {
		close(fd);
		return;
	}
	close(fd);
	snprintf(path, sizeof(path), "%s/s%d/%ld.0.ckpt.partial/.done.0", base,
		 i, job);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

static void child(const char *base, int i, long job, pid_t parent)
{
	struct sigaction sa = { .sa_handler = on_usr2 };
	sigset_t block, old;
	unsigned long n = 0;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, &old);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, NULL) < 0)
		_exit(1);
	for (;;) {
		while (!asked)
			sigsuspend(&old);
		asked = 0;
		answer(base, i, job, ++n);
	}
}

int main(int argc, char **argv)
{
	pid_t parent = getpid(), *pids;
	long job;
	FILE *f;
	int n, i;

	if (argc != 5) {
		fprintf(stderr, "usage: loadapp <n> <base> <first-job> <pidfile>\n");
		return 2;
	}
	n = atoi(argv[1]);
	job = atol(argv[3]);
	if (n < 1 || !(pids = calloc((size_t)n, sizeof(*pids))))
		return 2;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
		if (pids[i] == 0)
			child(argv[2], i, job + i, parent);
	}
	if (!(f = fopen(argv[4], "w")))
		return 1;
	for (i = 0; i < n; i++)
		fprintf(f, "%d %d\n", i, (int)pids[i]);
	if (fclose(f) != 0)
		return 1;
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}
