/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method_cmd.h - the commands of checkpoint methods: checked, run with a
 * timeout, their output's tail kept, all they start killed with them
 * (method_cmd.c). */
#ifndef CKPT_METHOD_CMD_H
#define CKPT_METHOD_CMD_H

#include <stdbool.h>
#include <stddef.h>

#define METHOD_OUTPUT_MAX 512	/* the tail of a command's output kept */

/* At load: *path made canonical (realpath), the file root's and
 * writable by nobody else (executable by all when want_exec), and so
 * every directory above it.  0, or -1 with err. */
int method_cmd_trusted(char **path, bool want_exec, char *err, size_t errlen);
/* Run cmd (argv) with env, in cwdfd unless -1, for at most timeout
 * seconds; the tail of its output in out.  The wait status, or -1 with
 * err (it did not run, or was stopped at its timeout).  ambient: the
 * program gets the CAP_CHECKPOINT_RESTORE the worker kept. */
int method_cmd_run(const char *cmd, char *const env[], int cwdfd, long timeout,
		   char *out, size_t outlen, char *err, size_t errlen);
int method_cmd_run_argv(char *const argv[], char *const env[], int cwdfd,
			long timeout, bool ambient, char *out, size_t outlen,
			char *err, size_t errlen);
/* 0 for a wait status of exit 0; else -1 with "<cmd> exited N: <its
 * last line>" (or killed by signal N) in err; -1 as it is for -1. */
int method_cmd_describe(int status, const char *cmd, char *out, char *err,
			size_t errlen);
/* The last line of out (trimmed in place), control characters as '?'. */
const char *method_cmd_last_line(char *out);

#endif
