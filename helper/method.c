/* SPDX-License-Identifier: GPL-2.0-or-later */
/* method.c - checkpoint methods besides the cooperative "signal": site
 * scripts.  An admin defines each in <method_dir>/<name>.method (root's
 * file, like the commands it names); a step picks one with
 * --checkpoint-method.  A checkpoint then runs the method's checkpoint
 * command, with the job user's identity, in a worker, with the step's
 * task pids and its staging directory in the environment; exit status 0
 * means the staging directory holds the image, which is committed as a
 * cooperative one is.  A method with criu= instead has each task's
 * process tree dumped by "criu dump --unprivileged", run as the user
 * with CAP_CHECKPOINT_RESTORE only, into criu.<task>/ of the staging
 * directory.  See slurmckptd(8), METHODS.
 *
 * This file loads the methods, as root, at start-up; their commands
 * are run by method_cmd.c, a checkpoint in a worker by method_run.c. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "errbuf.h"
#include "image.h"
#include "imagemac.h"
#include "kvconf.h"
#include "log.h"
#include "method.h"
#include "method_cmd.h"
#include "pidfd.h"
#include "privsep.h"
#include "run.h"
#include "steps.h"
#include "subtree.h"

#define SUFFIX ".method"
#define CHECK_TIMEOUT 30	/* seconds for a method's check= command */
/* image_key= of a criu= method: a secret every node of a cluster has */
#define IMAGE_KEY "/etc/munge/munge.key"

/* The keys of a method file (documented in slurmckptd(8), METHODS, and
 * etc/example.method; tests/unit/keys-agree.sh checks both). */
static const struct kv_key method_keys[] = {
	{ "checkpoint", KV_PATH, offsetof(struct method, checkpoint), 0, 0,
	  "the absolute path of the checkpoint command" },
	{ "restart", KV_PATH, offsetof(struct method, restart), 0, 0,
	  "the absolute path of the restart command" },
	{ "cleanup", KV_PATH, offsetof(struct method, cleanup), 0, 0,
	  "the absolute path of the clean-up command" },
	{ "check", KV_PATH, offsetof(struct method, check), 0, 0,
	  "the absolute path of a command that says whether the method "
	  "works here" },
	{ "criu", KV_PATH, offsetof(struct method, criu), 0, 0,
	  "the absolute path of criu, whose dumps of each task's process "
	  "tree are the checkpoints" },
	{ "image_key", KV_PATH, offsetof(struct method, image_key), 0, 0,
	  "the absolute path of the secret file, the same on every node, "
	  "that keys the MAC of criu's dumps" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static struct method *methods;

static void method_free(struct method *m)
{
	if (!m)
		return;
	kv_free(method_keys, m);
	explicit_bzero(m->key, sizeof(m->key));
	free(m);
}

/* Run a method's check= command as root, at start-up; 0 when it exits 0
 * within CHECK_TIMEOUT seconds, with the last line of its output (what
 * the tool is: its version) in said, else why (with that line) in err. */
static int run_check(const struct method *m, char *said, size_t saidlen,
		     char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char out[METHOD_OUTPUT_MAX];

	if (method_cmd_describe(method_cmd_run(m->check, envp, -1,
					       CHECK_TIMEOUT, out, sizeof(out),
					       err, errlen),
				m->check, out, err, errlen) < 0)
		return -1;
	snprintf(said, saidlen, "%s", method_cmd_last_line(out));
	return 0;
}

/* A criu= method works here if "criu check" passes (as root, at
 * start-up); said gets criu's version. */
static int criu_check(const struct method *m, char *said, size_t saidlen,
		      char *err, size_t errlen)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char *const version[] = { m->criu, "--version", NULL };
	char *const check[] = { m->criu, "check", NULL };
	char out[METHOD_OUTPUT_MAX], ver[128];
	const char *v;

	if (method_cmd_describe(method_cmd_run_argv(version, envp, -1,
						    CHECK_TIMEOUT, false, out,
						    sizeof(out), err, errlen),
				m->criu, out, err, errlen) < 0)
		return -1;
	/* "Version: 4.2" (and, from git builds, "GitID: ...") */
	v = strstr(out, "Version: ");
	snprintf(ver, sizeof(ver), "%s", v ? v + 9 : "");
	ver[strcspn(ver, "\n")] = '\0';
	if (method_cmd_describe(method_cmd_run_argv(check, envp, -1,
						    CHECK_TIMEOUT, false, out,
						    sizeof(out), err, errlen),
				"criu check", out, err, errlen) < 0)
		return -1;
	snprintf(said, saidlen, "criu %s, criu check: %s", ver,
		 method_cmd_last_line(out));
	return 0;
}

/* Read one <name>.method file.  A method whose check= fails is left
 * out (said in the log); anything else wrong is an error. */
static int load_one(const char *dir, const char *file, char *err,
		    size_t errlen)
{
	char path[PATH_MAX], why[512], said[METHOD_OUTPUT_MAX] = "";
	size_t len = strlen(file) - strlen(SUFFIX);
	char **cmd, *real;
	struct method *m;
	size_t i;

	if (len < 1 || len > CKPT_METHOD_NAME_MAX)
		return errprintf(err, errlen, errno,
				 "%s/%s: the name of a method has 1 to "
				 "%d characters",
				 dir, file, CKPT_METHOD_NAME_MAX);
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    (int)sizeof(path))
		return errprintf(err, errlen, ENAMETOOLONG,
				 "%s/%s: path too long", dir, file);
	if (!(m = calloc(1, sizeof(*m))))
		return errprintf(err, errlen, ENOMEM, "out of memory");
	memcpy(m->name, file, len);
	if (!proto_method_name_ok(m->name) || strcmp(m->name, "signal") == 0) {
		errprintf(err, errlen, errno,
			  "%s: '%s' cannot be a method's name (use "
			  "[a-z0-9_-]; \"signal\" is built in)",
			  path, m->name);
		goto fail;
	}
	if (!(real = strdup(path)) ||
	    method_cmd_trusted(&real, false, err, errlen) < 0 ||
	    kv_parse_file(method_keys, m, real, err, errlen) < 0) {
		free(real);
		goto fail;
	}
	free(real);
	if (!m->checkpoint == !m->criu) {
		errprintf(err, errlen, errno,
			  "%s: one of checkpoint= and criu= is "
			  "required",
			  path);
		goto fail;
	}
	cmd = &m->checkpoint;
	for (i = 0; i < 5; i++)
		if (cmd[i] &&
		    method_cmd_trusted(&cmd[i], true, err, errlen) < 0)
			goto fail;
	if (m->criu && !m->image_key && !(m->image_key = strdup(IMAGE_KEY))) {
		errprintf(err, errlen, ENOMEM, "out of memory");
		goto fail;
	}
	if ((m->criu && (imagemac_key_load(m->image_key, m->key, why,
					   sizeof(why)) < 0 ||
			 criu_check(m, said, sizeof(said), why,
				    sizeof(why)) < 0)) ||
	    (m->check && run_check(m, said, sizeof(said), why,
				   sizeof(why)) < 0)) {
		log_msg(LOG_WARNING, "method %s is not available on this "
			"node: %s", m->name, why);
		method_free(m);
		return 0;
	}
	log_msg(LOG_INFO, "method %s: %s=%s%s%s%s%s%s%s%s", m->name,
		m->criu ? "criu" : "checkpoint",
		m->criu ? m->criu : m->checkpoint,
		m->restart ? " restart=" : "", m->restart ? m->restart : "",
		*said ? " (check: " : "", said, *said ? ")" : "",
		m->criu ? " image_key=" : "", m->criu ? m->image_key : "");
	m->next = methods;
	methods = m;
	return 0;
fail:
	method_free(m);
	return -1;
}

int methods_load(const char *dir, char *err, size_t errlen)
{
	struct dirent *e;
	struct stat st;
	size_t n;
	DIR *d;
	int rc = 0;

	if (!(d = opendir(dir))) {
		if (errno == ENOENT)
			return 0;	/* no methods but "signal" */
		return errprintf(err, errlen, errno, "%s: %s", dir,
				 strerror(errno));
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errprintf(err, errlen, errno,
			  "%s: must be a directory owned by root "
			  "and writable by nobody else",
			  dir);
		closedir(d);
		return -1;
	}
	while (rc == 0 && (e = readdir(d))) {
		n = strlen(e->d_name);
		if (n <= strlen(SUFFIX) ||
		    strcmp(e->d_name + n - strlen(SUFFIX), SUFFIX) != 0)
			continue;
		rc = load_one(dir, e->d_name, err, errlen);
	}
	closedir(d);
	return rc;
}

size_t methods_count(void)
{
	const struct method *m;
	size_t n = 0;

	for (m = methods; m; m = m->next)
		n++;
	return n;
}

const struct method *method_find(const char *name)
{
	const struct method *m;

	for (m = methods; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

int method_lookup(const char *name, const char *node,
		  const struct method **m, char *err, size_t errlen)
{
	*m = NULL;
	if (!name || strcmp(name, "signal") == 0)
		return 0;
	if ((*m = method_find(name)))
		return 0;
	return errprintf(err, errlen, ENOENT,
			 "checkpoint method '%s' is not available on "
			 "node %s",
			 name, node ? node : "?");
}

const char *method_name(const struct method *m)
{
	return m->name;
}

const char *method_restart(const struct method *m)
{
	return m->restart;
}

const char *method_criu(const struct method *m)
{
	return m->criu;
}

const char *method_image_key(const struct method *m)
{
	return m->image_key;
}

void methods_free(void)
{
	struct method *m;

	while ((m = methods)) {
		methods = m->next;
		method_free(m);
	}
}

