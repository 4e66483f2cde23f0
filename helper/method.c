/* method.c - checkpoint methods besides the cooperative "signal": site
 * scripts.  An admin defines each in <method_dir>/<name>.method (root's
 * file, like the commands it names); a step picks one with
 * --checkpoint-method.  A checkpoint then runs the method's checkpoint
 * command, with the job user's identity, in a worker, with the step's
 * task pids and its staging directory in the environment; exit status 0
 * means the staging directory holds the image, which is committed as a
 * cooperative one is.  A method with criu= instead has each task's
 * process tree dumped by "criu dump --unprivileged", run as the user
 * with CAP_CHECKPOINT_RESTORE only, into criu.<task>/ of the staging
 * directory.  See slurmckptd(8), METHODS. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "imagemac.h"
#include "kvconf.h"
#include "log.h"
#include "method.h"
#include "pidfd.h"
#include "privsep.h"
#include "run.h"
#include "steps.h"
#include "subtree.h"

#define SUFFIX ".method"
#define OUTPUT_MAX 512		/* the tail of a command's output we keep */
#define CHECK_TIMEOUT 30	/* seconds for a method's check= command */
/* image_key= of a criu= method: a secret every node of a cluster has */
#define IMAGE_KEY "/etc/munge/munge.key"

struct method {
	struct method *next;
	char name[CKPT_METHOD_NAME_MAX + 1];
	char *checkpoint;	/* checkpoint=<path>, required */
	char *restart;		/* restart=<path>, run by the plugin */
	char *cleanup;		/* cleanup=<path>, after each checkpoint */
	char *check;		/* check=<path>, at start-up */
	char *criu;		/* criu=<path>: criu dumps, not checkpoint= */
	char *image_key;	/* image_key=<path>: keys the dumps' MAC */
	uint8_t key[IMAGEMAC_KEY_LEN];	/* derived from it (imagemac.h) */
};

/* The keys of a method file (documented in slurmckptd(8), METHODS, and
 * etc/example.method; tests/unit/keys-agree.sh checks both). */
static const struct kv_key method_keys[] = {
	{ "checkpoint", KV_PATH, offsetof(struct method, checkpoint), 0, 0,
	  "the absolute path of the checkpoint command" },
	{ "restart", KV_PATH, offsetof(struct method, restart), 0, 0,
	  "the absolute path of the restart command" },
	{ "cleanup", KV_PATH, offsetof(struct method, cleanup), 0, 0,
	  "the absolute path of the clean-up command" },
	{ "check", KV_PATH, offsetof(struct method, check), 0, 0,
	  "the absolute path of a command that says whether the method "
	  "works here" },
	{ "criu", KV_PATH, offsetof(struct method, criu), 0, 0,
	  "the absolute path of criu, whose dumps of each task's process "
	  "tree are the checkpoints" },
	{ "image_key", KV_PATH, offsetof(struct method, image_key), 0, 0,
	  "the absolute path of the secret file, the same on every node, "
	  "that keys the MAC of criu's dumps" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static struct method *methods;

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
static int trusted(char **path, bool want_exec, char *err, size_t errlen)
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

static void method_free(struct method *m)
{
	if (!m)
		return;
	kv_free(method_keys, m);
	explicit_bzero(m->key, sizeof(m->key));
	free(m);
}

static int run(const char *cmd, char *const env[], int cwdfd, long timeout,
	       char *out, size_t outlen, char *err, size_t errlen);
static int run_argv(char *const argv[], char *const env[], int cwdfd,
		    long timeout, bool ambient, char *out, size_t outlen,
		    char *err, size_t errlen);
static int describe(int status, const char *cmd, char *out, char *err,
		    size_t errlen);

static const char *last_line(char *out);

/* Run a method's check= command as root, at start-up; 0 when it exits 0
 * within CHECK_TIMEOUT seconds, with the last line of its output (what
 * the tool is: its version) in said, else why (with that line) in err. */
static int run_check(const struct method *m, char *said, size_t saidlen,
		     char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char out[OUTPUT_MAX];

	if (describe(run(m->check, envp, -1, CHECK_TIMEOUT, out,
			 sizeof(out), err, errlen),
		     m->check, out, err, errlen) < 0)
		return -1;
	snprintf(said, saidlen, "%s", last_line(out));
	return 0;
}

/* A criu= method works here if "criu check" passes (as root, at
 * start-up); said gets criu's version. */
static int criu_check(const struct method *m, char *said, size_t saidlen,
		      char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char *const version[] = { m->criu, "--version", NULL };
	char *const check[] = { m->criu, "check", NULL };
	char out[OUTPUT_MAX], ver[128];
	const char *v;

	if (describe(run_argv(version, envp, -1, CHECK_TIMEOUT, false, out,
			      sizeof(out), err, errlen),
		     m->criu, out, err, errlen) < 0)
		return -1;
	/* "Version: 4.2" (and, from git builds, "GitID: ...") */
	v = strstr(out, "Version: ");
	snprintf(ver, sizeof(ver), "%s", v ? v + 9 : "");
	ver[strcspn(ver, "\n")] = '\0';
	if (describe(run_argv(check, envp, -1, CHECK_TIMEOUT, false, out,
			      sizeof(out), err, errlen),
		     "criu check", out, err, errlen) < 0)
		return -1;
	snprintf(said, saidlen, "criu %s, criu check: %s", ver,
		 last_line(out));
	return 0;
}

/* Read one <name>.method file.  A method whose check= fails is left
 * out (said in the log); anything else wrong is an error. */
static int load_one(const char *dir, const char *file, char *err,
		    size_t errlen)
{
	char path[PATH_MAX], why[512], said[OUTPUT_MAX] = "";
	size_t len = strlen(file) - strlen(SUFFIX);
	char **cmd, *real;
	struct method *m;
	size_t i;

	if (len < 1 || len > CKPT_METHOD_NAME_MAX)
		return errprintf(err, errlen, errno,
				 "%s/%s: the name of a method has 1 to "
				 "%d characters",
				 dir, file, CKPT_METHOD_NAME_MAX);
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return errprintf(err, errlen, ENAMETOOLONG,
				 "%s/%s: path too long", dir, file);
	if (!(m = calloc(1, sizeof(*m))))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	memcpy(m->name, file, len);
	if (!proto_method_name_ok(m->name) || strcmp(m->name, "signal") == 0) {
		errprintf(err, errlen, errno,
			  "%s: '%s' cannot be a method's name (use "
			  "[a-z0-9_-]; \"signal\" is built in)",
			  path, m->name);
		goto fail;
	}
	if (!(real = strdup(path)) ||
	    trusted(&real, false, err, errlen) < 0 ||
	    kv_parse_file(method_keys, m, real, err, errlen) < 0) {
		free(real);
		goto fail;
	}
	free(real);
	if (!m->checkpoint == !m->criu) {
		errprintf(err, errlen, errno,
			  "%s: one of checkpoint= and criu= is "
			  "required",
			  path);
		goto fail;
	}
	cmd = &m->checkpoint;
	for (i = 0; i < 5; i++)
		if (cmd[i] && trusted(&cmd[i], true, err, errlen) < 0)
			goto fail;
	if (m->criu && !m->image_key && !(m->image_key = strdup(IMAGE_KEY))) {
		errprintf(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	if ((m->criu && (imagemac_key_load(m->image_key, m->key, why,
					   sizeof(why)) < 0 ||
			 criu_check(m, said, sizeof(said), why,
				    sizeof(why)) < 0)) ||
	    (m->check && run_check(m, said, sizeof(said), why,
				   sizeof(why)) < 0)) {
		log_msg(LOG_WARNING, "method %s is not available on this "
			"node: %s", m->name, why);
		method_free(m);
		return 0;
	}
	log_msg(LOG_INFO, "method %s: %s=%s%s%s%s%s%s%s%s", m->name,
		m->criu ? "criu" : "checkpoint",
		m->criu ? m->criu : m->checkpoint, m->restart ? " restart=" : "",
		m->restart ? m->restart : "", *said ? " (check: " : "", said,
		*said ? ")" : "", m->criu ? " image_key=" : "",
		m->criu ? m->image_key : "");
	m->next = methods;
	methods = m;
	return 0;
fail:
	method_free(m);
	return -1;
}

int methods_load(const char *dir, char *err, size_t errlen)
{
	struct dirent *e;
	struct stat st;
	size_t n;
	DIR *d;
	int rc = 0;

	if (!(d = opendir(dir))) {
		if (errno == ENOENT)
			return 0;	/* no methods but "signal" */
		return errprintf(err, errlen, errno, "%s: %s", dir,
				 strerror(errno));
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errprintf(err, errlen, errno,
			  "%s: must be a directory owned by root "
			  "and writable by nobody else",
			  dir);
		closedir(d);
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		n = strlen(e->d_name);
		if (n <= strlen(SUFFIX) ||
		    strcmp(e->d_name + n - strlen(SUFFIX), SUFFIX) != 0)
			continue;
		rc = load_one(dir, e->d_name, err, errlen);
	}
	closedir(d);
	return rc;
}

const struct method *method_find(const char *name)
{
	const struct method *m;

	for (m = methods; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

int method_lookup(const char *name, const char *node,
		  const struct method **m, char *err, size_t errlen)
{
	*m = NULL;
	if (!name || strcmp(name, "signal") == 0)
		return 0;
	if ((*m = method_find(name)))
		return 0;
	return errprintf(err, errlen, ENOENT,
			 "checkpoint method '%s' is not available on "
			 "node %s",
			 name, node ? node : "?");
}

const char *method_name(const struct method *m)
{
	return m->name;
}

const char *method_restart(const struct method *m)
{
	return m->restart;
}

const char *method_criu(const struct method *m)
{
	return m->criu;
}

const char *method_image_key(const struct method *m)
{
	return m->image_key;
}

void methods_free(void)
{
	struct method *m;

	while ((m = methods)) {
		methods = m->next;
		method_free(m);
	}
}

/* ------------------------------------------------- in the worker child */

/* "VAR=value" into env[*n], malloc'ed; -1 on ENOMEM. */
static int setenvv(char **env, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int setenvv(char **env, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&env[*n], fmt, ap);
	va_end(ap);
	if (rc < 0)
		return -1;
	(*n)++;
	return 0;
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
static int run(const char *cmd, char *const env[], int cwdfd, long timeout,
	       char *out, size_t outlen, char *err, size_t errlen)
{
	char *const argv[] = { (char *)cmd, NULL };

	return run_argv(argv, env, cwdfd, timeout, false, out, outlen, err,
			errlen);
}

/* run, with arguments; with ambient, the program gets the
 * CAP_CHECKPOINT_RESTORE this worker kept (privsep_become_ckpt). */
static int run_argv(char *const argv[], char *const env[], int cwdfd,
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
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);

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
static const char *last_line(char *out)
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

/* Build the command's environment (see slurmckptd(8), METHODS). */
static char **method_env(const struct step *s, const struct method *m,
			 const char *reason, const char *status)
{
	size_t ntasks = 0, n = 0, cap, plen = 0;
	const struct task *t;
	char *pids, **env;
	long pid;

	for (t = s->tasks; t; t = t->next)
		ntasks++;
	cap = 16;
	if (!(env = calloc(cap, sizeof(*env))) ||
	    !(pids = calloc(ntasks + 1, 24)))
		goto fail_env;
	for (t = s->tasks; t; t = t->next)
		if ((pid = pidfd_pid(t->w.fd)) > 0)
			plen += (size_t)sprintf(pids + plen, "%s%ld",
						plen ? " " : "", pid);
	if (setenvv(env, &n, "PATH=/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
	    setenvv(env, &n, "SLURM_JOB_ID=%u", s->job) < 0 ||
	    (s->id == CKPT_STEP_BATCH ?
	     setenvv(env, &n, "SLURM_STEP_ID=batch") :
	     setenvv(env, &n, "SLURM_STEP_ID=%u", s->id)) < 0 ||
	    setenvv(env, &n, "SLURM_JOB_UID=%u", s->uid) < 0 ||
	    setenvv(env, &n, "SLURM_JOB_GID=%u", s->gid) < 0 ||
	    setenvv(env, &n, "SLURM_CHECKPOINT_METHOD=%s", m->name) < 0 ||
	    setenvv(env, &n, "SLURM_CHECKPOINT_PIDS=%s", pids) < 0 ||
	    setenvv(env, &n, "SLURM_CHECKPOINT_DIR=%s/%s%s", s->dir, s->name,
		    IMAGE_STAGING_SUFFIX) < 0 ||
	    setenvv(env, &n, "SLURM_CHECKPOINT_IMAGE=%s/%s", s->dir,
		    s->name) < 0 ||
	    setenvv(env, &n, "SLURM_CHECKPOINT_REASON=%s", reason) < 0 ||
	    setenvv(env, &n, "SLURMD_NODENAME=%s", s->node) < 0 ||
	    (status && setenvv(env, &n, "SLURM_CHECKPOINT_STATUS=%s",
			       status) < 0))
		goto fail;
	free(pids);
	return env;
fail:
	free(pids);
fail_env:
	if (env)
		for (n = 0; env[n]; n++)
			free(env[n]);
	free(env);
	return NULL;
}

static void env_free(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

static int describe(int status, const char *cmd, char *out, char *err,
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
			 *last_line(out) ? ": " : "", last_line(out));
}

/* The first error line of criu's log, in dfd, into err. */
static void criu_error(int dfd, char *err, size_t errlen)
{
	char buf[16384], *e, *nl;
	ssize_t r = -1;
	int fd;

	fd = openat(dfd, "dump.log", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (r <= 0)
		return;
	buf[r] = '\0';
	if (!(e = strstr(buf, "Error")))
		return;
	if ((nl = strchr(e, '\n')))
		*nl = '\0';
	errprintf(err, errlen, EIO, "criu dump: %s", last_line(e));
}

/* What to dump for the task whose pid is pid: the task, or, if the
 * plugin restored it (spank/restore.c), the restored root.  Then the
 * task is a stand-in, slurmstepd's fork that never exec'd (comm
 * "slurmstepd"), whose one child is that root.  Both are read from
 * /proc, which the kernel writes. */
static long dump_root(long pid)
{
	char path[64], buf[64];
	ssize_t r;
	long child;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pid;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0 || (buf[r] = '\0', strcmp(buf, "slurmstepd\n") != 0))
		return pid;
	snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pid, pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return pid;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return pid;
	buf[r] = '\0';
	child = strtol(buf, NULL, 10);
	return child > 0 ? child : pid;
}

/* The criu method: each live task's process tree is dumped into
 * criu.<task>/ of the staging directory by "criu dump --unprivileged
 * --leave-running", run as the user with CAP_CHECKPOINT_RESTORE (the
 * kernel's ptrace checks keep it to the user's own processes).  The
 * task's pid comes from its pidfd, and the task must still be alive
 * after its dump: then that pid was the task's all along. */
static int criu_dump(const struct step *s, const struct method *m,
		     int stagefd, char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char out[OUTPUT_MAX], dir[32], pid[24];
	char *const argv[] = { m->criu, "dump", "--unprivileged", "-t", pid,
			       "-D", ".", "-o", "dump.log", "--leave-running",
			       "--shell-job", NULL };
	const struct task *t;
	int dfd, status, n = 0;
	long p;

	for (t = s->tasks; t; t = t->next) {
		if ((p = pidfd_pid(t->w.fd)) < 0)
			continue;
		snprintf(pid, sizeof(pid), "%ld", dump_root(p));
		snprintf(dir, sizeof(dir), "criu.%u", t->id);
		if (mkdirat(stagefd, dir, 0700) < 0 ||
		    (dfd = openat(stagefd, dir,
				  O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					  O_CLOEXEC)) < 0)
			return errprintf(err, errlen, errno, "%s: %s", dir,
					 strerror(errno));
		status = run_argv(argv, envp, dfd, s->max_wait, true, out,
				  sizeof(out), err, errlen);
		if (describe(status, "criu dump", out, err, errlen) < 0) {
			criu_error(dfd, err, errlen);
			close(dfd);
			return -1;
		}
		close(dfd);
		if (!pidfd_alive(t->w.fd))
			return errprintf(err, errlen, errno,
					 "task %u ended during its dump",
					 t->id);
		/* criu.<task>.mac: what the plugin checks before it lets
		 * criu restore from the dump (imagemac.h). */
		if (imagemac_write(stagefd, dir, m->key, err, errlen) < 0)
			return -1;
		n++;
	}
	if (n == 0)
		return errprintf(err, errlen, ESRCH, "every task of %s ended",
				 s->label);
	return 0;
}

/* A checkpoint by the step's method: stage, run the checkpoint command,
 * commit what it left.  The clean-up command runs afterwards either way.
 * Runs as the job's user (in the worker). */
int method_checkpoint(struct ckpt_run *r, const struct method *m, int basefd,
		      struct manifest *mf, char *err, size_t errlen)
{
	const struct step *s = r->s;
	const char *reason = r->reason;
	char out[OUTPUT_MAX], why[512];
	char **env;
	int stagefd, status, rc = -1;

	stagefd = image_stage(basefd, s->name, err, errlen);
	if (stagefd < 0)
		return -1;
	if (!(env = method_env(s, m, reason, NULL))) {
		errprintf(err, errlen, ENOMEM, "out of memory");
		close(stagefd);
		return -1;
	}
	if (m->criu)
		status = criu_dump(s, m, stagefd, err, errlen) < 0 ? -1 : 0;
	else
		status = run(m->checkpoint, env, stagefd, s->max_wait, out,
			     sizeof(out), err, errlen);
	env_free(env);
	close(stagefd);
	if (status == 0 && m->criu) {
		mf->seq = image_next_seq(basefd, s->name);
		rc = run_commit(r, basefd, mf, err, errlen);
	} else if (describe(status, m->checkpoint, out, err, errlen) == 0) {
		mf->seq = image_next_seq(basefd, s->name);
		rc = run_commit(r, basefd, mf, err, errlen);
	}
	if (m->cleanup) {
		env = method_env(s, m, reason, rc == 0 ? "committed" : "failed");
		status = env ? run(m->cleanup, env, -1, s->max_wait, out,
				   sizeof(out), why, sizeof(why)) : -1;
		env_free(env);
		if (describe(status, m->cleanup, out, why, sizeof(why)) < 0 &&
		    rc == 0) {
			/* The image is committed: the clean-up's failure is
			 * the admin's to see, not a failed checkpoint. */
			errprintf(err, errlen, errno, "%s", why);
		}
	}
	return rc;
}
