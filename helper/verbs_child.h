/* SPDX-License-Identifier: GPL-2.0-or-later */
/* verbs_child.h - the children of scheckpoint's verbs (verbs_child.c),
 * for verbs.c only. */
#ifndef CKPT_VERBS_CHILD_H
#define CKPT_VERBS_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* A request; done and arg are the loop's (verbs.h: verbs_done_fn). */
struct verbs_req {
	void (*done)(void *arg, bool ok, int err, const char *text);
	void *arg;
	uint32_t job;
	enum ckpt_op op;
	size_t n;
	struct {			/* list: the steps' images */
		char *dir;
		char name[64];
		uid_t uid;
		gid_t gid;
	} steps[];
};

/* child_fn: the images of r's steps, read as the first step's user. */
int verbs_list_child(void *arg, int out);
/* child_fn, as root: cancel (vacate) or requeue r's job. */
int verbs_act_child(void *arg, int out);

#endif
