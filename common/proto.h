/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proto.h - the wire messages between checkpoint.so, scheckpoint and
 * slurmckptd: one JSON object per SOCK_SEQPACKET packet on a Unix socket,
 * optionally with one file descriptor (a task's pidfd) in SCM_RIGHTS. */
#ifndef CKPT_PROTO_H
#define CKPT_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CKPT_PROTO_VERSION 1
#define CKPT_MSG_MAX 65536		/* largest packet accepted */
#define CKPT_ERRNO_MAX 4095		/* largest errno in a reply */
#define CKPT_STEP_BATCH 0xfffffffbU	/* == SLURM_BATCH_SCRIPT */
#define CKPT_STEP_ALL	0xffffffffU	/* "every step of the job" */

enum ckpt_op {
	CKPT_OP_REGISTER = 1,	/* plugin -> helper, root only */
	CKPT_OP_TASK,		/* plugin -> helper, with the task's pidfd */
	CKPT_OP_UNREGISTER,	/* plugin -> helper */
	CKPT_OP_CREATE,		/* scheckpoint -> helper */
	CKPT_OP_REPLY,		/* helper -> client */
	CKPT_OP_EXIT,		/* plugin -> helper: a task's exit status */
	/* scheckpoint -> helper, like "scontrol checkpoint <verb>": */
	CKPT_OP_ABLE,		/* is it checkpointable, since when */
	CKPT_OP_VACATE,		/* checkpoint, then end the job */
	CKPT_OP_REQUEUE,	/* checkpoint, then requeue the job */
	CKPT_OP_ENABLE,		/* resume periodic checkpoints */
	CKPT_OP_DISABLE,	/* suspend periodic checkpoints */
	CKPT_OP_ERROR,		/* the last checkpoint error */
	CKPT_OP_LIST,		/* the job's images */
	CKPT_OP_SHOW,		/* the steps' registrations */
	/* slurmckptd -> slurmckptd over TCP, root or the SlurmUser only
	 * (peer.c): a multi-node step's two-phase commit. */
	CKPT_OP_PREPARE,	/* leader -> follower: checkpoint your part */
	CKPT_OP_ABORT,		/* leader -> follower: stop, nothing commits */
	CKPT_OP_FETCH,		/* plugin (a task, as the user) -> helper:
				 * fetch the step's newest image from the
				 * offsite store; the reply has image, seq.
				 * With fetch_dir, from scheckpoint restart
				 * (the user, on the node's socket): the
				 * batch image of an ended job, into
				 * fetch_dir */
	CKPT_OP_EVENTS,		/* scheckpoint -> helper: the job's
				 * checkpoint events kept on this node */
};

/* A message between helpers: CKPT_OP_PREPARE or CKPT_OP_ABORT. */
bool proto_op_is_peer(int op);

/* A request of scheckpoint: CKPT_OP_CREATE, CKPT_OP_ABLE..SHOW or
 * CKPT_OP_EVENTS. */
bool proto_op_is_request(int op);

struct ckpt_msg {
	enum ckpt_op op;
	/* REGISTER, TASK, UNREGISTER, EXIT, and the requests (whose step may
	 * be CKPT_STEP_ALL) */
	uint32_t job, step;
	/* REGISTER */
	uint32_t uid, gid;
	uint32_t ntasks;	/* tasks of the step on this node */
	uint32_t nodeid;	/* this node's index in the step (S_JOB_NODEID) */
	uint32_t nnodes;	/* the step's node count; 0 or 1: one node */
	long interval;		/* seconds; 0 = no periodic checkpoints */
	long max_wait;		/* seconds */
	long keep;
	long lead;		/* seconds before the end time: last image */
	long max_requeue;	/* automatic requeues before a hold; 0: no limit */
	int exit_code;		/* checkpoint-and-exit code; 0: none */
	int signo;
	bool resubmit;		/* submit the job again from its image when a
				 * preemption cancels it */
	/* At most one of dir, image_dir, fetch_dir: the one of the op.
	 * Each is "dir" on the wire. */
	char *dir;		/* REGISTER: the step's absolute checkpoint
				 * directory */
	char *image_dir;	/* LIST, CREATE, VACATE, REQUEUE: ImageDir=,
				 * the absolute directory of the images
				 * instead of the step's; NULL: none */
	char *fetch_dir;	/* FETCH from scheckpoint restart: the
				 * absolute directory the batch image of an
				 * ended job is fetched into; NULL: a
				 * task's fetch, into the step's dir */
	char *node;		/* node name, for messages */
	char *method;		/* checkpoint method; NULL: "signal" */
	char *trigger;		/* file to create instead of signalling */
	char *watch;		/* file the application checkpoints to */
	char *local;		/* REGISTER: node-local staging directory
				 * (<local>/<uid>/<job>), or NULL */
	/* TASK, EXIT */
	uint32_t task;		/* global task id */
	/* EXIT */
	int status;		/* the task's wait status */
	/* REPLY */
	int ok;			/* 1 success, 0 failure */
	int err;		/* errno value when !ok */
	char *error;		/* message for people when !ok */
	uint64_t seq;		/* CREATE: sequence number committed */
	char *image;		/* CREATE: path of the committed image */
	char *restart;		/* REGISTER: the method's restart command */
	char *criu;		/* REGISTER: criu of a criu= method, which
				 * the plugin runs to restore its tasks */
	char *criu_key;		/* REGISTER, with criu: the secret file the
				 * MAC of each dump is keyed from
				 * (imagemac.h), which the plugin checks */
	char *info;		/* requests but CREATE: a JSON object (its
				 * compact text) with what was asked */
	char *to;		/* requests and peer messages: the node
				 * they are for (required over TCP, where
				 * the MUNGE credential binds it: one
				 * taken on the way is no good elsewhere) */
};

/* A checkpoint method's name: 1 to CKPT_METHOD_NAME_MAX of [a-z0-9_-],
 * not starting with '-'.  "signal" is the cooperative method. */
#define CKPT_METHOD_NAME_MAX 32
bool proto_method_name_ok(const char *name);

/* A trigger file (--checkpoint-trigger): a path of 1 to
 * CKPT_TRIGGER_MAX bytes, no control characters, relative (to each
 * task's working directory) or absolute, not ending in '/'. */
#define CKPT_TRIGGER_MAX 1024
bool proto_trigger_ok(const char *path);

/* JSON encoding, keys by op: "op" is a string ("register", "task",
 * "unregister", "create", "reply", "exit", "able", "vacate", "requeue",
 * "enable", "disable", "error", "list", "show", "prepare", "abort",
 * "fetch", "events") plus "v":CKPT_PROTO_VERSION.  A register message carries
 * "nodeid" and "nnodes" (optional on decoding: 0 and 1).  dir (register),
 * image_dir (list, create, vacate, requeue) and fetch_dir (fetch) are
 * all "dir".
 * Only the fields belonging to the op are written. */
char *proto_encode(const struct ckpt_msg *m);		/* malloc'ed, NULL+errno */

/* Strict decoding: wrong version, unknown op, a missing field, a field of
 * the wrong type or out of range, or an unknown key is EINVAL with a
 * message in err.  m is zeroed first; free with proto_msg_clear(). */
int proto_decode(const char *buf, size_t len, struct ckpt_msg *m,
		 char *err, size_t errlen);
void proto_msg_clear(struct ckpt_msg *m);

/* Connect to the Unix socket at path (SOCK_SEQPACKET, close-on-exec);
 * with timeout_s > 0, sends and receives on it time out after that many
 * seconds.  Returns the fd, or -1 with errno (ENAMETOOLONG for a path
 * that does not fit a socket address; EPERM when the listener is neither
 * root nor the caller: not slurmckptd). */
/* A node's slurmckptd TCP port in a map "<port>" (every node) or
 * "<node>:<port>,<node>:<port>..." (SLURM_CHECKPOINT_PORTS of scheckpoint,
 * peer_ports= of slurmckptd); 0 when none is known or it is no port. */
long proto_port_of(const char *map, const char *node);

int proto_connect(const char *path, int timeout_s);

/* Send one message as one packet, with passfd in SCM_RIGHTS unless -1.
 * MSG_NOSIGNAL.  0/-1 errno. */
int proto_send(int fd, const struct ckpt_msg *m, int passfd);

/* Receive one packet and decode it.  Returns 1 with *m filled, 0 at end of
 * file (peer closed), -1 with errno (EINVAL for a bad message, message in
 * err; EMSGSIZE for a truncated packet).  A received fd is stored in
 * *passfd (O_CLOEXEC) when passfd is non-NULL, else closed; *passfd = -1
 * when none came. */
int proto_recv(int fd, struct ckpt_msg *m, int *passfd, char *err,
	       size_t errlen);

/* TCP (scheckpoint from another node): one frame per message, a 4-byte
 * big-endian length then that many bytes (a MUNGE credential whose payload
 * is the request; the reply's JSON).  Blocking.  0/-1 errno; a frame over
 * CKPT_FRAME_MAX is EMSGSIZE. */
#define CKPT_FRAME_MAX (4 * CKPT_MSG_MAX)
int proto_frame_send(int fd, const char *buf, size_t len);
/* The frame of len bytes of buf (malloc'ed, *outlen bytes), for a
 * sender that must not block; NULL with errno (EMSGSIZE). */
char *proto_frame_pack(const char *buf, size_t len, size_t *outlen);
/* *buf malloc'ed and NUL-terminated; 1, 0 at end of file, -1 errno. */
int proto_frame_recv(int fd, char **buf, size_t *len);

/* Shorthands for replies. */
int proto_reply_ok(int fd);
int proto_reply_err(int fd, int err, const char *text);

#endif
