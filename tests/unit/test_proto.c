/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_proto.c - wire messages: encode/decode tables and a socketpair. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"

static struct ckpt_msg reg(void)
{
	struct ckpt_msg m = {
		.op = CKPT_OP_REGISTER, .job = 42, .step = 0, .uid = 1000,
		.gid = 1000, .ntasks = 2, .interval = 300, .max_wait = 120,
		.keep = 2, .lead = 300, .max_requeue = 5, .exit_code = 85,
		.signo = 12, .dir = "/scratch/me", .node = "c1",
		.method = "site_dmtcp-2", .trigger = "check-fluent",
		.local = "/dev/shm/ckpt/1000/42",
	};
	return m;
}

static struct ckpt_msg reg_resubmit(void)
{
	struct ckpt_msg m = reg();

	m.resubmit = true;
	return m;
}

static void test_roundtrip(void **state)
{
	struct ckpt_msg in[] = {
		reg(),
		reg_resubmit(),
		{ .op = CKPT_OP_TASK, .job = 42, .step = CKPT_STEP_BATCH,
		  .task = 3 },
		{ .op = CKPT_OP_UNREGISTER, .job = 42, .step = 7 },
		{ .op = CKPT_OP_EXIT, .job = 42, .step = 7, .task = 1,
		  .status = 85 << 8 },
		{ .op = CKPT_OP_CREATE, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_REPLY, .ok = 1 },
		{ .op = CKPT_OP_REPLY, .ok = 1, .seq = 3,
		  .image = "/scratch/me/42.0.ckpt" },
		{ .op = CKPT_OP_REPLY, .ok = 1,
		  .restart = "/etc/slurm/slurmckptd.d/restart.sh" },
		{ .op = CKPT_OP_REPLY, .ok = 1, .criu = "/opt/criu/sbin/criu" },
		{ .op = CKPT_OP_REPLY, .ok = 1, .criu = "/usr/sbin/criu",
		  .restart = "/etc/slurm/slurmckptd.d/restart.sh" },
		{ .op = CKPT_OP_REPLY, .ok = 1, .criu = "/usr/sbin/criu",
		  .criu_key = "/etc/munge/munge.key" },
		{ .op = CKPT_OP_REPLY, .ok = 0, .err = EALREADY,
		  .error = "checkpoint already in progress" },
		{ .op = CKPT_OP_ABLE, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_VACATE, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_REQUEUE, .job = 42, .step = CKPT_STEP_BATCH },
		{ .op = CKPT_OP_ENABLE, .job = 42, .step = 3 },
		{ .op = CKPT_OP_DISABLE, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_ERROR, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_LIST, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_LIST, .job = 42, .step = 0,
		  .image_dir = "/scratch/me/other" },
		{ .op = CKPT_OP_CREATE, .job = 42, .step = 0,
		  .image_dir = "/scratch/me/elsewhere" },
		{ .op = CKPT_OP_VACATE, .job = 42, .step = CKPT_STEP_ALL,
		  .image_dir = "/scratch/me/elsewhere" },
		{ .op = CKPT_OP_REQUEUE, .job = 42, .step = CKPT_STEP_BATCH,
		  .image_dir = "/scratch/me/elsewhere" },
		{ .op = CKPT_OP_SHOW, .job = 42, .step = 0 },
		{ .op = CKPT_OP_EVENTS, .job = 42, .step = CKPT_STEP_ALL },
		{ .op = CKPT_OP_EVENTS, .job = 42, .step = CKPT_STEP_BATCH },
		{ .op = CKPT_OP_PREPARE, .job = 42, .step = 1 },
		{ .op = CKPT_OP_ABORT, .job = 42, .step = 1 },
		{ .op = CKPT_OP_FETCH, .job = 42, .step = 1 },
		{ .op = CKPT_OP_FETCH, .job = 42, .step = CKPT_STEP_BATCH,
		  .fetch_dir = "/scratch/me/run" },
		{ .op = CKPT_OP_REGISTER, .job = 42, .step = 1, .uid = 1,
		  .gid = 1, .ntasks = 1, .max_wait = 1, .keep = 1,
		  .signo = 12, .dir = "/d", .node = "c3", .nodeid = 2,
		  .nnodes = 3 },
		{ .op = CKPT_OP_REPLY, .ok = 1,
		  .info = "{\"steps\":[{\"step\":\"42.batch\"}]}" },
	};
	struct ckpt_msg out;
	char err[256], *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		s = proto_encode(&in[i]);
		assert_non_null(s);
		if (proto_decode(s, strlen(s), &out, err, sizeof(err)) < 0)
			fail_msg("%s: %s", s, err);
		/* False is left out: old daemons read new plugins' messages. */
		if (!in[i].resubmit)
			assert_null(strstr(s, "resubmit"));
		assert_int_equal(out.op, in[i].op);
		assert_int_equal(out.job, in[i].job);
		assert_int_equal(out.step, in[i].step);
		assert_int_equal(out.uid, in[i].uid);
		assert_int_equal(out.ntasks, in[i].ntasks);
		assert_int_equal(out.nodeid, in[i].nodeid);
		if (in[i].op == CKPT_OP_REGISTER)
			assert_int_equal(out.nnodes, in[i].nnodes ?
					 in[i].nnodes : 1);
		assert_int_equal(out.interval, in[i].interval);
		assert_int_equal(out.keep, in[i].keep);
		assert_int_equal(out.signo, in[i].signo);
		assert_int_equal(out.lead, in[i].lead);
		assert_int_equal(out.max_requeue, in[i].max_requeue);
		assert_int_equal(out.exit_code, in[i].exit_code);
		assert_int_equal(out.resubmit, in[i].resubmit);
		assert_int_equal(out.status, in[i].status);
		assert_int_equal(out.task, in[i].task);
		assert_int_equal(out.ok, in[i].ok);
		assert_int_equal(out.err, in[i].err);
		assert_int_equal(out.seq, in[i].seq);
		if (in[i].dir)
			assert_string_equal(out.dir, in[i].dir);
		else
			assert_null(out.dir);
		if (in[i].image_dir)
			assert_string_equal(out.image_dir, in[i].image_dir);
		else
			assert_null(out.image_dir);
		if (in[i].fetch_dir)
			assert_string_equal(out.fetch_dir, in[i].fetch_dir);
		else
			assert_null(out.fetch_dir);
		if (in[i].restart)
			assert_string_equal(out.restart, in[i].restart);
		else
			assert_null(out.restart);
		if (in[i].criu)
			assert_string_equal(out.criu, in[i].criu);
		else
			assert_null(out.criu);
		if (in[i].criu_key)
			assert_string_equal(out.criu_key, in[i].criu_key);
		else
			assert_null(out.criu_key);
		if (in[i].method)
			assert_string_equal(out.method, in[i].method);
		else
			assert_null(out.method);
		if (in[i].trigger)
			assert_string_equal(out.trigger, in[i].trigger);
		else
			assert_null(out.trigger);
		if (in[i].local)
			assert_string_equal(out.local, in[i].local);
		else
			assert_null(out.local);
		if (in[i].error)
			assert_string_equal(out.error, in[i].error);
		if (in[i].image)
			assert_string_equal(out.image, in[i].image);
		if (in[i].info)
			assert_string_equal(out.info, in[i].info);
		else
			assert_null(out.info);
		proto_msg_clear(&out);
		free(s);
	}
}

static void test_step_encoding(void **state)
{
	struct ckpt_msg m = { .op = CKPT_OP_CREATE, .job = 9,
			      .step = CKPT_STEP_BATCH };
	char *s;

	(void)state;
	s = proto_encode(&m);
	assert_non_null(strstr(s, "\"step\":4294967291"));
	assert_non_null(strstr(s, "\"v\":1"));
	assert_non_null(strstr(s, "\"op\":\"create\""));
	free(s);
	m.step = CKPT_STEP_ALL;
	s = proto_encode(&m);
	assert_non_null(strstr(s, "\"step\":4294967295"));
	free(s);
}

static const char *const bad_rows[] = {
	"",
	"[]",
	"{",
	"{\"v\":1}",
	"{\"op\":\"create\",\"job\":1,\"step\":0}",
	"{\"v\":2,\"op\":\"create\",\"job\":1,\"step\":0}",
	"{\"v\":4294967297,\"op\":\"create\",\"job\":1,\"step\":0}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":4294967298,"
	"\"error\":\"x\"}",
	"{\"v\":1,\"op\":\"destroy\",\"job\":1,\"step\":0}",
	"{\"v\":1,\"op\":\"create\",\"job\":1}",
	"{\"v\":1,\"op\":\"create\",\"job\":1,\"step\":0,\"x\":1}",
	"{\"v\":1,\"op\":\"create\",\"job\":\"1\",\"step\":0}",
	"{\"v\":1,\"op\":\"create\",\"job\":1.5,\"step\":0}",
	"{\"v\":1,\"op\":\"create\",\"job\":0,\"step\":0}",
	"{\"v\":1,\"op\":\"create\",\"job\":-1,\"step\":0}",
	"{\"v\":1,\"op\":\"create\",\"job\":1,\"step\":4294967296}",
	"{\"v\":1,\"op\":\"create\",\"job\":1,\"step\":0,\"step\":1}",
	"{\"v\":1,\"op\":\"unregister\",\"job\":1,\"step\":4294967295}",
	"{\"v\":1,\"op\":\"task\",\"job\":1,\"step\":0}",
	"{\"v\":1,\"op\":\"task\",\"job\":1,\"step\":0,\"task\":-1}",
	"{\"v\":1,\"op\":\"task\",\"job\":1,\"step\":0,\"task\":1,\"uid\":0}",
	"{\"v\":1,\"op\":\"reply\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":1}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":0,\"error\":\"x\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"err\":5,\"error\":\"x\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"image\":\"rel\",\"seq\":1}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"seq\":-1}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"restart\":\"rel.sh\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"criu\":\"criu\"}",
	/* criu_key: absolute, and only with criu */
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"criu\":\"/c\","
	"\"criu_key\":\"key\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"criu_key\":\"/k\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":2,\"error\":\"x\","
	"\"criu_key\":\"/k\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":2,\"error\":\"x\","
	"\"criu\":\"/c\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":2,\"error\":\"x\","
	"\"restart\":\"/r\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"info\":[]}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"info\":\"{}\"}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":false,\"err\":2,\"error\":\"x\","
	"\"info\":{}}",
	"{\"v\":1,\"op\":\"reply\",\"ok\":true,\"seq\":1,\"image\":\"/i\","
	"\"info\":{}}",
	"{\"v\":1,\"op\":\"vacate\",\"job\":1}",
	"{\"v\":1,\"op\":\"list\",\"job\":1,\"step\":0,\"dir\":\"x\"}",
	"{\"v\":1,\"op\":\"show\",\"job\":1,\"step\":0,\"dir\":\"/x\"}",
	"{\"v\":1,\"op\":\"list\",\"job\":1,\"step\":0,\"dir\":\"/a\\nb\"}",
	"{\"v\":1,\"op\":\"list\",\"job\":1,\"step\":0,\"dir\":7}",
	"{\"v\":1,\"op\":\"create\",\"job\":1,\"step\":0,\"dir\":\"x\"}",
	"{\"v\":1,\"op\":\"vacate\",\"job\":1,\"step\":0,\"dir\":\"/a\\tb\"}",
	"{\"v\":1,\"op\":\"able\",\"job\":1,\"step\":0,\"dir\":\"/x\"}",
	"{\"v\":1,\"op\":\"fetch\",\"job\":1,\"step\":0,\"dir\":\"x\"}",
	"{\"v\":1,\"op\":\"fetch\",\"job\":1,\"step\":0,\"dir\":\"/a\\nb\"}",
	"{\"v\":1,\"op\":\"fetch\",\"job\":1,\"step\":0,\"x\":1}",
	"{\"v\":1,\"op\":\"requeue\",\"job\":1,\"step\":0,\"dir\":null}",
};

static void test_decode_bad(void **state)
{
	struct ckpt_msg m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		err[0] = '\0';
		if (proto_decode(bad_rows[i], strlen(bad_rows[i]), &m, err,
				 sizeof(err)) != -1 || errno != EINVAL ||
		    !err[0])
			fail_msg("accepted: %s", bad_rows[i]);
		assert_null(m.dir);
		assert_null(m.image_dir);
		assert_null(m.fetch_dir);
	}
}

/* dir (register), image_dir (list, create, vacate, requeue) and
 * fetch_dir (fetch) are each "dir" on the wire, and each lands in its
 * own field: the one of the op, never another. */
static void test_dir_fields(void **state)
{
	struct ckpt_msg in[] = {
		reg(),
		{ .op = CKPT_OP_LIST, .job = 42, .step = 0,
		  .image_dir = "/scratch/me/other" },
		{ .op = CKPT_OP_CREATE, .job = 42, .step = 0,
		  .image_dir = "/scratch/me/other" },
		{ .op = CKPT_OP_VACATE, .job = 42, .step = CKPT_STEP_ALL,
		  .image_dir = "/scratch/me/other" },
		{ .op = CKPT_OP_REQUEUE, .job = 42, .step = CKPT_STEP_BATCH,
		  .image_dir = "/scratch/me/other" },
		{ .op = CKPT_OP_FETCH, .job = 42, .step = CKPT_STEP_BATCH,
		  .fetch_dir = "/scratch/me/run" },
	};
	/* Each field on a message whose op has another one, or none. */
	struct ckpt_msg wrong[] = {
		{ .op = CKPT_OP_CREATE, .job = 42, .step = 0, .dir = "/d" },
		{ .op = CKPT_OP_CREATE, .job = 42, .step = 0,
		  .fetch_dir = "/d" },
		{ .op = CKPT_OP_FETCH, .job = 42, .step = CKPT_STEP_BATCH,
		  .image_dir = "/d" },
		{ .op = CKPT_OP_FETCH, .job = 42, .step = CKPT_STEP_BATCH,
		  .dir = "/d" },
		{ .op = CKPT_OP_ABLE, .job = 42, .step = 0,
		  .image_dir = "/d" },
		{ .op = CKPT_OP_PREPARE, .job = 42, .step = 1,
		  .image_dir = "/d" },
		{ .op = CKPT_OP_TASK, .job = 42, .step = 1, .dir = "/d" },
		{ .op = CKPT_OP_REPLY, .ok = 1, .fetch_dir = "/d" },
	};
	struct ckpt_msg out, m;
	const char *want;
	char err[256], key[256], *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		want = in[i].dir ? in[i].dir : in[i].image_dir ?
		       in[i].image_dir : in[i].fetch_dir;
		s = proto_encode(&in[i]);
		assert_non_null(s);
		snprintf(key, sizeof(key), "\"dir\":\"%s\"", want);
		if (!strstr(s, key))
			fail_msg("no %s in %s", key, s);
		assert_null(strstr(s, "image_dir"));
		assert_null(strstr(s, "fetch_dir"));
		if (proto_decode(s, strlen(s), &out, err, sizeof(err)) < 0)
			fail_msg("%s: %s", s, err);
		switch (in[i].op) {
		case CKPT_OP_REGISTER:
			assert_string_equal(out.dir, want);
			assert_null(out.image_dir);
			assert_null(out.fetch_dir);
			break;
		case CKPT_OP_FETCH:
			assert_null(out.dir);
			assert_null(out.image_dir);
			assert_string_equal(out.fetch_dir, want);
			break;
		default:
			assert_null(out.dir);
			assert_string_equal(out.image_dir, want);
			assert_null(out.fetch_dir);
			break;
		}
		proto_msg_clear(&out);
		free(s);
	}
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		errno = 0;
		if ((s = proto_encode(&wrong[i])))
			fail_msg("encoded: %s", s);
		assert_int_equal(errno, EINVAL);
	}
	/* A register without its dir is refused, whatever else it has. */
	m = reg();
	m.dir = NULL;
	m.image_dir = "/scratch/me";
	assert_null(proto_encode(&m));
	m.image_dir = NULL;
	m.fetch_dir = "/scratch/me";
	assert_null(proto_encode(&m));
}

/* A register message with one field changed must be refused. */
static void test_register_fields(void **state)
{
	static const char *const fields[] = {
		"\"uid\":-1", "\"ntasks\":0", "\"interval\":-1",
		"\"max_wait\":0", "\"keep\":0", "\"keep\":1001",
		"\"signo\":9", "\"signo\":65", "\"signo\":4294967308", "\"dir\":\"rel\"",
		"\"node\":\"\"", "\"dir\":1", "\"lead\":-1",
		"\"max_requeue\":1001", "\"exit_code\":256",
		"\"method\":\"\"", "\"method\":\"Signal\"",
		"\"method\":\"-x\"", "\"method\":\"a/b\"",
		"\"method\":\"abcdefghijklmnopqrstuvwxyz0123456\"",
		"\"method\":1",
		"\"trigger\":\"\"", "\"trigger\":\"a\\nb\"",
		"\"trigger\":\"dir/\"", "\"trigger\":1",
		"\"nnodes\":0", "\"nodeid\":3", "\"nodeid\":-1",
		"\"local\":\"rel\"", "\"local\":1",
		"\"dir\":\"/d\\u001b]0;x\\u0007\"", "\"dir\":\"/d\\nx\"",
		"\"local\":\"/l\\u007f\"",
	};
	const char *tmpl = "{\"v\":1,\"op\":\"register\",\"job\":5,"
		"\"step\":0,\"uid\":1,\"gid\":1,\"ntasks\":1,\"interval\":0,"
		"\"max_wait\":1,\"keep\":1,\"lead\":0,\"max_requeue\":0,"
		"\"exit_code\":0,\"signo\":12,\"dir\":\"/d\","
		"\"node\":\"n\",\"method\":\"m\",\"trigger\":\"CHKPT\","
		"\"local\":\"/l\",\"nodeid\":0,\"nnodes\":3}";
	char buf[512], key[32], err[256];
	const char *p, *end;
	struct ckpt_msg m;
	size_t i;

	(void)state;
	assert_int_equal(proto_decode(tmpl, strlen(tmpl), &m, err,
				      sizeof(err)), 0);
	assert_int_equal(m.interval, 0);
	proto_msg_clear(&m);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		snprintf(key, sizeof(key), "%.*s",
			 (int)(strchr(fields[i], ':') - fields[i] + 1),
			 fields[i]);
		p = strstr(tmpl, key);
		assert_non_null(p);
		end = p + strcspn(p, ",}");
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - tmpl), tmpl,
			 fields[i], end);
		if (proto_decode(buf, strlen(buf), &m, err, sizeof(err)) != -1)
			fail_msg("accepted: %s", buf);
	}
}

/* to=, the node a request over TCP is for: a node name, round-tripped. */
static void test_to(void **state)
{
	static const char *const bad[] = {
		"{\"v\":1,\"op\":\"show\",\"job\":5,\"step\":0,\"to\":\"\"}",
		"{\"v\":1,\"op\":\"show\",\"job\":5,\"step\":0,\"to\":\"a/b\"}",
		"{\"v\":1,\"op\":\"show\",\"job\":5,\"step\":0,\"to\":\"a b\"}",
		"{\"v\":1,\"op\":\"prepare\",\"job\":5,\"step\":0,\"to\":1}",
		"{\"v\":1,\"op\":\"prepare\",\"job\":5,\"step\":0,\"dir\":\"/d\"}",
	};
	struct ckpt_msg m = { .op = CKPT_OP_PREPARE, .job = 5, .step = 0,
			      .to = "c7" }, r;
	char err[256], *s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (proto_decode(bad[i], strlen(bad[i]), &r, err,
				 sizeof(err)) != -1)
			fail_msg("accepted: %s", bad[i]);
	s = proto_encode(&m);
	assert_non_null(s);
	assert_int_equal(proto_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_string_equal(r.to, "c7");
	proto_msg_clear(&r);
	free(s);
	m.op = CKPT_OP_VACATE;
	s = proto_encode(&m);
	assert_non_null(s);
	assert_int_equal(proto_decode(s, strlen(s), &r, err, sizeof(err)), 0);
	assert_string_equal(r.to, "c7");
	proto_msg_clear(&r);
	free(s);
}

static void test_encode_bad(void **state)
{
	struct ckpt_msg m = reg();

	(void)state;
	m.dir = "relative";
	assert_null(proto_encode(&m));
	assert_int_equal(errno, EINVAL);
	m = reg();
	m.keep = 0;
	assert_null(proto_encode(&m));
	m = (struct ckpt_msg){ .op = 99 };
	assert_null(proto_encode(&m));
	assert_null(proto_encode(NULL));
}

static void test_socket_fd(void **state)
{
	struct ckpt_msg m = { .op = CKPT_OP_TASK, .job = 42, .step = 1,
			      .task = 7 }, got;
	struct stat st1, st2;
	char err[256];
	int sv[2], fd, passed;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				    sv), 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(proto_send(sv[0], &m, fd), 0);
	assert_int_equal(proto_recv(sv[1], &got, &passed, err, sizeof(err)), 1);
	assert_int_equal(got.op, CKPT_OP_TASK);
	assert_int_equal(got.task, 7);
	assert_true(passed >= 0);
	assert_int_equal(fstat(fd, &st1), 0);
	assert_int_equal(fstat(passed, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	assert_true(fcntl(passed, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(close(passed), 0);
	proto_msg_clear(&got);

	/* no fd sent: *passfd = -1; fd sent to a NULL passfd: closed */
	assert_int_equal(proto_reply_ok(sv[1]), 0);
	assert_int_equal(proto_recv(sv[0], &got, &passed, err, sizeof(err)), 1);
	assert_int_equal(passed, -1);
	assert_int_equal(got.ok, 1);
	assert_int_equal(proto_send(sv[0], &m, fd), 0);
	assert_int_equal(proto_recv(sv[1], &got, NULL, err, sizeof(err)), 1);

	assert_int_equal(proto_reply_err(sv[1], ENOENT, NULL), 0);
	assert_int_equal(proto_recv(sv[0], &got, &passed, err, sizeof(err)), 1);
	assert_int_equal(got.ok, 0);
	assert_int_equal(got.err, ENOENT);
	assert_non_null(got.error);
	proto_msg_clear(&got);

	close(fd);
	close(sv[0]);
	assert_int_equal(proto_recv(sv[1], &got, &passed, err, sizeof(err)), 0);
	assert_int_equal(passed, -1);
	close(sv[1]);
}

/* Send text as one packet with two descriptors in SCM_RIGHTS, which
 * proto_send() never does: to see that proto_recv() copes. */
static void send_two_fds(int sock, const char *text, const int fds[2])
{
	struct msghdr mh = { 0 };
	struct iovec iov = { .iov_base = (void *)text,
			     .iov_len = strlen(text) };
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct cmsghdr *cm;

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, 2 * sizeof(int));
	assert_true(sendmsg(sock, &mh, 0) > 0);
}

static void test_socket_bad(void **state)
{
	struct ckpt_msg got;
	char err[256], *big;
	int sv[2], passed, fds[2];
	const char *junk = "{\"v\":1,\"op\":\"nope\"}";

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* junk with an fd: EINVAL, fd closed, *passfd -1 */
	assert_int_equal(pipe(fds), 0);
	send_two_fds(sv[0], junk, fds);
	close(fds[0]);
	assert_int_equal(proto_recv(sv[1], &got, &passed, err, sizeof(err)),
			 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(passed, -1);
	/* both received fds were closed: the pipe's reader is gone */
	assert_int_equal(write(fds[1], "x", 1), -1);
	assert_int_equal(errno, EPIPE);
	close(fds[1]);

	/* an oversized packet: EMSGSIZE */
	big = malloc(CKPT_MSG_MAX + 100);
	memset(big, ' ', CKPT_MSG_MAX + 100);
	assert_int_equal(send(sv[0], big, CKPT_MSG_MAX + 100, 0),
			 CKPT_MSG_MAX + 100);
	assert_int_equal(proto_recv(sv[1], &got, &passed, err, sizeof(err)),
			 -1);
	assert_int_equal(errno, EMSGSIZE);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

static void test_two_fds(void **state)
{
	const char *msg = "{\"v\":1,\"op\":\"task\",\"job\":1,\"step\":0,"
		"\"task\":0}";
	struct ckpt_msg got;
	int sv[2], p1[2], p2[2], fds[2], passed;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	fds[0] = p1[0];
	fds[1] = p2[0];
	send_two_fds(sv[0], msg, fds);
	close(p1[0]);
	close(p2[0]);
	assert_int_equal(proto_recv(sv[1], &got, &passed, NULL, 0), 1);
	assert_true(passed >= 0);
	assert_int_equal(write(p1[1], "x", 1), 1);	/* first kept */
	assert_int_equal(write(p2[1], "x", 1), -1);	/* extra closed */
	assert_int_equal(errno, EPIPE);
	close(passed);
	close(p1[1]);
	close(p2[1]);
	close(sv[0]);
	close(sv[1]);
}

/* proto_connect: a path too long, nobody listening, a live listener. */
static void test_connect(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test_proto.XXXXXX", path[128], lng[200];
	int lfd, fd;

	(void)state;
	memset(lng, 'x', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	assert_int_equal(proto_connect(lng, 0), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	assert_int_equal(proto_connect(path, 0), -1);
	assert_int_equal(errno, ENOENT);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_true(lfd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(proto_connect(path, 0), -1);	/* not listening */
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(listen(lfd, 1), 0);
	fd = proto_connect(path, 5);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_step_encoding),
		cmocka_unit_test(test_decode_bad),
		cmocka_unit_test(test_dir_fields),
		cmocka_unit_test(test_register_fields),
		cmocka_unit_test(test_to),
		cmocka_unit_test(test_encode_bad),
		cmocka_unit_test(test_socket_fd),
		cmocka_unit_test(test_socket_bad),
		cmocka_unit_test(test_two_fds),
		cmocka_unit_test(test_connect),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
