#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# demo.sh - the README's demo: build, start a private one-node Slurm cluster
# (tests/integration/cluster.sh), run a counter with --checkpoint=0:05, requeue
# it, and watch it resume from its last checkpoint.  Needs root (it starts
# munged, slurmctld, slurmd and slurmckptd of its own, all torn down at the end).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (it starts a private Slurm cluster)" >&2; exit 1; }

if [ -t 1 ]; then BOLD=$'\033[1m' RESET=$'\033[0m'; else BOLD='' RESET=''; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$*" "$RESET"; }
say() { printf '    %s\n' "$*"; }
die() { printf '\ndemo.sh: %s\n' "$*" >&2; exit 1; }

step "Installing dependencies and building (./build)"
contrib/install-deps.sh || die "install-deps.sh failed"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt configure ]; then
	autoreconf -fi >/dev/null 2>&1 || die "autoreconf -fi failed"
fi
mkdir -p build
( cd build && { [ -f config.status ] || ../configure --enable-werror >configure.out 2>&1; } &&
	make -j2 >make.out 2>&1 ) || die "the build failed; see build/configure.out and build/make.out"
say "built build/spank/.libs/checkpoint.so, build/helper/slurmckptd, build/scheckpoint/scheckpoint"

export top_srcdir=$top
export top_builddir=$top/build
# shellcheck source=../tests/integration/cluster.sh
. "$top/tests/integration/cluster.sh"

step "Starting a private Slurm cluster (munged, slurmctld, slurmd c1, slurmckptd)"
cluster_start 1 >/dev/null || die "the cluster did not start"
say "cluster directory: $CLUSTER_DIR"
say "plugstack.conf:    $(cat "$CLUSTER_DIR/plugstack.conf")"
say "node:              $(sinfo -h -o '%N %t')"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/counter.out
N=30
step "Submitting, as user $CKPT_USER, a bash counter that counts to $N, one a second"
say "sbatch --checkpoint=0:05 --checkpoint-dir=$ckdir --open-mode=append counter.sh $N"
say "(the app traps \$SLURM_CHECKPOINT_SIGNAL, writes its count to \$SLURM_CHECKPOINT_DIR/count"
say " and touches \$SLURM_CHECKPOINT_DONE; on restart it reads \$SLURM_RESTART_DIR/count)"
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" --open-mode=append -o "$out" \
	"$APPS/counter.sh" "$N") || die "sbatch failed"
say "job $j submitted"
job_wait_state "$j" RUNNING 20 || die "job $j did not start"
say "job $j is RUNNING on $(job_field "$j" NodeList)"

list_images() {
	local im
	for im in $(images "$ckdir" "$j.ckpt"); do
		say "  $(basename "$im"): seq $(manifest_get "$im" .seq)," \
			"taken $(t=$(manifest_get "$im" .time); date -d "@$t" +%T 2>/dev/null || echo "$t")," \
			"count=$(cat "$im/count")" \
			"($(manifest_get "$im" '.files | length') file(s), reason $(manifest_get "$im" .reason))"
	done
}

step "Waiting for checkpoints (one every 5 s)"
seen=0
end=$((SECONDS + 30))
while [ "$seen" -lt 2 ] && [ "$SECONDS" -lt "$end" ]; do
	n=$(committed_count "$ckdir" "$j.batch")
	if [ "$n" -gt "$seen" ]; then
		seen=$n
		say "checkpoint committed: $(grep "$j.batch seq=$n " "$ckdir/checkpoint.log" | tail -n1)"
	fi
	sleep 0.3
done
[ "$seen" -ge 2 ] || die "no two checkpoints in 30 s; see $CLUSTER_DIR/slurmckptd.log"
say "images in $ckdir:"
list_images
say "the app's output so far ends with: $(tail -n 2 "$out" | tr '\n' ' ')"

sleep 2
step "Requeueing job $j (scontrol requeue $j): the job is killed and goes back to the queue"
scontrol requeue "$j" || die "scontrol requeue failed"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j"
say "first run stopped at $(grep '^tick=' "$out" | tail -n1); job state now $(job_state "$j")"
say "newest image: $j.ckpt seq $(manifest_get "$ckdir/$j.ckpt" .seq), count=$(cat "$ckdir/$j.ckpt/count")"
say "(a requeued job waits for the credential lifetime, 10 s here, before it runs again)"

job_wait_state "$j" RUNNING 60 || die "job $j did not run again"
wait_for 10 grep -q '^restart_count=1' "$out"
wait_for 5 grep -q '^restart_dir=' "$out"
step "Job $j is running again (restart $(job_field "$j" Restarts))"
say "SLURM_RESTART_DIR=$(sed -n 's/^restart_dir=//p' "$out" | tail -n1)"
say "it resumes at count $(sed -n 's/^start=//p' "$out" | tail -n1) instead of 0"

step "Waiting for the job to finish"
state=$(job_wait_done "$j" 60) || die "job $j did not finish"
say "job $j: $state, $(grep '^final=' "$out" | tail -n1)"
say "the whole output file ($out), condensed:"
grep -vE '^tick=' "$out" | sed 's/^/      /'
say "ticks counted: $(grep -c '^tick=' "$out") for $N numbers" \
	"($(($(grep -c '^tick=' "$out") - N)) counted twice: the work since the last checkpoint)"
say "images at the end:"
list_images
say "checkpoint.log:"
sed 's/^/      /' "$ckdir/checkpoint.log"

step "Tearing the cluster down"
cluster_stop >/dev/null
say "all daemons stopped and the cluster directory removed; demo done."
