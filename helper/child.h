/* child.h - a function run in a child process, its JSON report handed
 * to a callback in the event loop (child.c). */
#ifndef CKPT_CHILD_H
#define CKPT_CHILD_H

#include <stddef.h>

#include <jansson.h>

/* fn runs in a child (with only its report pipe, out, open) and writes
 * one JSON object with report_write(); done runs in the loop with it
 * (NULL if none) and the child's wait status. */
typedef int (*child_fn)(void *arg, int out);
typedef void (*child_done_fn)(void *arg, json_t *report, int status);
int child_start(child_fn fn, void *arg, child_done_fn done, void *donearg,
		char *err, size_t errlen);
/* At exit: the children still running are killed and reaped. */
void child_shutdown(void);

#endif
