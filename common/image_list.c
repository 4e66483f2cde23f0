/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_list.c - the images of a step or a job in a checkpoint
 * directory (image_list.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image_list.h"
#include "manifest.h"

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* entry is N or N.<seq>, for name N; with name NULL, N is <job>.ckpt or
 * <job>.<step>.ckpt. */
static bool is_image_of(const char *entry, const char *name, uint32_t job)
{
	char prefix[16];
	const char *p;
	size_t n;

	if (name) {
		n = strlen(name);
		p = entry + n;
		if (strncmp(entry, name, n) != 0)
			return false;
	} else {
		n = (size_t)snprintf(prefix, sizeof(prefix), "%u.", job);
		if (strncmp(entry, prefix, n) != 0)
			return false;
		p = entry + n + strspn(entry + n, "0123456789");
		if (p > entry + n && *p++ != '.')
			return false;
		if (strncmp(p, "ckpt", 4) != 0)
			return false;
		p += 4;
	}
	return *p == '\0' || (*p == '.' && all_digits(p + 1));
}

/* Insert o into a by ascending seq. */
static void insert_by_seq(json_t *a, json_t *o, json_int_t seq)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++)
		if (json_integer_value(json_object_get(json_array_get(a, i),
						       "seq")) > seq)
			break;
	json_array_insert_new(a, i, o);
}

void image_list(int basefd, const char *dir, const char *name,
		uint32_t job, json_t *images, json_t *errors)
{
	char err[512], path[4200];
	struct manifest m;
	struct dirent *de;
	DIR *d;
	int fd, dfd = dup(basefd);

	if (dfd < 0 || !(d = fdopendir(dfd))) {
		if (dfd >= 0)
			close(dfd);
		json_array_append_new(errors, json_sprintf("%s: %s", dir,
							   strerror(errno)));
		return;
	}
	rewinddir(d);	/* a dup shares the offset of whoever read basefd */
	while ((de = readdir(d)) &&
	       json_array_size(images) < IMAGE_LIST_MAX) {
		if (!is_image_of(de->d_name, name, job))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = openat(basefd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || manifest_read(fd, &m, err, sizeof(err)) < 0) {
			json_array_append_new(errors, json_sprintf("%s: %s",
				path, fd < 0 ? strerror(errno) : err));
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		insert_by_seq(images, json_pack("{s:s,s:I,s:I,s:I,s:s,s:s}",
			"image", path, "seq", (json_int_t)m.seq,
			"time", (json_int_t)m.time,
			"size", (json_int_t)manifest_bytes(&m),
			"reason", m.reason ? m.reason : "",
			"node", m.node ? m.node : ""), (json_int_t)m.seq);
		manifest_free(&m);
	}
	closedir(d);
}
