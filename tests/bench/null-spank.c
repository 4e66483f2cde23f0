/* SPDX-License-Identifier: GPL-2.0-or-later */
/* null-spank.c - a SPANK plugin that does nothing: tests/bench/run.sh loads
 * it to tell what any SPANK plugin costs a step from what checkpoint.so
 * costs.  Compiled by run.sh at run time. */
#include <slurm/spank.h>

SPANK_PLUGIN(nullbench, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	(void)sp;
	(void)ac;
	(void)av;
	return 0;
}
