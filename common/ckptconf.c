/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ckptconf.c - the admin's arguments on the plugstack.conf line. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckptconf.h"
#include "proto.h"

#define TIME_HELP "minutes, minutes:seconds, hours:minutes:seconds, " \
	"days-hours, days-hours:minutes or days-hours:minutes:seconds"

const struct kv_key ckpt_conf_keys[] = {
	{ "dir", KV_PATH, offsetof(struct ckpt_conf, dir), 0, 0,
	  "an absolute directory template "
	  "(%u user, %U uid, %j job id, %% '%')" },
	{ "socket", KV_PATH, offsetof(struct ckpt_conf, socket), 0, 0,
	  "the absolute path of slurmckptd's socket (%n: node name)" },
	{ "min_interval", KV_TIME, offsetof(struct ckpt_conf, min_interval),
	  0, INT_MAX, "a time of 0 or more: " TIME_HELP },
	{ "max_wait", KV_UINT, offsetof(struct ckpt_conf, max_wait),
	  1, 86400, "a number of seconds from 1 to 86400" },
	{ "keep", KV_UINT, offsetof(struct ckpt_conf, keep), 1, 1000,
	  "a number of images from 1 to 1000" },
	{ "signal", KV_SIGNAL, offsetof(struct ckpt_conf, signo), 0, 0,
	  "a signal name (USR2, SIGUSR2) or number 1..64, not KILL or STOP" },
	{ "signals", KV_SIGNALS, offsetof(struct ckpt_conf, signals), 0, 0,
	  "a comma-separated list of signal names or numbers (USR1,USR2,TERM)"
	  ", not KILL or STOP" },
	{ "lead", KV_TIME, offsetof(struct ckpt_conf, lead), 0, INT_MAX,
	  "a time of 0 or more before the job's end: " TIME_HELP },
	{ "max_requeue", KV_UINT, offsetof(struct ckpt_conf, max_requeue),
	  0, 1000, "a number of requeues from 0 (no limit) to 1000" },
	{ "exit_code", KV_UINT, offsetof(struct ckpt_conf, exit_code), 0, 255,
	  "an exit code from 1 to 255, or 0 for none" },
	{ "method", KV_STRING, offsetof(struct ckpt_conf, method), 0, 0,
	  "a checkpoint method: signal, or a name slurmckptd(8) defines "
	  "([a-z0-9_-], up to 32 characters)" },
	{ "local", KV_PATH, offsetof(struct ckpt_conf, local), 0, 0,
	  "an absolute node-local directory owned by root (e.g. "
	  "/dev/shm/ckpt; %n: node name) for staging images" },
	{ "helper_optional", KV_BOOL,
	  offsetof(struct ckpt_conf, helper_optional), 0, 0,
	  "yes or no (true/false, 1/0)" },
	{ NULL, 0, 0, 0, 0, NULL },
};

int ckpt_conf_init(struct ckpt_conf *c)
{
	char *sock;

	if (!c) {
		errno = EINVAL;
		return -1;
	}
	sock = strdup(CKPT_SOCKET_DEFAULT);
	if (!sock)
		return -1;
	memset(c, 0, sizeof(*c));
	c->socket = sock;
	c->min_interval = 60;
	c->max_wait = 120;
	c->keep = 2;
	c->signo = SIGUSR2;
	c->signals = 1ULL << (SIGUSR1 - 1) | 1ULL << (SIGUSR2 - 1);
	c->lead = 300;
	c->max_requeue = 0;
	c->exit_code = 0;
	c->helper_optional = false;
	return 0;
}

/* A dir= template must expand: check it before anything is stored. */
static int check_templates(int argc, char *const argv[], char *err,
			   size_t errlen)
{
	char *out, sock[108];
	int i;

	for (i = 0; i < argc; i++) {
		if (argv[i] && strncmp(argv[i], "socket=/", 8) == 0 &&
		    ckpt_expand_socket(argv[i] + 7, "node", sock,
				       sizeof(sock)) < 0) {
			if (err && errlen)
				snprintf(err, errlen, "invalid socket '%s': "
					 "%%n (node name) and %%%% only",
					 argv[i] + 7);
			errno = EINVAL;
			return -1;
		}
		if (argv[i] && strncmp(argv[i], "local=/", 7) == 0 &&
		    ckpt_expand_socket(argv[i] + 6, "node", sock,
				       sizeof(sock)) < 0) {
			if (err && errlen)
				snprintf(err, errlen, "invalid local '%s': "
					 "%%n (node name) and %%%% only, up "
					 "to %zu characters", argv[i] + 6,
					 sizeof(sock) - 1);
			errno = EINVAL;
			return -1;
		}
		if (!argv[i] || strncmp(argv[i], "dir=/", 5) != 0)
			continue;
		if (ckpt_expand_dir(argv[i] + 4, "user", 0, 1, &out) < 0) {
			if (err && errlen)
				snprintf(err, errlen, "invalid dir '%s': %s",
					 argv[i] + 4, ckpt_conf_keys[0].help);
			errno = EINVAL;
			return -1;
		}
		free(out);
	}
	return 0;
}

int ckpt_conf_parse(struct ckpt_conf *c, int argc, char *const argv[],
		    char *err, size_t errlen)
{
	if (!c || argc < 0 || (argc && !argv)) {
		errno = EINVAL;
		return -1;
	}
	if (check_templates(argc, argv, err, errlen) < 0)
		return -1;
	if (kv_parse_argv(ckpt_conf_keys, c, argc, argv, err, errlen) < 0)
		return -1;
	if (c->method && !proto_method_name_ok(c->method)) {
		if (err && errlen)
			snprintf(err, errlen, "invalid method '%s': a name of "
				 "[a-z0-9_-], up to %d characters", c->method,
				 CKPT_METHOD_NAME_MAX);
		free(c->method);
		c->method = NULL;
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void ckpt_conf_free(struct ckpt_conf *c)
{
	if (c)
		kv_free(ckpt_conf_keys, c);
}

/* Expand tmpl into out (when non-NULL); returns the length, -1 EINVAL. */
static long expand(const char *tmpl, const char *user, uid_t uid,
		   uint32_t job, const char *node, char *out)
{
	char num[24];
	const char *add;
	long len = 0;
	size_t n;

	for (; *tmpl; tmpl++) {
		add = num;
		if (*tmpl != '%') {
			num[0] = *tmpl;
			num[1] = '\0';
		} else if (*++tmpl == 'u' && user) {
			add = user;
		} else if (*tmpl == 'n' && node) {
			add = node;
		} else if (*tmpl == 'U' && user) {
			snprintf(num, sizeof(num), "%u", (unsigned)uid);
		} else if (*tmpl == 'j' && user) {
			snprintf(num, sizeof(num), "%u", (unsigned)job);
		} else if (*tmpl == '%') {
			add = "%";
		} else {
			return -1;	/* unknown %x, or a trailing '%' */
		}
		n = strlen(add);
		if (out)
			memcpy(out + len, add, n);
		len += (long)n;
	}
	if (out)
		out[len] = '\0';
	return len;
}

int ckpt_expand_dir(const char *tmpl, const char *user, uid_t uid,
		    uint32_t job, char **out)
{
	long len;
	char *buf;

	if (!tmpl || !user || !out || tmpl[0] != '/' || !*user ||
	    strchr(user, '/')) {
		errno = EINVAL;
		return -1;
	}
	len = expand(tmpl, user, uid, job, NULL, NULL);
	if (len < 0) {
		errno = EINVAL;
		return -1;
	}
	buf = malloc((size_t)len + 1);
	if (!buf)
		return -1;
	expand(tmpl, user, uid, job, NULL, buf);
	*out = buf;
	return 0;
}

int ckpt_expand_socket(const char *tmpl, const char *node, char *out,
		       size_t outlen)
{
	long len;

	/* A node name is one path component, never "." or "..". */
	if (!tmpl || !node || !out || tmpl[0] != '/' || !*node ||
	    node[0] == '.' || strchr(node, '/')) {
		errno = EINVAL;
		return -1;
	}
	len = expand(tmpl, NULL, 0, 0, node, NULL);
	if (len < 0) {
		errno = EINVAL;
		return -1;
	}
	if ((size_t)len >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	expand(tmpl, NULL, 0, 0, node, out);
	return 0;
}
