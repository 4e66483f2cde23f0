#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1470-slurm-user: a cluster whose slurmctld runs as a SlurmUser that is
# not root (ckptslurm).  slurmckptd asks slurmctld who that is at start;
# then the SlurmUser may act on another user's job, as root may, on the
# node's socket and over TCP with its MUNGE credential: create commits an
# image, disable and enable are taken.  A third user is still refused,
# on both.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CLUSTER_SLURM_USER=ckptslurm
cluster_start 1

su=$(id -u "$CLUSTER_SLURM_USER") || fail "no user $CLUSTER_SLURM_USER"
ctld=$(_pid_from_file "$CLUSTER_DIR/slurmctld.pid")
[ "$(ps -o user= -p "$ctld")" = "$CLUSTER_SLURM_USER" ] ||
	fail "slurmctld runs as $(ps -o user= -p "$ctld"), not $CLUSTER_SLURM_USER"
helper_restart_tcp
P=$HELPER_PORT
wait_for 5 grep -q "SlurmUser is uid $su\$" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "slurmckptd did not learn the SlurmUser: $(grep -i slurmuser "$CLUSTER_DIR/slurmckptd.log")"
ok "slurmctld runs as $CLUSTER_SLURM_USER (uid $su), and slurmckptd says: SlurmUser is uid $su"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/su.out
j=$(submit --checkpoint=10:00 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 120) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"

as_slurm() {
	(cd "$CLUSTER_WORK" && runuser -u "$CLUSTER_SLURM_USER" -- "$@")
}
remote() {	# <runner> <scheckpoint args>: from a node without a socket
	local run=$1
	shift
	$run env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
		SLURM_CHECKPOINT_PORTS="c1:$P" "$SCHECKPOINT" "$@"
}

msg=$(as_slurm "$SCHECKPOINT" create "$j" 2>&1) || fail "create as the SlurmUser: exit $?: $msg"
echo "$msg" | grep -qF "$ckdir/$j.ckpt" || fail "create as the SlurmUser: $msg"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
[ "$(stat -c %U "$ckdir/$j.ckpt/manifest.json")" = "$CKPT_USER" ] ||
	fail "the image is owned by $(stat -c %U "$ckdir/$j.ckpt/manifest.json"), not the job's user"
ok "create of $CKPT_USER's job $j by the SlurmUser on the socket: seq $seq, owned by $CKPT_USER"

msg=$(as_slurm "$SCHECKPOINT" disable "$j" 2>&1) || fail "disable as the SlurmUser: $msg"
as_user "$SCHECKPOINT" show "$j" 2>&1 | grep -q 'Periodic=disabled' ||
	fail "show after disable: $(as_user "$SCHECKPOINT" show "$j" 2>&1)"
msg=$(as_slurm "$SCHECKPOINT" enable "$j" 2>&1) || fail "enable as the SlurmUser: $msg"
as_user "$SCHECKPOINT" show "$j" 2>&1 | grep -q 'Periodic=enabled' ||
	fail "show after enable: $(as_user "$SCHECKPOINT" show "$j" 2>&1)"
ok "disable and enable by the SlurmUser taken"

msg=$(remote as_slurm create "$j" MaxWait=60 2>&1) || fail "remote create as the SlurmUser: exit $?: $msg"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" -gt "$seq" ] || fail "remote create made no newer image: $msg"
grep -q "TCP request from .*, uid $su\$" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the helper log does not show the SlurmUser's TCP request"
ok "create by the SlurmUser over TCP (MUNGE uid $su): seq $(manifest_get "$ckdir/$j.ckpt" .seq)"

seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
msg=$(as_other "$SCHECKPOINT" create "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$msg" | grep -q 'permission denied' ||
	fail "create by $CKPT_OTHER on the socket: exit $rc: $msg"
msg=$(remote as_other create "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] && echo "$msg" | grep -q 'permission denied' ||
	fail "create by $CKPT_OTHER over TCP: exit $rc: $msg"
[ "$(manifest_get "$ckdir/$j.ckpt" .seq)" = "$seq" ] || fail "a refused create made an image"
ok "$CKPT_OTHER refused on the socket and over TCP: $msg"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
