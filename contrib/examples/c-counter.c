/* SPDX-License-Identifier: GPL-2.0-or-later */
/* c-counter.c - a C program that checkpoints itself with slurm-checkpoint,
 * through contrib/slurm_checkpoint.h.  Its state is one counter, saved per
 * task, so it also runs as a multi-task step.
 *
 *   cc -O2 -o c-counter c-counter.c    (slurm_checkpoint.h is installed
 *                                        with slurm-checkpoint)
 *   sbatch --checkpoint=10 --requeue --wrap "srun ./c-counter 3600"
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "slurm_checkpoint.h"

static long load(void)
{
	const char *dir = slurm_ckpt_restart_dir();
	char path[4096];
	long i = 0;
	FILE *f;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/count.%d", dir, slurm_ckpt_task());
	if (!(f = fopen(path, "r")) || fscanf(f, "%ld", &i) != 1) {
		perror(path);
		exit(1);
	}
	fclose(f);
	return i;
}

static int save(long i)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/count.%d", slurm_ckpt_dir(),
		 slurm_ckpt_task());
	if (!(f = fopen(path, "w")) || fprintf(f, "%ld\n", i) < 0 ||
	    fclose(f) != 0) {
		perror(path);
		return -1;
	}
	return slurm_ckpt_done();
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 600, i;
	struct timespec one = { 1, 0 }, left;

	if (slurm_ckpt_init() < 0) {
		perror("slurm_ckpt_init");
		return 1;
	}
	i = load();
	printf("start=%ld\n", i);
	fflush(stdout);
	while (i < n) {
		/* One unit of work; a signal cuts the sleep short. */
		while (nanosleep(&one, &left) < 0 && errno == EINTR) {
			if (slurm_ckpt_requested() && save(i) == 0)
				printf("ckpt=%ld\n", i);
			one = left;
		}
		one.tv_sec = 1;
		one.tv_nsec = 0;
		i++;
		printf("tick=%ld\n", i);
		if (slurm_ckpt_requested() && save(i) == 0)
			printf("ckpt=%ld\n", i);
		fflush(stdout);
	}
	printf("final=%ld\n", i);
	return 0;
}
