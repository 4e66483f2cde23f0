#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1300-contrib-examples: the application helpers of contrib/ and the job
# examples that can run here, each checkpointed, requeued and resumed on a
# real cluster: bash-loop.sbatch (a trap), c-counter.c (through
# contrib/slurm_checkpoint.h), python-pickle.py and pytorch-style.py
# (through contrib/python/slurm_checkpoint.py).  Each must resume from its
# image, not from zero, and finish with its state intact (the Python ones
# assert on state that a lost or torn checkpoint would break).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
ex=$CLUSTER_DIR/examples
mkdir -p "$ex"
# The tree's, or the installed ones (CKPT_INSTALLED=1, cluster.sh).
cp "$CKPT_EXAMPLES"/* "$ex/" || fail "no examples in '$CKPT_EXAMPLES'"
[ -z "$CKPT_PYTHON_DIR" ] || cp "$CKPT_PYTHON_DIR/slurm_checkpoint.py" "$ex/"
# shellcheck disable=SC2086
${CC:-cc} -Wall -Wextra -Werror -O2 $CKPT_CFLAGS -o "$ex/c-counter" \
	"$ex/c-counter.c" || fail "c-counter.c does not build"
chmod -R a+rX "$ex"
ok "c-counter.c builds with -Wall -Wextra -Werror against slurm_checkpoint.h ($CKPT_EXAMPLES, ${CKPT_CFLAGS:-no flags})"

N=25
declare -A job
run() {		# run <name> <sbatch args...>
	local k=$1
	shift
	job[$k]=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" --requeue \
		--open-mode=append -o "$CLUSTER_WORK/$k.out" "$@") ||
		fail "sbatch ($k) failed"
}
run bash "$ex/bash-loop.sbatch" "$N"
run c --wrap="exec $ex/c-counter $N"
run python --wrap="PYTHONPATH=$ex exec python3 $ex/python-pickle.py $N"
run pytorch --wrap="PYTHONPATH=$ex exec python3 $ex/pytorch-style.py $N"
for k in bash c python pytorch; do
	job_wait_state "${job[$k]}" RUNNING 30 || fail "$k job ${job[$k]} did not start"
done
ok "jobs: $(for k in bash c python pytorch; do printf '%s=%s ' "$k" "${job[$k]}"; done)"

for k in bash c python pytorch; do
	wait_for 40 commits_at_least "$ckdir" "${job[$k]}.batch" 1 ||
		fail "$k: no commit: $(cat "$CLUSTER_WORK/$k.out"; grep "${job[$k]}" "$ckdir/checkpoint.log")"
done
for k in bash c python pytorch; do
	scontrol requeue "${job[$k]}" || fail "scontrol requeue ${job[$k]}"
done
ok "each example committed an image and was requeued"

for k in bash c python pytorch; do
	j=${job[$k]}
	out=$CLUSTER_WORK/$k.out
	state=$(job_wait_done "$j" 120) || fail "$k job $j did not finish"
	[ "$state" = COMPLETED ] || fail "$k job $j ended $state: $(tail -n 5 "$out")"
	grep -qx "final=$N" "$out" || fail "$k: no final=$N: $(tail -n 5 "$out")"
	starts=$(sed -n 's/^start=//p' "$out" | tr '\n' ' ')
	[ "$(grep -c '^start=' "$out")" -eq 2 ] || fail "$k: runs started at $starts"
	last=$(grep '^start=' "$out" | tail -n1)
	[ "$last" != start=0 ] || fail "$k: the second run started from 0"
	image_verify "$ckdir/$j.ckpt" || fail "$k: image $j.ckpt does not verify"
	ok "$k: resumed (runs started at $starts) and completed with final=$N"
done
