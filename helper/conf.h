/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf.h - slurmckptd.conf: its keys and the values read (conf.c). */
#ifndef CKPT_CONF_H
#define CKPT_CONF_H

#include <stdbool.h>

#include "offsite.h"

#define CONF_DEFAULT SYSCONFDIR "/slurm/slurmckptd.conf"

struct helper_conf {
	char *socket;
	long max_workers;
	long max_user_workers;	/* of one uid: the others always find a
				 * free worker (worker.c) */
	long poll_interval;	/* seconds between requests to slurmctld */
	char *method_dir;	/* <name>.method files (method.c) */
	long port;		/* TCP port for other nodes; 0: none (tcp.c) */
	char *munge_socket;	/* munged's socket; NULL: libmunge's default */
	char *state_dir;	/* the saved state (state.c) */
	char *peer_ports;	/* "<port>" or "<node>:<port>,...": the
				 * followers' ports (peer.c); NULL: port */
	struct offsite_conf offsite;	/* offsite_* keys (offsite_loop.c) */
	/* One user, one host: clients the daemon does not wait for. */
	long idle_timeout;	/* s: before the credential (tcp.c), and
				 * a non-root client between requests */
	long max_user_conns;	/* connections of one non-root uid */
	long max_host_conns;	/* unauthenticated, of one address */
	char *scheckpoint;	/* the command that resubmits (resubmit.c) */
	char *metrics_file;	/* node-exporter textfile; NULL: none
				 * (metrics_file.c) */
};
extern struct helper_conf hconf;

/* Read path (a missing file is no error unless given), with sock, when
 * not NULL, for socket=; the defaults for what it leaves out.  0, or -1
 * with err. */
int conf_load(const char *path, bool given, const char *sock, char *err,
	      size_t errlen);
/* SIGHUP: read path again (the same given and sock).  The keys that
 * work while steps are registered take their new values; a key read only
 * at start-up (socket, port, state_dir, method_dir, offsite_url...) keeps
 * its value, and the log says that the new one waits for a restart.  A
 * file in error changes nothing: -1 with err. */
int conf_reload(const char *path, bool given, const char *sock, char *err,
		size_t errlen);
void conf_free(void);

#endif
