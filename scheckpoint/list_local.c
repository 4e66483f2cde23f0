/* SPDX-License-Identifier: GPL-2.0-or-later */
/* list_local.c - "scheckpoint list" of a job that no slurmckptd has (it
 * ended, or no daemon runs here): its images read from the directory by
 * whoever runs scheckpoint, root as the directory's owner in a child,
 * and shown as slurmckptd's list is. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "image.h"
#include "image_list.h"
#include "manifest.h"
#include "scheckpoint.h"

#define INFO_MAX (4 << 20)	/* IMAGE_LIST_MAX images and their errors */

/* The list as JSON text ({"images": [...], "errors": [...]}), or NULL. */
static char *list_json(const char *dir, uint32_t job, uint32_t step)
{
	json_t *o = json_pack("{s:[],s:[]}", "images", "errors");
	char name[64], *s = NULL;
	int fd;

	if (!o)
		return NULL;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		json_array_append_new(json_object_get(o, "errors"),
				      json_sprintf("%s: %s", dir,
						   strerror(errno)));
	} else {
		if (step != CKPT_STEP_ALL)
			image_name(job, step, name, sizeof(name));
		image_list(fd, dir, step == CKPT_STEP_ALL ? NULL : name, job,
			   json_object_get(o, "images"),
			   json_object_get(o, "errors"));
		close(fd);
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* Root: the same in a child that is the directory's owner first, with
 * nothing of root's (no terminal, not dumpable). */
static char *list_as_owner(const char *dir, uint32_t job, uint32_t step,
			   char *text, size_t len)
{
	char *buf, *s;
	size_t got = 0;
	ssize_t n;
	struct stat st;
	int p[2], status;
	pid_t pid;

	if (lstat(dir, &st) < 0) {
		snprintf(text, len, "%s: %s", dir, strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(INFO_MAX + 1)) || pipe2(p, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		snprintf(text, len, "cannot list %s: %s", dir,
			 strerror(errno));
		free(buf);
		return NULL;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Nothing of root's: not dumpable, no terminal. */
		close(p[0]);
		if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
		    dup2(null, STDOUT_FILENO) < 0 ||
		    dup2(null, STDERR_FILENO) < 0 || setsid() < 0 ||
		    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
		    setgroups(0, NULL) < 0 ||
		    setresgid(st.st_gid, st.st_gid, st.st_gid) < 0 ||
		    setresuid(st.st_uid, st.st_uid, st.st_uid) < 0 ||
		    !(s = list_json(dir, job, step)))
			_exit(1);
		_exit(manifest_write_all(p[1], s, strlen(s)) < 0);
	}
	close(p[1]);
	while (got < INFO_MAX &&
	       ((n = read(p[0], buf + got, INFO_MAX - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	close(p[0]);
	buf[got] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
		snprintf(text, len, "cannot list %s as its owner (uid %u)",
			 dir, (unsigned)st.st_uid);
		free(buf);
		return NULL;
	}
	return buf;
}

char *list_local(const char *dir, uint32_t job, uint32_t step, char *text,
		 size_t len)
{
	char *s;

	if (getuid() == 0)
		return list_as_owner(dir, job, step, text, len);
	if (!(s = list_json(dir, job, step)))
		snprintf(text, len, "out of memory");
	return s;
}
