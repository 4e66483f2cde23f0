/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proto.c - wire messages: each op's fields, checked by the same
 * validator before a message is encoded and after it is decoded, so a
 * bad message never leaves nor enters; the JSON encoding.  The sockets
 * and frames that carry them are in proto_sock.c. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "errbuf.h"
#include "proto.h"

#define JOB_MAX 0xfffffffdU	/* below Slurm's NO_VAL */
#define ID_MAX 0xfffffffeU	/* uid/gid: (uid_t)-1 is not one */
#define KEEP_MAX 1000
#define SIGNO_MAX 64
#define REQUEUE_MAX 1000
#define EXIT_CODE_MAX 255

static const char *const op_names[] = {
	[CKPT_OP_REGISTER] = "register",
	[CKPT_OP_TASK] = "task",
	[CKPT_OP_UNREGISTER] = "unregister",
	[CKPT_OP_CREATE] = "create",
	[CKPT_OP_REPLY] = "reply",
	[CKPT_OP_EXIT] = "exit",
	[CKPT_OP_ABLE] = "able",
	[CKPT_OP_VACATE] = "vacate",
	[CKPT_OP_REQUEUE] = "requeue",
	[CKPT_OP_ENABLE] = "enable",
	[CKPT_OP_DISABLE] = "disable",
	[CKPT_OP_ERROR] = "error",
	[CKPT_OP_LIST] = "list",
	[CKPT_OP_SHOW] = "show",
	[CKPT_OP_PREPARE] = "prepare",
	[CKPT_OP_ABORT] = "abort",
	[CKPT_OP_FETCH] = "fetch",
	[CKPT_OP_EVENTS] = "events",
};

#define NOPS (sizeof(op_names) / sizeof(op_names[0]))

/* ------------------------------------------------------------------ */
/* Validation, shared by encode and decode                            */

bool proto_op_is_request(int op)
{
	return op == CKPT_OP_CREATE || op == CKPT_OP_EVENTS ||
	       (op >= CKPT_OP_ABLE && op <= CKPT_OP_SHOW);
}

bool proto_op_is_peer(int op)
{
	return op == CKPT_OP_PREPARE || op == CKPT_OP_ABORT;
}

/* The text of a JSON object, or NULL. */
static json_t *load_object(const char *text)
{
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);

	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static int check_ids(const struct ckpt_msg *m, char *err, size_t errlen)
{
	if (m->job < 1 || m->job > JOB_MAX)
		return errprintf(err, errlen, EINVAL, "invalid job id %u", m->job);
	if (m->step == CKPT_STEP_ALL && !proto_op_is_request(m->op))
		return errprintf(err, errlen, EINVAL, "step %u is only valid for requests",
			    m->step);
	return 0;
}

bool proto_method_name_ok(const char *name)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return n >= 1 && n <= CKPT_METHOD_NAME_MAX && name[n] == '\0' &&
	       name[0] != '-';
}

/* A control character (logs and terminals would show it raw)? */
static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool proto_trigger_ok(const char *path)
{
	size_t n = strlen(path);

	return n >= 1 && n <= CKPT_TRIGGER_MAX && path[n - 1] != '/' &&
	       !has_control(path);
}

static int check_register(const struct ckpt_msg *m, char *err, size_t errlen)
{
	if (m->uid > ID_MAX || m->gid > ID_MAX)
		return errprintf(err, errlen, EINVAL, "invalid uid/gid %u/%u", m->uid,
			    m->gid);
	if (m->ntasks < 1)
		return errprintf(err, errlen, EINVAL, "ntasks must be at least 1");
	if (m->nnodes > 1 && m->nodeid >= m->nnodes)
		return errprintf(err, errlen, EINVAL, "nodeid %u of %u nodes",
				 m->nodeid, m->nnodes);
	if (m->nnodes <= 1 && m->nodeid != 0)
		return errprintf(err, errlen, EINVAL, "nodeid %u of a one-node "
				 "step", m->nodeid);
	if (m->interval < 0 || m->interval > INT_MAX)
		return errprintf(err, errlen, EINVAL, "invalid interval %ld", m->interval);
	if (m->max_wait < 1 || m->max_wait > INT_MAX)
		return errprintf(err, errlen, EINVAL, "invalid max_wait %ld", m->max_wait);
	if (m->keep < 1 || m->keep > KEEP_MAX)
		return errprintf(err, errlen, EINVAL, "invalid keep %ld (1..%d)", m->keep,
			    KEEP_MAX);
	if (m->signo < 1 || m->signo > SIGNO_MAX || m->signo == SIGKILL ||
	    m->signo == SIGSTOP)
		return errprintf(err, errlen, EINVAL, "invalid signal %d", m->signo);
	if (m->lead < 0 || m->lead > INT_MAX)
		return errprintf(err, errlen, EINVAL, "invalid lead %ld", m->lead);
	if (m->max_requeue < 0 || m->max_requeue > REQUEUE_MAX)
		return errprintf(err, errlen, EINVAL, "invalid max_requeue %ld (0..%d)",
			    m->max_requeue, REQUEUE_MAX);
	if (m->exit_code < 0 || m->exit_code > EXIT_CODE_MAX)
		return errprintf(err, errlen, EINVAL, "invalid exit_code %d (0..%d)",
			    m->exit_code, EXIT_CODE_MAX);
	if (!m->dir || m->dir[0] != '/' || has_control(m->dir))
		return errprintf(err, errlen, EINVAL, "dir is not an absolute "
				 "path of printable characters");
	if (!m->node || !m->node[0])
		return errprintf(err, errlen, EINVAL, "missing node name");
	if (m->method && !proto_method_name_ok(m->method))
		return errprintf(err, errlen, EINVAL, "invalid method name");
	if (m->trigger && !proto_trigger_ok(m->trigger))
		return errprintf(err, errlen, EINVAL, "invalid trigger file");
	if (m->watch && !proto_trigger_ok(m->watch))
		return errprintf(err, errlen, EINVAL, "invalid watched file");
	if (m->local && (m->local[0] != '/' || has_control(m->local)))
		return errprintf(err, errlen, EINVAL, "local is not an absolute "
				 "path of printable characters");
	return 0;
}

/* to=: a node name as Slurm's (printable, no blank or '/', not empty,
 * at most 64 characters). */
static int check_to(const struct ckpt_msg *m, char *err, size_t errlen)
{
	const char *p;

	if (!m->to)
		return 0;
	for (p = m->to; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '/')
			break;
	if (!*m->to || *p || p - m->to > 64)
		return errprintf(err, errlen, EINVAL, "to= is not a node name");
	return 0;
}

/* The ops with ImageDir= (image_dir). */
static bool op_has_image_dir(int op)
{
	return op == CKPT_OP_LIST || op == CKPT_OP_CREATE ||
	       op == CKPT_OP_VACATE || op == CKPT_OP_REQUEUE;
}

/* At most the one of dir, image_dir and fetch_dir that is the op's (all
 * three are "dir" on the wire): register's dir, the image_dir of list,
 * create, vacate and requeue, fetch's fetch_dir. */
static int check_dir_fields(const struct ckpt_msg *m, char *err,
			    size_t errlen)
{
	if (m->dir && m->op != CKPT_OP_REGISTER)
		return errprintf(err, errlen, EINVAL, "only a register "
				 "message has dir");
	if (m->image_dir && !op_has_image_dir(m->op))
		return errprintf(err, errlen, EINVAL, "ImageDir= is only valid "
				 "for create, vacate, requeue and list");
	if (m->fetch_dir && m->op != CKPT_OP_FETCH)
		return errprintf(err, errlen, EINVAL, "only a fetch message "
				 "has fetch_dir");
	return 0;
}

/* ImageDir= of a request, and the directory of a restart's fetch:
 * absolute, printable, shorter than PATH_MAX; list reads images in
 * ImageDir=, create, vacate and requeue commit the image there (the
 * tasks still stage in their SLURM_CHECKPOINT_DIR); a restart's fetch
 * commits the image it fetches into its directory. */
static int check_image_dir(const char *dir, char *err, size_t errlen)
{
	if (!dir)
		return 0;
	if (dir[0] != '/' || strlen(dir) >= PATH_MAX)
		return errprintf(err, errlen, EINVAL, "ImageDir must be an "
				 "absolute path");
	if (has_control(dir))
		return errprintf(err, errlen, EINVAL, "ImageDir has a "
				 "control character");
	return 0;
}

static int check_reply(const struct ckpt_msg *m, char *err, size_t errlen)
{
	if (m->ok != 0 && m->ok != 1)
		return errprintf(err, errlen, EINVAL, "invalid ok %d", m->ok);
	if (m->ok && (m->err || m->error))
		return errprintf(err, errlen, EINVAL, "a success reply has no error");
	if (!m->ok && (m->err < 1 || m->err > CKPT_ERRNO_MAX))
		return errprintf(err, errlen, EINVAL, "invalid errno %d", m->err);
	if (!m->ok && (!m->error || m->seq || m->image || m->restart ||
		       m->criu || m->criu_key || m->info))
		return errprintf(err, errlen, EINVAL, "a failure reply needs only an error");
	if (m->image && (m->image[0] != '/' || !m->seq))
		return errprintf(err, errlen, EINVAL, "invalid image '%s' (seq %llu)",
			    m->image, (unsigned long long)m->seq);
	if (m->restart && (m->restart[0] != '/' || m->image))
		return errprintf(err, errlen, EINVAL, "invalid restart command '%s'",
			    m->restart);
	if (m->criu && (m->criu[0] != '/' || m->image))
		return errprintf(err, errlen, EINVAL, "invalid criu '%s'",
			    m->criu);
	if (m->criu_key && (m->criu_key[0] != '/' || !m->criu))
		return errprintf(err, errlen, EINVAL, "invalid criu_key '%s'",
				 m->criu_key);
	if (m->info && (m->image || m->restart || m->criu))
		return errprintf(err, errlen, EINVAL, "a reply with info has "
				 "no image nor restart command");
	if (m->info) {
		json_t *o = load_object(m->info);

		if (!o)
			return errprintf(err, errlen, EINVAL, "info is not a "
					 "JSON object");
		json_decref(o);
	}
	if (m->seq > (uint64_t)INT64_MAX)
		return errprintf(err, errlen, EINVAL, "invalid seq %llu",
			    (unsigned long long)m->seq);
	return 0;
}

static int check_msg(const struct ckpt_msg *m, char *err, size_t errlen)
{
	if (check_dir_fields(m, err, errlen) < 0)
		return -1;
	if (proto_op_is_request(m->op)) {
		if (check_ids(m, err, errlen) < 0 ||
		    check_to(m, err, errlen) < 0)
			return -1;
		return check_image_dir(m->image_dir, err, errlen);
	}
	switch (m->op) {
	case CKPT_OP_REGISTER:
		if (check_ids(m, err, errlen) < 0)
			return -1;
		return check_register(m, err, errlen);
	case CKPT_OP_TASK:
	case CKPT_OP_UNREGISTER:
	case CKPT_OP_EXIT:
		return check_ids(m, err, errlen);
	case CKPT_OP_PREPARE:
	case CKPT_OP_ABORT:
		if (check_ids(m, err, errlen) < 0)
			return -1;
		return check_to(m, err, errlen);
	case CKPT_OP_FETCH:
		if (check_ids(m, err, errlen) < 0 ||
		    check_to(m, err, errlen) < 0)
			return -1;
		return check_image_dir(m->fetch_dir, err, errlen);
	case CKPT_OP_REPLY:
		return check_reply(m, err, errlen);
	default:
		break;
	}
	return errprintf(err, errlen, EINVAL, "unknown op %d", (int)m->op);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */

static json_t *pack_msg(const struct ckpt_msg *m)
{
	const char *op = op_names[m->op];
	int v = CKPT_PROTO_VERSION;

	/* job, step, "dir": ImageDir= (FETCH: the directory of a
	 * restart) */
	if (proto_op_is_request(m->op) || m->op == CKPT_OP_FETCH)
		return json_pack("{s:i, s:s, s:I, s:I, s:s*, s:s*}", "v", v,
				 "op", op, "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step,
				 "dir", m->op == CKPT_OP_FETCH ? m->fetch_dir
							       : m->image_dir,
				 "to", m->to);
	switch (m->op) {
	case CKPT_OP_REGISTER:
		return json_pack("{s:i, s:s, s:I, s:I, s:I, s:I, s:I, s:I,"
				 " s:I, s:I, s:I, s:I, s:i, s:i, s:s, s:s,"
				 " s:s*, s:s*, s:s*, s:s*, s:I, s:I, s:o*}",
				 "v", v, "op", op, "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step,
				 "uid", (json_int_t)m->uid,
				 "gid", (json_int_t)m->gid,
				 "ntasks", (json_int_t)m->ntasks,
				 "interval", (json_int_t)m->interval,
				 "max_wait", (json_int_t)m->max_wait,
				 "keep", (json_int_t)m->keep,
				 "lead", (json_int_t)m->lead,
				 "max_requeue", (json_int_t)m->max_requeue,
				 "exit_code", m->exit_code,
				 "signo", m->signo, "dir", m->dir,
				 "node", m->node, "method", m->method,
				 "trigger", m->trigger, "watch", m->watch,
				 "local", m->local,
				 "nodeid", (json_int_t)m->nodeid,
				 "nnodes", (json_int_t)(m->nnodes ? m->nnodes
								  : 1),
				 /* absent when false: the wire unchanged */
				 "resubmit", m->resubmit ? json_true() : NULL);
	case CKPT_OP_TASK:
		return json_pack("{s:i, s:s, s:I, s:I, s:I}", "v", v, "op", op,
				 "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step,
				 "task", (json_int_t)m->task);
	case CKPT_OP_EXIT:
		return json_pack("{s:i, s:s, s:I, s:I, s:I, s:i}", "v", v,
				 "op", op, "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step,
				 "task", (json_int_t)m->task,
				 "status", m->status);
	case CKPT_OP_UNREGISTER:
		return json_pack("{s:i, s:s, s:I, s:I}", "v", v, "op", op,
				 "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step);
	case CKPT_OP_PREPARE:
	case CKPT_OP_ABORT:
		return json_pack("{s:i, s:s, s:I, s:I, s:s*}", "v", v,
				 "op", op, "job", (json_int_t)m->job,
				 "step", (json_int_t)m->step, "to", m->to);
	default:
		break;
	}
	if (!m->ok)
		return json_pack("{s:i, s:s, s:b, s:i, s:s}", "v", v, "op", op,
				 "ok", 0, "err", m->err, "error", m->error);
	if (m->image)
		return json_pack("{s:i, s:s, s:b, s:I, s:s}", "v", v, "op", op,
				 "ok", 1, "seq", (json_int_t)m->seq,
				 "image", m->image);
	if (m->restart || m->criu)
		return json_pack("{s:i, s:s, s:b, s:s*, s:s*, s:s*}", "v", v,
				 "op", op, "ok", 1, "restart", m->restart,
				 "criu", m->criu, "criu_key", m->criu_key);
	if (m->info)
		return json_pack("{s:i, s:s, s:b, s:o}", "v", v, "op", op,
				 "ok", 1, "info", load_object(m->info));
	return json_pack("{s:i, s:s, s:b}", "v", v, "op", op, "ok", 1);
}

char *proto_encode(const struct ckpt_msg *m)
{
	json_t *o;
	char *s;

	if (!m || check_msg(m, NULL, 0) < 0) {
		errno = EINVAL;
		return NULL;
	}
	o = pack_msg(m);
	if (!o) {
		errno = ENOMEM;
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		errno = ENOMEM;
	return s;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                           */

/* json_int_t -> uint32_t, or -1 when out of range. */
static int to_u32(json_int_t v, uint32_t *out)
{
	if (v < 0 || v > (json_int_t)UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int strdup_field(const char *s, char **out)
{
	*out = strdup(s);
	return *out ? 0 : -1;
}

static int unpack_ids(json_t *o, const char *fmt, struct ckpt_msg *m,
		      json_int_t *task, char *err, size_t errlen)
{
	json_error_t je;
	json_int_t job, step;
	const char *op;
	json_int_t v;

	if (json_unpack_ex(o, &je, 0, fmt, "v", &v, "op", &op, "job", &job,
			   "step", &step, "task", task) < 0)
		return errprintf(err, errlen, EINVAL, "%s message: %s", op_names[m->op],
			    je.text);
	if (to_u32(job, &m->job) < 0 || to_u32(step, &m->step) < 0)
		return errprintf(err, errlen, EINVAL, "job/step %lld.%lld out of range",
			    (long long)job, (long long)step);
	return 0;
}

static int unpack_request(json_t *o, struct ckpt_msg *m, char *err,
			  size_t errlen)
{
	json_error_t je;
	json_int_t job, step, v;
	const char *op, *dir = NULL, *to = NULL;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:s, s:I, s:I, s?:s, s?:s !}",
			   "v", &v, "op", &op, "job", &job, "step", &step,
			   "dir", &dir, "to", &to) < 0)
		return errprintf(err, errlen, EINVAL, "%s message: %s",
				 op_names[m->op], je.text);
	if (to_u32(job, &m->job) < 0 || to_u32(step, &m->step) < 0)
		return errprintf(err, errlen, EINVAL, "job/step %lld.%lld out "
				 "of range", (long long)job, (long long)step);
	if (to && strdup_field(to, &m->to) < 0)
		return -1;
	if (!dir)
		return 0;
	/* A request's "dir" is its ImageDir= (checked against the op
	 * later), fetch's the directory of a restart. */
	if (proto_op_is_peer(m->op))
		return errprintf(err, errlen, EINVAL, "a peer message has no "
				 "dir");
	return strdup_field(dir, m->op == CKPT_OP_FETCH ? &m->fetch_dir
							: &m->image_dir);
}

static int unpack_register(json_t *o, struct ckpt_msg *m, char *err,
			   size_t errlen)
{
	json_error_t je;
	json_int_t job, step, uid, gid, ntasks, interval, max_wait, keep;
	json_int_t lead, max_requeue, exit_code, signo, v;
	json_int_t nodeid = 0, nnodes = 1;
	const char *op, *dir, *node, *method = NULL, *trigger = NULL;
	const char *local = NULL, *watch = NULL;
	int resubmit = 0;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:s, s:I, s:I, s:I, s:I, s:I,"
			   " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s,"
			   " s?:s, s?:s, s?:s, s?:s, s?:I, s?:I, s?:b !}",
			   "v", &v, "op", &op, "job", &job, "step", &step,
			   "uid", &uid, "gid", &gid, "ntasks", &ntasks,
			   "interval", &interval, "max_wait", &max_wait,
			   "keep", &keep, "lead", &lead,
			   "max_requeue", &max_requeue, "exit_code", &exit_code,
			   "signo", &signo, "dir", &dir, "node", &node,
			   "method", &method, "trigger", &trigger,
			   "watch", &watch, "local", &local, "nodeid", &nodeid,
			   "nnodes", &nnodes, "resubmit", &resubmit) < 0)
		return errprintf(err, errlen, EINVAL, "register message: %s", je.text);
	if (to_u32(nodeid, &m->nodeid) < 0 || to_u32(nnodes, &m->nnodes) < 0 ||
	    m->nnodes < 1)
		return errprintf(err, errlen, EINVAL, "register message: nodeid "
				 "or nnodes out of range");
	if (to_u32(job, &m->job) < 0 || to_u32(step, &m->step) < 0 ||
	    to_u32(uid, &m->uid) < 0 || to_u32(gid, &m->gid) < 0 ||
	    to_u32(ntasks, &m->ntasks) < 0 || interval < 0 ||
	    interval > INT_MAX || max_wait < 0 || max_wait > INT_MAX ||
	    keep < 0 || keep > KEEP_MAX || signo < 0 || signo > SIGNO_MAX ||
	    lead < 0 || lead > INT_MAX || max_requeue < 0 ||
	    max_requeue > REQUEUE_MAX || exit_code < 0 ||
	    exit_code > EXIT_CODE_MAX)
		return errprintf(err, errlen, EINVAL, "register message: a number is out "
			    "of range");
	m->interval = (long)interval;
	m->max_wait = (long)max_wait;
	m->keep = (long)keep;
	m->lead = (long)lead;
	m->max_requeue = (long)max_requeue;
	m->exit_code = (int)exit_code;
	m->signo = (int)signo;
	m->resubmit = resubmit;
	if (strdup_field(dir, &m->dir) < 0 ||
	    strdup_field(node, &m->node) < 0 ||
	    (method && strdup_field(method, &m->method) < 0) ||
	    (trigger && strdup_field(trigger, &m->trigger) < 0) ||
	    (watch && strdup_field(watch, &m->watch) < 0) ||
	    (local && strdup_field(local, &m->local) < 0))
		return -1;
	return 0;
}

static int unpack_reply(json_t *o, struct ckpt_msg *m, char *err,
			size_t errlen)
{
	json_error_t je;
	json_int_t seq = 0, e = 0, v;
	const char *op, *error = NULL, *image = NULL, *restart = NULL;
	const char *criu = NULL, *criu_key = NULL;
	json_t *info = NULL;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:s, s:b, s?:I, s?:s, s?:I, "
			   "s?:s, s?:s, s?:s, s?:s, s?:o !}", "v", &v,
			   "op", &op, "ok", &m->ok, "err", &e,
			   "error", &error, "seq", &seq, "image", &image,
			   "restart", &restart, "criu", &criu,
			   "criu_key", &criu_key, "info", &info) < 0)
		return errprintf(err, errlen, EINVAL, "reply message: %s", je.text);
	if (seq < 0 || e < 0 || e > CKPT_ERRNO_MAX)
		return errprintf(err, errlen, EINVAL, "reply message: seq or err out of "
			    "range");
	m->err = (int)e;
	m->seq = (uint64_t)seq;
	if ((error && strdup_field(error, &m->error) < 0) ||
	    (image && strdup_field(image, &m->image) < 0) ||
	    (restart && strdup_field(restart, &m->restart) < 0) ||
	    (criu && strdup_field(criu, &m->criu) < 0) ||
	    (criu_key && strdup_field(criu_key, &m->criu_key) < 0))
		return -1;
	if (info) {
		if (!json_is_object(info))
			return errprintf(err, errlen, EINVAL, "reply message: "
					 "info is not an object");
		m->info = json_dumps(info, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (!m->info)
			return -1;
	}
	return 0;
}

static int unpack_msg(json_t *o, struct ckpt_msg *m, char *err, size_t errlen)
{
	json_int_t task = 0, status = 0;
	json_error_t je;
	const char *op;
	json_int_t v, job, step;

	if (proto_op_is_request(m->op) || m->op == CKPT_OP_FETCH)
		return unpack_request(o, m, err, errlen);
	switch (m->op) {
	case CKPT_OP_REGISTER:
		return unpack_register(o, m, err, errlen);
	case CKPT_OP_TASK:
		if (unpack_ids(o, "{s:I, s:s, s:I, s:I, s:I !}", m, &task,
			       err, errlen) < 0)
			return -1;
		if (to_u32(task, &m->task) < 0)
			return errprintf(err, errlen, EINVAL, "task %lld out of range",
				    (long long)task);
		return 0;
	case CKPT_OP_EXIT:
		if (json_unpack_ex(o, &je, 0, "{s:I, s:s, s:I, s:I, s:I, s:I !}",
				   "v", &v, "op", &op, "job", &job, "step",
				   &step, "task", &task, "status", &status) < 0)
			return errprintf(err, errlen, EINVAL, "exit message: %s",
				    je.text);
		if (to_u32(job, &m->job) < 0 || to_u32(step, &m->step) < 0 ||
		    to_u32(task, &m->task) < 0 || status < 0 ||
		    status > 0xffff)
			return errprintf(err, errlen, EINVAL, "exit message: a number "
				    "is out of range");
		m->status = (int)status;
		return 0;
	case CKPT_OP_UNREGISTER:
		return unpack_ids(o, "{s:I, s:s, s:I, s:I !}", m, NULL, err,
				  errlen);
	case CKPT_OP_PREPARE:
	case CKPT_OP_ABORT:
		return unpack_request(o, m, err, errlen);
	case CKPT_OP_REPLY:
		return unpack_reply(o, m, err, errlen);
	default:
		break;
	}
	return errprintf(err, errlen, EINVAL, "unknown op");
}

/* "v" and "op" first, loosely, to pick the strict format. */
static int decode_header(json_t *o, struct ckpt_msg *m, char *err,
			 size_t errlen)
{
	json_error_t je;
	const char *op;
	size_t i;
	json_int_t v;

	if (json_unpack_ex(o, &je, 0, "{s:I, s:s}", "v", &v, "op", &op) < 0)
		return errprintf(err, errlen, EINVAL, "message: %s", je.text);
	if (v != CKPT_PROTO_VERSION)
		return errprintf(err, errlen, EINVAL, "unsupported protocol version %lld "
			    "(this is version %d)", (long long)v,
			    CKPT_PROTO_VERSION);
	for (i = 1; i < NOPS; i++)
		if (strcmp(op, op_names[i]) == 0) {
			m->op = (enum ckpt_op)i;
			return 0;
		}
	return errprintf(err, errlen, EINVAL, "unknown op '%s'", op);
}

int proto_decode(const char *buf, size_t len, struct ckpt_msg *m,
		 char *err, size_t errlen)
{
	json_error_t je;
	json_t *o = NULL;
	int rc = -1, saved;

	if (!m) {
		errno = EINVAL;
		return -1;
	}
	memset(m, 0, sizeof(*m));
	if (!buf) {
		errprintf(err, errlen, EINVAL, "empty message");
		goto out;
	}
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!o) {
		errprintf(err, errlen, EINVAL, "invalid JSON: %s", je.text);
		goto out;
	}
	if (decode_header(o, m, err, errlen) < 0 ||
	    unpack_msg(o, m, err, errlen) < 0 ||
	    check_msg(m, err, errlen) < 0)
		goto out;
	rc = 0;
out:
	saved = errno;
	json_decref(o);
	if (rc < 0)
		proto_msg_clear(m);
	errno = saved;
	return rc;
}

void proto_msg_clear(struct ckpt_msg *m)
{
	if (!m)
		return;
	free(m->dir);
	free(m->image_dir);
	free(m->fetch_dir);
	free(m->node);
	free(m->error);
	free(m->image);
	free(m->method);
	free(m->trigger);
	free(m->watch);
	free(m->local);
	free(m->restart);
	free(m->criu);
	free(m->criu_key);
	free(m->info);
	free(m->to);
	memset(m, 0, sizeof(*m));
}
