/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pidfd.c - processes named by descriptors (Linux 5.3), which no reuse
 * of a pid can confuse, and what /proc says of them. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pidfd.h"

/* The pid behind a pidfd (its fdinfo), and a process's start time in
 * clock ticks since boot (field 22 of /proc/<pid>/stat): with the pid,
 * what tells one process from a later one that reused the pid. */
pid_t pidfd_pid(int pidfd)
{
	char path[64], line[256];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %ld", &pid) == 1)
			break;
	fclose(f);
	return pid > 0 ? (pid_t)pid : -1;
}

int proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[2048], *p;
	int field;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and parentheses. */
	if (!(p = strrchr(buf, ')')))
		return -1;
	for (field = 2; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	if (field != 22 || sscanf(p, "%llu", start) != 1)
		return -1;
	return 0;
}

int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int pidfd_signal(int pidfd, int signo)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

bool pidfd_alive(int pidfd)
{
	return pidfd_signal(pidfd, 0) == 0;
}
