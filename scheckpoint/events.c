/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events.c - "scheckpoint events <job_id>[.<step_id>] [NodeList=<nodes>]
 * [MaxWait=<s>]": the checkpoint events that each node's slurmckptd kept
 * of the job (one per checkpoint's outcome: the "event:" lines of its
 * log), gathered from the job's nodes (slurmctld's list, or NodeList=)
 * over TCP when the helpers' ports are known (SLURM_CHECKPOINT_PORTS),
 * else from this node's helper, and printed oldest first: a table, or
 * --json.  Exit 0 when every node asked answered and some event was
 * found, 1 otherwise, 2 usage. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "proto.h"
#include "sched.h"
#include "scheckpoint.h"

struct gather {
	json_t *events;		/* every node's, in one array */
	json_int_t left_out;	/* older ones the nodes did not send */
	int failed;		/* nodes that could not be asked */
};

/* One node's answer (rc, *r, text: as ask_node() and ask_local() give
 * them) into g; a node without events of the job is no failure. */
static void take(struct gather *g, const char *node, int rc,
		 const struct ckpt_msg *r, const char *text)
{
	json_t *info, *e;
	size_t i;

	if (rc > 0 && !r->ok && r->err == ENOENT)
		return;
	if (rc < 0 || !r->ok) {
		fprintf(stderr, "scheckpoint: warning: %s%s%s\n",
			node ? node : "", node ? ": " : "",
			rc < 0 ? text : r->error ? r->error : strerror(r->err));
		g->failed++;
		return;
	}
	if (!(info = json_loads(r->info ? r->info : "", 0, NULL))) {
		fprintf(stderr, "scheckpoint: warning: %s: bad reply from "
			"slurmckptd\n", node ? node : "this node");
		g->failed++;
		return;
	}
	json_array_foreach(json_object_get(info, "events"), i, e)
		json_array_append(g->events, e);
	g->left_out += json_integer_value(json_object_get(info, "left_out"));
	json_decref(info);
}

static int by_time(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t tx = number(x, "time"), ty = number(y, "time");

	if (tx != ty)
		return tx < ty ? -1 : 1;
	return strcmp(field(x, "node"), field(y, "node"));
}

/* g->events, oldest first (a stable order across nodes). */
static json_t *sorted(json_t *events)
{
	size_t n = json_array_size(events), i;
	json_t **v = calloc(n ? n : 1, sizeof(*v)), *out = json_array();

	for (i = 0; v && i < n; i++)
		v[i] = json_array_get(events, i);
	if (v)
		qsort(v, n, sizeof(*v), by_time);
	for (i = 0; v && out && i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

static void print_events(uint32_t job, json_t *events, json_int_t left_out)
{
	char t[32], step[16];
	json_t *e, *st;
	size_t i;

	if (json_out) {
		json_t *o = json_pack("{s:I,s:O,s:I}", "job", (json_int_t)job,
				      "events", events, "left_out", left_out);

		/* As the daemon wrote them: 0.034, not 0.034000000000000002. */
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
			   JSON_REAL_PRECISION(10));
		putchar('\n');
		json_decref(o);
		return;
	}
	printf("%-19s %-6s %5s %-10s %-8s %-9s %12s %8s %s\n", "TIME", "STEP",
	       "SEQ", "REASON", "METHOD", "OUTCOME", "SIZE", "DURATION",
	       "NODE");
	json_array_foreach(events, i, e) {
		time_text(number(e, "time"), t, sizeof(t));
		st = json_object_get(e, "step");
		if (json_is_string(st))
			snprintf(step, sizeof(step), "%s", json_string_value(st));
		else
			snprintf(step, sizeof(step), "%lld",
				 (long long)json_integer_value(st));
		printf("%-19s %-6s %5lld %-10s %-8s %-9s %12lld %8.3f %s%s%s\n",
		       t, step,
		       (long long)number(e, "seq"),
		       field(e, "reason"), field(e, "method"),
		       field(e, "outcome"),
		       (long long)number(e, "bytes"),
		       json_number_value(json_object_get(e, "duration")),
		       field(e, "node"), *field(e, "error") ? "  " : "",
		       field(e, "error"));
	}
	if (left_out)
		fprintf(stderr, "scheckpoint: %lld older event%s left out: "
			"a node answers with as many of its newest as fit one "
			"answer\n", (long long)left_out,
			left_out == 1 ? "" : "s");
}

/* The nodes to ask: NodeList=, else the job's from slurmctld (NULL with
 * why: then this node's helper is asked). */
static char **nodes_of(uint32_t job, const char *nodelist, char *why,
		       size_t len)
{
	char **nodes = NULL, *batch = NULL;

	if (nodelist) {
		if (!(nodes = sched_expand_nodes(nodelist)))
			snprintf(why, len, "NodeList=%s is not a host list",
				 nodelist);
		return nodes;
	}
	if (!getenv("SLURM_CHECKPOINT_PORTS")) {
		snprintf(why, len, "the helpers' ports are not known "
			 "(SLURM_CHECKPOINT_PORTS)");
		return NULL;
	}
	if (sched_job_nodes(job, &nodes, &batch, why, len) < 0)
		return NULL;
	free(batch);
	return nodes;
}

/* Every node of nodes (NULL: this node's helper, at sock) asked for m's
 * events, into g; where: the nodes asked, for messages. */
static void gather(const char *sock, char **nodes, const struct ckpt_msg *m,
		   long max_wait, struct gather *g, char *where, size_t len)
{
	struct ckpt_msg r = { 0 };
	char text[900];
	size_t i, n;
	int rc;

	if (!nodes) {
		rc = ask_local(sock, m, &r, max_wait, text, sizeof(text));
		/* No helper here (a login node): nothing kept here. */
		if (rc < 0 && (errno == ENOENT || errno == ECONNREFUSED))
			snprintf(where, len, "found: %s", text);
		else
			take(g, NULL, rc, &r, text);
		if (rc > 0 || !*where)
			snprintf(where, len, "kept on this node");
		proto_msg_clear(&r);
		return;
	}
	n = (size_t)snprintf(where, len, "kept on ");
	for (i = 0; nodes[i]; i++) {
		rc = ask_node(nodes[i], m, max_wait, &r, text, sizeof(text));
		take(g, nodes[i], rc, &r, text);
		proto_msg_clear(&r);
		n += (size_t)snprintf(where + n, n < len ? len - n : 0, "%s%s",
				      i ? "," : "", nodes[i]);
	}
}

int events_main(const char *sock, int argc, char **argv)
{
	struct ckpt_msg m = { .op = CKPT_OP_EVENTS };
	struct gather g = { .events = json_array() };
	const char *nodelist = NULL;
	char why[512] = "", where[1024] = "", text[1600], **nodes = NULL;
	long max_wait = 0;
	json_t *all = NULL;
	int i, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "scheckpoint: events needs a job id\n");
		return EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (strncasecmp(argv[i], "NodeList=", 9) == 0 && argv[i][9]) {
			nodelist = argv[i] + 9;
		} else if (strncasecmp(argv[i], "MaxWait=", 8) == 0 &&
			   (max_wait = strtol(argv[i] + 8, NULL, 10)) > 0 &&
			   max_wait <= 86400 &&
			   strspn(argv[i] + 8, "0123456789") ==
			   strlen(argv[i] + 8)) {
			continue;
		} else {
			fprintf(stderr, "scheckpoint: invalid option '%s' for "
				"events (NodeList=<nodes>, MaxWait=<seconds>)\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if ((rc = resolve_id(argv[1], &m.job, &m.step)) != 0)
		return rc;
	rc = 1;
	if (!g.events)
		goto out;
	nodes = nodes_of(m.job, nodelist, why, sizeof(why));
	if (!nodes && nodelist) {
		print_error(EINVAL, why);
		rc = EXIT_USAGE;
		goto out;
	}
	gather(sock, nodes, &m, max_wait, &g, where, sizeof(where));
	if (!(all = sorted(g.events)))
		goto out;
	if (!json_array_size(all)) {
		snprintf(text, sizeof(text), "no checkpoint event of %s %s%s%s",
			 argv[1], where, *why ? "; the job's nodes are not "
			 "known: " : "", why);
		print_error(ENOENT, text);
		goto out;
	}
	print_events(m.job, all, g.left_out);
	rc = g.failed ? 1 : 0;
out:
	sched_nodes_free(nodes, NULL);
	json_decref(all);
	json_decref(g.events);
	return rc;
}
