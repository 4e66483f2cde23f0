/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf.c - the keys of slurmckptd.conf, their limits and defaults. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckptconf.h"
#include "conf.h"
#include "errbuf.h"
#include "log.h"

#define METHOD_DIR_DEFAULT SYSCONFDIR "/slurm/slurmckptd.d"
#define STATE_DIR_DEFAULT LOCALSTATEDIR "/lib/slurm-checkpoint"

struct helper_conf hconf;

static const struct kv_key helper_keys[] = {
	{ "socket", KV_PATH, offsetof(struct helper_conf, socket), 0, 0,
	  "absolute path of the Unix socket" },
	{ "max_workers", KV_UINT, offsetof(struct helper_conf, max_workers),
	  1, 100000, "checkpoints in progress at once, 1..100000" },
	{ "max_user_workers", KV_UINT,
	  offsetof(struct helper_conf, max_user_workers), 0, 100000,
	  "checkpoints in progress at once of one user, 0 (half of "
	  "max_workers, at least 1)..100000" },
	{ "poll_interval", KV_UINT,
	  offsetof(struct helper_conf, poll_interval), 1, 3600,
	  "seconds between requests to slurmctld, 1..3600" },
	{ "method_dir", KV_PATH, offsetof(struct helper_conf, method_dir),
	  0, 0, "absolute path of the directory of <name>.method files" },
	{ "port", KV_UINT, offsetof(struct helper_conf, port), 0, 65535,
	  "TCP port for scheckpoint from other nodes, 0 (off)..65535" },
	{ "munge_socket", KV_PATH, offsetof(struct helper_conf, munge_socket),
	  0, 0, "absolute path of munged's socket" },
	{ "state_dir", KV_PATH, offsetof(struct helper_conf, state_dir),
	  0, 0, "absolute path of the directory of the saved state" },
	{ "peer_ports", KV_STRING, offsetof(struct helper_conf, peer_ports),
	  0, 0, "the other nodes' slurmckptd ports: <port> or "
	  "<node>:<port>,..." },
	{ "offsite_url", KV_STRING, offsetof(struct helper_conf, offsite.url),
	  0, 0, "http:// or https:// URL of the offsite store" },
	{ "offsite_kind", KV_STRING,
	  offsetof(struct helper_conf, offsite.kind), 0, 0, "webdav or s3" },
	{ "offsite_credentials", KV_PATH,
	  offsetof(struct helper_conf, offsite.credentials), 0, 0,
	  "absolute path of a root-only credentials file" },
	{ "offsite_ca_file", KV_PATH,
	  offsetof(struct helper_conf, offsite.ca_file), 0, 0,
	  "absolute path of a CA certificate bundle" },
	{ "offsite_ca_path", KV_PATH,
	  offsetof(struct helper_conf, offsite.ca_path), 0, 0,
	  "absolute path of a directory of CA certificates" },
	{ "offsite_region", KV_STRING,
	  offsetof(struct helper_conf, offsite.region), 0, 0,
	  "the S3 region that SigV4 signs for" },
	{ "offsite_max_rate", KV_UINT,
	  offsetof(struct helper_conf, offsite.max_rate), 0, 100000000000L,
	  "bytes per second per transfer, 0 (no limit).." },
	{ "offsite_max_uploads", KV_UINT,
	  offsetof(struct helper_conf, offsite.max_uploads), 1, 64,
	  "uploads at once, 1..64" },
	{ "offsite_timeout", KV_UINT,
	  offsetof(struct helper_conf, offsite.timeout), 10, 840,
	  "seconds for the transfer of one image, 10..840" },
	{ "idle_timeout", KV_UINT,
	  offsetof(struct helper_conf, idle_timeout), 1, 3600,
	  "seconds a client may stay idle (TCP: until its credential "
	  "is in), 1..3600" },
	{ "max_user_connections", KV_UINT,
	  offsetof(struct helper_conf, max_user_conns), 1, 100000,
	  "connections at once of one user other than root, 1..100000" },
	{ "max_host_connections", KV_UINT,
	  offsetof(struct helper_conf, max_host_conns), 1, 64,
	  "TCP connections not yet authenticated from one address, 1..64" },
	{ "scheckpoint", KV_PATH, offsetof(struct helper_conf, scheckpoint),
	  0, 0, "absolute path of scheckpoint, which resubmits a job "
	  "cancelled by a preemption (--checkpoint-resubmit)" },
	{ "metrics_file", KV_PATH, offsetof(struct helper_conf, metrics_file),
	  0, 0, "absolute path of a node-exporter textfile (<name>.prom) "
	  "the daemon keeps up to date" },
	{ NULL, 0, 0, 0, 0, NULL },
};

/* The keys read once, at start-up: what they set up (the sockets, the
 * saved state, the methods, the offsite store) stays as it is until
 * slurmckptd restarts.  The others take effect at a reload (SIGHUP). */
static const char *const restart_keys[] = {
	"socket", "port", "munge_socket", "state_dir", "peer_ports",
	"method_dir", "offsite_url", "offsite_kind", "offsite_credentials",
	"offsite_ca_file", "offsite_ca_path", "offsite_region",
	"metrics_file", NULL,
};

static int conf_read(struct helper_conf *c, const char *path, bool given,
		     const char *sock, char *err, size_t errlen)
{
	c->max_workers = 64;
	c->poll_interval = 10;
	c->idle_timeout = 10;
	c->max_user_conns = 512;
	c->max_host_conns = 8;
	if ((given || access(path, F_OK) == 0) &&
	    kv_parse_file(helper_keys, c, path, err, errlen) < 0)
		return -1;
	if (!c->max_user_workers)
		c->max_user_workers = c->max_workers > 1 ?
				      c->max_workers / 2 : 1;
	if (sock && sock[0] != '/')
		return errprintf(err, errlen, errno,
				 "-s %s: not an absolute path", sock);
	if (sock || !c->socket) {
		free(c->socket);
		c->socket = strdup(sock ? sock : CKPT_SOCKET_DEFAULT);
	}
	if (!c->method_dir)
		c->method_dir = strdup(METHOD_DIR_DEFAULT);
	if (!c->state_dir)
		c->state_dir = strdup(STATE_DIR_DEFAULT);
	if (!c->scheckpoint)
		c->scheckpoint = strdup(BINDIR "/scheckpoint");
	if (c->socket && c->method_dir && c->state_dir && c->scheckpoint)
		return 0;
	return errprintf(err, errlen, ENOMEM, "out of memory");
}

int conf_load(const char *path, bool given, const char *sock, char *err,
	      size_t errlen)
{
	return conf_read(&hconf, path, given, sock, err, errlen);
}

static bool restart_key(const char *name)
{
	const char *const *k;

	for (k = restart_keys; *k; k++)
		if (strcmp(*k, name) == 0)
			return true;
	return false;
}

/* Whether a key has the same value in a and b. */
static bool same_value(const struct kv_key *k, const struct helper_conf *a,
		       const struct helper_conf *b)
{
	const char *pa = (const char *)a + k->offset;
	const char *pb = (const char *)b + k->offset;

	if (k->type == KV_STRING || k->type == KV_PATH) {
		const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;

		return sa == sb || (sa && sb && strcmp(sa, sb) == 0);
	}
	return *(const long *)pa == *(const long *)pb;
}

/* A key's value as the log shows it ("" for none). */
static void value_str(const struct kv_key *k, const struct helper_conf *c,
		      char *buf, size_t len)
{
	const char *p = (const char *)c + k->offset;

	if (k->type == KV_STRING || k->type == KV_PATH)
		snprintf(buf, len, "%s", *(char *const *)p ?
			 *(char *const *)p : "");
	else
		snprintf(buf, len, "%ld", *(const long *)p);
}

int conf_reload(const char *path, bool given, const char *sock, char *err,
		size_t errlen)
{
	struct helper_conf next = { 0 };
	const struct kv_key *k;
	char was[256], now[256];

	if (conf_read(&next, path, given, sock, err, errlen) < 0) {
		kv_free(helper_keys, &next);
		return -1;
	}
	/* As offsite_init() gave them at start-up. */
	offsite_conf_defaults(&next.offsite);
	for (k = helper_keys; k->name; k++) {
		/* The values themselves: their text in the log may be cut. */
		if (same_value(k, &hconf, &next))
			continue;
		value_str(k, &hconf, was, sizeof(was));
		value_str(k, &next, now, sizeof(now));
		if (!restart_key(k->name)) {
			log_msg(LOG_NOTICE, "%s: %s=%s (was %s)", path,
				k->name, now, was);
			continue;
		}
		log_msg(LOG_WARNING, "%s: %s=%s takes effect when slurmckptd "
			"restarts; %s until then", path, k->name, now,
			*was ? was : "none");
		/* The running value stays, and whatever points to it. */
		if (k->type == KV_STRING || k->type == KV_PATH) {
			char **a = (char **)((char *)&hconf + k->offset);
			char **b = (char **)((char *)&next + k->offset);
			char *t = *a;

			*a = *b;
			*b = t;
		} else {
			*(long *)((char *)&next + k->offset) =
				*(long *)((char *)&hconf + k->offset);
		}
	}
	/* The restart keys' strings moved to next: hconf's are the new
	 * ones, freed here. */
	kv_free(helper_keys, &hconf);
	hconf = next;
	return 0;
}

void conf_free(void)
{
	kv_free(helper_keys, &hconf);
}
