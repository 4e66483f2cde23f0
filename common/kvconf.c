/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kvconf.c - one strict key=value parser, driven by a table of keys.
 *
 * Every value is first parsed into a struct kv_value; only when all the
 * arguments (of an argv or a file) are good are they stored into the
 * target object, so a failed parse leaves it untouched. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kvconf.h"
#include "timefmt.h"

struct kv_value {
	size_t row;		/* index in the table */
	char *str;		/* KV_STRING, KV_PATH */
	long num;		/* KV_TIME, KV_UINT */
	int signo;		/* KV_SIGNAL */
	bool b;			/* KV_BOOL */
	uint64_t mask;		/* KV_SIGNALS */
};

struct kv_batch {
	size_t n, alloc;
	struct kv_value *v;
};

/* ------------------------------------------------------------------ */
/* Signals                                                            */

static const struct {
	const char *name;
	int signo;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

static const char *const rtnames[] = {
	"RTMIN", "RTMIN+1", "RTMIN+2", "RTMIN+3", "RTMIN+4", "RTMIN+5",
	"RTMIN+6", "RTMIN+7", "RTMIN+8", "RTMIN+9", "RTMIN+10", "RTMIN+11",
	"RTMIN+12", "RTMIN+13", "RTMIN+14", "RTMIN+15", "RTMAX-14",
	"RTMAX-13", "RTMAX-12", "RTMAX-11", "RTMAX-10", "RTMAX-9", "RTMAX-8",
	"RTMAX-7", "RTMAX-6", "RTMAX-5", "RTMAX-4", "RTMAX-3", "RTMAX-2",
	"RTMAX-1", "RTMAX",
};

#define NSIGNALS (sizeof(signals) / sizeof(signals[0]))
#define NRTNAMES (sizeof(rtnames) / sizeof(rtnames[0]))
#define SIGNO_MAX 64

/* Decimal digits only, no sign; 0 or -1.  A value above max (which must
 * be < LONG_MAX) is returned as max + 1. */
static int parse_decimal(const char *s, long max, long *out)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			v = max + 1;	/* saturate: out of range */
		else
			v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* "RTMIN", "RTMIN+n", "RTMAX", "RTMAX-n" -> signal number, or -1. */
static int parse_rt(const char *s)
{
	long n = 0;
	int base, sign;

	if (strncasecmp(s, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (strncasecmp(s, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return -1;
	}
	s += 5;
	if (*s) {
		if (*s != (sign > 0 ? '+' : '-') ||
		    parse_decimal(s + 1, SIGNO_MAX, &n) < 0)
			return -1;
	}
	n = base + sign * n;
	return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -1;
}

static int lookup_signal(const char *s)
{
	long n;
	size_t i;

	if (*s >= '0' && *s <= '9')
		return parse_decimal(s, SIGNO_MAX, &n) == 0 &&
		       n >= 1 && n <= SIGNO_MAX ? (int)n : -1;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < NSIGNALS; i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].signo;
	return parse_rt(s);
}

int signal_parse(const char *s, int *signo)
{
	int n;

	if (!s || !signo) {
		errno = EINVAL;
		return -1;
	}
	n = lookup_signal(s);
	if (n < 1 || n == SIGKILL || n == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	*signo = n;
	return 0;
}

int signal_parse_list(const char *s, uint64_t *mask)
{
	char one[32];
	size_t n;
	int signo;

	if (!s || !*s || !mask) {
		errno = EINVAL;
		return -1;
	}
	*mask = 0;
	for (;;) {
		n = strcspn(s, ",");
		if (n == 0 || n >= sizeof(one)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(one, s, n);
		one[n] = '\0';
		if (signal_parse(one, &signo) < 0 || signo > 64)
			return -1;
		*mask |= 1ULL << (signo - 1);
		if (!s[n])
			return 0;
		s += n + 1;
	}
}

const char *signal_name(int signo)
{
	size_t i;

	for (i = 0; i < NSIGNALS; i++)
		if (signals[i].signo == signo)
			return signals[i].name;
	if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
		if (signo - SIGRTMIN <= 15)
			return rtnames[signo - SIGRTMIN];
		if (SIGRTMAX - signo <= 14)
			return rtnames[NRTNAMES - 1 - (SIGRTMAX - signo)];
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Values                                                             */

static int parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

static int parse_number(const struct kv_key *k, const char *s, long *num)
{
	long v;

	if (k->type == KV_TIME) {
		if (timefmt_parse(s, &v) < 0)
			return -1;
	} else if (parse_decimal(s, LONG_MAX - 1, &v) < 0) {
		return -1;
	}
	if (v < k->min || v > k->max)
		return -1;
	*num = v;
	return 0;
}

/* Parse one value for table row k into v.  0, or -1 (EINVAL/ENOMEM). */
static int parse_value(const struct kv_key *k, const char *s,
		       struct kv_value *v)
{
	int rc = -1;

	switch (k->type) {
	case KV_PATH:
		if (s[0] != '/')
			break;
		/* fall through */
	case KV_STRING:
		if (!*s)
			break;
		v->str = strdup(s);
		return v->str ? 0 : -1;
	case KV_TIME:
	case KV_UINT:
		rc = parse_number(k, s, &v->num);
		break;
	case KV_SIGNAL:
		rc = signal_parse(s, &v->signo);
		break;
	case KV_BOOL:
		rc = parse_bool(s, &v->b);
		break;
	case KV_SIGNALS:
		rc = signal_parse_list(s, &v->mask);
		break;
	}
	if (rc < 0)
		errno = EINVAL;
	return rc;
}

static void store_value(const struct kv_key *table, void *obj,
			struct kv_value *v)
{
	const struct kv_key *k = &table[v->row];
	char *p = (char *)obj + k->offset;

	switch (k->type) {
	case KV_STRING:
	case KV_PATH:
		free(*(char **)p);
		*(char **)p = v->str;
		v->str = NULL;
		break;
	case KV_TIME:
	case KV_UINT:
		*(long *)p = v->num;
		break;
	case KV_SIGNAL:
		*(int *)p = v->signo;
		break;
	case KV_BOOL:
		*(bool *)p = v->b;
		break;
	case KV_SIGNALS:
		*(uint64_t *)p = v->mask;
		break;
	}
}

/* ------------------------------------------------------------------ */
/* key=value                                                          */

static size_t table_len(const struct kv_key *table)
{
	size_t n = 0;

	while (table[n].name)
		n++;
	return n;
}

/* "unknown key 'x' (known: a, b, c)" */
static void unknown_key(const struct kv_key *table, const char *key,
			size_t keylen, char *err, size_t errlen)
{
	size_t i, used;
	int n;

	n = snprintf(err, errlen, "unknown key '%.*s' (known:", (int)keylen,
		     key);
	for (i = 0; table[i].name && n >= 0 && (size_t)n < errlen; i++) {
		used = (size_t)n;
		n = snprintf(err + used, errlen - used, "%s %s",
			     i ? "," : "", table[i].name);
		n = n < 0 ? n : n + (int)used;
	}
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
}

/* Parse key (keylen bytes) and value against table into v.  seen may
 * be NULL. */
static int parse_kv(const struct kv_key *table, bool *seen, const char *key,
		    size_t keylen, const char *val, struct kv_value *v,
		    char *err, size_t errlen)
{
	size_t i;

	for (i = 0; table[i].name; i++)
		if (strlen(table[i].name) == keylen &&
		    strncmp(table[i].name, key, keylen) == 0)
			break;
	if (!table[i].name) {
		if (err && errlen)
			unknown_key(table, key, keylen, err, errlen);
		errno = EINVAL;
		return -1;
	}
	if (seen && seen[i]) {
		if (err && errlen)
			snprintf(err, errlen, "key '%s' given twice",
				 table[i].name);
		errno = EINVAL;
		return -1;
	}
	memset(v, 0, sizeof(*v));
	v->row = i;
	if (parse_value(&table[i], val, v) < 0) {
		if (err && errlen && errno == EINVAL)
			snprintf(err, errlen, "invalid %s '%s': %s",
				 table[i].name, val, table[i].help);
		return -1;
	}
	if (seen)
		seen[i] = true;
	return 0;
}

/* Split "key=value" and parse it into v. */
static int parse_arg(const struct kv_key *table, bool *seen, const char *arg,
		     struct kv_value *v, char *err, size_t errlen)
{
	const char *eq = arg ? strchr(arg, '=') : NULL;

	if (!eq || eq == arg) {
		if (err && errlen)
			snprintf(err, errlen,
				 "'%s': expected key=value", arg ? arg : "");
		errno = EINVAL;
		return -1;
	}
	return parse_kv(table, seen, arg, (size_t)(eq - arg), eq + 1, v,
			err, errlen);
}

int kv_parse_one(const struct kv_key *table, void *obj, bool *seen,
		 const char *arg, char *err, size_t errlen)
{
	struct kv_value v;

	if (!table || !obj) {
		errno = EINVAL;
		return -1;
	}
	if (parse_arg(table, seen, arg, &v, err, errlen) < 0)
		return -1;
	store_value(table, obj, &v);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Batches: parse all, then store all                                 */

static struct kv_value *batch_add(struct kv_batch *b)
{
	struct kv_value *nv;
	size_t na;

	if (b->n == b->alloc) {
		na = b->alloc ? b->alloc * 2 : 8;
		nv = reallocarray(b->v, na, sizeof(*nv));
		if (!nv)
			return NULL;
		b->v = nv;
		b->alloc = na;
	}
	return &b->v[b->n];
}

static void batch_store(const struct kv_key *table, void *obj,
			struct kv_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		store_value(table, obj, &b->v[i]);
}

static void batch_free(struct kv_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		free(b->v[i].str);
	free(b->v);
	b->v = NULL;
	b->n = b->alloc = 0;
}

int kv_parse_argv(const struct kv_key *table, void *obj, int argc,
		  char *const argv[], char *err, size_t errlen)
{
	struct kv_batch b = { 0 };
	struct kv_value *v;
	bool *seen;
	int i, rc = -1;

	if (!table || !obj || argc < 0 || (argc && !argv)) {
		errno = EINVAL;
		return -1;
	}
	seen = calloc(table_len(table) + 1, sizeof(*seen));
	if (!seen)
		return -1;
	for (i = 0; i < argc; i++) {
		v = batch_add(&b);
		if (!v || parse_arg(table, seen, argv[i], v, err, errlen) < 0)
			goto out;
		b.n++;
	}
	batch_store(table, obj, &b);
	rc = 0;
out:
	batch_free(&b);
	free(seen);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files                                                              */

/* Strip a comment ('#' at the start or after a blank) and the blanks
 * around the line, in place.  Returns the start. */
static char *trim_line(char *line)
{
	char *p, *end;

	for (p = line; *p; p++)
		if (*p == '#' && (p == line || isblank((unsigned char)p[-1]))) {
			*p = '\0';
			break;
		}
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return line;
}

/* One non-empty trimmed line: "key = value", blanks around '=' allowed. */
static int parse_line(const struct kv_key *table, bool *seen, char *line,
		      struct kv_value *v, char *err, size_t errlen)
{
	char *eq = strchr(line, '='), *kend, *val;

	if (!eq || eq == line) {
		if (err && errlen)
			snprintf(err, errlen, "'%s': expected key=value",
				 line);
		errno = EINVAL;
		return -1;
	}
	kend = eq;
	while (kend > line && isblank((unsigned char)kend[-1]))
		kend--;
	val = eq + 1;
	while (isblank((unsigned char)*val))
		val++;
	return parse_kv(table, seen, line, (size_t)(kend - line), val, v,
			err, errlen);
}

/* Prefix err with "path:lineno: ". */
static void prefix_err(const char *path, unsigned lineno, char *err,
		       size_t errlen)
{
	char *copy;

	if (!err || !errlen)
		return;
	copy = strdup(err);
	if (copy) {
		snprintf(err, errlen, "%s:%u: %s", path, lineno, copy);
		free(copy);
	}
}

/* With secret, an error never quotes the file (a value, or a line that
 * may be one) and the line buffer is wiped. */
static int parse_stream(const struct kv_key *table, bool *seen, FILE *f,
			const char *path, bool secret, struct kv_batch *b,
			char *err, size_t errlen)
{
	char *line = NULL, *p;
	size_t cap = 0;
	unsigned lineno = 0;
	struct kv_value *v;
	int rc = -1;

	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		p = trim_line(line);
		if (!*p)
			continue;
		v = batch_add(b);
		if (!v)
			goto out;
		if (parse_line(table, seen, p, v, err, errlen) < 0) {
			if (secret && err && errlen)
				snprintf(err, errlen, "not key=value with a "
					 "known key, each once, and a valid "
					 "value (the line is not shown: it may "
					 "hold a secret)");
			prefix_err(path, lineno, err, errlen);
			goto out;
		}
		b->n++;
	}
	if (ferror(f) || !feof(f)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (secret && line)
		explicit_bzero(line, cap);
	free(line);
	return rc;
}

static int parse_file(const struct kv_key *table, void *obj,
		      const char *path, bool secret, char *err, size_t errlen)
{
	struct kv_batch b = { 0 };
	FILE *f = NULL;
	bool *seen = NULL;
	int rc = -1, saved;

	if (!table || !obj || !path) {
		errno = EINVAL;
		return -1;
	}
	f = fopen(path, "re");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	seen = calloc(table_len(table) + 1, sizeof(*seen));
	if (!seen)
		goto out;
	if (parse_stream(table, seen, f, path, secret, &b, err, errlen) < 0)
		goto out;
	batch_store(table, obj, &b);
	rc = 0;
out:
	saved = errno;
	batch_free(&b);
	free(seen);
	fclose(f);
	errno = saved;
	return rc;
}

int kv_parse_file(const struct kv_key *table, void *obj, const char *path,
		  char *err, size_t errlen)
{
	return parse_file(table, obj, path, false, err, errlen);
}

int kv_parse_secrets(const struct kv_key *table, void *obj,
		     const char *path, char *err, size_t errlen)
{
	return parse_file(table, obj, path, true, err, errlen);
}

void kv_free(const struct kv_key *table, void *obj)
{
	size_t i;
	char **p;

	if (!table || !obj)
		return;
	for (i = 0; table[i].name; i++) {
		if (table[i].type != KV_STRING && table[i].type != KV_PATH)
			continue;
		p = (char **)((char *)obj + table[i].offset);
		free(*p);
		*p = NULL;
	}
}
