/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage.c - node-local staging: the user's directory below the
 * admin's local= directory, and the copy of a committed local image
 * into the shared checkpoint directory ("flush"). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "localstage.h"

#define OPEN_DIR (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* One component c below fd (created 0755 when absent), opened: a link
 * only if root owns it; the directory root's, and writable by others
 * only when sticky (/dev/shm, /tmp) unless it is the last, which must be
 * writable by root only.  An fd, or -1 with the reason. */
static int admin_step(int fd, const char *c, const char *local, bool last,
		      char *err, size_t errlen)
{
	struct stat st;
	int next;

	if (mkdirat(fd, c, 0755) < 0 && errno != EEXIST)
		return errsys(err, errlen, "mkdir", local);
	if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errsys(err, errlen, "stat", local);
	if (S_ISLNK(st.st_mode) && (last || st.st_uid != 0))
		return errprintf(err, errlen, EPERM, "local=%s: '%s' is a "
				 "symbolic link%s", local, c,
				 last ? "" : " not owned by root");
	if ((next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errsys(err, errlen, "open", local);
	if (fstat(next, &st) < 0) {
		close(next);
		return errsys(err, errlen, "stat", local);
	}
	if (st.st_uid != 0 || ((st.st_mode & 022) &&
			       (last || !(st.st_mode & S_ISVTX)))) {
		close(next);
		return errprintf(err, errlen, EPERM, "local=%s must be a "
				 "directory owned by root and writable by root "
				 "only, below directories of root's ('%s' is "
				 "uid %u, mode %04o)", local, c,
				 (unsigned)st.st_uid,
				 (unsigned)(st.st_mode & 07777));
	}
	return next;
}

/* The admin's directory, walked from "/" one component at a time (the
 * missing ones created 0755), never through a link someone else made. */
static int open_admin_dir(const char *local, char *err, size_t errlen)
{
	char *copy, *c, *slash;
	int fd, next;

	if (!local || local[0] != '/')
		return errprintf(err, errlen, EINVAL, "local=%s: not an "
				 "absolute path", local ? local : "");
	if (!(copy = strdup(local)) || (fd = open("/", OPEN_DIR)) < 0) {
		free(copy);
		return errsys(err, errlen, "open", local);
	}
	for (c = copy + 1; *c; c = slash) {
		if ((slash = strchr(c, '/')))
			*slash++ = '\0';
		else
			slash = c + strlen(c);
		while (*slash == '/')
			slash++;
		if (!*c || !strcmp(c, ".") || !strcmp(c, "..")) {
			errprintf(err, errlen, EINVAL, "local=%s: not a "
				  "plain path", local);
			next = -1;
		} else {
			next = admin_step(fd, c, local, !*slash, err, errlen);
		}
		close(fd);
		if ((fd = next) < 0)
			break;
	}
	free(copy);
	return fd;
}

/* <local>/<uid>: created by root for the user, or checked. */
static int user_subdir(int adminfd, const char *local, uid_t uid, gid_t gid,
		       char *err, size_t errlen)
{
	char name[24];
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "%u", (unsigned)uid);
	if (mkdirat(adminfd, name, 0700) == 0) {
		/* Nobody but root can write into adminfd: still ours. */
		if (fchownat(adminfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return errsys(err, errlen, "chown", name);
	} else if (errno != EEXIST) {
		return errsys(err, errlen, "mkdir", name);
	}
	if ((fd = openat(adminfd, name, OPEN_DIR)) < 0)
		return errsys(err, errlen, "open", name);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return errsys(err, errlen, "stat", name);
	}
	close(fd);
	if (st.st_uid != uid || (st.st_mode & 077))
		return errprintf(err, errlen, EPERM, "%s/%s is not a "
				 "directory of uid %u with mode 0700 (uid %u, "
				 "mode %04o)", local, name, (unsigned)uid,
				 (unsigned)st.st_uid,
				 (unsigned)(st.st_mode & 07777));
	return 0;
}

int localstage_user_dir(const char *local, uid_t uid, gid_t gid,
			uint32_t job, char **out, char *err, size_t errlen)
{
	int fd, rc;

	if (!out || uid == 0)
		return errprintf(err, errlen, EINVAL, "no local staging for "
				 "root's jobs");
	if ((fd = open_admin_dir(local, err, errlen)) < 0)
		return -1;
	rc = user_subdir(fd, local, uid, gid, err, errlen);
	close(fd);
	if (rc < 0)
		return -1;
	if (asprintf(out, "%s%s%u/%" PRIu32, local,
		     local[strlen(local) - 1] == '/' ? "" : "/",
		     (unsigned)uid, job) < 0) {
		*out = NULL;
		return errsys(err, errlen, "local", local);
	}
	return 0;
}

int localstage_open_dest(int base, const char *sub, char *err,
			 size_t errlen)
{
	char *copy, *c, *slash;
	int fd, next;

	if (!sub || !*sub || sub[0] == '/')
		return errprintf(err, errlen, EINVAL, "invalid flush "
				 "destination '%s'", sub ? sub : "");
	if (!(copy = strdup(sub)) || (fd = dup(base)) < 0) {
		free(copy);
		return errsys(err, errlen, "open", sub);
	}
	for (c = copy; c && *c; c = slash) {
		if ((slash = strchr(c, '/')))
			*slash++ = '\0';
		if (!strcmp(c, ".") || !strcmp(c, "..") || !*c) {
			errprintf(err, errlen, EINVAL, "invalid flush "
				  "destination '%s'", sub);
			goto fail;
		}
		if (mkdirat(fd, c, 0700) < 0 && errno != EEXIST) {
			errsys(err, errlen, "mkdir", sub);
			goto fail;
		}
		if ((next = openat(fd, c, OPEN_DIR)) < 0) {
			errsys(err, errlen, "open", sub);
			goto fail;
		}
		close(fd);
		fd = next;
	}
	free(copy);
	return fd;
fail:
	close(fd);
	free(copy);
	return -1;
}

int localstage_copy(int srcfd, const struct manifest *m, int dstfd,
		    char *err, size_t errlen)
{
	size_t i;

	if (!m)
		return errprintf(err, errlen, EINVAL, "no manifest");
	for (i = 0; i < m->nfiles; i++) {
		if (strcmp(m->files[i].path, MANIFEST_NAME) == 0)
			continue;
		if (image_copy_file(srcfd, dstfd, m->files[i].path) < 0)
			return errsys(err, errlen, "copy", m->files[i].path);
	}
	return 0;
}
