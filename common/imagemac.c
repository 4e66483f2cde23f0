/* SPDX-License-Identifier: GPL-2.0-or-later */
/* imagemac.c - the MAC over a CRIU dump (imagemac.h), HMAC-SHA256 from
 * nettle. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/hmac.h>

#include "errbuf.h"
#include "imagemac.h"

#define KEY_FILE_MIN 16
#define KEY_FILE_MAX 65536
#define SYSTEM_UID_MAX 999
#define MAX_FILES 100000

static const char context[] = "slurm-checkpoint criu image v1";

int imagemac_key_load(const char *path, uint8_t key[IMAGEMAC_KEY_LEN],
		      char *err, size_t errlen)
{
	struct hmac_sha256_ctx h;
	uint8_t *buf;
	struct stat st;
	ssize_t r;
	size_t n = 0;
	int fd;

	if (!path || path[0] != '/')
		return errprintf(err, errlen, EINVAL, "image key '%s': not "
				 "an absolute path", path ? path : "");
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errsys(err, errlen, "image key", path);
	if (fstat(fd, &st) < 0) {
		errsys(err, errlen, "image key", path);
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid > SYSTEM_UID_MAX ||
	    (st.st_mode & 077) || st.st_size < KEY_FILE_MIN ||
	    st.st_size > KEY_FILE_MAX) {
		close(fd);
		return errprintf(err, errlen, EPERM, "image key %s: must be "
				 "a regular file of %d to %d bytes, owned by "
				 "root or a system account, with no access "
				 "for group or others", path, KEY_FILE_MIN,
				 KEY_FILE_MAX);
	}
	if (!(buf = malloc((size_t)st.st_size))) {
		close(fd);
		return errprintf(err, errlen, ENOMEM, "out of memory");
	}
	while (n < (size_t)st.st_size &&
	       ((r = read(fd, buf + n, (size_t)st.st_size - n)) > 0 ||
		(r < 0 && errno == EINTR)))
		if (r > 0)
			n += (size_t)r;
	close(fd);
	if (n != (size_t)st.st_size) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
		return errprintf(err, errlen, EIO, "image key %s: short read",
				 path);
	}
	hmac_sha256_set_key(&h, n, buf);
	hmac_sha256_update(&h, sizeof(context) - 1, (const uint8_t *)context);
	hmac_sha256_digest(&h, IMAGEMAC_KEY_LEN, key);
	explicit_bzero(&h, sizeof(h));
	explicit_bzero(buf, n);
	free(buf);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	while (n)
		free(names[--n]);
	free(names);
}

/* The names in dfd, sorted; NULL with err when anything but a regular
 * file is there (never opened: a FIFO would hang, a device act).
 * add_file checks again, on the descriptor it reads. */
static char **list(int dfd, size_t *count, char *err, size_t errlen)
{
	char **names = NULL, **more;
	size_t n = 0, cap = 0;
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd;

	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    !(d = fdopendir(fd))) {
		errsys(err, errlen, "open", "the dump directory");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || n == MAX_FILES) {
			errprintf(err, errlen, EINVAL, "%s in the dump: not a "
				  "regular file", e->d_name);
			goto fail;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(more = realloc(names, cap * sizeof(*names))))
				goto oom;
			names = more;
		}
		if (!(names[n] = strdup(e->d_name)))
			goto oom;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), by_name);
	*count = n;
	return names ? names : calloc(1, sizeof(*names));
oom:
	errprintf(err, errlen, ENOMEM, "out of memory");
fail:
	closedir(d);
	free_names(names, n);
	return NULL;
}

static int add_file(struct hmac_sha256_ctx *h, int dfd, const char *name,
		    char *err, size_t errlen)
{
	uint8_t buf[65536], len[8];
	struct stat st;
	uint64_t size;
	ssize_t r;
	int fd, i;

	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return errprintf(err, errlen, errno ? errno : EINVAL,
				 "%s in the dump: not a readable regular "
				 "file", name);
	}
	size = (uint64_t)st.st_size;
	for (i = 0; i < 8; i++)
		len[i] = (uint8_t)(size >> (8 * i));
	hmac_sha256_update(h, strlen(name) + 1, (const uint8_t *)name);
	hmac_sha256_update(h, sizeof(len), len);
	/* What is read is what is MACed: a file that grows or shrinks
	 * meanwhile no longer matches its size above. */
	while (size > 0) {
		r = read(fd, buf, size < sizeof(buf) ? (size_t)size :
			 sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return errprintf(err, errlen, r < 0 ? errno : EIO,
					 "%s in the dump: %s", name, r < 0 ?
					 strerror(errno) : "changed size");
		}
		hmac_sha256_update(h, (size_t)r, buf);
		size -= (uint64_t)r;
	}
	close(fd);
	return 0;
}

int imagemac_dir(int dfd, const uint8_t key[IMAGEMAC_KEY_LEN],
		 char hex[IMAGEMAC_HEX_LEN + 1], char *err, size_t errlen)
{
	uint8_t mac[SHA256_DIGEST_SIZE];
	struct hmac_sha256_ctx h;
	char **names;
	size_t n, i;
	int rc = 0;

	if (!(names = list(dfd, &n, err, errlen)))
		return -1;
	hmac_sha256_set_key(&h, IMAGEMAC_KEY_LEN, key);
	for (i = 0; i < n && rc == 0; i++)
		rc = add_file(&h, dfd, names[i], err, errlen);
	free_names(names, n);
	if (rc == 0) {
		hmac_sha256_digest(&h, sizeof(mac), mac);
		for (i = 0; i < sizeof(mac); i++)
			snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	}
	explicit_bzero(&h, sizeof(h));
	return rc;
}

static int dir_mac(int parentfd, const char *name,
		   const uint8_t key[IMAGEMAC_KEY_LEN],
		   char hex[IMAGEMAC_HEX_LEN + 1], char *err, size_t errlen)
{
	int dfd, rc;

	dfd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (dfd < 0)
		return errsys(err, errlen, "open", name);
	rc = imagemac_dir(dfd, key, hex, err, errlen);
	close(dfd);
	return rc;
}

int imagemac_write(int parentfd, const char *name,
		   const uint8_t key[IMAGEMAC_KEY_LEN], char *err,
		   size_t errlen)
{
	char hex[IMAGEMAC_HEX_LEN + 1], file[300], line[IMAGEMAC_HEX_LEN + 2];
	int fd, len;

	if (dir_mac(parentfd, name, key, hex, err, errlen) < 0)
		return -1;
	snprintf(file, sizeof(file), "%s.mac", name);
	fd = openat(parentfd, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0400);
	if (fd < 0)
		return errsys(err, errlen, "create", file);
	len = snprintf(line, sizeof(line), "%s\n", hex);
	if (write(fd, line, (size_t)len) != len) {
		errsys(err, errlen, "write", file);
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return errsys(err, errlen, "close", file);
	return 0;
}

int imagemac_verify(int parentfd, const char *name,
		    const uint8_t key[IMAGEMAC_KEY_LEN], char *err,
		    size_t errlen)
{
	char hex[IMAGEMAC_HEX_LEN + 1], file[300], line[IMAGEMAC_HEX_LEN + 2];
	unsigned char diff = 0;
	ssize_t r;
	int fd, i;

	snprintf(file, sizeof(file), "%s.mac", name);
	fd = openat(parentfd, file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
		    O_NOCTTY);
	if (fd < 0) {
		if (errno != ENOENT)
			return errsys(err, errlen, "open", file);
		errprintf(err, errlen, ENOENT, "no %s: not a dump slurmckptd "
			  "took", file);
		return 0;
	}
	r = read(fd, line, sizeof(line));
	close(fd);
	if (r != IMAGEMAC_HEX_LEN + 1 || line[IMAGEMAC_HEX_LEN] != '\n') {
		errprintf(err, errlen, EINVAL, "%s: not a MAC", file);
		return 0;
	}
	if (dir_mac(parentfd, name, key, hex, err, errlen) < 0)
		return -1;
	for (i = 0; i < IMAGEMAC_HEX_LEN; i++)
		diff |= (unsigned char)(hex[i] ^ line[i]);
	if (diff) {
		errprintf(err, errlen, EPERM, "%s does not match the dump: "
			  "not a dump slurmckptd took", file);
		return 0;
	}
	return 1;
}
