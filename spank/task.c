/* SPDX-License-Identifier: GPL-2.0-or-later */
/* task.c - in each task, just before exec and with the user's
 * credentials: the checkpoint environment, and the image to restart from
 * when the job runs again. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image.h"
#include "kvconf.h"
#include "manifest.h"
#include "plugin.h"
#include "timefmt.h"

static int setenvf(spank_t sp, const char *var, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int setenvf(spank_t sp, const char *var, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    spank_setenv(sp, var, buf, 1) != ESPANK_SUCCESS) {
		slurm_error(PFX "cannot set %s", var);
		return -1;
	}
	return 0;
}

/* A step over several nodes: this node's part of an image, "/node.<k>";
 * else "". */
static const char *part_of_node(void)
{
	static char part[32];

	if (step.nnodes > 1)
		snprintf(part, sizeof(part), "/node.%u", step.nodeid);
	else
		part[0] = '\0';
	return part;
}

/* Where this node's tasks write: the staging's part of this node, or,
 * with node-local staging, the local staging itself (it holds this
 * node's part only; slurmckptd copies it into node.<k>). */
static const char *stage_part(void)
{
	return step.local ? "" : part_of_node();
}

static int set_task_env(spank_t sp, uint32_t task)
{
	char interval[32];

	timefmt_format(opts.interval, interval, sizeof(interval));
	if (setenvf(sp, "SLURM_CHECKPOINT", "%s", interval) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_DIR", "%s/%s%s%s", local_stage_dir(),
		    step.name, IMAGE_STAGING_SUFFIX, stage_part()) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_DONE", "%s/%s%s%s/.done.%u",
		    local_stage_dir(), step.name, IMAGE_STAGING_SUFFIX,
		    stage_part(), task) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_SIGNAL", "%s",
		    signal_name(options_signo())) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_IMAGE", "%s/%s", step.dir,
		    step.name) < 0)
		return -1;
	if (setenvf(sp, "SLURM_CHECKPOINT_METHOD", "%s", options_method()) < 0)
		return -1;
	if (opts.watch &&
	    setenvf(sp, "SLURM_CHECKPOINT_WATCH", "%s", opts.watch) < 0)
		return -1;
	/* For scheckpoint and the applications' requests from inside. */
	if (step.sock[0] &&
	    setenvf(sp, "SLURM_CHECKPOINT_SOCKET", "%s", step.sock) < 0)
		return -1;
	if (opts.trigger &&
	    setenvf(sp, "SLURM_CHECKPOINT_TRIGGER", "%s", opts.trigger) < 0)
		return -1;
	if (options_exit_code() &&
	    setenvf(sp, "SLURM_CHECKPOINT_EXIT_CODE", "%ld",
		    options_exit_code()) < 0)
		return -1;
	return 0;
}

/* A task that checkpoints by exiting, or on Slurm's own SIGTERM, writes
 * into SLURM_CHECKPOINT_DIR without being asked: it must exist from the
 * start (as the user). */
static void make_staging(void)
{
	char err[512], name[80];
	int fd;

	if (!options_unasked())
		return;
	fd = image_open_base(step.dir, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, PFX "%s\n", err);
		return;
	}
	snprintf(name, sizeof(name), "%s%s", step.name, IMAGE_STAGING_SUFFIX);
	if (mkdirat(fd, name, 0700) < 0 && errno != EEXIST)
		fprintf(stderr, PFX "%s/%s: %s\n", step.dir, name,
			strerror(errno));
	close(fd);
}

static unsigned long restart_count(spank_t sp)
{
	char buf[32];

	if (spank_getenv(sp, "SLURM_RESTART_COUNT", buf, sizeof(buf)) !=
	    ESPANK_SUCCESS)
		return 0;
	return strtoul(buf, NULL, 10);
}

static void note_restart(const char *path, const struct manifest *m,
			 unsigned long count, const char *skipped)
{
	char line[5400], *p;
	int fd;

	fd = open(step.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(line, sizeof(line), "%s restarted (restart count %lu) from "
		 "%s seq=%llu%s%s", step.label, count, path,
		 (unsigned long long)m->seq, skipped[0] ? "; skipped: " : "",
		 skipped);
	/* Why an image was skipped may quote a file name of the image: a
	 * newline there must not start a line of its own in the log. */
	for (p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	image_log(fd, line);
	close(fd);
}

/* The method's restart command, in this task before its program starts:
 * as the user, its output on the task's, at most max_wait seconds.
 * 0, or -1 with a message for the task's stderr in why. */
static int run_restart_cmd(const char *image, uint32_t task, char *why,
			   size_t whylen)
{
	char *argv[] = { step.restart_cmd, NULL };
	char env[5][4200];
	char *envp[6];
	long waited;
	int status, i;
	pid_t pid, w;

	snprintf(env[0], sizeof(env[0]), "PATH=/usr/local/bin:/usr/bin:/bin");
	snprintf(env[1], sizeof(env[1]), "SLURM_RESTART_DIR=%s", image);
	snprintf(env[2], sizeof(env[2]), "SLURM_PROCID=%u", task);
	snprintf(env[3], sizeof(env[3]), "SLURM_JOB_ID=%u", step.job);
	snprintf(env[4], sizeof(env[4]), "SLURM_CHECKPOINT_IMAGE=%s/%s",
		 step.dir, step.name);
	for (i = 0; i < 5; i++)
		envp[i] = env[i];
	envp[5] = NULL;
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		execve(argv[0], argv, envp);
		fprintf(stderr, PFX "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	for (waited = 0; ; waited++) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -1;
		}
		if (waited >= conf.max_wait * 10) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(why, whylen, "%s did not finish within %ld s",
				 argv[0], conf.max_wait);
			return -1;
		}
		usleep(100000);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(why, whylen, "%s %s %d", argv[0],
		 WIFEXITED(status) ? "exited" : "was killed by signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return -1;
}

/* path (an image) becomes its part node.<k>; an image without it (made
 * by a step over fewer nodes) is an error, and no SLURM_RESTART_DIR. */
static int restart_part(char *path, size_t len, uint32_t task)
{
	struct stat st;
	size_t used = strlen(path);

	if (snprintf(path + used, len - used, "%s", part_of_node()) >=
	    (int)(len - used) || lstat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, PFX "%s task %u: the image has no part for "
			"node index %u of %u (%s): starting from the "
			"beginning\n", step.label, task, step.nodeid,
			step.nnodes, path);
		return -1;
	}
	return 0;
}

static int set_restart_env(spank_t sp, uint32_t task)
{
	unsigned long count = restart_count(sp);
	const char *dir = opts.restart_dir ? opts.restart_dir : step.dir;
	char path[4096], why[1024] = "";
	struct manifest m = { 0 };
	bool never;
	int rc, fetched = -1;

	spank_unsetenv(sp, "SLURM_RESTART_DIR");
	if (!opts.restart_dir && count == 0)
		return 0;
	rc = lookup_image(dir, path, sizeof(path), &m, why, sizeof(why));
	never = rc < 0 && errno == ENOENT;
	rc = local_prefer(rc, path, sizeof(path), &m, why, sizeof(why));
	if (rc < 0 && !opts.restart_dir &&
	    (fetched = fetch_offsite(why, sizeof(why))) == 0)
		rc = lookup_image(dir, path, sizeof(path), &m, why,
				  sizeof(why));
	/* Asked for by name: a task without it would redo the work. */
	if (rc < 0 && opts.restart_dir) {
		fprintf(stderr, PFX "%s: --restart-dir=%s: no usable image "
			"(%s); the task is not started (name an image "
			"directory, <dir>/<job>.ckpt or "
			"<dir>/<job>.<step>.ckpt, or leave --restart-dir "
			"out)\n", step.label, dir, why);
		return -1;
	}
	/* A step that never committed an image (a batch script whose srun
	 * steps checkpoint): starting again is what it should do. */
	if (rc < 0 && never && fetched > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, PFX "%s: no usable image in %s (%s); "
			"starting from the beginning\n", step.label, dir, why);
		return 0;
	}
	/* Over several nodes: this node's part, which must be there. */
	/* Over several nodes: this node's part, which must be there (a
	 * local image is this node's part already). */
	if (step.nnodes > 1 && !local_is_local(path) &&
	    restart_part(path, sizeof(path), task) < 0) {
		manifest_free(&m);
		return 0;
	}
	setenvf(sp, "SLURM_RESTART_DIR", "%s", path);
	/* Never fall back to an older image silently. */
	if (why[0])
		fprintf(stderr, PFX "%s: resuming from %s; newer images did "
			"not verify: %s\n", step.label, path, why);
	if (task == 0)
		note_restart(path, &m, count, why);
	manifest_free(&m);
	if (step.restart_cmd &&
	    run_restart_cmd(path, task, why, sizeof(why)) < 0) {
		fprintf(stderr, PFX "%s: task %u not started: the restart "
			"command of method %s failed: %s\n", step.label, task,
			options_method(), why);
		return -1;
	}
	/* Returns only if the task is not restored (restore.c). */
	if (step.criu && restore_criu(sp, path, task) < 0)
		return -1;
	return 0;
}

/* Root, in the task: a criu= method's restore needs one capability
 * after slurmstepd has become the user (restore.c). */
int task_init_privileged(spank_t sp)
{
	(void)sp;
	if (step.registered && !step.failed && step.criu &&
	    restore_keep_caps() < 0)
		slurm_error(PFX "PR_SET_KEEPCAPS: %m; no CRIU restore");
	return 0;
}

static int task_init_user(spank_t sp);

int task_init(spank_t sp)
{
	int rc;

	/* CRIU's unprivileged restore needs the tasks it dumped to have
	 * no_new_privs (restore.c). */
	if (step.registered && !step.failed && step.criu &&
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fprintf(stderr, PFX "PR_SET_NO_NEW_PRIVS: %s\n",
			strerror(errno));
	/* No capability but CAP_CHECKPOINT_RESTORE, not effective, while
	 * the image is looked for (restore.c). */
	if (step.criu && restore_limit_caps() < 0) {
		fprintf(stderr, PFX "cannot limit capabilities: %s\n",
			strerror(errno));
		restore_drop_caps();
	}
	rc = task_init_user(sp);
	if (step.criu)
		restore_drop_caps();
	restore_wipe_key();
	return rc;
}

static int task_init_user(spank_t sp)
{
	uint32_t task = 0;
	uid_t uid;

	if (step.failed) {
		fprintf(stderr, "%s\n", step.failed);
		return -1;
	}
	if (!step.registered)
		return 0;
	spank_get_item(sp, S_TASK_GLOBAL_ID, &task);
	if (set_task_env(sp, task) < 0)
		return 0;
	/* Images are read with the user's rights only. */
	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    geteuid() != uid) {
		slurm_error(PFX "task_init not running as the job's user; "
			    "no restart lookup");
		return 0;
	}
	if (set_restart_env(sp, task) < 0)
		return -1;
	make_staging();
	return 0;
}
