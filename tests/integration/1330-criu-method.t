#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1330-criu-method: a method with criu= (slurmckptd(8), METHODS) with a
# real CRIU.  A counter that keeps its count only in memory is dumped by
# "criu dump --unprivileged --leave-running", run by slurmckptd as the
# job's user with CAP_CHECKPOINT_RESTORE only, and goes on running; the
# image holds the process tree.  Then the job is cancelled and the dump
# restored by hand, as root, with --inherit-fd for the output file (its
# size changed since the dump): the count goes on from the dump's, not
# from 0.  Debian 12's CRIU 3.17 fails on recent kernels ("vdso:
# Unexpected rt vDSO area bounds"): skipped unless a criu whose "criu
# check" passes is found (PATH, /usr/local/sbin, /opt/criu/sbin).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
# A dump takes seconds on a quiet machine; on a busy one it may take
# more than the usual max_wait of 10 s, which is no failure of criu's.
export CKPT_MAX_WAIT=${CKPT_MAX_WAIT:-120}
cluster_start 1
criu_method_start
ok "slurmckptd offers method criu ($(sed -n 's/.*method criu: .*(check: \(.*\))$/\1/p' "$CLUSTER_DIR/slurmckptd.log"))"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=300
out=$CLUSTER_WORK/mem.out
j=$(submit --checkpoint=0 --checkpoint-method=criu --checkpoint-dir="$ckdir" \
	--chdir="$CLUSTER_WORK" -o "$out" --wrap "exec $APPS/memcount.sh $N") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^tick=3$' "$out" || fail "the counter does not count: $(tail -n 3 "$out")"
t0=$(date +%s.%N)
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
took=$(echo "$(date +%s.%N) - $t0" | bc)
at=$(grep '^tick=' "$out" | tail -n1)
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image does not verify"
[ -s "$img/criu.0/pstree.img" ] && [ -s "$img/criu.0/inventory.img" ] ||
	fail "no criu images in $img: $(ls -R "$img")"
[ "$(stat -c %U "$img/criu.0/pstree.img")" = "$CKPT_USER" ] || fail "images not the user's"
ok "criu dump committed in ${took%???????} s: $(ls "$img/criu.0" | wc -l) files, $(du -sh "$img" | cut -f1), at $at"
sleep 3
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after the dump"
last=$(sed -n 's/^tick=//p' "$out" | tail -n1)
[ "$last" -gt "${at#tick=}" ] || fail "the counter stopped after the dump: $(tail -n 2 "$out")"
ok "the job runs on after the dump (tick=$last)"

# What keeps the method to the user's own processes: criu as the user
# with CAP_CHECKPOINT_RESTORE, as slurmckptd runs it, cannot dump root's.
if command -v setpriv >/dev/null; then
	sleep 60 &
	rootpid=$!
	rdir=$(user_dir "$CLUSTER_DIR/rootdump")
	setpriv --reuid="$CKPT_USER" --regid="$CKPT_USER" --init-groups \
		--inh-caps=+checkpoint_restore --ambient-caps=+checkpoint_restore \
		"$CRIU" dump --unprivileged -t "$rootpid" -D "$rdir" --leave-running \
		--shell-job -o dump.log >/dev/null 2>&1 &&
		fail "criu as $CKPT_USER dumped root's process $rootpid"
	kill "$rootpid"
	[ ! -e "$rdir/pages-1.img" ] || fail "root's memory was written to $rdir"
	why=$(grep -m1 "Operation not permitted" "$rdir/dump.log") ||
		fail "criu failed for another reason: $(grep -v ^Warn "$rdir/dump.log" | head -n 3)"
	ok "criu as $CKPT_USER with CAP_CHECKPOINT_RESTORE cannot dump root's process (${why#*: })"
fi

# By hand: the job is gone, its tree restored from the image, as root.
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
sleep 1
grep -q "^tick=$((last + 5))$" "$out" && fail "still counting after scancel"
copy=$CLUSTER_DIR/restore
cp -a "$img/criu.0" "$copy"
# CRIU gives each process its old pid: wait until they are all free.
# A pid number stays taken while any process has it as its process group
# or session, even once /proc/<pid> is gone (then criu: "Can't fork for
# <pid>: File exists"), so the wait covers groups and sessions too.
# pid_max is 32768 here and other builds and tests run beside this one,
# so a dumped pid may also be taken again between that wait and the
# restore: then who holds it is shown and the restore tried again, at
# most 3 times.  Any other failure is shown whole (criu's output, every
# error of its log, the log's end).
pids=$(ls "$copy" | sed -n 's/^core-\([0-9]*\)\.img$/\1/p' | tr '\n' ' ')
_pid_users() {
	local p
	for p in $pids; do
		[ ! -e "/proc/$p" ] || echo "pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
		ps -eo pid=,pgid=,sid=,user=,args= | awk -v p="$p" '$2 == p || $3 == p { print "pgid/sid " p ": " $0 }'
	done
}
_pids_free() { [ -z "$(_pid_users)" ]; }
lines=$(wc -l <"$out")
for try in 1 2 3; do
	wait_for 20 _pids_free || fail "the dumped pids ($pids) are still in use: $(_pid_users)"
	rm -f "$CLUSTER_WORK/restored.pid" "$copy/restore.log"
	( exec 3>>"$out"
	  "$CRIU" restore -D "$copy" -o restore.log -v2 --shell-job -d \
		--inherit-fd "fd[3]:${out#/}" --pidfile "$CLUSTER_WORK/restored.pid" ) \
		>"$CLUSTER_DIR/restore.out" 2>&1 && break
	rc=$?
	why=$(grep -E "Error|FAILED" "$copy/restore.log" 2>&1)
	if [ "$try" -lt 3 ] && echo "$why" | grep -q "Can't fork for [0-9]*: File exists"; then
		note "restore $try: $(echo "$why" | grep -m1 "Can't fork"); held by: $(_pid_users); trying again"
		continue
	fi
	fail "criu restore (try $try) exited $rc: $(cat "$CLUSTER_DIR/restore.out")
# errors: $why
# pids now: $(_pid_users)
# log end: $(tail -n 15 "$copy/restore.log")"
done
rpid=$(cat "$CLUSTER_WORK/restored.pid")
_new_ticks() { [ "$(tail -n +$((lines + 1)) "$out" | grep -c '^tick=')" -ge 2 ]; }
wait_for 10 _new_ticks || fail "the restored counter does not count: $(tail -n 4 "$out")"
kill "$rpid" 2>/dev/null
first=$(tail -n +$((lines + 1)) "$out" | sed -n 's/^tick=//p' | head -n1)
[ "$first" -le $((${at#tick=} + 1)) ] && [ "$first" -gt 1 ] ||
	fail "the restored counter went on at $first, not from the dump (at $at; stopped at $last)"
ok "restored by hand (criu restore --inherit-fd, pid $rpid, dumped pids $pids): counts on at tick=$first (dumped at $at; the job had reached $last)"
