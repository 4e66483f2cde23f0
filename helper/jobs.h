/* jobs.h - end times, preemption, final checkpoints and requeues
 * (jobs.c). */
#ifndef CKPT_JOBS_H
#define CKPT_JOBS_H

#include <stdint.h>

struct step;

int jobs_init(void);
void jobs_shutdown(void);
/* A task of s exited with status (the plugin's exit message). */
void jobs_task_exit(struct step *s, uint32_t task, int status);

#endif
