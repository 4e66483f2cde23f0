#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0200-bad-input: sbatch/srun reject bad --checkpoint/--checkpoint-dir input
# (and SLURM_CHECKPOINT) with "checkpoint: <message>", exit != 0 and nothing
# submitted (directories whose names hold control characters too); a good
# interval is accepted.  The site minimum is 1:00 here.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_PLUGIN_ARGS="min_interval=1:00" cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
rootdir=$CLUSTER_DIR/rootonly
mkdir -p "$rootdir" && chmod 0755 "$rootdir"

# reject <what> <word-regex> <command...>: the command (as ckptuser) must fail,
# print "checkpoint:" and a word matching <word-regex> on stderr.
reject() {
	local what=$1 word=$2 rc err
	shift 2
	err=$(as_user "$@" 2>&1 >/dev/null)
	rc=$?
	[ $rc -ne 0 ] || fail "$what: accepted (exit 0)"
	echo "$err" | grep -q 'checkpoint:' ||
		fail "$what: exit $rc but no 'checkpoint:' message; stderr: $err"
	echo "$err" | grep -qiE "$word" ||
		fail "$what: message does not say /$word/: $err"
	ok "$what rejected: $(echo "$err" | grep -m1 'checkpoint:')"
}

reject "--checkpoint=abc" "invalid|interval" sbatch --checkpoint=abc --wrap true
reject "--checkpoint=-5" "invalid|interval|negative" sbatch --checkpoint=-5 --wrap true
reject "--checkpoint=1:2:3:4" "invalid|interval" sbatch --checkpoint=1:2:3:4 --wrap true
reject "--checkpoint=99999999:00:00" "too large: at most 24855-03:14:07" \
	sbatch --checkpoint=99999999:00:00 --wrap true
reject "--checkpoint=" "invalid|interval|empty" sbatch --checkpoint= --wrap true
reject "relative --checkpoint-dir" "absolute" \
	sbatch --checkpoint=5:00 --checkpoint-dir=ckpt --wrap true
reject "missing --checkpoint-dir" "no such file|exist" \
	sbatch --checkpoint=5:00 --checkpoint-dir="$CLUSTER_DIR/nonexistent" --wrap true
reject "unwritable --checkpoint-dir" "permission|writ" \
	sbatch --checkpoint=5:00 --checkpoint-dir="$rootdir" --wrap true
# A directory whose name holds a control character (it exists: only the
# name is at fault) would reach logs and terminals.
escdir=$(user_dir "$CLUSTER_DIR/ckpt"$'\033]0;owned\007')
reject "--checkpoint-dir with an escape sequence" "control character" \
	sbatch --checkpoint=5:00 --checkpoint-dir="$escdir" --wrap true
reject "--restart-dir with a newline" "control character" \
	sbatch --checkpoint=5:00 --restart-dir="$(user_dir "$CLUSTER_DIR/old"$'\n'"x")" --wrap true
reject "relative --restart-dir" "absolute" \
	sbatch --checkpoint=5:00 --restart-dir=old --wrap true
reject "SLURM_CHECKPOINT=abc" "invalid|interval" \
	env SLURM_CHECKPOINT=abc sbatch --wrap true
reject "SLURM_CHECKPOINT_DIR=ckpt" "absolute" \
	env SLURM_CHECKPOINT=5:00 SLURM_CHECKPOINT_DIR=ckpt sbatch --wrap true
reject "--checkpoint=0:10 below min_interval=1:00" "below|minimum" \
	sbatch --checkpoint=0:10 --wrap true
reject "srun --checkpoint=abc" "invalid|interval" srun -n1 --checkpoint=abc true
reject "srun --checkpoint-dir=ckpt" "absolute" \
	srun -n1 --checkpoint=5:00 --checkpoint-dir=ckpt true
reject "srun --checkpoint=0:30 below min_interval" "below|minimum" \
	srun -n1 --checkpoint=0:30 true
reject "salloc --checkpoint=abc" "invalid|interval" salloc --checkpoint=abc true
reject "salloc --checkpoint-dir=ckpt" "absolute" salloc --checkpoint=5:00 --checkpoint-dir=ckpt true

jobs=$(squeue -h -t all -o %i)
[ -z "$jobs" ] || fail "bad input still submitted job(s): $jobs"
ok "no job was submitted by bad input"

# Good input from here on: the steps register with slurmckptd.
require_helper
# Command line wins over the environment.
j=$(submit --checkpoint=1-0:00:00 --checkpoint-dir="$ckdir" -o /dev/null --wrap 'sleep 60') ||
	fail "--checkpoint=1-0:00:00 was rejected"
ok "--checkpoint=1-0:00:00 accepted (job $j)"
j2=$(SLURM_CHECKPOINT=abc submit --checkpoint=2:00 --checkpoint-dir="$ckdir" -o /dev/null --wrap true) ||
	fail "--checkpoint=2:00 with SLURM_CHECKPOINT=abc rejected (command line must win)"
ok "--checkpoint on the command line wins over SLURM_CHECKPOINT (job $j2)"
j3=$(submit --checkpoint=0 -o /dev/null --wrap true) || fail "--checkpoint=0 rejected (0 is always allowed)"
ok "--checkpoint=0 accepted below min_interval (job $j3)"
warn="checkpoint: warning: --checkpoint-dir has no effect without --checkpoint"
out=$(as_user sbatch -o /dev/null --checkpoint-dir="$ckdir" --wrap true 2>&1) ||
	fail "sbatch --checkpoint-dir alone failed: $out"
echo "$out" | grep -qF "$warn" || fail "sbatch --checkpoint-dir alone: no warning: $out"
j4=$(echo "$out" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
[ -n "$j4" ] || fail "sbatch --checkpoint-dir alone: no job: $out"
ok "sbatch --checkpoint-dir alone runs (job $j4), with a warning"
out=$(as_user srun -n1 --checkpoint-dir="$ckdir" echo srun-ok 2>&1) ||
	fail "srun --checkpoint-dir alone failed: $out"
echo "$out" | grep -qx srun-ok && echo "$out" | grep -qF "$warn" ||
	fail "srun --checkpoint-dir alone printed: $out"
ok "srun --checkpoint-dir alone runs, with a warning"
out=$(as_user srun -n1 --checkpoint=2:00 --checkpoint-dir="$ckdir" echo srun-ok 2>&1) ||
	fail "srun --checkpoint=2:00 failed: $out"
echo "$out" | grep -qx srun-ok || fail "srun --checkpoint=2:00 printed: $out"
ok "srun --checkpoint=2:00 runs"
echo "$out" | grep -q warning && fail "srun --checkpoint=2:00 warned: $out"
scancel "$j" "$j2" "$j3" "$j4" 2>/dev/null
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"
ok "job $j cancelled"
st=$(sinfo -h -o %t)
[ "$st" = idle ] || fail "node state '$st' at the end: $(sinfo -h -o '%N %t %E')"
ok "node still idle"
