#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1720-offsite-fetch-share: no user holds every slot of scheckpoint
# restart's fetches from the offsite store (issue 13, finding 5).  The
# store is a server that accepts connections and never answers, so a fetch
# runs until offsite_timeout.  ckptuser's first restart fetches (and
# hangs); its next ones are refused at once ("a fetch of yours ... is in
# progress"); ckptother's restart is still let in and fetches.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

stall_port=$(free_port) || fail "no free port"
python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); held = []
while True:
	held.append(s.accept()[0])' "$stall_port" </dev/null >/dev/null 2>&1 &
stall_pid=$!
# Python may take seconds to start on a busy machine: a fetch before it
# listens fails at once instead of hanging.
_stalling() { [ -n "$(ss -Hltn "sport = :$stall_port")" ]; }
wait_for 60 _stalling || fail "the stalling server does not listen on port $stall_port"
creds=$CLUSTER_DIR/offsite.cred
printf 'user=ckpt\npassword=x\n' >"$creds"
chmod 0600 "$creds"
helper_stop
CKPT_HELPER_CONF="offsite_url=http://127.0.0.1:$stall_port/dav
offsite_credentials=$creds
offsite_timeout=120"
helper_start || fail "slurmckptd did not start: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
ok "offsite store: a server on port $stall_port that never answers"

adir=$(user_dir "$CLUSTER_WORK/a")
bdir=$CLUSTER_WORK/b
mkdir -p "$bdir" && chown "$CKPT_OTHER:" "$bdir" || fail "cannot make $bdir"
log=$CLUSTER_DIR/slurmckptd.log
uid_a=$(id -u "$CKPT_USER")
uid_b=$(id -u "$CKPT_OTHER")

as_user "$SCHECKPOINT" restart 9101 ImageDir="$adir" >"$CLUSTER_WORK/a1.out" 2>&1 &
wait_for 20 grep -q "9101.batch: restart by uid $uid_a asks for an image" "$log" ||
	fail "$CKPT_USER's first restart fetched nothing: $(cat "$CLUSTER_WORK/a1.out"; tail -n 5 "$log")"
ok "$CKPT_USER's restart of job 9101 fetches (and waits on the store)"

for jid in 9102 9103 9104; do
	msg=$(as_user timeout 60 "$SCHECKPOINT" restart "$jid" ImageDir="$adir" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "$CKPT_USER's restart of $jid: exit $rc (want 1): $msg"
	echo "$msg" | grep -q "a fetch of yours from the offsite store is in progress" ||
		fail "$CKPT_USER's restart of $jid: $msg"
done
ok "$CKPT_USER's next restarts refused at once: $(echo "$msg" | tail -n 1)"

as_other "$SCHECKPOINT" restart 9201 ImageDir="$bdir" >"$CLUSTER_WORK/b.out" 2>&1 &
wait_for 20 grep -q "9201.batch: restart by uid $uid_b asks for an image" "$log" ||
	fail "$CKPT_OTHER's restart was not let in: $(cat "$CLUSTER_WORK/b.out"; tail -n 5 "$log")"
ok "$CKPT_OTHER's restart of job 9201 fetches too"
helper_stop
kill "$stall_pid" 2>/dev/null
wait 2>/dev/null
