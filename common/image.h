/* SPDX-License-Identifier: GPL-2.0-or-later */
/* image.h - checkpoint images in a checkpoint directory.  These functions
 * run with the job user's credentials (in a helper worker, or in a task),
 * never with root's.
 *
 * In a directory base, for image name N ("<job>.ckpt" for the batch
 * script, "<job>.<step>.ckpt" for a step):
 *   N            the newest committed image (a directory, read-only)
 *   N.<seq>      older committed images, kept up to keep - 1 of them
 *   N.partial    the staging directory the tasks write into
 *   N.deleted.<seq>  an old image being removed by rotation (renamed
 *                first, so that a crash never leaves half an image)
 *   checkpoint.log  an append-only log, one line per event
 * A commit: manifest_build + manifest_write in N.partial, fsync, rename
 * N -> N.<its seq>, rename N.partial -> N, fsync(base), rotate, log.  A
 * crash at any point leaves the old image or the new one complete. */
#ifndef CKPT_IMAGE_H
#define CKPT_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "manifest.h"

#define IMAGE_STAGING_SUFFIX ".partial"
#define IMAGE_TRASH_INFIX ".deleted."
#define IMAGE_LOG_NAME "checkpoint.log"
/* Saved in each image by slurmckptd for "scheckpoint restart". */
#define IMAGE_JOB_NAME "slurm-job.json"
#define IMAGE_SCRIPT_NAME "slurm-job.script"

/* "<job>.batch" or "<job>.<step>": how logs and messages name a step. */
void image_label(uint32_t job, uint32_t step, char *buf, size_t len);

/* "<job>.ckpt" for CKPT_STEP_BATCH, else "<job>.<step>.ckpt". */
int image_name(uint32_t job, uint32_t step, char *buf, size_t len);

/* Open (creating with 0700 as needed, like mkdir -p) the checkpoint
 * directory; returns an O_DIRECTORY fd or -1. */
int image_open_base(const char *path, char *err, size_t errlen);

/* Remove any stale N.partial (recursively, restoring write permission as
 * needed) and create an empty one, mode 0700.  Returns its fd or -1. */
int image_stage(int basefd, const char *name, char *err, size_t errlen);

/* Remove N.partial and any N.deleted.<seq> if present (for a failed
 * checkpoint, and the debris of one a crash interrupted).  0/-1. */
int image_discard(int basefd, const char *name, char *err, size_t errlen);

/* Move N.partial of frombase to N.partial of tobase (replacing a stale
 * one there), for a commit in another directory (ImageDir=): a rename,
 * or across filesystems (EXDEV) a copy of its regular files and
 * directories (as manifest_build walks it: no links, devices or FIFOs)
 * and the removal of the original; nothing when both are the same
 * directory.  0/-1; on failure the original may be
 * left for image_discard(). */
int image_move(int frombase, int tobase, const char *name, char *err,
	       size_t errlen);

/* rm -rf dirfd/name, never following a link (restoring the owner's
 * write permission as needed).  0/-1 (ENOENT when absent). */
int image_remove_tree(int dirfd, const char *name);

/* Copy the regular file srcfd/path (a manifest path, opened with
 * manifest_open_file) to dstfd/path, creating the directories on its
 * way (0700) and the file (O_EXCL, with the mode of the source and its
 * owner's read and write bits), never through a link.  0/-1
 * with errno.  (image_move, and the flush of node-local staging.) */
int image_copy_file(int srcfd, int dstfd, const char *path);

/* The next sequence number: 1 + the largest seq among N (its manifest)
 * and N.<seq> names; 1 when there is none. */
uint64_t image_next_seq(int basefd, const char *name);

/* Commit N.partial as described above.  m->seq, job, step, reason, node
 * must be set by the caller; m->time is set here; keep >= 1 images are
 * left afterwards.  On failure N.partial is left for image_discard() and
 * the previous image is untouched. */
int image_commit(int basefd, const char *name, struct manifest *m,
		 long keep, char *err, size_t errlen);

/* Find the newest image of name N in basefd (N, then N.<seq> by
 * descending seq) whose manifest reads and verifies.  Writes its name
 * (relative to base) to out and fills *m.  Images that fail are skipped,
 * and the reason for each is appended (";"-separated) to skipped when
 * non-NULL.  -1 ENOENT when there is none. */
int image_find_newest(int basefd, const char *name, char *out, size_t outlen,
		      struct manifest *m, char *skipped, size_t skippedlen);

/* Append one line "<ISO-8601 time> <text>\n" to checkpoint.log (created
 * 0644, O_APPEND|O_NOFOLLOW|O_NONBLOCK), with a single write(); control
 * characters of text (a newline too) are written escaped (escape.h).  Anything
 * but a regular file there (a FIFO the user made) is EINVAL, at once. */
int image_log(int basefd, const char *text);

#endif
