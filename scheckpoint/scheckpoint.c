/* SPDX-License-Identifier: GPL-2.0-or-later */
/* scheckpoint.c - the checkpoint command, like legacy
 * "scontrol checkpoint <verb> <job_id>[.<step_id>] [MaxWait=<s>]",
 * spoken to the helper on this node (or the job's, transport.c): able,
 * create, vacate, requeue, enable, disable, error, list, show, restart
 * (restart.c) and events (events.c).  Output for people like
 * scontrol's, or --json; exit 0 done, 1 refused or failed, 2 usage. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ckptconf.h"
#include "proto.h"
#include "scheckpoint.h"

#define MAXWAIT_MAX 86400

static const struct verb {
	const char *name;
	enum ckpt_op op;
	const char *help;
} verbs[] = {
	{ "able", CKPT_OP_ABLE, "is the job (step) checkpointable, since when" },
	{ "create", CKPT_OP_CREATE, "checkpoint now, keep running" },
	{ "vacate", CKPT_OP_VACATE, "checkpoint, then end the job (the image "
	  "is kept)" },
	{ "requeue", CKPT_OP_REQUEUE, "checkpoint, then requeue the job" },
	{ "enable", CKPT_OP_ENABLE, "resume periodic checkpoints" },
	{ "disable", CKPT_OP_DISABLE, "suspend periodic checkpoints" },
	{ "error", CKPT_OP_ERROR, "the last checkpoint error: code and message" },
	{ "list", CKPT_OP_LIST, "the job's images: sequence, time, size, reason" },
	{ "show", CKPT_OP_SHOW, "the steps' checkpoint registrations" },
};
#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: scheckpoint [--json] [-s socket] <verb> "
		"<job_id>[.<step_id>|.batch] [MaxWait=<seconds>]\n"
		"       scheckpoint create|vacate|requeue <job_id>[.<step_id>] "
		"[ImageDir=<dir>] [MaxWait=<seconds>]\n"
		"       scheckpoint list <job_id>[.<step_id>] [ImageDir=<dir>]\n"
		"       scheckpoint restart <job_id> "
		"[ImageDir=<dir>] [StickToNodes] [Force]\n"
		"       scheckpoint events <job_id>[.<step_id>] "
		"[NodeList=<nodes>] [MaxWait=<seconds>]\n");
	for (i = 0; i < NVERBS; i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "  %-8s %s\n", "restart", "submit an ended job again from "
		"its image (new job id)");
	fprintf(f, "  %-8s %s\n", "events", "the job's checkpoints, each "
		"outcome, gathered from its nodes");
	fprintf(f, "<job_id> may be <array_job_id>_<task_id>.\n");
	fprintf(f, "  --json     machine-readable output\n"
		"  -s socket  slurmckptd's socket (default "
		"$SLURM_CHECKPOINT_SOCKET, else %s)\n"
		"Exit status: 0 done, 1 refused or failed, 2 usage error.\n",
		CKPT_SOCKET_DEFAULT);
}

static void print_step(enum ckpt_op op, json_t *st)
{
	char t1[32], t2[32], t3[32], t4[32];

	switch (op) {
	case CKPT_OP_ABLE:
		time_text(number(st, "since"), t1, sizeof(t1));
		printf("StepId=%s Checkpointable=Yes Since=%s\n",
		       field(st, "step"), t1);
		break;
	case CKPT_OP_ERROR:
		/* No error has no message and no time to print. */
		if (number(st, "error_code") == 0 && !*field(st, "error_msg")) {
			printf("StepId=%s error_code=0 error_msg=none\n",
			       field(st, "step"));
			break;
		}
		time_text(number(st, "error_time"), t1, sizeof(t1));
		printf("StepId=%s error_code=%lld error_msg=%s Time=%s\n",
		       field(st, "step"), (long long)number(st, "error_code"),
		       field(st, "error_msg"), t1);
		break;
	case CKPT_OP_ENABLE:
	case CKPT_OP_DISABLE:
		printf("StepId=%s Periodic=%s\n", field(st, "step"),
		       field(st, "periodic"));
		break;
	default:
		time_text(number(st, "next_checkpoint"), t1, sizeof(t1));
		time_text(number(st, "registered"), t2, sizeof(t2));
		time_text(number(st, "end_time"), t3, sizeof(t3));
		time_text(number(st, "final_checkpoint"), t4, sizeof(t4));
		printf("StepId=%s Node=%s UserId=%lld Tasks=%lld\n"
		       "   Dir=%s Method=%s Interval=%lld Periodic=%s "
		       "NextCheckpoint=%s\n"
		       "   LastSeq=%lld InProgress=%s Keep=%lld MaxWait=%lld "
		       "Registered=%s\n"
		       "   EndTime=%s FinalCheckpoint=%s\n",
		       field(st, "step"), field(st, "node"),
		       (long long)number(st, "uid"), (long long)number(st, "tasks"),
		       field(st, "dir"), field(st, "method"),
		       (long long)number(st, "interval"), field(st, "periodic"), t1,
		       (long long)number(st, "last_seq"),
		       json_is_true(json_object_get(st, "in_progress")) ?
		       "Yes" : "No", (long long)number(st, "keep"),
		       (long long)number(st, "max_wait"), t2, t3, t4);
		break;
	}
}

static int print_list(json_t *info)
{
	json_t *a = json_object_get(info, "images"), *e;
	char t[32];
	size_t i;

	printf("%-6s %-19s %12s %-10s %s\n", "SEQ", "TIME", "SIZE", "REASON",
	       "IMAGE");
	json_array_foreach(a, i, e) {
		time_text(number(e, "time"), t, sizeof(t));
		printf("%-6lld %-19s %12lld %-10s %s\n",
		       (long long)number(e, "seq"), t, (long long)number(e, "size"),
		       field(e, "reason"), field(e, "image"));
	}
	json_array_foreach(json_object_get(info, "errors"), i, e)
		fprintf(stderr, "scheckpoint: warning: %s\n",
			json_string_value(e) ? json_string_value(e) : "?");
	return 0;
}

static int print_reply(enum ckpt_op op, const char *id, const char *verb,
		       const struct ckpt_msg *r)
{
	json_t *info = NULL, *st;
	size_t i;

	if (r->info && !(info = json_loads(r->info, 0, NULL))) {
		fprintf(stderr, "scheckpoint: bad reply from slurmckptd\n");
		return 1;
	}
	if (json_out) {
		if (!info)
			info = json_pack("{s:s,s:s,s:I,s:s}", "verb", verb,
					 "id", id, "seq", (json_int_t)r->seq,
					 "image", r->image ? r->image : "");
		json_dumpf(info, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
	} else if (op == CKPT_OP_LIST) {
		print_list(info);
	} else if (info) {
		json_array_foreach(json_object_get(info, "steps"), i, st)
			print_step(op, st);
	} else {
		printf("Checkpoint of %s committed: %s (seq %llu)%s\n", id,
		       r->image ? r->image : "", (unsigned long long)r->seq,
		       op == CKPT_OP_VACATE ? "; job ended" :
		       op == CKPT_OP_REQUEUE ? "; job requeued" : "");
	}
	json_decref(info);
	return 0;
}

/* list of a job no daemon has (why: what was said): from dir, else
 * SLURM_CHECKPOINT_DIR. */
static int list_ended(const char *id, const struct ckpt_msg *m,
		      const char *dir, const char *why)
{
	struct ckpt_msg r = { .op = CKPT_OP_REPLY, .ok = true };
	char text[1400];
	const char *err;
	json_t *info;
	int rc;

	if (!dir && (dir = getenv("SLURM_CHECKPOINT_DIR")) && *dir != '/')
		dir = NULL;
	if (!dir) {
		snprintf(text, sizeof(text), "%s; to list the images of an "
			 "ended job, give ImageDir=<its checkpoint directory> "
			 "(or SLURM_CHECKPOINT_DIR)", why);
		print_error(ENOENT, text);
		return 1;
	}
	if (!(r.info = list_local(dir, m->job, m->step, text,
				  sizeof(text)))) {
		print_error(EIO, text);
		return 1;
	}
	info = json_loads(r.info, 0, NULL);
	err = json_string_value(json_array_get(json_object_get(info,
							       "errors"), 0));
	if (!info || !json_array_size(json_object_get(info, "images"))) {
		if (err)	/* the directory, or every image */
			snprintf(text, sizeof(text), "%s", err);
		else
			snprintf(text, sizeof(text), "%s holds no image of "
				 "%s", dir, id);
		print_error(err ? EIO : ENOENT, text);
		rc = 1;
	} else {
		rc = print_reply(CKPT_OP_LIST, id, "list", &r);
	}
	json_decref(info);
	free(r.info);
	return rc;
}

static int request(const char *sock, const struct verb *v, const char *id,
		   long max_wait, const char *dir)
{
	struct ckpt_msg m = { .op = v->op, .image_dir = (char *)dir },
			r = { 0 };
	char text[1024];
	int rc;

	if ((rc = resolve_id(id, &m.job, &m.step)) != 0)
		return rc;
	rc = ask_local(sock, &m, &r, max_wait, text, sizeof(text));
	/* Not here: the job's node, when the helpers' ports are known. */
	if (getenv("SLURM_CHECKPOINT_PORTS") &&
	    ((rc < 0 && (errno == ENOENT || errno == ECONNREFUSED)) ||
	     (rc > 0 && !r.ok && r.err == ENOENT))) {
		if (rc > 0)
			proto_msg_clear(&r);
		rc = ask_remote(&m, &r, max_wait, text, sizeof(text));
	}
	/* No daemon has the job (it ended, or none runs here): list its
	 * images from the directory. */
	if (v->op == CKPT_OP_LIST &&
	    ((rc < 0 && (errno == ENOENT || errno == ECONNREFUSED)) ||
	     (rc > 0 && !r.ok && r.err == ENOENT))) {
		if (rc > 0)
			snprintf(text, sizeof(text), "%s", r.error ? r.error :
				 strerror(r.err));
		if (rc > 0)
			proto_msg_clear(&r);
		return list_ended(id, &m, dir, text);
	}
	if (rc < 0) {
		print_error(errno ? errno : EIO, text);
		return 1;
	}
	if (!r.ok) {
		print_error(r.err, r.error ? r.error : strerror(r.err));
		rc = 1;
	} else {
		rc = print_reply(v->op, id, v->name, &r);
	}
	proto_msg_clear(&r);
	return rc;
}

/* "Key=value" options after the id, case-insensitive like scontrol. */
static int parse_option(const char *arg, const struct verb *verb,
			long *max_wait, const char **dir)
{
	char *end;
	long v;

	if (strncasecmp(arg, "MaxWait=", 8) == 0) {
		errno = 0;
		v = strtol(arg + 8, &end, 10);
		if (errno || end == arg + 8 || *end || v < 1 ||
		    v > MAXWAIT_MAX) {
			fprintf(stderr, "scheckpoint: invalid %s (1..%d "
				"seconds)\n", arg, MAXWAIT_MAX);
			return -1;
		}
		*max_wait = v;
		return 0;
	}
	if (strncasecmp(arg, "ImageDir=", 9) == 0 &&
	    (verb->op == CKPT_OP_LIST || verb->op == CKPT_OP_CREATE ||
	     verb->op == CKPT_OP_VACATE || verb->op == CKPT_OP_REQUEUE)) {
		/* like --checkpoint-dir: absolute; read (list) or written
		 * (create, vacate, requeue) by the helper with the job
		 * owner's credentials */
		if (arg[9] != '/') {
			fprintf(stderr, "scheckpoint: ImageDir '%s' is not an "
				"absolute path\n", arg + 9);
			return -1;
		}
		*dir = arg + 9;
		return 0;
	}
	if (strncasecmp(arg, "ImageDir=", 9) == 0 ||
	    strcasecmp(arg, "StickToNodes") == 0) {
		fprintf(stderr, "scheckpoint: %s is not valid for %s\n", arg,
			verb->name);
		return -1;
	}
	fprintf(stderr, "scheckpoint: unknown option '%s'\n", arg);
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = getenv("SLURM_CHECKPOINT_SOCKET");
	const struct verb *v = NULL;
	const char *dir = NULL;
	long max_wait = 0;
	FILE *f;
	size_t i;
	int c;

	while ((c = getopt_long(argc, argv, "+s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json_out = true; break;
		case 's': sock = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("scheckpoint %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (!sock || !*sock)
		sock = CKPT_SOCKET_DEFAULT;
	if ((f = output_escaped(STDERR_FILENO, _IONBF)))
		stderr = f;
	if (!json_out && (f = output_escaped(STDOUT_FILENO, _IOLBF)))
		stdout = f;
	if (argc - optind < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcasecmp(argv[optind], "restart") == 0)
		return restart_main(sock, argc - optind, argv + optind);
	if (strcasecmp(argv[optind], "events") == 0)
		return events_main(sock, argc - optind, argv + optind);
	for (i = 0; i < NVERBS; i++)
		if (strcasecmp(argv[optind], verbs[i].name) == 0)
			v = &verbs[i];
	if (!v) {
		fprintf(stderr, "scheckpoint: unknown verb '%s'\n",
			argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "scheckpoint: %s needs a job id\n", v->name);
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = (size_t)optind + 2; i < (size_t)argc; i++)
		if (parse_option(argv[i], v, &max_wait, &dir) < 0)
			return EXIT_USAGE;
	return request(sock, v, argv[optind + 1], max_wait, dir);
}
