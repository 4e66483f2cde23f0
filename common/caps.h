/* SPDX-License-Identifier: GPL-2.0-or-later */
/* caps.h - the one capability slurm-checkpoint ever keeps below root,
 * CAP_CHECKPOINT_RESTORE (for criu --unprivileged): set in the calling
 * thread with capset(2), without libcap, for the plugin's restore
 * (spank/restore.c) and the helper's dump workers (helper/privsep.c). */
#ifndef CKPT_CAPS_H
#define CKPT_CAPS_H

#include <stdbool.h>

/* The calling thread's capability sets become: CAP_CHECKPOINT_RESTORE in
 * each set that is true, and no other capability in any.  0 or -1 with
 * errno. */
int caps_ckpt_restore(bool permitted, bool inheritable, bool effective);

#endif
