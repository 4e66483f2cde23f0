/* SPDX-License-Identifier: GPL-2.0-or-later */
/* remote.c - inside slurmstepd: register the step with the node's
 * slurmckptd, hand it each task's pidfd, give the tasks their
 * environment, and find the image to restart from. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <slurm/slurm.h>

#include "image.h"
#include "kvconf.h"
#include "plugin.h"
#include "proto.h"
#include "timefmt.h"

#define HELPER_TIMEOUT_S 30

static int conn = -1;		/* open for the step's lifetime */


static int resolve_dir(spank_t sp, uid_t uid)
{
	char buf[4096], pwbuf[4096];
	struct passwd pw, *res = NULL;

	if (opts.dir)
		return (step.dir = strdup(opts.dir)) ? 0 : -1;
	if (conf.dir) {
		if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) || !res) {
			slurm_error(PFX "unknown uid %u", (unsigned)uid);
			return -1;
		}
		if (ckpt_expand_dir(conf.dir, pw.pw_name, uid, step.job,
				    &step.dir) < 0) {
			slurm_error(PFX "dir=%s: cannot expand: %s", conf.dir,
				    strerror(errno));
			return -1;
		}
		return 0;
	}
	if (spank_getenv(sp, "SLURM_SUBMIT_DIR", buf, sizeof(buf)) ==
	    ESPANK_SUCCESS && buf[0] == '/')
		return (step.dir = strdup(buf)) ? 0 : -1;
	slurm_error(PFX "no checkpoint directory: give --checkpoint-dir");
	return -1;
}

static bool refused;		/* the helper answered no (not: no helper) */

/* The helper restarted since the step registered (it re-adopts the step
 * from its saved state): the connection is dead, open a new one, to the
 * socket registered with (socket= expanded for this node). */
static bool reconnect(void)
{
	if (errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN)
		return false;
	close(conn);
	conn = proto_connect(step.sock, HELPER_TIMEOUT_S);
	return conn >= 0;
}

/* Root, at registration: the key of a criu= method's dumps' MAC, from
 * the file the helper named; without it no dump is restored (restore.c
 * says why). */
static void load_criu_key(const char *path)
{
	char err[512];

	step.criu_key_ok = false;
	if (!path) {
		slurm_error(PFX "step %s: slurmckptd named no image_key: its "
			    "CRIU dumps cannot be checked, none is restored",
			    step.label);
		return;
	}
	if (imagemac_key_load(path, step.criu_key, err, sizeof(err)) < 0) {
		slurm_error(PFX "step %s: %s: no CRIU dump is restored",
			    step.label, err);
		return;
	}
	step.criu_key_ok = true;
}

/* Send m (with passfd unless -1) and wait for the helper's reply; a
 * restart command in it goes to step.restart_cmd, criu to step.criu. */
static int helper_call(const struct ckpt_msg *m, int passfd, char *err,
		       size_t errlen)
{
	struct ckpt_msg r;
	int rc;

	refused = false;
	if (proto_send(conn, m, passfd) < 0 &&
	    (m->op == CKPT_OP_REGISTER || !reconnect() ||
	     proto_send(conn, m, passfd) < 0)) {
		snprintf(err, errlen, "send: %s", strerror(errno));
		return -1;
	}
	rc = proto_recv(conn, &r, NULL, err, errlen);
	if (rc <= 0) {
		if (rc == 0)
			snprintf(err, errlen, "slurmckptd closed the connection");
		else if (errno != EINVAL)
			snprintf(err, errlen, "receive: %s", strerror(errno));
		return -1;
	}
	rc = 0;
	if (r.op != CKPT_OP_REPLY || !r.ok) {
		snprintf(err, errlen, "%s", r.error ? r.error : "refused");
		refused = true;
		rc = -1;
	} else {
		if (r.restart) {
			free(step.restart_cmd);
			step.restart_cmd = r.restart;
			r.restart = NULL;
		}
		if (r.criu) {
			free(step.criu);
			step.criu = r.criu;
			r.criu = NULL;
			load_criu_key(r.criu_key);
		}
	}
	proto_msg_clear(&r);
	return rc;
}

/* This node's name: slurmstepd's own SLURMD_NODENAME, which it sets in
 * its process environment from slurmd's configuration before any plugin
 * runs (every release since 22.05).  Never the job's environment
 * (spank_getenv): the user writes that one, and the name chooses the
 * socket root connects to and the local= directory root makes.  The
 * host name when slurmstepd set none. */
static void node_name(char *buf, size_t len)
{
	const char *env = getenv("SLURMD_NODENAME");

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	if (gethostname(buf, len) < 0)
		snprintf(buf, len, "unknown");
	buf[len - 1] = '\0';
}

static int fill_register(spank_t sp, struct ckpt_msg *m, char *node,
			 size_t nodelen)
{
	uid_t uid;
	gid_t gid;
	uint32_t ntasks = 0;

	if (spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_GID, &gid) != ESPANK_SUCCESS) {
		slurm_error(PFX "cannot read the job's uid/gid");
		return -1;
	}
	spank_get_item(sp, S_JOB_LOCAL_TASK_COUNT, &ntasks);
	step.nodeid = 0;
	step.nnodes = 1;
	/* The batch step runs on one node whatever the job's size. */
	if (step.id != SLURM_BATCH_SCRIPT &&
	    (spank_get_item(sp, S_JOB_NNODES, &step.nnodes) != ESPANK_SUCCESS ||
	     spank_get_item(sp, S_JOB_NODEID, &step.nodeid) != ESPANK_SUCCESS ||
	     step.nnodes < 1 || step.nodeid >= step.nnodes)) {
		slurm_error(PFX "cannot read the step's node index and count");
		return -1;
	}
	if (resolve_dir(sp, uid) < 0)
		return -1;
	node_name(node, nodelen);
	local_resolve(uid, gid, node);
	*m = (struct ckpt_msg){
		.op = CKPT_OP_REGISTER, .job = step.job, .step = step.id,
		.uid = uid, .gid = gid, .ntasks = ntasks,
		.interval = opts.interval, .max_wait = conf.max_wait,
		.keep = conf.keep, .signo = options_signo(), .lead = conf.lead,
		.max_requeue = conf.max_requeue,
		.exit_code = (int)options_exit_code(),
		.dir = step.dir, .node = node,
		.method = strcmp(options_method(), "signal") ?
			  (char *)options_method() : NULL,
		.trigger = opts.trigger, .watch = opts.watch,
		.local = step.local,
		.nodeid = step.nodeid, .nnodes = step.nnodes,
		.resubmit = opts.resubmit == 1,
	};
	return 0;
}

static int register_failed(const char *node, const char *err)
{
	char done[512];

	close(conn);
	conn = -1;
	/* A refusal (a method this node lacks) is the job's problem, not a
	 * missing helper: the step does not start either way. */
	if (refused) {
		if (asprintf(&step.failed, PFX "step %s not started: %s",
			     step.label, err) < 0)
			step.failed = NULL;
		slurm_error("%s", step.failed ? step.failed : PFX "refused");
		return 0;
	}
	if (conf.helper_optional) {
		slurm_info(PFX "no checkpoints for step %s on node %s: "
			   "slurmckptd: %s", step.label, node, err);
		opts.enabled = false;
		return 0;
	}
	/* Not a black hole: the node drains, the batch job goes back to
	 * the queue. */
	nohelper_act(node, err, done, sizeof(done));
	/* Failing here would show the user only "Plugin initialization
	 * failed"; each task says why on its standard error instead. */
	if (asprintf(&step.failed, PFX "slurmckptd is not running on node "
		     "%s (%s): step %s not started with --checkpoint%s", node,
		     err, step.label, done) < 0)
		step.failed = NULL;
	slurm_error("%s", step.failed ? step.failed : PFX "no slurmckptd");
	return 0;
}

int remote_register(spank_t sp)
{
	struct ckpt_msg m;
	char node[256], err[512], sock[108];

	if (!opts.enabled)
		return 0;
	if (spank_get_item(sp, S_JOB_ID, &step.job) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_JOB_STEPID, &step.id) != ESPANK_SUCCESS)
		return -1;
	if (step.id == SLURM_EXTERN_CONT || step.id == SLURM_INTERACTIVE_STEP) {
		opts.enabled = false;
		return 0;
	}
	image_name(step.job, step.id, step.name, sizeof(step.name));
	image_label(step.job, step.id, step.label, sizeof(step.label));
	if (fill_register(sp, &m, node, sizeof(node)) < 0)
		return -1;
	if (ckpt_expand_socket(conf.socket, node, sock, sizeof(sock)) < 0) {
		snprintf(err, sizeof(err), "socket '%s' for node %s: %s",
			 conf.socket, node, strerror(errno));
		return register_failed(node, err);
	}
	conn = proto_connect(sock, HELPER_TIMEOUT_S);
	if (conn < 0) {
		snprintf(err, sizeof(err), "%s: %s", sock, errno == EPERM ?
			 "not root's socket: not slurmckptd" :
			 strerror(errno));
		return register_failed(node, err);
	}
	if (helper_call(&m, -1, err, sizeof(err)) < 0)
		return register_failed(node, err);
	step.registered = true;
	snprintf(step.sock, sizeof(step.sock), "%s", sock);
	return 0;
}

int remote_task_post_fork(spank_t sp)
{
	struct ckpt_msg m = { .op = CKPT_OP_TASK };
	char err[512];
	pid_t pid;
	int pidfd, rc;

	if (conn < 0)
		return 0;
	if (spank_get_item(sp, S_TASK_PID, &pid) != ESPANK_SUCCESS ||
	    spank_get_item(sp, S_TASK_GLOBAL_ID, &m.task) != ESPANK_SUCCESS) {
		slurm_error(PFX "step %s: cannot identify a task",
			    step.label);
		return -1;
	}
	m.job = step.job;
	m.step = step.id;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		slurm_error(PFX "pidfd_open(%d): %s", (int)pid, strerror(errno));
		return -1;
	}
	rc = helper_call(&m, pidfd, err, sizeof(err));
	close(pidfd);
	if (rc < 0)
		slurm_error(PFX "step %s task %u: slurmckptd: %s",
			    step.label, m.task, err);
	return rc;
}

/* A task that exits with the checkpoint exit code, or after Slurm's
 * SIGTERM, has left its state for the helper to commit: tell it how each
 * task ended. */
void remote_task_exit(spank_t sp)
{
	struct ckpt_msg m = { .op = CKPT_OP_EXIT };
	char err[512];
	int status;

	if (conn < 0 || !options_unasked())
		return;
	if (spank_get_item(sp, S_TASK_EXIT_STATUS, &status) !=
	    ESPANK_SUCCESS ||
	    spank_get_item(sp, S_TASK_GLOBAL_ID, &m.task) != ESPANK_SUCCESS)
		return;
	m.job = step.job;
	m.step = step.id;
	m.status = status & 0xffff;
	if (helper_call(&m, -1, err, sizeof(err)) < 0)
		slurm_error(PFX "step %s task %u: slurmckptd: %s", step.label,
			    m.task, err);
}

void remote_exit(void)
{
	struct ckpt_msg m = { .op = CKPT_OP_UNREGISTER };

	if (conn >= 0) {
		m.job = step.job;
		m.step = step.id;
		if (proto_send(conn, &m, -1) < 0 && reconnect())
			proto_send(conn, &m, -1);
		if (conn >= 0)
			close(conn);
		conn = -1;
	}
	free(step.dir);
	step.dir = NULL;
	free(step.failed);
	step.failed = NULL;
	free(step.restart_cmd);
	step.restart_cmd = NULL;
	free(step.criu);
	step.criu = NULL;
	free(step.local);
	step.local = NULL;
}
