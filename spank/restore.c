/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restore.c - a task of a criu= method resumes from its CRIU dump.
 *
 * Design.  The dump (helper/method.c) is taken by "criu dump
 * --unprivileged" as the job's user; the restore is its mirror image,
 * and root never restores anything:
 *
 *  - task_init_privileged (root, in the forked task) only sets
 *    PR_SET_KEEPCAPS, so that slurmstepd's own switch to the user keeps
 *    the permitted set; task_init (now the user, after slurmstepd has
 *    set up the task's stdio, cgroup and proctrack) at once cuts it down
 *    to CAP_CHECKPOINT_RESTORE alone, or to nothing.
 *  - The image is found and its manifest verified (XXH3-128 of every
 *    file) as for any restart, with the user's rights; a user-modified
 *    image does not verify and the task starts from the beginning, said
 *    on its stderr.
 *  - The task (the pid slurmstepd waits for) becomes a child subreaper
 *    and runs "criu restore --unprivileged -d" as the user with
 *    CAP_CHECKPOINT_RESTORE only (ambient).  The restored tree comes
 *    back under its old pids, as the task's descendant, in the job's
 *    cgroup; when criu exits its root is reparented to the task.  The
 *    task then drops its last capability, forwards the signals
 *    slurmstepd sends it, and exits as the restored root does: the
 *    restored program is the Slurm task.  It is still slurmstepd's
 *    fork (comm "slurmstepd", not dumpable), so the helper's next dump
 *    of the task takes its one child, the restored root, instead.
 *  - Why this is safe: criu runs with the user's uid, gid and groups,
 *    so the kernel lets it set no other credentials and open nothing
 *    the user cannot; an image the user forged gives them at most a
 *    process of their own holding CAP_CHECKPOINT_RESTORE, never root.
 *    Not even that: criu leaves the restored tree stopped
 *    (--leave-stopped), and a tree in which any thread holds a
 *    capability (no dump the daemon took does) is killed before it
 *    runs; a clean one is continued (check_tree).
 *    No file of the user's is opened by root.
 *  - CRIU restores the dumped bounding set, and dropping a capability
 *    from it needs CAP_SETPCAP, unless the process had no_new_privs:
 *    tasks of a criu= method therefore run with no_new_privs (set in
 *    task_init), as they would in most containers.
 *  - Output files: the task's stdout and stderr, when they are files,
 *    are handed to criu with --inherit-fd, so that the restored
 *    program writes on the job's output even though its size changed.
 *  - Pipes: srun's tasks have pipes to slurmstepd as fds 0-2; the dump
 *    names the old ones (slurm-stdio, helper/method_run.c) and the
 *    task's new ones are handed to criu in their place, so that the
 *    restored program goes on talking to srun.
 *
 * See slurmckptd(8), METHODS. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "imagemac.h"
#include "plugin.h"

#define RESTORE_TRIES 3	/* criu restores, when a dumped pid is taken */
#define INHERIT_FD 10	/* criu gets stdin as fd 10, stdout 11, stderr 12 */

/* First thing in task_init, before any file of the user's is read:
 * of what PR_SET_KEEPCAPS kept, only CAP_CHECKPOINT_RESTORE stays, and
 * only permitted (not effective), until criu's child raises it. */
int restore_limit_caps(void)
{
	return caps_ckpt_restore(true, false, false);
}

/* In task_init_privileged, as root: slurmstepd's setuid to the user is
 * to keep the permitted capabilities, which task_init cuts down. */
int restore_keep_caps(void)
{
	return prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
}

/* In every task: the key of the dumps' MAC is of no more use. */
void restore_wipe_key(void)
{
	explicit_bzero(step.criu_key, sizeof(step.criu_key));
	step.criu_key_ok = false;
}

/* In task_init, as the user: no capability at all, for good. */
void restore_drop_caps(void)
{
	if (caps_ckpt_restore(false, false, false) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fprintf(stderr, PFX "cannot drop capabilities: %s\n",
			strerror(errno));
}

/* The pipe the dump's root had as fd (slurm-stdio in dir), into pipe
 * ("pipe:[<inode>]"); false when it had none. */
static bool dumped_pipe(const char *dir, int fd, char *pipe, size_t len)
{
	char path[PATH_MAX + 16], line[96], name[64];
	bool found = false;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/slurm-stdio", dir);
	if (!(f = fopen(path, "re")))
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %63s", &n, name) == 2 && n == fd &&
		    strncmp(name, "pipe:[", 6) == 0) {
			snprintf(pipe, len, "%s", name);
			found = true;
		}
	fclose(f);
	return found;
}

/* An output file (fd 1 or 2) that grew since the dump: the restored
 * program writes again what it wrote after its checkpoint.  Said on the
 * task's stderr, once per file. */
static void say_grown(const char *dir, uint32_t task)
{
	char path[PATH_MAX + 16], line[PATH_MAX + 64], *file;
	struct stat now, first = { 0 };
	long long then;
	FILE *f;
	int fd, off;

	snprintf(path, sizeof(path), "%s/slurm-stdio", dir);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		off = 0;
		if (sscanf(line, "%d file %lld %n", &fd, &then, &off) < 2 ||
		    !off || (fd != 1 && fd != 2) || fstat(fd, &now) < 0 ||
		    !S_ISREG(now.st_mode) || now.st_size <= then ||
		    (first.st_ino == now.st_ino && first.st_dev == now.st_dev))
			continue;
		first = now;
		file = line + off;
		fprintf(stderr, PFX "%s: task %u: %s grew by %lld bytes since "
			"the checkpoint: what the program wrote after it "
			"will be written again\n", step.label, task, file,
			(long long)now.st_size - then);
	}
	fclose(f);
}

/* --inherit-fd for stdout and stderr when they are files: criu's path
 * of each (relative to /) is the task's; and for fds 0-2 that were
 * pipes at the dump and are pipes now (srun's): the new pipe for the
 * old.  criu is handed copies of them above 2 (it cannot put its own
 * stdio into its fd store). */
static int inherit_args(const char *dir, char **argv, int n,
			char store[3][PATH_MAX + 16])
{
	char link[32], path[PATH_MAX], pipe[64];
	ssize_t len;
	int fd;

	for (fd = 0; fd < 3; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, path, sizeof(path) - 1);
		if (len <= 6 || strncmp(path, "pipe:[", 6) != 0 ||
		    !dumped_pipe(dir, fd, pipe, sizeof(pipe)) ||
		    dup2(fd, INHERIT_FD + fd) < 0)
			continue;
		snprintf(store[fd], sizeof(store[fd]), "fd[%d]:%s",
			 INHERIT_FD + fd, pipe);
		argv[n++] = "--inherit-fd";
		argv[n++] = store[fd];
	}
	for (fd = 1; fd < 3; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, path, sizeof(path) - 1);
		if (len <= 1 || path[0] != '/')
			continue;	/* a pipe, a socket, or closed */
		path[len] = '\0';
		if (dup2(fd, INHERIT_FD + fd) < 0)
			continue;
		snprintf(store[fd], sizeof(store[fd]), "fd[%d]:%s",
			 INHERIT_FD + fd, path + 1);
		argv[n++] = "--inherit-fd";
		argv[n++] = store[fd];
	}
	argv[n] = NULL;
	return n;
}

/* Run criu restore in a child with CAP_CHECKPOINT_RESTORE; its status. */
static int run_criu(const char *dir, const char *work)
{
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	char store[3][PATH_MAX + 16];
	char *argv[24] = { step.criu, "restore", "--unprivileged", "-D",
			   (char *)dir, "-W", (char *)work, "-o",
			   "restore.log", "--shell-job", "-d",
			   "--leave-stopped" };
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* slurmstepd's descriptors stay out of criu */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		inherit_args(dir, argv, 12, store);
		if (caps_ckpt_restore(true, true, true) < 0 ||
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
			  CAP_CHECKPOINT_RESTORE, 0, 0) < 0) {
			fprintf(stderr, PFX "cannot keep "
				"CAP_CHECKPOINT_RESTORE for criu: %s\n",
				strerror(errno));
			_exit(127);
		}
		execve(argv[0], argv, envp);
		fprintf(stderr, PFX "cannot run %s: %s\n", argv[0],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* The first error line of criu's restore.log in work, into why; or the
 * one saying a pid was taken ("Can't fork for <pid>: File exists"). */
static void criu_error(const char *work, char *why, size_t whylen)
{
	char path[PATH_MAX + 16], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/restore.log", work);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Error", 5) != 0 && !strstr(line, ": Error"))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if (!why[0] || strstr(line, "File exists"))
			snprintf(why, whylen, "%s", line);
		if (strstr(line, "File exists"))
			break;
	}
	fclose(f);
}

static pid_t first_child(void)
{
	char buf[64];
	ssize_t r;
	int fd;

	fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

#define TREE_MAX 4096	/* processes of a restored tree that are checked */

struct tree {
	pid_t pid[TREE_MAX];
	size_t n;
};

/* The pids listed in a children file (/proc/<pid>/task/<tid>/children),
 * added to t unless there already. */
static void add_children(struct tree *t, const char *path)
{
	char buf[4096], *p, *end;
	ssize_t r;
	size_t i;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return;
	buf[r] = '\0';
	for (p = buf; t->n < TREE_MAX; p = end) {
		v = strtol(p, &end, 10);
		if (end == p || v <= 0)
			break;
		for (i = 0; i < t->n && t->pid[i] != (pid_t)v; i++)
			;
		if (i == t->n)
			t->pid[t->n++] = (pid_t)v;
	}
}

/* Whether a thread's status shows a capability in its inheritable,
 * permitted, effective or ambient set (into why when it does). */
static bool holds_caps(const char *status, pid_t pid, char *why,
		       size_t whylen)
{
	char line[256], *v;
	bool held = false;
	FILE *f;

	if (!(f = fopen(status, "re")))
		return false;	/* gone: it holds nothing */
	while (!held && fgets(line, sizeof(line), f)) {
		/* CapInh, CapPrm, CapEff, CapAmb; CapBnd is only a limit */
		if (strncmp(line, "Cap", 3) != 0 ||
		    strncmp(line, "CapBnd", 6) == 0 || !(v = strchr(line, ':')))
			continue;
		if (strtoull(v + 1, NULL, 16) != 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(why, whylen, "restored process %ld holds "
				 "capabilities (%s)", (long)pid, line);
			held = true;
		}
	}
	fclose(f);
	return held;
}

/* criu left the restored tree stopped.  A dump slurmckptd took holds no
 * capability (the task had none); one that does was forged to keep
 * criu's CAP_CHECKPOINT_RESTORE.  Every thread of every process of the
 * tree is checked before any of it runs; then all resume, or all are
 * killed.  0, or -1 with why. */
static int check_tree(char *why, size_t whylen)
{
	static struct tree t;
	char path[96];
	struct dirent *e;
	bool bad = false;
	size_t i;
	DIR *d;

	t.n = 0;
	add_children(&t, "/proc/thread-self/children");
	for (i = 0; i < t.n && !bad; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/task", (long)t.pid[i]);
		if (!(d = opendir(path)))
			continue;
		while (!bad && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/%s",
				 (long)t.pid[i], e->d_name, "status");
			bad = holds_caps(path, t.pid[i], why, whylen);
			snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/%s",
				 (long)t.pid[i], e->d_name, "children");
			add_children(&t, path);
		}
		closedir(d);
	}
	if (!bad && t.n == TREE_MAX) {
		snprintf(why, whylen, "more than %d restored processes",
			 TREE_MAX);
		bad = true;
	}
	for (i = 0; i < t.n; i++)
		kill(t.pid[i], bad ? SIGKILL : SIGCONT);
	return bad ? -1 : 0;
}

static volatile pid_t restored;

static void forward(int sig)
{
	if (restored > 0)
		kill(restored, sig);
}

/* The task from now on: the restored root's parent, passing on the
 * signals slurmstepd sends, and exiting as it does. */
static _Noreturn void stand_in(pid_t root)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT,
				    SIGUSR1, SIGUSR2, SIGCONT, SIGALRM };
	struct sigaction sa = { .sa_handler = forward };
	sigset_t none;
	int status = 0, sig;
	size_t i;
	pid_t w;

	restored = root;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_range(3, ~0U, 0);
	for (;;) {
		w = waitpid(-1, &status, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 || w == root || root <= 0)
			break;
	}
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		raise(sig);
		_exit(128 + sig);
	}
	_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

/* Whether image/criu.<task>/ is a dump slurmckptd took: its MAC, in
 * criu.<task>.mac, keyed by what no user reads (imagemac.h).  Read with
 * the user's rights; the key is wiped from this task either way. */
static int verify_dump(const char *image, uint32_t task, char *why,
		       size_t whylen)
{
	char name[32];
	int pfd, rc = -1;

	snprintf(name, sizeof(name), "criu.%u", task);
	if (!step.criu_key_ok)
		snprintf(why, whylen, "its MAC cannot be checked without the "
			 "image key (slurmd's log says why)");
	else if ((pfd = open(image, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		snprintf(why, whylen, "%s: %s", image, strerror(errno));
	else {
		rc = imagemac_verify(pfd, name, step.criu_key, why, whylen) ==
		     1 ? 0 : -1;
		close(pfd);
	}
	restore_wipe_key();
	return rc;
}

/* Restore task's tree from image/criu.<task>/.  Returns only if it
 * could not: 1 if the image holds no dump of this task (it starts from
 * the beginning), -1 with the reason on the task's stderr.  On success
 * this process waits for the restored tree and exits with its status. */
int restore_criu(spank_t sp, const char *image, uint32_t task)
{
	char dir[PATH_MAX], work[PATH_MAX], why[600] = "";
	struct stat st;
	int status;
	pid_t root;

	(void)sp;
	snprintf(dir, sizeof(dir), "%s/criu.%u", image, task);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, PFX "%s: %s holds no CRIU dump of task %u; "
			"it starts from the beginning\n", step.label, image,
			task);
		restore_drop_caps();
		return 1;
	}
	if (verify_dump(image, task, why, sizeof(why)) < 0) {
		fprintf(stderr, PFX "%s: task %u not restored from %s: %s\n",
			step.label, task, dir, why);
		restore_drop_caps();
		return -1;
	}
	snprintf(work, sizeof(work), "%s/%s.restore.%u", step.dir, step.name,
		 task);
	if (mkdir(work, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, PFX "%s: %s: %s\n", step.label, work,
			strerror(errno));
		restore_drop_caps();
		return -1;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		fprintf(stderr, PFX "%s: PR_SET_CHILD_SUBREAPER: %s\n",
			step.label, strerror(errno));
		restore_drop_caps();
		return -1;
	}
	say_grown(dir, task);
	/* A dumped pid still held (as a pid, group or session) fails the
	 * restore with EEXIST, and such holders go away: try again. */
	for (int try = 1; ; try++) {
		status = run_criu(dir, work);
		why[0] = '\0';
		if (status != 0)
			criu_error(work, why, sizeof(why));
		if (status == 0 || try == RESTORE_TRIES ||
		    !strstr(why, "File exists"))
			break;
		fprintf(stderr, PFX "%s: task %u: %s; trying again\n",
			step.label, task, why);
		sleep(1);
	}
	restore_drop_caps();
	if (status != 0) {
		fprintf(stderr, PFX "%s: task %u not restored from %s: criu "
			"restore %s %d%s%s (log: %s/restore.log)%s\n",
			step.label, task, dir,
			status < 0 ? "could not run:" :
			WIFEXITED(status) ? "exited" : "was killed by signal",
			status < 0 ? errno : WIFEXITED(status) ?
			WEXITSTATUS(status) : WTERMSIG(status),
			why[0] ? ": " : "", why, work,
			strstr(why, "has bad size") ? "; a file the program "
			"had open changed size since the checkpoint, and CRIU "
			"restores it only as it was: put the file back as it "
			"was then, or resume from another image "
			"(--restart-dir), or start over without one" : "");
		return -1;
	}
	root = first_child();
	if (check_tree(why, sizeof(why)) < 0) {
		fprintf(stderr, PFX "%s: task %u not restored from %s: %s, "
			"which no dump by slurmckptd has: the restored "
			"processes were killed before they ran\n", step.label,
			task, dir, why);
		while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
			;
		return -1;
	}
	fprintf(stderr, PFX "%s: task %u restored from %s (pid %ld)\n",
		step.label, task, dir, (long)root);
	stand_in(root);
}
