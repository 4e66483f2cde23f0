/* SPDX-License-Identifier: GPL-2.0-or-later */
/* checkpoint.c - the SPANK entry points of checkpoint.so; only glue that
 * dispatches on the context.  Options and their checks are in options.c,
 * what happens inside slurmstepd in remote.c. */
#include "config.h"

#include <slurm/spank.h>
#include "plugin.h"

SPANK_PLUGIN(checkpoint, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	char err[256];

	if (ckpt_conf_init(&conf) < 0) {
		slurm_error(PFX "out of memory");
		return -1;
	}
	if (ckpt_conf_parse(&conf, ac, av, err, sizeof(err)) < 0) {
		slurm_error(PFX "plugstack.conf: %s", err);
		return -1;
	}
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
	case S_CTX_REMOTE:
		return options_register(sp);
	default:
		return 0;
	}
}

int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
		return options_env_fallback(sp);
	case S_CTX_REMOTE:
		if (options_env_fallback(sp) < 0)
			return -1;
		return remote_register(sp);
	default:
		return 0;
	}
}

/* Never fail here: a failing task_post_fork in a batch step drains the
 * node.  Problems are logged and the step runs without checkpoints. */
int slurm_spank_task_post_fork(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE)
		remote_task_post_fork(sp);
	return 0;
}

int slurm_spank_task_exit(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE)
		remote_task_exit(sp);
	return 0;
}

int slurm_spank_task_init(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE)
		return task_init(sp);
	return 0;
}

int slurm_spank_task_init_privileged(spank_t sp, int ac, char **av)
{
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE)
		return task_init_privileged(sp);
	return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	if (spank_context() == S_CTX_REMOTE)
		remote_exit();
	options_free();
	ckpt_conf_free(&conf);
	return 0;
}
