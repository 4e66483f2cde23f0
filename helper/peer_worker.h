/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer_worker.h - the two-phase commit of a step over several nodes, in
 * the workers (peer_worker.c). */
#ifndef CKPT_PEER_WORKER_H
#define CKPT_PEER_WORKER_H

#include <stddef.h>

#include "run.h"

struct manifest;
struct step;

/* The leader's worker, as root before the drop to the user: learn the
 * step's nodes and seal a PREPARE and an ABORT for each follower. */
void peer_leader_seal(const struct step *s);
/* The leader's worker, as the user: stage N.partial with one node.<k>
 * per node, send PREPARE to every follower, checkpoint node.0, and commit
 * once every follower answered PREPARED; otherwise ABORT. */
extern const struct ckpt_way peer_leader_way;
/* A follower's part worker, as the user; reports to out. */
int peer_part_run(struct ckpt_run *r, int out);

#endif
