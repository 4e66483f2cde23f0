/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage.h - node-local staging (local= on the plugstack line), as
 * in SCR's multilevel checkpointing: the tasks write their state into a
 * fast node-local directory; slurmckptd commits it there, lets the job
 * go on, and then copies ("flushes") the image into the shared
 * checkpoint directory, where it is committed under the same seq.
 *
 * Layout: <local>/<uid>/<job>/ holds the step's images exactly as a
 * checkpoint directory does (N.partial, N, N.<seq>, checkpoint.log).
 * <local> is the admin's (root's, not writable by group or others);
 * <local>/<uid> is the user's (0700). */
#ifndef CKPT_LOCALSTAGE_H
#define CKPT_LOCALSTAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"

/* Root (slurmstepd, before the tasks): make sure that local is a
 * directory owned by root and writable by root only (created 0755, like
 * mkdir -p, when absent), then that local/<uid> is a directory owned by
 * uid, mode 0700 (created so, never through a symbolic link); a
 * local/<uid> that is anything else is refused, never repaired.  *out:
 * "<local>/<uid>/<job>" (malloc'ed; created later, as the user).  0/-1
 * with the reason in err. */
int localstage_user_dir(const char *local, uid_t uid, gid_t gid,
			uint32_t job, char **out, char *err, size_t errlen);

/* As the user: the directory sub (a relative path such as "N.partial" or
 * "N.partial/node.3") below base, each component created 0700 as needed,
 * never through a link.  An O_DIRECTORY fd, or -1. */
int localstage_open_dest(int base, const char *sub, char *err,
			 size_t errlen);

/* As the user: copy the files m lists (a committed image's manifest)
 * from the image directory srcfd into dstfd, regular files and
 * directories only (image_copy_file), the manifest itself excepted.
 * 0/-1 with the reason in err. */
int localstage_copy(int srcfd, const struct manifest *m, int dstfd,
		    char *err, size_t errlen);

#endif
