/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pidfd.h - processes named by descriptors (pidfd.c). */
#ifndef CKPT_PIDFD_H
#define CKPT_PIDFD_H

#include <stdbool.h>
#include <sys/types.h>

/* pidfd_open(2), pidfd_send_signal(2): -1 with errno. */
int pidfd_open(pid_t pid);
int pidfd_signal(int pidfd, int signo);
/* Is the process behind a pidfd still alive (signal 0)? */
bool pidfd_alive(int pidfd);
/* The pid behind a pidfd (/proc/self/fdinfo); -1 once it has exited. */
pid_t pidfd_pid(int pidfd);
/* A process's start time in clock ticks since boot (field 22 of
 * /proc/<pid>/stat): with the pid, what tells it from a later process
 * that reused the pid.  0, or -1. */
int proc_start_time(pid_t pid, unsigned long long *start);

#endif
