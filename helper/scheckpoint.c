/* scheckpoint.c - the checkpoint command, like legacy
 * "scontrol checkpoint <verb> <job_id>[.<step_id>] [MaxWait=<s>]",
 * spoken to the helper on this node: able, create, vacate, requeue,
 * enable, disable, error, list, show.  Output for people like
 * scontrol's, or --json; exit 0 done, 1 refused or failed, 2 usage. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <munge.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ckptconf.h"
#include "escape.h"
#include "image.h"
#include "jobspec.h"
#include "manifest.h"
#include "proto.h"
#include "sched.h"

#define EXIT_USAGE 2
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

static bool json_out;

/* What scheckpoint prints for people carries names users chose (paths,
 * file names, messages about them): stdout (but JSON, which jansson
 * escapes) and stderr go through this, which escapes control characters,
 * so that nothing printed is a terminal escape sequence. */
static ssize_t escaped_write(void *cookie, const char *buf, size_t n)
{
	char safe[4 * 1024 + 1];
	size_t i, k;

	for (i = 0; i < n; i += k) {
		k = n - i < 1024 ? n - i : 1024;
		escape_ctl(safe, sizeof(safe), buf + i, k, true);
		if (manifest_write_all((int)(intptr_t)cookie, safe,
				       strlen(safe)) < 0)
			return -1;
	}
	return (ssize_t)n;
}

static FILE *escaped(int fd, int mode)
{
	cookie_io_functions_t io = { .write = escaped_write };
	FILE *f = fopencookie((void *)(intptr_t)fd, "w", io);

	if (f)
		setvbuf(f, NULL, mode, BUFSIZ);
	return f;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: scheckpoint [--json] [-s socket] <verb> "
		"<job_id>[.<step_id>|.batch] [MaxWait=<seconds>]\n"
		"       scheckpoint create|vacate|requeue <job_id>[.<step_id>] "
		"[ImageDir=<dir>] [MaxWait=<seconds>]\n"
		"       scheckpoint list <job_id>[.<step_id>] [ImageDir=<dir>]\n"
		"       scheckpoint restart <job_id> "
		"[ImageDir=<dir>] [StickToNodes]\n");
	for (i = 0; i < NVERBS; i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "  %-8s %s\n", "restart", "submit an ended job again from "
		"its image (new job id)");
	fprintf(f, "  --json     machine-readable output\n"
		"  -s socket  slurmckptd's socket (default "
		"$SLURM_CHECKPOINT_SOCKET, else %s)\n"
		"Exit status: 0 done, 1 refused or failed, 2 usage error.\n",
		CKPT_SOCKET_DEFAULT);
}

static int parse_u32(const char *s, char **end, uint32_t *out)
{
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || v >= CKPT_STEP_BATCH)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* "<job>", "<job>.<step>" or "<job>.batch" */
static int parse_id(const char *s, uint32_t *job, uint32_t *step)
{
	char *end;

	if (parse_u32(s, &end, job) < 0)
		return -1;
	if (*end == '\0') {
		*step = CKPT_STEP_ALL;
		return 0;
	}
	if (*end++ != '.')
		return -1;
	if (strcmp(end, "batch") == 0) {
		*step = CKPT_STEP_BATCH;
		return 0;
	}
	if (parse_u32(end, &end, step) < 0 || *end)
		return -1;
	return 0;
}

static void when(json_int_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !localtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "None");
}

static const char *str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_step(enum ckpt_op op, json_t *st)
{
	char t1[32], t2[32];

	switch (op) {
	case CKPT_OP_ABLE:
		when(num(st, "since"), t1, sizeof(t1));
		printf("StepId=%s Checkpointable=Yes Since=%s\n",
		       str(st, "step"), t1);
		break;
	case CKPT_OP_ERROR:
		when(num(st, "error_time"), t1, sizeof(t1));
		printf("StepId=%s error_code=%lld error_msg=%s Time=%s\n",
		       str(st, "step"), (long long)num(st, "error_code"),
		       *str(st, "error_msg") ? str(st, "error_msg") : "(null)",
		       t1);
		break;
	case CKPT_OP_ENABLE:
	case CKPT_OP_DISABLE:
		printf("StepId=%s Periodic=%s\n", str(st, "step"),
		       str(st, "periodic"));
		break;
	default:
		when(num(st, "next_checkpoint"), t1, sizeof(t1));
		when(num(st, "registered"), t2, sizeof(t2));
		printf("StepId=%s Node=%s UserId=%lld Tasks=%lld\n"
		       "   Dir=%s Method=%s Interval=%lld Periodic=%s "
		       "NextCheckpoint=%s\n"
		       "   LastSeq=%lld InProgress=%s Keep=%lld MaxWait=%lld "
		       "Registered=%s\n",
		       str(st, "step"), str(st, "node"),
		       (long long)num(st, "uid"), (long long)num(st, "tasks"),
		       str(st, "dir"), str(st, "method"),
		       (long long)num(st, "interval"), str(st, "periodic"), t1,
		       (long long)num(st, "last_seq"),
		       json_is_true(json_object_get(st, "in_progress")) ?
		       "Yes" : "No", (long long)num(st, "keep"),
		       (long long)num(st, "max_wait"), t2);
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
		when(num(e, "time"), t, sizeof(t));
		printf("%-6lld %-19s %12lld %-10s %s\n",
		       (long long)num(e, "seq"), t, (long long)num(e, "size"),
		       str(e, "reason"), str(e, "image"));
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

static void print_error(int err, const char *text)
{
	json_t *o;

	if (json_out) {
		o = json_pack("{s:b,s:i,s:s}", "ok", 0, "errno", err, "error",
			      text);
		json_dumpf(o, stdout, JSON_INDENT(2));
		putchar('\n');
		json_decref(o);
	}
	fprintf(stderr, "scheckpoint: %s\n", text);
}

/* The helper on this node: 1 with *r, -1 with text (errno kept). */
static int ask_local(const char *sock, const struct ckpt_msg *m,
		     struct ckpt_msg *r, long max_wait, char *text,
		     size_t len)
{
	char err[512] = "";
	int fd, rc = -1, saved;

	if ((fd = proto_connect(sock, (int)max_wait)) < 0) {
		saved = errno;
		snprintf(text, len, "slurmckptd is not running on this node "
			 "(%s: %s)", sock, strerror(errno));
		errno = saved;
		return -1;
	}
	if (proto_send(fd, m, -1) < 0) {
		saved = errno;
		/* EINVAL: proto_encode found the request invalid */
		snprintf(text, len, "cannot send the request: %s",
			 saved == EINVAL ? "it is not valid (a path with a "
			 "control character?)" : strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	if ((rc = proto_recv(fd, r, NULL, err, sizeof(err))) <= 0) {
		saved = rc == 0 ? EPIPE : errno;
		if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			snprintf(text, len, "no answer within MaxWait=%ld s "
				 "(a checkpoint may still complete)", max_wait);
		else
			snprintf(text, len, "slurmckptd: %s",
				 rc == 0 ? "connection closed" :
				 errno == EINVAL ? err : strerror(errno));
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 1;
}

/* munged's socket: SLURM_CHECKPOINT_MUNGE_SOCKET, else socket= in
 * slurm.conf's AuthInfo, else libmunge's default (NULL). */
static char *munge_socket(void)
{
	const char *env = getenv("SLURM_CHECKPOINT_MUNGE_SOCKET");

	if (env && *env)
		return strdup(env);
	return sched_munge_socket();
}

/* A TCP connection to addr:port, with max_wait as its send and receive
 * timeouts.  fd, or -1 with text. */
static int tcp_connect(const char *node, const char *addr, long port,
		       long max_wait, char *text, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	struct timeval tv = { .tv_sec = max_wait };
	char ports[16];
	int fd, e;

	snprintf(ports, sizeof(ports), "%ld", port);
	if ((e = getaddrinfo(addr, ports, &hints, &ai)) != 0) {
		snprintf(text, len, "node %s (%s): %s", node, addr,
			 gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    (max_wait > 0 &&
	     (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)) ||
	    connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		snprintf(text, len, "slurmckptd on node %s (%s:%s): %s", node,
			 addr, ports, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* payload in a MUNGE credential (malloc'ed), or NULL with text. */
static char *munge_wrap(const char *payload, const char *msock, char *text,
			size_t len)
{
	munge_ctx_t ctx = munge_ctx_create();
	char *cred = NULL;
	munge_err_t e;

	if (!ctx || (msock && munge_ctx_set(ctx, MUNGE_OPT_SOCKET, msock) !=
		     EMUNGE_SUCCESS)) {
		snprintf(text, len, "MUNGE: cannot set up a context");
	} else if ((e = munge_encode(&cred, ctx, payload,
				     (int)strlen(payload))) != EMUNGE_SUCCESS) {
		snprintf(text, len, "MUNGE: %s", munge_strerror(e));
		free(cred);
		cred = NULL;
	}
	if (ctx)
		munge_ctx_destroy(ctx);
	return cred;
}

static int ask_node_payload(const char *node, const char *payload,
			    const char *msock, long max_wait,
			    struct ckpt_msg *r, char *text, size_t len);

/* One request to the helper of node over TCP, in a MUNGE credential,
 * bound to that node (to=): no good if replayed to another. */
static int ask_node(const char *node, const struct ckpt_msg *m,
		    const char *msock, long max_wait, struct ckpt_msg *r,
		    char *text, size_t len)
{
	struct ckpt_msg bound = *m;
	char *payload;
	int rc;

	bound.to = (char *)node;
	if (!(payload = proto_encode(&bound))) {
		snprintf(text, len, "%s", strerror(errno));
		return -1;
	}
	rc = ask_node_payload(node, payload, msock, max_wait, r, text, len);
	free(payload);
	return rc;
}

static int ask_node_payload(const char *node, const char *payload,
			    const char *msock, long max_wait,
			    struct ckpt_msg *r, char *text, size_t len)
{
	long port = proto_port_of(getenv("SLURM_CHECKPOINT_PORTS"), node);
	char addr[256], err[512], *cred = NULL, *buf = NULL;
	size_t blen = 0;
	int fd = -1, rc = -1, got = -1;

	if (!port) {
		snprintf(text, len, "no slurmckptd port known for node %s "
			 "(SLURM_CHECKPOINT_PORTS)", node);
		return -1;
	}
	sched_node_addr(node, addr, sizeof(addr));
	if (!(cred = munge_wrap(payload, msock, text, len)) ||
	    (fd = tcp_connect(node, addr, port, max_wait, text, len)) < 0)
		goto out;
	if (proto_frame_send(fd, cred, strlen(cred)) < 0 ||
	    (got = proto_frame_recv(fd, &buf, &blen)) <= 0) {
		if (got == 0)	/* end of file: errno says nothing */
			snprintf(text, len, "slurmckptd on node %s closed the "
				 "connection without an answer", node);
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			snprintf(text, len, "no answer within MaxWait=%ld s "
				 "(a checkpoint may still complete)", max_wait);
		else
			snprintf(text, len, "slurmckptd on node %s: %s", node,
				 strerror(errno));
		goto out;
	}
	if (proto_decode(buf, blen, r, err, sizeof(err)) < 0 ||
	    r->op != CKPT_OP_REPLY) {
		proto_msg_clear(r);
		snprintf(text, len, "slurmckptd on node %s: bad reply: %s",
			 node, err);
		goto out;
	}
	rc = 1;
out:
	if (fd >= 0)
		close(fd);
	free(cred);
	free(buf);
	return rc;
}

/* The job's node(s) from slurmctld, then their helpers over TCP: the
 * batch host for the batch script or the whole job, else each node of
 * the job until one has the step. */
static int ask_remote(const struct ckpt_msg *m, struct ckpt_msg *r,
		      long max_wait, char *text, size_t len)
{
	char **nodes = NULL, *batch = NULL, *msock = NULL;
	int rc = -1;
	size_t i;

	sched_init();
	if (sched_job_nodes(m->job, &nodes, &batch, text, len) < 0)
		goto out;
	msock = munge_socket();
	if (m->step == CKPT_STEP_BATCH || m->step == CKPT_STEP_ALL) {
		rc = ask_node(batch ? batch : nodes[0], m, msock, max_wait, r,
			      text, len);
		goto out;
	}
	for (i = 0; nodes[i]; i++) {
		if (i)
			proto_msg_clear(r);
		rc = ask_node(nodes[i], m, msock, max_wait, r, text, len);
		if (rc < 0 || r->ok || r->err != ENOENT)
			break;
	}
out:
	sched_nodes_free(nodes, batch);
	free(msock);
	return rc;
}

static int request(const char *sock, const struct verb *v, const char *id,
		   long max_wait, const char *dir)
{
	struct ckpt_msg m = { .op = v->op, .dir = (char *)dir }, r = { 0 };
	char text[1024];
	int rc;

	if (parse_id(id, &m.job, &m.step) < 0) {
		fprintf(stderr, "scheckpoint: invalid job id '%s': use "
			"<job_id>, <job_id>.<step_id> or <job_id>.batch\n", id);
		return EXIT_USAGE;
	}
	rc = ask_local(sock, &m, &r, max_wait, text, sizeof(text));
	/* Not here: the job's node, when the helpers' ports are known. */
	if (getenv("SLURM_CHECKPOINT_PORTS") &&
	    ((rc < 0 && (errno == ENOENT || errno == ECONNREFUSED)) ||
	     (rc > 0 && !r.ok && r.err == ENOENT))) {
		if (rc > 0)
			proto_msg_clear(&r);
		rc = ask_remote(&m, &r, max_wait, text, sizeof(text));
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

/* --------------------------------------------------------- restart ----- */
/* The saved job of an image: its record and its batch script, the very
 * bytes that were checked against the manifest. */
struct saved_job {
	json_t *job;
	char *script;
	size_t script_len;
};

#define SAVED_JOB_MAX (1 << 20)
#define SAVED_SCRIPT_MAX (64 << 20)	/* Slurm's max_script_size: 512 MiB */

/* Verify the image and read its saved job, once, through one directory
 * fd (never a second open by name).  0, or -1 with text. */
static int load_image(const char *image, struct saved_job *sv, char *text,
		      size_t len)
{
	struct manifest m = { 0 };
	char err[512], *buf = NULL;
	size_t blen;
	int fd, rc = -1;

	memset(sv, 0, sizeof(*sv));
	fd = open(image, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(text, len, "no image %s: %s", image, strerror(errno));
		return -1;
	}
	if (manifest_read(fd, &m, err, sizeof(err)) < 0 ||
	    manifest_verify(fd, &m, err, sizeof(err)) < 0) {
		snprintf(text, len, "image %s does not verify: %s", image, err);
		goto out;
	}
	if (manifest_read_file(fd, &m, IMAGE_JOB_NAME, SAVED_JOB_MAX, &buf,
			       &blen, err, sizeof(err)) < 0 ||
	    manifest_read_file(fd, &m, IMAGE_SCRIPT_NAME, SAVED_SCRIPT_MAX,
			       &sv->script, &sv->script_len, err,
			       sizeof(err)) < 0) {
		if (errno == ENOENT)
			snprintf(text, len, "image %s holds no saved job (%s, "
				 "%s): submit it with sbatch --restart-dir=%s",
				 image, IMAGE_JOB_NAME, IMAGE_SCRIPT_NAME,
				 image);
		else
			snprintf(text, len, "image %s: %s", image, err);
		goto out;
	}
	if (!(sv->job = jobspec_parse(buf, blen, err, sizeof(err)))) {
		snprintf(text, len, "%s/%s: %s", image, IMAGE_JOB_NAME, err);
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		json_decref(sv->job);
		free(sv->script);
		memset(sv, 0, sizeof(*sv));
	}
	free(buf);
	manifest_free(&m);
	close(fd);
	return rc;
}

/* Run sbatch with the script on its input; its output (--parsable:
 * "<id>[;cluster]") in buf.  0/-1 with text; sbatch's own errors go to
 * our stderr. */
static int run_sbatch(char **argv, const struct saved_job *sv, char *buf,
		      size_t len, char *text, size_t tlen)
{
	size_t got = 0;
	ssize_t n;
	int in[2], out[2], status;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		snprintf(text, tlen, "cannot run sbatch: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in[0], STDIN_FILENO) < 0 ||
		    dup2(out[1], STDOUT_FILENO) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "scheckpoint: sbatch: %s\n", strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* sbatch reads all of its script before it answers; one that
	 * stops reading fails, and says why (SIGPIPE is ignored). */
	(void)manifest_write_all(in[1], sv->script, sv->script_len);
	close(in[1]);
	while (got + 1 < len &&
	       ((n = read(out[0], buf + got, len - 1 - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	buf[got] = '\0';
	close(out[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(text, tlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(text, tlen, "sbatch failed (exit %d): the job was "
			 "not submitted", WIFEXITED(status) ?
			 WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -1;
	}
	return 0;
}

/* More than slurmckptd's offsite_timeout (at most 840 s). */
#define FETCH_WAIT_S 900

/* No image in dir that verifies: this node's slurmckptd may fetch the
 * newest from the offsite store, as this user, into dir.  True when it
 * did (image is then its path); else text says why, after what it
 * said already. */
static bool fetch_image(const char *sock, uint32_t jobid, const char *dir,
			char *image, size_t ilen, uint64_t *seq, char *text,
			size_t len)
{
	struct ckpt_msg m = { .op = CKPT_OP_FETCH, .job = jobid,
			      .step = CKPT_STEP_BATCH, .dir = (char *)dir },
			r = { 0 };
	size_t used = strlen(text);
	char why[1024];
	bool ok = false;

	if (ask_local(sock, &m, &r, FETCH_WAIT_S, why, sizeof(why)) < 0) {
		snprintf(text + used, len - used, "; nothing fetched from an "
			 "offsite store: %s", why);
		return false;
	}
	if (r.ok && r.image) {
		snprintf(image, ilen, "%s", r.image);
		*seq = r.seq;
		ok = true;
	} else if (r.err != ENOTSUP) {	/* ENOTSUP: there is no store */
		snprintf(text + used, len - used, "; none fetched from the "
			 "offsite store: %s", r.error ? r.error :
			 strerror(r.err));
	}
	proto_msg_clear(&r);
	return ok;
}

/* Submit the job saved in image again (as whoever runs this) and print
 * the new job id.  0, or 1 said on stderr. */
static int submit_saved(const char *image, uint32_t jobid, const char *id,
			bool stick, uint64_t fetched)
{
	char text[16384], out[256];
	struct saved_job sv;
	struct args a = { 0 };
	unsigned long newid;
	json_t *o;
	int rc = 1;
	size_t i;

	if (load_image(image, &sv, text, sizeof(text)) < 0) {
		print_error(errno ? errno : EIO, text);
		return 1;
	}
	if (!jobspec_is(sv.job, getuid(), jobid)) {
		snprintf(text, sizeof(text), "permission denied: %s is job "
			 "%lld of uid %lld", image,
			 (long long)num(sv.job, "job_id"),
			 (long long)num(sv.job, "user_id"));
		print_error(EPERM, text);
		goto out;
	}
	jobspec_sbatch_args(&a, sv.job, image, stick);
	if (a.oom) {
		print_error(ENOMEM, "out of memory");
		goto out;
	}
	if (run_sbatch(a.v, &sv, out, sizeof(out), text, sizeof(text)) < 0) {
		print_error(EIO, text);
		goto out;
	}
	errno = 0;
	newid = strtoul(out, NULL, 10);
	if (errno || newid == 0) {
		snprintf(text, sizeof(text), "sbatch said '%.200s'", out);
		print_error(EIO, text);
		goto out;
	}
	if (json_out) {
		o = json_pack("{s:b,s:s,s:s,s:I,s:s,s:b,s:I}", "ok", 1,
			      "verb", "restart", "id", id, "job_id",
			      (json_int_t)newid, "image", image,
			      "stick_to_nodes", stick, "fetched_seq",
			      (json_int_t)fetched);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	} else {
		printf("Submitted batch job %lu\n", newid);
	}
	rc = 0;
out:
	for (i = 0; i < a.n; i++)
		free(a.v[i]);
	free(a.v);
	json_decref(sv.job);
	free(sv.script);
	return rc;
}

/* Copy what fd says to f, escaped: it comes from a process the user
 * controls. */
static void relay(int fd, FILE *f)
{
	char buf[4096], safe[4 * sizeof(buf) + 1];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			fputs(escape_ctl(safe, sizeof(safe), buf, (size_t)n,
					 true), f);
}

/* The environment of root's restart as pw: nothing of root's but where
 * to find sbatch and the cluster (PATH, SLURM_CONF: root chose them),
 * and who the user is. */
static char **owner_env(const struct passwd *pw)
{
	const char *path = getenv("PATH"), *conf = getenv("SLURM_CONF");
	struct args e = { 0 };

	args_add(&e, "PATH=%s", path && *path ? path : "/usr/bin:/bin");
	if (conf && *conf)
		args_add(&e, "SLURM_CONF=%s", conf);
	args_add(&e, "HOME=%s", pw->pw_dir);
	args_add(&e, "USER=%s", pw->pw_name);
	args_add(&e, "LOGNAME=%s", pw->pw_name);
	args_add(&e, "SHELL=%s", pw->pw_shell && *pw->pw_shell ?
		 pw->pw_shell : "/bin/sh");
	return e.oom ? NULL : e.v;
}

/* In the child of root's restart: become pw, holding nothing of root's.
 * Not dumpable before the identity changes (the kernel would keep it so,
 * but exec makes sbatch dumpable again: so it gets nothing worth
 * taking), a session of its own (no controlling terminal), /dev/null
 * for input, the pipes for output, no other fd, its own environment. */
static int seal_as(const struct passwd *pw, int out, int err)
{
	extern char **environ;
	char **env;
	int null;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setsid() < 0 ||
	    (null = open("/dev/null", O_RDONLY)) < 0 ||
	    dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0 ||
	    close_range(3, ~0U, 0) < 0 || !(env = owner_env(pw)))
		return -1;
	environ = env;
	if (pw->pw_uid == 0)
		return 0;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		return -1;
	return 0;
}

/* root restarts the job as the image's owner, in a sealed child; what it
 * prints comes back escaped.  An image that root owns is restarted (as
 * root) only with AllowRoot. */
static int restart_as_owner(const char *image, uint32_t jobid,
			    const char *id, bool stick, bool allow_root)
{
	struct passwd *pw;
	struct stat st;
	char text[4400];
	int o[2], e[2], status;
	pid_t pid;

	if (lstat(image, &st) < 0) {
		snprintf(text, sizeof(text), "no image %s: %s", image,
			 strerror(errno));
		print_error(errno, text);
		return 1;
	}
	if (st.st_uid == 0 && !allow_root) {
		snprintf(text, sizeof(text), "image %s is owned by root: "
			 "restarting it runs its job as root; say AllowRoot "
			 "to do that", image);
		print_error(EPERM, text);
		return 1;
	}
	if (!(pw = getpwuid(st.st_uid))) {
		snprintf(text, sizeof(text), "%s: owner %u is not a known "
			 "user", image, (unsigned)st.st_uid);
		print_error(ENOENT, text);
		return 1;
	}
	fflush(NULL);
	if (pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0 ||
	    (pid = fork()) < 0) {
		snprintf(text, sizeof(text), "cannot fork: %s",
			 strerror(errno));
		print_error(errno, text);
		return 1;
	}
	if (pid == 0) {
		if (seal_as(pw, o[1], e[1]) < 0) {
			dprintf(e[1], "scheckpoint: cannot become %s: %s\n",
				pw->pw_name, strerror(errno));
			_exit(1);
		}
		status = submit_saved(image, jobid, id, stick, 0);
		_exit(fflush(stdout) != 0 ? 1 : status);
	}
	close(o[1]);
	close(e[1]);
	/* The child's answer is short (a line, or a small JSON object), so
	 * it never waits on a full pipe while its errors are read. */
	relay(e[0], stderr);
	relay(o[0], stdout);
	close(e[0]);
	close(o[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int restart(const char *sock, const char *id, const char *dir,
		   bool stick, bool allow_root)
{
	char name[80], image[4200], text[16384];
	struct sched_job sj;
	uint32_t jobid, step;
	uint64_t fetched = 0;
	int fd;

	if (parse_id(id, &jobid, &step) < 0) {
		fprintf(stderr, "scheckpoint: invalid job id '%s': use "
			"<job_id>, <job_id>.<step_id> or <job_id>.batch\n", id);
		return EXIT_USAGE;
	}
	if (step != CKPT_STEP_ALL && step != CKPT_STEP_BATCH) {
		fprintf(stderr, "scheckpoint: restart is for a job: it submits "
			"the batch script again from the job's image "
			"<job_id>.ckpt\n");
		return EXIT_USAGE;
	}
	/* like --checkpoint-dir, whose environment equivalent it is */
	if (!dir && (dir = getenv("SLURM_CHECKPOINT_DIR")) && *dir != '/')
		dir = NULL;
	if (!dir) {
		fprintf(stderr, "scheckpoint: restart needs ImageDir=<the "
			"job's checkpoint directory> (or SLURM_CHECKPOINT_DIR)"
			"\n");
		return EXIT_USAGE;
	}
	image_name(jobid, CKPT_STEP_BATCH, name, sizeof(name));
	snprintf(image, sizeof(image), "%s/%s", dir, name);
	sched_init();
	if (sched_job(jobid, &sj, text, sizeof(text)) == 0 && !sj.done) {
		snprintf(text, sizeof(text), "job %u is still in the queue: "
			 "restart is for a job that has ended (to checkpoint "
			 "and start it again, use scheckpoint requeue %u)",
			 jobid, jobid);
		print_error(EBUSY, text);
		return 1;
	}
	/* sbatch must not die of a write to a pipe it closed */
	signal(SIGPIPE, SIG_IGN);
	if (getuid() == 0)
		return restart_as_owner(image, jobid, id, stick, allow_root);
	/* A user: no image here that this user can open (it may never have
	 * been flushed back), so ask for one from the offsite store. */
	fd = open(image, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
	} else {
		snprintf(text, sizeof(text), "no image %s: %s", image,
			 strerror(errno));
		if (!fetch_image(sock, jobid, dir, image, sizeof(image),
				 &fetched, text, sizeof(text))) {
			print_error(ENOENT, text);
			return 1;
		}
		if (!json_out)
			fprintf(stderr, "scheckpoint: seq %llu of job %u "
				"fetched from the offsite store into %s\n",
				(unsigned long long)fetched, jobid, image);
	}
	return submit_saved(image, jobid, id, stick, fetched);
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

/* restart <job_id> ImageDir=<dir> [StickToNodes] [AllowRoot] */
static int restart_main(const char *sock, int argc, char **argv)
{
	const char *dir = NULL;
	bool stick = false, allow_root = false;
	int i;

	if (argc < 2) {
		fprintf(stderr, "scheckpoint: restart needs a job id\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 2; i < argc; i++) {
		if (strncasecmp(argv[i], "ImageDir=", 9) == 0 &&
		    argv[i][9] == '/') {
			dir = argv[i] + 9;
		} else if (strcasecmp(argv[i], "StickToNodes") == 0) {
			stick = true;
		} else if (strcasecmp(argv[i], "AllowRoot") == 0) {
			allow_root = true;
		} else {
			fprintf(stderr, "scheckpoint: restart: invalid option "
				"'%s' (ImageDir=<absolute dir>, "
				"StickToNodes, AllowRoot)\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	return restart(sock, argv[1], dir, stick, allow_root);
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
	if ((f = escaped(STDERR_FILENO, _IONBF)))
		stderr = f;
	if (!json_out && (f = escaped(STDOUT_FILENO, _IOLBF)))
		stdout = f;
	if (argc - optind < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcasecmp(argv[optind], "restart") == 0)
		return restart_main(sock, argc - optind, argv + optind);
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
