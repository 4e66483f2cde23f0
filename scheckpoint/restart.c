/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restart.c - "scheckpoint restart": submit an ended job again from its
 * image, the batch script and the record saved in it, read once and
 * checked against the manifest.  A user submits their own (fetched from
 * the offsite store when the directory holds none); root's restart runs
 * sbatch as the image's owner in a sealed process. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "image.h"
#include "jobspec.h"
#include "manifest.h"
#include "proto.h"
#include "restart_log.h"
#include "sched.h"
#include "scheckpoint.h"

/* The saved job of an image: its record and its batch script, the very
 * bytes that were checked against the manifest. */
struct saved_job {
	json_t *job;
	char *script;
	size_t script_len;
};

#define SAVED_JOB_MAX (1 << 20)
#define SAVED_SCRIPT_MAX (64 << 20)	/* Slurm's max_script_size: 512 MiB */

/* Verify the image and read its saved job, once, through one directory
 * fd (never a second open by name).  0, or -1 with text. */
static int load_image(const char *image, struct saved_job *sv, char *text,
		      size_t len)
{
	struct manifest m = { 0 };
	char err[512], *buf = NULL;
	size_t blen;
	int fd, rc = -1;

	memset(sv, 0, sizeof(*sv));
	fd = open(image, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(text, len, "no image %s: %s", image, strerror(errno));
		return -1;
	}
	if (manifest_read(fd, &m, err, sizeof(err)) < 0 ||
	    manifest_verify(fd, &m, err, sizeof(err)) < 0) {
		snprintf(text, len, "image %s does not verify: %s", image, err);
		goto out;
	}
	if (manifest_read_file(fd, &m, IMAGE_JOB_NAME, SAVED_JOB_MAX, &buf,
			       &blen, err, sizeof(err)) < 0 ||
	    manifest_read_file(fd, &m, IMAGE_SCRIPT_NAME, SAVED_SCRIPT_MAX,
			       &sv->script, &sv->script_len, err,
			       sizeof(err)) < 0) {
		if (errno == ENOENT)
			snprintf(text, len, "image %s holds no saved job (%s, "
				 "%s): submit it with sbatch --restart-dir=%s",
				 image, IMAGE_JOB_NAME, IMAGE_SCRIPT_NAME,
				 image);
		else
			snprintf(text, len, "image %s: %s", image, err);
		goto out;
	}
	if (!(sv->job = jobspec_parse(buf, blen, err, sizeof(err)))) {
		snprintf(text, len, "%s/%s: %s", image, IMAGE_JOB_NAME, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		json_decref(sv->job);
		free(sv->script);
		memset(sv, 0, sizeof(*sv));
	}
	free(buf);
	manifest_free(&m);
	close(fd);
	return rc;
}

/* Run sbatch with the script on its input; its output (--parsable:
 * "<id>[;cluster]") in buf.  0/-1 with text; sbatch's own errors go to
 * our stderr. */
static int run_sbatch(char **argv, const struct saved_job *sv, char *buf,
		      size_t len, char *text, size_t tlen)
{
	size_t got = 0;
	ssize_t n;
	int in[2], out[2], status;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		snprintf(text, tlen, "cannot run sbatch: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "scheckpoint: sbatch: %s\n", strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* sbatch reads all of its script before it answers; one that
	 * stops reading fails, and says why (SIGPIPE is ignored). */
	(void)manifest_write_all(in[1], sv->script, sv->script_len);
	close(in[1]);
	while (got + 1 < len &&
	       ((n = read(out[0], buf + got, len - 1 - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	buf[got] = '\0';
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(text, tlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(text, tlen, "sbatch failed (exit %d): the job was "
			 "not submitted", WIFEXITED(status) ?
			 WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* More than slurmckptd's offsite_timeout (at most 840 s). */
#define FETCH_WAIT_S 900

/* No image in dir that verifies: this node's slurmckptd may fetch the
 * newest from the offsite store, as this user, into dir.  True when it
 * did (image is then its path); else text says why, after what it
 * said already. */
static bool fetch_image(const char *sock, uint32_t jobid, const char *dir,
			char *image, size_t ilen, uint64_t *seq, char *text,
			size_t len)
{
	struct ckpt_msg m = { .op = CKPT_OP_FETCH, .job = jobid,
			      .step = CKPT_STEP_BATCH,
			      .fetch_dir = (char *)dir }, r = { 0 };
	size_t used = strlen(text);
	char why[1024];
	bool ok = false;

	if (ask_local(sock, &m, &r, FETCH_WAIT_S, why, sizeof(why)) < 0) {
		snprintf(text + used, len - used, "; nothing fetched from an "
			 "offsite store: %s", why);
		return false;
	}
	if (r.ok && r.image) {
		snprintf(image, ilen, "%s", r.image);
		*seq = r.seq;
		ok = true;
	} else if (r.err != ENOTSUP) {	/* ENOTSUP: there is no store */
		snprintf(text + used, len - used, "; none fetched from the "
			 "offsite store: %s", r.error ? r.error :
			 strerror(r.err));
	}
	proto_msg_clear(&r);
	return ok;
}

/* The image's directory, opened as whoever runs this (the user). */
static int open_dir_of(const char *image)
{
	const char *slash = strrchr(image, '/');
	char *dir;
	int fd;

	if (!slash || !(dir = strndup(image, (size_t)(slash - image))))
		return -1;
	fd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

/* Submit the job saved in image again (as whoever runs this) and print
 * the new job id; not while an earlier restart of it is in the queue,
 * unless forced.  0, or 1 said on stderr. */
static int submit_saved(const char *image, uint32_t jobid, const char *id,
			bool stick, bool force, uint64_t fetched)
{
	char text[16384], out[256];
	struct saved_job sv;
	struct args a = { 0 };
	struct sched_job sj;
	unsigned long newid;
	uint32_t other;
	json_t *o;
	int rc = 1, basefd = -1;
	size_t i;

	if (load_image(image, &sv, text, sizeof(text)) < 0) {
		print_error(errno ? errno : EIO, text);
		return 1;
	}
	if (!jobspec_is(sv.job, getuid(), jobid)) {
		snprintf(text, sizeof(text), "permission denied: %s is job "
			 "%lld of uid %lld", image,
			 (long long)json_integer_value(
				 json_object_get(sv.job, "job_id")),
			 (long long)json_integer_value(
				 json_object_get(sv.job, "user_id")));
		print_error(EPERM, text);
		goto out;
	}
	if (!force && sched_job(jobid, &sj, text, sizeof(text)) == 0 &&
	    sj.completed) {
		snprintf(text, sizeof(text), "job %u completed: it ended on "
			 "its own with exit code 0, and a restart runs again "
			 "what it did after its last checkpoint; say Force to "
			 "do that", jobid);
		print_error(EEXIST, text);
		goto out;
	}
	basefd = open_dir_of(image);
	if (!force && basefd >= 0 &&
	    restart_log_queued(basefd, jobid, &other)) {
		snprintf(text, sizeof(text), "job %u, restarted from job %u "
			 "before, is in the queue: a second job from %s would "
			 "do the same work twice; say Force to submit one all "
			 "the same", other, jobid, image);
		print_error(EEXIST, text);
		goto out;
	}
	jobspec_sbatch_args(&a, sv.job, image, stick);
	if (a.oom) {
		print_error(ENOMEM, "out of memory");
		goto out;
	}
	if (run_sbatch(a.v, &sv, out, sizeof(out), text, sizeof(text)) < 0) {
		print_error(EIO, text);
		goto out;
	}
	errno = 0;
	newid = strtoul(out, NULL, 10);
	if (errno || newid == 0) {
		snprintf(text, sizeof(text), "sbatch said '%.200s'", out);
		print_error(EIO, text);
		goto out;
	}
	if (json_out) {
		o = json_pack("{s:b,s:s,s:s,s:I,s:s,s:b,s:I}", "ok", 1,
			      "verb", "restart", "id", id, "job_id",
			      (json_int_t)newid, "image", image,
			      "stick_to_nodes", stick, "fetched_seq",
			      (json_int_t)fetched);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("Submitted batch job %lu\n", newid);
	}
	if (basefd < 0 ||
	    restart_log_note(basefd, jobid, (uint32_t)newid, image) < 0)
		fprintf(stderr, "scheckpoint: warning: job %lu not noted in "
			"the %s beside %s: a second restart of job %u will "
			"not see it\n", newid, IMAGE_LOG_NAME, image, jobid);
	rc = 0;
out:
	if (basefd >= 0)
		close(basefd);
	for (i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	json_decref(sv.job);
	free(sv.script);
	return rc;
}

/* Copy what fd says to f, escaped: it comes from a process the user
 * controls. */
static void relay(int fd, FILE *f)
{
	char buf[4096], safe[4 * sizeof(buf) + 1];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			fputs(escape_ctl(safe, sizeof(safe), buf, (size_t)n,
					 true), f);
}

/* The environment of root's restart as pw: nothing of root's but where
 * to find sbatch and the cluster (PATH, SLURM_CONF: root chose them),
 * and who the user is. */
static char **owner_env(const struct passwd *pw)
{
	const char *path = getenv("PATH"), *conf = getenv("SLURM_CONF");
	struct args e = { 0 };

	args_add(&e, "PATH=%s", path && *path ? path : "/usr/bin:/bin");
	if (conf && *conf)
		args_add(&e, "SLURM_CONF=%s", conf);
	args_add(&e, "HOME=%s", pw->pw_dir);
	args_add(&e, "USER=%s", pw->pw_name);
	args_add(&e, "LOGNAME=%s", pw->pw_name);
	args_add(&e, "SHELL=%s", pw->pw_shell && *pw->pw_shell ?
		 pw->pw_shell : "/bin/sh");
	return e.oom ? NULL : e.v;
}

/* In the child of root's restart: become pw, holding nothing of root's.
 * Not dumpable before the identity changes (the kernel would keep it so,
 * but exec makes sbatch dumpable again: so it gets nothing worth
 * taking), a session of its own (no controlling terminal), /dev/null
 * for input, the pipes for output, no other fd, its own environment. */
static int seal_as(const struct passwd *pw, int out, int err)
{
	extern char **environ;
	char **env;
	int null;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setsid() < 0 ||
	    (null = open("/dev/null", O_RDONLY)) < 0 ||
	    dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0 ||
	    close_range(3, ~0U, 0) < 0 || !(env = owner_env(pw)))
		return -1;
	environ = env;
	if (pw->pw_uid == 0)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return -1;
	return 0;
}

/* root restarts the job as the image's owner, in a sealed child; what it
 * prints comes back escaped.  An image that root owns is restarted (as
 * root) only with AllowRoot. */
static int restart_as_owner(const char *image, uint32_t jobid,
			    const char *id, bool stick, bool allow_root,
			    bool force)
{
	struct passwd *pw;
	struct stat st;
	char text[4400];
	int o[2], e[2], status;
	pid_t pid;

	if (lstat(image, &st) < 0) {
		snprintf(text, sizeof(text), "no image %s: %s", image,
			 strerror(errno));
		print_error(errno, text);
		return 1;
	}
	if (st.st_uid == 0 && !allow_root) {
		snprintf(text, sizeof(text), "image %s is owned by root: "
			 "restarting it runs its job as root; say AllowRoot "
			 "to do that", image);
		print_error(EPERM, text);
		return 1;
	}
	if (!(pw = getpwuid(st.st_uid))) {
		snprintf(text, sizeof(text), "%s: owner %u is not a known "
			 "user", image, (unsigned)st.st_uid);
		print_error(ENOENT, text);
		return 1;
	}
	fflush(NULL);
	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		snprintf(text, sizeof(text), "cannot fork: %s",
			 strerror(errno));
		print_error(errno, text);
		return 1;
	}
	if (pid == 0) {
		if (seal_as(pw, o[1], e[1]) < 0) {
			dprintf(e[1], "scheckpoint: cannot become %s: %s\n",
				pw->pw_name, strerror(errno));
			_exit(1);
		}
		status = submit_saved(image, jobid, id, stick, force, 0);
		_exit(fflush(stdout) != 0 ? 1 : status);
	}
	close(o[1]);
	close(e[1]);
	/* The child's answer is short (a line, or a small JSON object), so
	 * it never waits on a full pipe while its errors are read. */
	relay(e[0], stderr);
	relay(o[0], stdout);
	close(e[0]);
	close(o[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int restart(const char *sock, const char *id, const char *dir,
		   bool stick, bool allow_root, bool force)
{
	char name[80], image[4200], text[16384];
	struct sched_job sj;
	uint32_t jobid, step;
	uint64_t fetched = 0;
	int fd, rc;

	if ((rc = resolve_id(id, &jobid, &step)) != 0)
		return rc;
	if (step != CKPT_STEP_ALL && step != CKPT_STEP_BATCH) {
		fprintf(stderr, "scheckpoint: restart is for a job: it submits "
			"the batch script again from the job's image "
			"<job_id>.ckpt\n");
		return EXIT_USAGE;
	}
	/* like --checkpoint-dir, whose environment equivalent it is */
	if (!dir && (dir = getenv("SLURM_CHECKPOINT_DIR")) && *dir != '/')
		dir = NULL;
	if (!dir) {
		fprintf(stderr, "scheckpoint: restart needs ImageDir=<the "
			"job's checkpoint directory> (or SLURM_CHECKPOINT_DIR)"
			"\n");
		return EXIT_USAGE;
	}
	image_name(jobid, CKPT_STEP_BATCH, name, sizeof(name));
	snprintf(image, sizeof(image), "%s/%s", dir, name);
	sched_init();
	if (sched_job(jobid, &sj, text, sizeof(text)) == 0 && !sj.done) {
		snprintf(text, sizeof(text), "job %u is still in the queue: "
			 "restart is for a job that has ended (to checkpoint "
			 "and start it again, use scheckpoint requeue %u)",
			 jobid, jobid);
		print_error(EBUSY, text);
		return 1;
	}
	/* sbatch must not die of a write to a pipe it closed */
	signal(SIGPIPE, SIG_IGN);
	if (getuid() == 0)
		return restart_as_owner(image, jobid, id, stick, allow_root,
					force);
	/* A user: no image here that this user can open (it may never have
	 * been flushed back), so ask for one from the offsite store. */
	fd = open(image, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
	} else {
		snprintf(text, sizeof(text), "no image %s: %s", image,
			 strerror(errno));
		if (!fetch_image(sock, jobid, dir, image, sizeof(image),
				 &fetched, text, sizeof(text))) {
			print_error(ENOENT, text);
			return 1;
		}
		if (!json_out)
			fprintf(stderr, "scheckpoint: seq %llu of job %u "
				"fetched from the offsite store into %s\n",
				(unsigned long long)fetched, jobid, image);
	}
	return submit_saved(image, jobid, id, stick, force, fetched);
}

/* restart <job_id> ImageDir=<dir> [StickToNodes] [AllowRoot] [Force] */
int restart_main(const char *sock, int argc, char **argv)
{
	const char *dir = NULL;
	bool stick = false, allow_root = false, force = false;
	int i;

	if (argc < 2) {
		fprintf(stderr, "scheckpoint: restart needs a job id: "
			"restart <job_id> ImageDir=<dir> [StickToNodes] "
			"[AllowRoot] [Force]\n");
		return EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (strncasecmp(argv[i], "ImageDir=", 9) == 0 &&
		    argv[i][9] == '/') {
			dir = argv[i] + 9;
		} else if (strcasecmp(argv[i], "StickToNodes") == 0) {
			stick = true;
		} else if (strcasecmp(argv[i], "AllowRoot") == 0) {
			allow_root = true;
		} else if (strcasecmp(argv[i], "Force") == 0) {
			force = true;
		} else {
			fprintf(stderr, "scheckpoint: restart: invalid option "
				"'%s' (ImageDir=<absolute dir>, "
				"StickToNodes, AllowRoot, Force)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	return restart(sock, argv[1], dir, stick, allow_root, force);
}
