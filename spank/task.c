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
#include <sys/stat.h>
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

static int set_task_env(spank_t sp, uint32_t task)
{
	char interval[32];

	timefmt_format(opts.interval, interval, sizeof(interval));
	if (setenvf(sp, "SLURM_CHECKPOINT", "%s", interval) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_DIR", "%s/%s%s", step.dir,
		    step.name, IMAGE_STAGING_SUFFIX) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_DONE", "%s/%s%s/.done.%u",
		    step.dir, step.name, IMAGE_STAGING_SUFFIX, task) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_SIGNAL", "%s",
		    signal_name(conf.signo)) < 0 ||
	    setenvf(sp, "SLURM_CHECKPOINT_IMAGE", "%s/%s", step.dir,
		    step.name) < 0)
		return -1;
	if (options_exit_code() &&
	    setenvf(sp, "SLURM_CHECKPOINT_EXIT_CODE", "%ld",
		    options_exit_code()) < 0)
		return -1;
	return 0;
}

/* A task that checkpoints by exiting writes into SLURM_CHECKPOINT_DIR
 * without being asked: it must exist from the start (as the user). */
static void make_staging(void)
{
	char err[512], name[80];
	int fd;

	if (!options_exit_code())
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

/* dir is either an image itself (it holds a manifest) or a directory of
 * images among which this step's newest good one is chosen. */
static int find_image(const char *dir, char *path, size_t len,
		      struct manifest *m, char *why, size_t whylen)
{
	char rel[256];
	int fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (faccessat(fd, MANIFEST_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = manifest_read(fd, m, why, whylen);
		if (rc == 0 && (rc = manifest_verify(fd, m, why, whylen)) < 0)
			manifest_free(m);
		if (rc == 0)
			snprintf(path, len, "%s", dir);
	} else {
		rc = image_find_newest(fd, step.name, rel, sizeof(rel), m,
				       why, whylen);
		if (rc == 0)
			snprintf(path, len, "%s/%s", dir, rel);
		else if (!why[0])
			snprintf(why, whylen, "no image %s in %s", step.name,
				 dir);
	}
	close(fd);
	return rc;
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

static void set_restart_env(spank_t sp, uint32_t task)
{
	unsigned long count = restart_count(sp);
	const char *dir = opts.restart_dir ? opts.restart_dir : step.dir;
	char path[4096], why[1024] = "";
	struct manifest m = { 0 };

	spank_unsetenv(sp, "SLURM_RESTART_DIR");
	if (!opts.restart_dir && count == 0)
		return;
	if (find_image(dir, path, sizeof(path), &m, why, sizeof(why)) < 0) {
		fprintf(stderr, PFX "%s: no usable image in %s (%s); "
			"starting from the beginning\n", step.label, dir, why);
		return;
	}
	setenvf(sp, "SLURM_RESTART_DIR", "%s", path);
	/* Never fall back to an older image silently. */
	if (why[0])
		fprintf(stderr, PFX "%s: resuming from %s; newer images did "
			"not verify: %s\n", step.label, path, why);
	if (task == 0)
		note_restart(path, &m, count, why);
	manifest_free(&m);
}

int task_init(spank_t sp)
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
	set_restart_env(sp, task);
	make_staging();
	return 0;
}
