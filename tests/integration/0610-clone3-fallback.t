#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0610-clone3-fallback: on a kernel without clone3 (or behind a filter that
# refuses it; strace's fault injection plays that part here) slurmckptd says
# so once, closes its reserved descriptor slots, forks its children (the
# checkpoints' workers among them) instead, and the checkpoints are still
# taken and committed.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

command -v strace >/dev/null || fail "strace is not installed (contrib/install-deps.sh)"
# Only the helper itself is traced (no -f): its workers run untraced.
# (Set for the whole test: helper_stop stops the helper under the tracer.)
HELPER_WRAP="strace -qq -o /dev/null -e trace=clone3 -e inject=clone3:error=ENOSYS"
cluster_start 1

real=$(pgrep -P "$CLUSTER_HELPER_PID" -x slurmckptd) || fail "no slurmckptd under strace"
log=$CLUSTER_DIR/slurmckptd.log
fallback='clone3: Function not implemented: children are forked with all descriptors'
# Its first child (the lookup of SlurmUser, at start) meets the refusal.
wait_for 30 grep -q "$fallback" "$log" ||
	fail "no fallback logged: $(tail -n 5 "$log")"
left=$(ls -l "/proc/$real/fd" | grep -c ' /dev/null$')
# The 32 slots (reserved on /dev/null) and their placeholder are closed.
[ "$left" -lt 4 ] || fail "slurmckptd (pid $real) holds $left descriptors on /dev/null after the fallback"
ok "slurmckptd (pid $real, under strace) fell back to fork at its first child; its slots are closed ($left descriptors on /dev/null left)"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/fallback.out
j=$(submit --checkpoint=0:02 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 60) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 20 commits_at_least "$ckdir" "$j.batch" 3 ||
	fail "fewer than 3 checkpoints committed: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
image_verify "$ckdir/$j.ckpt" || fail "$ckdir/$j.ckpt does not verify"
ok "3 checkpoints committed with clone3 refused; the image verifies"

n=$(grep -c "$fallback" "$log")
[ "$n" = 1 ] || fail "the fallback was logged $n times: $(grep clone3 "$log")"
ok "fallback logged once"

scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
helper_stop
line=$(grep 'children: ' "$log" | tail -n 1)
forked=$(echo "$line" | sed -n 's/.*children: 0 spawned with their own descriptors only, \([0-9]*\) forked with all.*/\1/p')
[ "${forked:-0}" -ge 3 ] || fail "slurmckptd's count of children: $line"
ok "at exit: $line"
