/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kvconf.h - one strict key=value parser for the plugstack.conf arguments
 * and the helper's configuration file.  An unknown key, a missing '=', a
 * repeated key or a bad value is an error, never ignored. */
#ifndef CKPT_KVCONF_H
#define CKPT_KVCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum kv_type {
	KV_STRING,	/* char *, strdup'ed; must be non-empty */
	KV_PATH,	/* char *, strdup'ed; must be absolute */
	KV_TIME,	/* long seconds, through timefmt_parse(); min..max */
	KV_UINT,	/* long, decimal, min..max */
	KV_SIGNAL,	/* int signal number: "USR1", "SIGUSR1", "10" */
	KV_BOOL,	/* bool: yes/no, true/false, 1/0 */
	KV_SIGNALS,	/* uint64_t, bit (signo - 1) per signal of a
			 * comma-separated list: "USR1,USR2,TERM" */
};

struct kv_key {
	const char *name;
	enum kv_type type;
	size_t offset;		/* offsetof() the field in the target struct */
	long min, max;		/* KV_TIME, KV_UINT bounds (inclusive) */
	const char *help;	/* one line: what is accepted */
};

/* Parse "key=value" into obj using table (terminated by a NULL name).
 * seen[] (one bool per table row, may be NULL) detects repeats.
 * On error returns -1, errno EINVAL, and a message for people in err
 * naming the key and what is accepted. */
int kv_parse_one(const struct kv_key *table, void *obj, bool *seen,
		 const char *arg, char *err, size_t errlen);

/* All of argv; stops at the first error. */
int kv_parse_argv(const struct kv_key *table, void *obj, int argc,
		  char *const argv[], char *err, size_t errlen);

/* A file of key=value lines; '#' starts a comment, blank lines skipped,
 * leading/trailing blanks trimmed.  Errors name "path:line". */
int kv_parse_file(const struct kv_key *table, void *obj, const char *path,
		  char *err, size_t errlen);

/* kv_parse_file for a file of secrets (credentials): an error names the
 * line but never quotes it, nor any value. */
int kv_parse_secrets(const struct kv_key *table, void *obj,
		     const char *path, char *err, size_t errlen);

/* Free the KV_STRING/KV_PATH fields of obj (sets them to NULL). */
void kv_free(const struct kv_key *table, void *obj);

/* Signal names: "USR2"/"SIGUSR2"/"12" -> 12.  0/-1 EINVAL. */
int signal_parse(const char *s, int *signo);
/* A comma-separated list of them into a mask, bit (signo - 1) each.
 * 0/-1 EINVAL. */
int signal_parse_list(const char *s, uint64_t *mask);
/* "USR2" for 12 (without "SIG"); a static string, "?" if unknown. */
const char *signal_name(int signo);

#endif
