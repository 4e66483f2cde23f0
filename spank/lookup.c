/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lookup.c - the image a task restarts from, as the user: a directory
 * that is an image itself (it holds a manifest), or one of images among
 * which this step's newest that verifies is chosen.  Used for the shared
 * directory (task.c) and the node-local one (local.c). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image.h"
#include "manifest.h"
#include "plugin.h"

int lookup_image(const char *dir, char *path, size_t len,
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
		else
			errno = EBADMSG;	/* some, none usable */
	}
	if (rc < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return rc;
	}
	close(fd);
	return rc;
}
