/* SPDX-License-Identifier: GPL-2.0-or-later */
/* scheckpoint.h - what the parts of scheckpoint share: scheckpoint.c
 * (the verbs, their options and output), transport.c (a request to
 * slurmckptd: this node's socket, or a node's over TCP in a MUNGE
 * credential), restart.c (restart: submit an ended job again from its
 * image; restart_log.c, its record in checkpoint.log), list_local.c (list
 * of an ended job, from the directory), events.c (the checkpoint events
 * of a job, gathered from its nodes), output.c and jobid.c.
 * scheckpoint.c is above the others. */
#ifndef CKPT_SCHECKPOINT_H
#define CKPT_SCHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "proto.h"

#define EXIT_USAGE 2

/* output.c: --json (machine-readable output); a stream on fd that
 * escapes control characters, for text meant for people; the error for
 * people on stderr (and as JSON on stdout with --json). */
extern bool json_out;
FILE *output_escaped(int fd, int mode);
void print_error(int err, const char *text);
/* Of an answer's JSON: a time (seconds since the epoch) as scontrol
 * shows it, "None" for 0; a string member ("" for none); an integer. */
void time_text(json_int_t t, char *buf, size_t len);
const char *field(json_t *o, const char *key);
json_int_t number(json_t *o, const char *key);

/* jobid.c: "<job>", "<job>.<step>" or "<job>.batch", where <job> may be
 * "<array_job>_<task>" (*task, else UINT32_MAX); 0/-1. */
int parse_id(const char *s, uint32_t *job, uint32_t *task, uint32_t *step);
/* The same, with an array task translated by slurmctld into its job id;
 * errors printed: 0, 1 (no such task) or EXIT_USAGE. */
int resolve_id(const char *s, uint32_t *job, uint32_t *step);

/* transport.c: 1 with the reply in *r, or -1 with text (errno kept).
 * ask_local: the helper on this node, at sock; ask_remote: the helpers of
 * the job's node(s), from slurmctld, on SLURM_CHECKPOINT_PORTS. */
int ask_local(const char *sock, const struct ckpt_msg *m, struct ckpt_msg *r,
	      long max_wait, char *text, size_t len);
int ask_remote(const struct ckpt_msg *m, struct ckpt_msg *r, long max_wait,
	       char *text, size_t len);
/* ask_node: the helper of node, over TCP (its port from
 * SLURM_CHECKPOINT_PORTS). */
int ask_node(const char *node, const struct ckpt_msg *m, long max_wait,
	     struct ckpt_msg *r, char *text, size_t len);

/* list_local.c: the images of job (step, or CKPT_STEP_ALL) in dir, read
 * as whoever runs this (root: as dir's owner), as JSON text like
 * slurmckptd's list ({"images": [...], "errors": [...]}); NULL with
 * text. */
char *list_local(const char *dir, uint32_t job, uint32_t step, char *text,
		 size_t len);

/* events.c: "events <job_id>[.<step_id>] [NodeList=<nodes>]
 * [MaxWait=<s>]", argv[0] being "events"; the exit status. */
int events_main(const char *sock, int argc, char **argv);

/* restart.c: "restart <job_id> ImageDir=<dir> [StickToNodes]
 * [AllowRoot]", argv[0] being "restart"; the exit status. */
int restart_main(const char *sock, int argc, char **argv);

#endif
