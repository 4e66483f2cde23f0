/* SPDX-License-Identifier: GPL-2.0-or-later */
/* imagemac.h - a MAC over a CRIU dump, so that only dumps slurmckptd
 * took are restored (criu restores with CAP_CHECKPOINT_RESTORE what the
 * dump says; a dump its owner forged must not get that far).
 *
 * The key is derived from a secret file every node shares and only
 * root (or a system account) reads, by default MUNGE's key:
 * key = HMAC-SHA256(file bytes, "slurm-checkpoint criu image v1").
 * The MAC of a dump directory is HMAC-SHA256(key, for each regular file
 * in byte order of names: name, '\0', size as 8 bytes little-endian,
 * contents), in hex; it is kept beside the directory, in <dir>.mac. */
#ifndef CKPT_IMAGEMAC_H
#define CKPT_IMAGEMAC_H

#include <stddef.h>
#include <stdint.h>

#define IMAGEMAC_KEY_LEN 32
#define IMAGEMAC_HEX_LEN 64

/* Root: read the secret file at path (absolute, not a symbolic link, a
 * regular file of at least 16 bytes and at most 64 KiB, owned by root
 * or a system account (uid < 1000), no access for group or others) and
 * derive the key from it.  0/-1 with the reason in err. */
int imagemac_key_load(const char *path, uint8_t key[IMAGEMAC_KEY_LEN],
		      char *err, size_t errlen);

/* The MAC of the directory dfd (regular files only; anything else in it
 * is an error) into hex (IMAGEMAC_HEX_LEN + 1).  Files are opened with
 * openat(O_NOFOLLOW) with the caller's rights.  0/-1 with err. */
int imagemac_dir(int dfd, const uint8_t key[IMAGEMAC_KEY_LEN],
		 char hex[IMAGEMAC_HEX_LEN + 1], char *err, size_t errlen);

/* Whether the MAC written in <name>.mac, in the directory parentfd (one
 * line of hex, opened O_NOFOLLOW), is the MAC of the directory <name>
 * there, compared in constant time.  1 yes, 0 no (with why in err), -1
 * error (err). */
int imagemac_verify(int parentfd, const char *name,
		    const uint8_t key[IMAGEMAC_KEY_LEN], char *err,
		    size_t errlen);

/* Write <name>.mac in parentfd for the directory <name> there (mode
 * 0400, a new file).  0/-1 with err. */
int imagemac_write(int parentfd, const char *name,
		   const uint8_t key[IMAGEMAC_KEY_LEN], char *err,
		   size_t errlen);

#endif
