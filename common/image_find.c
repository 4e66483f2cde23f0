/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image_find.c - the newest image of a name that verifies (image.h),
 * and why the others were passed over. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "image_dir.h"

/* Newest first: by seq, N before N.<seq> for the same seq. */
static int cmp_cand(const void *a, const void *b)
{
	const struct candidate *ca = a, *cb = b;

	if (ca->seq != cb->seq)
		return ca->seq > cb->seq ? -1 : 1;
	if (ca->exact != cb->exact)
		return ca->exact ? -1 : 1;
	return strcmp(ca->name, cb->name);
}

/* ------------------------------------------------------------------ */
/* Lookup                                                             */

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!buf || !len)
		return;
	used = strnlen(buf, len);
	if (used + 1 >= len)
		return;
	if (used)
		buf[used++] = ';';
	buf[used] = '\0';
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* Read every candidate's manifest (dropping the unreadable ones). */
static void read_candidates(int basefd, struct cand_list *l, char *skipped,
			    size_t skippedlen)
{
	char msg[512];
	size_t i, j;

	for (i = 0, j = 0; i < l->n; i++) {
		if (imgdir_read_manifest(basefd, l->c[i].name, &l->c[i].m,
					 msg, sizeof(msg)) < 0) {
			append(skipped, skippedlen, "%s: %s", l->c[i].name,
			       msg);
			free(l->c[i].name);
			continue;
		}
		l->c[i].seq = l->c[i].m.seq;
		l->c[j++] = l->c[i];
	}
	l->n = j;
}

static int verify_image(int basefd, const struct candidate *c, char *msg,
			size_t msglen)
{
	int fd, rc, saved;

	fd = openat(basefd, c->name, OPEN_DIR);
	if (fd < 0)
		return errprintf(msg, msglen, errno, "%s", strerror(errno));
	rc = manifest_verify(fd, &c->m, msg, msglen);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int image_find_newest(int basefd, const char *name, char *out, size_t outlen,
		      struct manifest *m, char *skipped, size_t skippedlen)
{
	struct cand_list l;
	char msg[512];
	size_t i;

	if (!imgdir_name_ok(name) || !out || !m) {
		errno = EINVAL;
		return -1;
	}
	if (skipped && skippedlen)
		skipped[0] = '\0';
	if (imgdir_scan(basefd, name, &l) < 0)
		return -1;
	read_candidates(basefd, &l, skipped, skippedlen);
	if (l.n)
		qsort(l.c, l.n, sizeof(*l.c), cmp_cand);
	for (i = 0; i < l.n; i++) {
		if (verify_image(basefd, &l.c[i], msg, sizeof(msg)) < 0) {
			append(skipped, skippedlen, "%s: %s", l.c[i].name, msg);
			continue;
		}
		if (strlen(l.c[i].name) >= outlen) {
			imgdir_cand_free(&l);
			errno = ENOSPC;
			return -1;
		}
		strcpy(out, l.c[i].name);
		*m = l.c[i].m;
		memset(&l.c[i].m, 0, sizeof(*m));
		imgdir_cand_free(&l);
		return 0;
	}
	imgdir_cand_free(&l);
	errno = ENOENT;
	return -1;
}

