/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method_cmd.c - the commands of checkpoint methods (method.c): a file
 * of root's, checked when the method is loaded and again on the
 * descriptor that is executed; run in a session of its own, stdout and
 * stderr's tail kept, stopped at its timeout, and whatever it started
 * killed with it (subtree.c).  Used as root at start-up (check=, criu
 * check) and as the user in a worker (method_run.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "method_cmd.h"
#include "pidfd.h"
#include "privsep.h"
#include "subtree.h"

/* Only root may change what this is: owned by root and writable by
 * nobody else, or (a directory) sticky, where nobody else may replace
 * root's entries (/tmp). */
static bool roots(const struct stat *st)
{
	return st->st_uid == 0 && (!(st->st_mode & (S_IWGRP | S_IWOTH)) ||
				   (S_ISDIR(st->st_mode) &&
				    (st->st_mode & S_ISVTX)));
}

/* A command file fit to run: regular, root's, writable by nobody else;
 * executable by all users when want_exec. */
static int file_ok(const char *path, const struct stat *st, bool want_exec,
		   char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode) || st->st_uid != 0 ||
	    (st->st_mode & (S_IWGRP | S_IWOTH)))
		return errprintf(err, errlen, errno,
				 "%s: must be a regular file owned by "
				 "root and writable by nobody else",
				 path);
	if (want_exec && !(st->st_mode & S_IXOTH))
		return errprintf(err, errlen, errno,
				 "%s: must be executable by all users", path);
	return 0;
}

/* Every directory from / down to path's (path is canonical: no link, no
 * "." or ".."): root's alone. */
static int ancestors_ok(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return errprintf(err, errlen, ENAMETOOLONG, "%s: path too long",
				 path);
	for (slash = dir; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		if (lstat(slash == dir ? "/" : dir, &st) < 0 ||
		    !S_ISDIR(st.st_mode) || !roots(&st))
			return errprintf(err, errlen, errno,
					 "%s: its directory %s must be "
					 "owned by root and writable by nobody "
					 "else",
					 path, slash == dir ? "/" : dir);
		*slash = '/';
	}
	return 0;
}

/* At load: *path made canonical (realpath), then the file and every
 * directory above it checked.  What runs later is checked again, on the
 * descriptor that is executed (exec_trusted). */
int method_cmd_trusted(char **path, bool want_exec, char *err, size_t errlen)
{
	struct stat st;
	char *real;

	if (!(real = realpath(*path, NULL)))
		return errprintf(err, errlen, errno, "%s: %s", *path,
				 strerror(errno));
	if (lstat(real, &st) < 0 || file_ok(*path, &st, want_exec, err,
					     errlen) < 0 ||
	    ancestors_ok(real, err, errlen) < 0) {
		free(real);
		return -1;
	}
	free(*path);
	*path = real;
	return 0;
}

/* In a command's process: run argv[0] if it is still fit to run, through
 * the descriptor that was checked (no second lookup by name).  Returns
 * only on failure, with err. */
static void exec_trusted(char *const argv[], char *const env[], char *err,
			 size_t errlen)
{
	struct stat st;
	int fd;

	if (ancestors_ok(argv[0], err, errlen) < 0)
		return;
	/* Not close-on-exec: a script's interpreter reads it as /dev/fd/N. */
	fd = open(argv[0], O_RDONLY | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		errprintf(err, errlen, errno, "%s: %s", argv[0],
			  strerror(errno));
		return;
	}
	if (file_ok(argv[0], &st, true, err, errlen) < 0)
		return;
	fexecve(fd, argv, env);
	errprintf(err, errlen, errno, "cannot run %s: %s", argv[0],
		  strerror(errno));
}

/* Keep the last outlen-1 bytes of a command's output in out. */
static void keep_tail(char *out, size_t outlen, size_t *used,
		      const char *buf, size_t k)
{
	size_t room = outlen - 1, drop;

	if (k >= room) {
		memcpy(out, buf + k - room, room);
		*used = room;
	} else {
		if (*used + k > room) {
			drop = *used + k - room;
			memmove(out, out + drop, *used - drop);
			*used -= drop;
		}
		memcpy(out + *used, buf, k);
		*used += k;
	}
	out[*used] = '\0';
}

/* Run cmd with env in its own session (cwd cwdfd unless -1), stdout and
 * stderr into a pipe whose tail is kept in out; at most timeout seconds,
 * then it is stopped.  Whatever it starts dies with it, and with this
 * process (subtree.c).  Returns the wait status, or -1 with err. */
int method_cmd_run(const char *cmd, char *const env[], int cwdfd, long timeout,
		   char *out, size_t outlen, char *err, size_t errlen)
{
	char *const argv[] = { (char *)cmd, NULL };

	return method_cmd_run_argv(argv, env, cwdfd, timeout, false, out,
				   outlen, err, errlen);
}

/* run, with arguments; with ambient, the program gets the
 * CAP_CHECKPOINT_RESTORE this worker kept (privsep_become_ckpt). */
int method_cmd_run_argv(char *const argv[], char *const env[], int cwdfd,
			long timeout, bool ambient, char *out, size_t outlen,
			char *err, size_t errlen)
{
	const char *cmd = argv[0];
	struct timespec end, now;
	struct pollfd p[2];
	size_t used = 0;
	int pipefd[2], pidfd, status = -1, done = 0;
	char buf[1024];
	long ms;
	pid_t pid;
	ssize_t r;

	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return errprintf(err, errlen, errno, "pipe: %s",
				 strerror(errno));
	pid = subtree_fork();
	if (pid < 0) {
		errprintf(err, errlen, errno, "fork: %s", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC), sig;

		/* A command starts as commands do, with no signal ignored
		 * (the daemon ignores SIGPIPE, and may have been started
		 * with others ignored). */
		for (sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(pipefd[1], 1) < 0 ||
		    dup2(pipefd[1], 2) < 0 ||
		    (cwdfd >= 0 && fchdir(cwdfd) < 0) ||
		    (ambient && privsep_ambient_ckpt() < 0))
			_exit(127);
		exec_trusted(argv, env, buf, sizeof(buf));
		dprintf(2, "%s\n", buf);
		_exit(127);
	}
	close(pipefd[1]);
	/* Our child, not yet reaped: the pid cannot have been reused. */
	pidfd = pidfd_open(pid);
	if (pidfd < 0) {
		errprintf(err, errlen, errno, "pidfd_open: %s",
			  strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(pipefd[0]);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	p[0] = (struct pollfd){ .fd = pipefd[0], .events = POLLIN };
	p[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	while (!done) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (end.tv_sec - now.tv_sec) * 1000 +
		     (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms <= 0)
			break;
		if (poll(p, 2, (int)(ms > INT_MAX ? INT_MAX : ms)) < 0) {
			if (errno == EINTR)
				continue;
			errprintf(err, errlen, errno, "poll: %s",
				  strerror(errno));
			break;
		}
		if (p[0].revents) {
			r = read(p[0].fd, buf, sizeof(buf));
			if (r > 0)
				keep_tail(out, outlen, &used, buf, (size_t)r);
			else if (r == 0 || errno != EINTR)
				p[0].fd = -1;	/* closed: poll ignores it */
		}
		if (p[1].revents && waitpid(pid, &status, WNOHANG) == pid)
			done = 1;
	}
	if (!done) {
		/* The guardian kills the command and all it started; it does
		 * not linger, but should it, it is killed. */
		subtree_stop(pid);
		if (poll(&p[1], 1, 5000) != 1)
			kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (ms <= 0)
			errprintf(err, errlen, errno,
				  "%s did not finish within %ld s", cmd,
				  timeout);
		status = -1;
	} else if (p[0].fd >= 0) {
		/* What it wrote just before exiting; its own children may
		 * hold the pipe open, so do not wait for the end. */
		if (fcntl(p[0].fd, F_SETFL, O_NONBLOCK) == 0)
			while ((r = read(p[0].fd, buf, sizeof(buf))) > 0)
				keep_tail(out, outlen, &used, buf, (size_t)r);
	}
	close(pipefd[0]);
	close(pidfd);
	return status;
}

/* The last line of a command's output, for a message: printable only. */
const char *method_cmd_last_line(char *out)
{
	size_t n = strlen(out);
	char *p;

	while (n && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	p = strrchr(out, '\n');
	p = p ? p + 1 : out;
	for (char *q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	return p;
}

int method_cmd_describe(int status, const char *cmd, char *out, char *err,
			size_t errlen)
{
	if (status < 0)
		return -1;	/* err says why */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return errprintf(err, errlen, errno, "%s %s %d%s%s", cmd,
			 WIFEXITED(status) ? "exited" : "was killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status)
					   : WTERMSIG(status),
			 *method_cmd_last_line(out) ? ": " : "",
			 method_cmd_last_line(out));
}
