/* SPDX-License-Identifier: GPL-2.0-or-later */
/* jobs.h - end times, preemption, final checkpoints and requeues
 * (jobs.c). */
#ifndef CKPT_JOBS_H
#define CKPT_JOBS_H

#include <stdint.h>
#include <time.h>

struct step;

int jobs_init(void);
void jobs_shutdown(void);
/* A task of s exited with status (the plugin's exit message). */
void jobs_task_exit(struct step *s, uint32_t task, int status);
/* The job's end time as slurmctld last gave it (after an "scontrol
 * update TimeLimit=" too) and when its final checkpoint is due (at
 * preemption or before the end); 0 for what is not known or not to
 * come (scheckpoint show). */
void jobs_deadline(uint32_t job, time_t *end, time_t *final);

#endif
