/* SPDX-License-Identifier: GPL-2.0-or-later */
/* localstage_gone.h - the node-local directories of ended jobs removed
 * (localstage_gone.c). */
#ifndef CKPT_LOCALSTAGE_GONE_H
#define CKPT_LOCALSTAGE_GONE_H

int localstage_gone_init(void);
void localstage_gone_shutdown(void);

#endif
