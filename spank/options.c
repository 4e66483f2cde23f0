/* SPDX-License-Identifier: GPL-2.0-or-later */
/* options.c - --checkpoint, --checkpoint-dir, --restart-dir and their
 * environment equivalents.  Bad input is rejected here, where sbatch and
 * srun print the message and submit nothing. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"
#include "proto.h"
#include "timefmt.h"

static const char *const opt_names[] = {
	[OPT_INTERVAL] = "checkpoint",
	[OPT_DIR] = "checkpoint-dir",
	[OPT_RESTART] = "restart-dir",
	[OPT_EXIT_CODE] = "checkpoint-exit-code",
	[OPT_METHOD] = "checkpoint-method",
	[OPT_TRIGGER] = "checkpoint-trigger",
	[OPT_LOCAL] = "checkpoint-local",
	[OPT_SIGNAL] = "checkpoint-signal",
	[OPT_WATCH] = "checkpoint-watch",
	[OPT_RESUBMIT] = "checkpoint-resubmit",
};
static const char *const env_names[] = {
	[OPT_INTERVAL] = "SLURM_CHECKPOINT",
	[OPT_DIR] = "SLURM_CHECKPOINT_DIR",
	[OPT_RESTART] = "SLURM_RESTART_DIR",
	[OPT_EXIT_CODE] = "SLURM_CHECKPOINT_EXIT_CODE",
	[OPT_METHOD] = "SLURM_CHECKPOINT_METHOD",
	[OPT_TRIGGER] = "SLURM_CHECKPOINT_TRIGGER",
	[OPT_LOCAL] = "SLURM_CHECKPOINT_LOCAL",
	[OPT_SIGNAL] = "SLURM_CHECKPOINT_SIGNAL",
	[OPT_WATCH] = "SLURM_CHECKPOINT_WATCH",
	[OPT_RESUBMIT] = "SLURM_CHECKPOINT_RESUBMIT",
};

static int check_interval(const char *what, const char *arg, long *secs)
{
	char min[32];

	if (timefmt_parse(arg, secs) < 0 && errno == ERANGE) {
		timefmt_format(INT_MAX, min, sizeof(min));
		slurm_error(PFX "%s interval '%s' is too large: at most %s "
			    "(2^31-1 seconds)", what, arg, min);
		return -1;
	}
	if (timefmt_parse(arg, secs) < 0) {
		slurm_error(PFX "invalid %s interval '%s': use minutes, "
			    "minutes:seconds, hours:minutes:seconds, "
			    "days-hours, days-hours:minutes or "
			    "days-hours:minutes:seconds (0 = no periodic "
			    "checkpoints)", what, arg);
		return -1;
	}
	if (*secs > 0 && *secs < conf.min_interval) {
		timefmt_format(conf.min_interval, min, sizeof(min));
		slurm_error(PFX "%s interval %s is below the site minimum "
			    "of %s", what, arg, min);
		return -1;
	}
	return 0;
}

static int check_exit_code(const char *what, const char *arg, long *code)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > 255) {
		slurm_error(PFX "invalid %s '%s': an exit code from 1 to 255 "
			    "(0: none)", what, arg);
		return -1;
	}
	*code = v;
	return 0;
}

static int check_yes_no(const char *what, const char *arg, int *v)
{
	if (!strcmp(arg, "yes") || !strcmp(arg, "1") || !strcmp(arg, "true"))
		*v = 1;
	else if (!strcmp(arg, "no") || !strcmp(arg, "0") ||
		 !strcmp(arg, "false"))
		*v = 0;
	else {
		slurm_error(PFX "invalid %s '%s': yes or no", what, arg);
		return -1;
	}
	return 0;
}

/* The step's checkpoint method: the option's, else the site's. */
const char *options_method(void)
{
	if (opts.method)
		return opts.method;
	return conf.method ? conf.method : "signal";
}

int options_signo(void)
{
	return opts.signo ? opts.signo : conf.signo;
}

/* Do the tasks write their state without being asked?  With a checkpoint
 * exit code, and with SIGTERM as the checkpoint signal: Slurm itself sends
 * SIGTERM at preemption (GraceTime) and at the time limit, before
 * slurmckptd asks.  Their staging directory then exists from the start. */
bool options_unasked(void)
{
	if (options_exit_code())
		return true;
	return options_signo() == SIGTERM && !opts.trigger &&
	       strcmp(options_method(), "signal") == 0;
}

/* A signal the site allows for --checkpoint-signal: signals= on the
 * plugstack.conf line, and signal= (the default). */
static int check_signal(const char *what, const char *arg, int *signo)
{
	char allowed[256] = "";
	size_t used = 0;
	int s;

	if (signal_parse(arg, signo) < 0) {
		slurm_error(PFX "invalid %s '%s': a signal name (USR1, "
			    "SIGUSR1) or number", what, arg);
		return -1;
	}
	if (*signo == conf.signo ||
	    (*signo <= 64 && (conf.signals & 1ULL << (*signo - 1))))
		return 0;
	for (s = 1; s <= 64; s++)
		if ((s == conf.signo || (conf.signals & 1ULL << (s - 1))) &&
		    used < sizeof(allowed))
			used += (size_t)snprintf(allowed + used,
						 sizeof(allowed) - used,
						 "%s%s", used ? ", " : "",
						 signal_name(s));
	slurm_error(PFX "%s '%s' is not allowed here: use one of %s "
		    "(signals= of the site)", what, arg, allowed);
	return -1;
}

/* The code a task exits with after writing its state, or 0. */
long options_exit_code(void)
{
	return opts.exit_code >= 0 ? opts.exit_code : conf.exit_code;
}

/* On the submitting side the directory must be usable by the user now
 * (writable for images, readable to restart from); on the node (remote)
 * the helper and the tasks find out, as the user. */
static int check_dir(const char *what, const char *arg, int remote, int mode)
{
	struct stat st;
	const char *c;

	/* It reaches logs and terminals (slurmckptd's, scheckpoint's). */
	for (c = arg; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			slurm_error(PFX "%s: a path with a control character "
				    "(byte 0x%02x) is refused", what,
				    (unsigned char)*c);
			return -1;
		}
	if (arg[0] != '/') {
		slurm_error(PFX "%s '%s' is not an absolute path", what, arg);
		return -1;
	}
	if (remote)
		return 0;
	if (stat(arg, &st) < 0) {
		slurm_error(PFX "%s '%s': %s", what, arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		slurm_error(PFX "%s '%s' is not a directory", what, arg);
		return -1;
	}
	if (access(arg, mode | X_OK) < 0) {
		slurm_error(PFX "%s '%s' is not %s: %s", what, arg,
			    mode == W_OK ? "writable" : "readable",
			    strerror(errno));
		return -1;
	}
	return 0;
}

static int set_string(char **field, const char *arg)
{
	char *s = strdup(arg);

	if (!s) {
		slurm_error(PFX "out of memory");
		return -1;
	}
	free(*field);
	*field = s;
	return 0;
}

/* Apply one value, from the command line or the environment. */
static int apply(int which, const char *what, const char *arg, int remote)
{
	switch (which) {
	case OPT_INTERVAL:
		if (check_interval(what, arg, &opts.interval) < 0)
			return -1;
		opts.enabled = true;
		return 0;
	case OPT_DIR:
		if (check_dir(what, arg, remote, W_OK) < 0)
			return -1;
		return set_string(&opts.dir, arg);
	case OPT_RESTART:
		if (check_dir(what, arg, remote, R_OK) < 0)
			return -1;
		return set_string(&opts.restart_dir, arg);
	case OPT_EXIT_CODE:
		return check_exit_code(what, arg, &opts.exit_code);
	case OPT_METHOD:
		/* Whether the node has it is the helper's to say. */
		if (!proto_method_name_ok(arg)) {
			slurm_error(PFX "invalid %s '%s': a method name of "
				    "[a-z0-9_-], up to %d characters", what,
				    arg, CKPT_METHOD_NAME_MAX);
			return -1;
		}
		return set_string(&opts.method, arg);
	case OPT_TRIGGER:
	case OPT_WATCH:
		if (!proto_trigger_ok(arg)) {
			slurm_error(PFX "invalid %s '%s': a file name or path "
				    "of up to %d characters, without control "
				    "characters", what, arg, CKPT_TRIGGER_MAX);
			return -1;
		}
		return set_string(which == OPT_TRIGGER ? &opts.trigger
						     : &opts.watch, arg);
	case OPT_LOCAL:
		return check_yes_no(what, arg, &opts.local);
	case OPT_RESUBMIT:
		return check_yes_no(what, arg, &opts.resubmit);
	case OPT_SIGNAL:
		return check_signal(what, arg, &opts.signo);
	}
	return -1;
}

static int opt_cb(int val, const char *arg, int remote)
{
	char what[64];

	if (val < 0 || val >= OPT_COUNT)
		return -1;
	if (val == OPT_RESUBMIT && (!arg || !*arg))
		arg = "yes";	/* a flag, or =yes|no */
	if (!arg || !*arg) {
		slurm_error(PFX "--%s needs a value", opt_names[val]);
		return -1;
	}
	snprintf(what, sizeof(what), "--%s", opt_names[val]);
	if (apply(val, what, arg, remote) < 0)
		return -1;
	opts.cli[val] = true;
	return 0;
}

static struct spank_option spank_opts[] = {
	{ "checkpoint", "interval",
	  "Checkpoint the job or step every interval (Slurm time format; "
	  "0: only before the end and on request)", 1, OPT_INTERVAL, opt_cb },
	{ "checkpoint-dir", "dir",
	  "Directory for checkpoint images (absolute)", 1, OPT_DIR, opt_cb },
	{ "restart-dir", "dir",
	  "Directory to restart from (absolute)", 1, OPT_RESTART, opt_cb },
	{ "checkpoint-exit-code", "code",
	  "The application exits with code after writing its state: "
	  "commit it and requeue the job", 1, OPT_EXIT_CODE, opt_cb },
	{ "checkpoint-method", "name",
	  "How to checkpoint: signal (the application cooperates), or a "
	  "method the site defines", 1, OPT_METHOD, opt_cb },
	{ "checkpoint-trigger", "file",
	  "Ask for a checkpoint by creating file (relative: in each task's "
	  "working directory) instead of sending the signal, for codes that "
	  "poll for one", 1, OPT_TRIGGER, opt_cb },
	{ "checkpoint-local", "yes|no",
	  "Write checkpoints to the node-local directory the site names and "
	  "copy them to the checkpoint directory in the background (default: "
	  "yes where the site has one)", 1, OPT_LOCAL, opt_cb },
	{ "checkpoint-signal", "sig",
	  "The signal that asks for a checkpoint (USR1, USR2, ...: the one "
	  "your framework catches; the site says which are allowed)", 1,
	  OPT_SIGNAL, opt_cb },
	{ "checkpoint-watch", "file",
	  "The file your application or framework saves its own checkpoint "
	  "to (relative: in each task's working directory): written after "
	  "the signal, it answers it and is copied into the image", 1,
	  OPT_WATCH, opt_cb },
	{ "checkpoint-resubmit", "yes|no",
	  "When the job is ended by a preemption that cancels it, submit it "
	  "again from its newest image (as scheckpoint restart does)", 2,
	  OPT_RESUBMIT, opt_cb },
};

int options_register(spank_t sp)
{
	size_t i;

	for (i = 0; i < sizeof(spank_opts) / sizeof(spank_opts[0]); i++) {
		if (spank_option_register(sp, &spank_opts[i]) != ESPANK_SUCCESS) {
			slurm_error(PFX "cannot register --%s",
				    spank_opts[i].name);
			return -1;
		}
	}
	return 0;
}

/* The value of var in this context's environment (the submitting
 * environment locally, the job's in slurmstepd), or NULL. */
static const char *env_get(spank_t sp, const char *var, char *buf, int len)
{
	spank_err_t rc;

	if (spank_context() != S_CTX_REMOTE)
		return getenv(var);
	rc = spank_getenv(sp, var, buf, len);
	if (rc == ESPANK_NOSPACE)
		slurm_error(PFX "%s is too long, ignored", var);
	return rc == ESPANK_SUCCESS ? buf : NULL;
}

/* With sbatch --export=NONE the batch step sees an option only through
 * the variable Slurm uses to pass it on. */
static const char *env_option(spank_t sp, int which, char *buf, int len)
{
	char var[128];
	const char *v;
	char *p;

	snprintf(var, sizeof(var), "SLURM_SPANK__SLURM_SPANK_OPTION_%s_%s",
		 "checkpoint", opt_names[which]);
	if ((v = env_get(sp, var, buf, len)))
		return v;
	for (p = var; *p; p++)
		if (*p == '-')
			*p = '_';
	return env_get(sp, var, buf, len);
}

/* Inside a checkpointed step (an srun in a batch script), the plugin has
 * set SLURM_CHECKPOINT_DIR and SLURM_RESTART_DIR for the enclosing step:
 * they are not the user's choice.  The checkpoint directory is then the
 * one holding SLURM_CHECKPOINT_IMAGE. */
static int inherit_dir(const char *image)
{
	const char *slash = strrchr(image, '/');
	char *dir;

	if (opts.cli[OPT_DIR] || !slash || slash == image)
		return 0;
	dir = strndup(image, (size_t)(slash - image));
	if (!dir) {
		slurm_error(PFX "out of memory");
		return -1;
	}
	free(opts.dir);
	opts.dir = dir;
	return 0;
}

/* On srun, sbatch or salloc: an option of a checkpoint given without
 * --checkpoint (or SLURM_CHECKPOINT) does nothing; say so.  (Not
 * --restart-dir, which a step without checkpoints may use.) */
static void warn_unused(void)
{
	int which;

	if (opts.enabled)
		return;
	for (which = 0; which < OPT_COUNT; which++)
		if (which != OPT_RESTART && opts.cli[which])
			slurm_info(PFX "warning: --%s has no effect without "
				   "--checkpoint", opt_names[which]);
}

int options_env_fallback(spank_t sp)
{
	static char buf[4096], img[4096];
	int remote = spank_context() == S_CTX_REMOTE;
	const char *image = env_get(sp, "SLURM_CHECKPOINT_IMAGE", img,
				    sizeof(img));
	const char *v;
	int which;

	for (which = 0; which < OPT_COUNT; which++) {
		/* Inside a checkpointed step, the directories were set by the
		 * plugin for the enclosing step, not by the user. */
		if (opts.cli[which] || (image && (which == OPT_DIR ||
						  which == OPT_RESTART)))
			continue;
		v = env_get(sp, env_names[which], buf, sizeof(buf));
		if ((!v || !*v) && remote)
			v = env_option(sp, which, buf, sizeof(buf));
		if (!v || !*v)
			continue;
		if (apply(which, env_names[which], v, remote) < 0)
			return -1;
	}
	if (image && inherit_dir(image) < 0)
		return -1;
	if (!remote)
		warn_unused();
	return 0;
}

void options_free(void)
{
	free(opts.dir);
	free(opts.restart_dir);
	free(opts.method);
	free(opts.trigger);
	free(opts.watch);
	memset(&opts, 0, sizeof(opts));
	opts.exit_code = -1;
	opts.local = -1;
}
