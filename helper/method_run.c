/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method_run.c - a checkpoint by a method (method.h), in the worker, as
 * the job's user: the staging directory, the method's checkpoint command
 * (or criu dump of each task's tree), the commit, the clean-up command.
 * See slurmckptd(8), METHODS. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "imagemac.h"
#include "method.h"
#include "method_cmd.h"
#include "method_run.h"
#include "pidfd.h"
#include "run.h"
#include "steps.h"

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

/* The first error line of criu's log, in dfd, into err.  True when it
 * says the tree holds what CRIU never dumps without options the step
 * cannot give: a connected TCP socket (srun's, in a batch script). */
static bool criu_error(int dfd, char *err, size_t errlen)
{
	char buf[16384], *e, *nl;
	ssize_t r = -1;
	bool tcp;
	int fd;

	fd = openat(dfd, "dump.log", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	if (r <= 0)
		return false;
	buf[r] = '\0';
	if (!(e = strstr(buf, "Error")))
		return false;
	if ((nl = strchr(e, '\n')))
		*nl = '\0';
	tcp = strstr(e, "Connected TCP socket") != NULL;
	if (tcp)
		errprintf(err, errlen, ENOTSUP, "CRIU cannot dump it: a "
			  "process of the step holds a connected TCP socket "
			  "(srun does: a batch script that runs srun cannot "
			  "be dumped, its srun steps can); criu dump: %s",
			  method_cmd_last_line(e));
	else
		errprintf(err, errlen, EIO, "criu dump: %s",
			  method_cmd_last_line(e));
	return tcp;
}

/* What the dumped root had as fds 0-2, in <dump>/slurm-stdio, under the
 * dump's MAC, for the plugin's restore (spank/restore.c): the pipes
 * (slurmstepd's, to srun), "<fd> pipe:[<inode>]", whose new ones it
 * hands to criu in their place (--inherit-fd); and the size of output
 * files, "<fd> file <size> <path>", so that it can say what grew since.
 * Nothing for a closed fd or anything else. */
static int record_stdio(int dfd, const char *pid, char *err, size_t errlen)
{
	char link[64], target[PATH_MAX], buf[3 * (PATH_MAX + 64)];
	struct stat st;
	size_t used = 0;
	ssize_t n;
	int fd, i;

	for (i = 0; i < 3; i++) {
		snprintf(link, sizeof(link), "/proc/%s/fd/%d", pid, i);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 1)
			continue;
		target[n] = '\0';
		if (strncmp(target, "pipe:[", 6) == 0)
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 "%d %s\n", i, target);
		else if (i > 0 && target[0] == '/' && !strchr(target, '\n') &&
			 stat(link, &st) == 0 && S_ISREG(st.st_mode))
			used += (size_t)snprintf(buf + used, sizeof(buf) - used,
						 "%d file %lld %s\n", i,
						 (long long)st.st_size, target);
	}
	fd = openat(dfd, "slurm-stdio", O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || (used && write(fd, buf, used) != (ssize_t)used)) {
		errprintf(err, errlen, errno, "slurm-stdio: %s",
			  strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
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
		     int stagefd, bool *undumpable, char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char out[METHOD_OUTPUT_MAX], dir[32], pid[24];
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
		status = method_cmd_run_argv(argv, envp, dfd, s->max_wait, true,
					     out, sizeof(out), err, errlen);
		if (method_cmd_describe(status, "criu dump", out, err,
					errlen) < 0) {
			*undumpable = criu_error(dfd, err, errlen);
			close(dfd);
			return -1;
		}
		if (record_stdio(dfd, pid, err, errlen) < 0) {
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
static int take(struct ckpt_run *r, int basefd, struct manifest *mf,
		char *err, size_t errlen)
{
	const struct step *s = r->s;
	const struct method *m = s->method;
	const char *reason = r->reason;
	char out[METHOD_OUTPUT_MAX], why[512];
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
		status = criu_dump(s, m, stagefd, &r->uncaught, err,
				   errlen) < 0 ? -1 : 0;
	else
		status = method_cmd_run(m->checkpoint, env, stagefd,
					s->max_wait, out, sizeof(out), err,
					errlen);
	env_free(env);
	close(stagefd);
	/* A step CRIU cannot dump is said once, not at every interval,
	 * and skipped by the job's verbs (engine.c, server.c); its staging
	 * goes here (the engine keeps an uncaught step's). */
	if (r->uncaught) {
		image_discard(basefd, s->name, why, sizeof(why));
	} else if (status == 0 && m->criu) {
		mf->seq = image_next_seq(basefd, s->name);
		rc = run_commit(r, basefd, mf, err, errlen);
	} else if (method_cmd_describe(status, m->checkpoint, out, err,
				       errlen) == 0) {
		mf->seq = image_next_seq(basefd, s->name);
		rc = run_commit(r, basefd, mf, err, errlen);
	}
	if (m->cleanup) {
		env = method_env(s, m, reason,
				 rc == 0 ? "committed" : "failed");
		status = -1;
		if (env)
			status = method_cmd_run(m->cleanup, env, -1,
						s->max_wait, out, sizeof(out),
						why, sizeof(why));
		env_free(env);
		if (method_cmd_describe(status, m->cleanup, out, why,
					sizeof(why)) < 0 &&
		    rc == 0) {
			/* The image is committed: the clean-up's failure is
			 * the admin's to see, not a failed checkpoint. */
			errprintf(err, errlen, errno, "%s", why);
		}
	}
	return rc;
}

const struct ckpt_way method_way = { "method", take };
