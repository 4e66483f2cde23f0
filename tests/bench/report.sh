# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# report.sh - sourced by tests/bench/run.sh at the end: the table on stdout,
# the PNG plots, and doc/benchmarks.md.  Reads $RES and $BENCH_OUT/*.dat.

pm() { if [ "$1" = 1 ]; then echo pass; else echo MISS; fi; }
# verdict3 <median> <half-interval> <target> <rounds>: pass when the whole
# interval of the median is within the target, MISS when all of it is
# beyond, otherwise inconclusive: this run cannot tell.  Under 8 rounds the
# interval itself is too rough (--quick): no verdict.
verdict3() {
	local iv
	iv="$(calc "$1 - $2" 1)..$(calc "$1 + $2" 1)"
	if [ "$4" -lt 8 ]; then echo "no verdict: $4 rounds ($iv)"
	elif [ "$(calc "($1 + $2 <= $3)" 0)" = 1 ]; then echo pass
	elif [ "$(calc "($1 - $2 > $3)" 0)" = 1 ]; then echo "MISS ($iv)"
	else echo "inconclusive ($iv)"; fi
}
tbl() { printf '| %-44s | %-30s | %-34s |\n' "$1" "$2" "$3"; }

TABLE=$BENCH_OUT/table.md
{
	tbl "figure (measured side by side)" "result" "target"
	tbl "---" "---" "---"
	if [ -n "$(get steps_med_none)" ]; then
		n=$(get steps_med_none) o=$(get steps_med_off) c=$(get steps_med_on) z=$(get steps_med_null)
		rn=$(get steps_rate_none) ro=$(get steps_rate_off) rc=$(get steps_rate_on) rz=$(get steps_rate_null)
		tbl "srun step, median ms: none / null / off / on" "$n / $z / $o / $c" "($(get steps_n_none) steps each)"
		tbl "srun steps/s: none / null / off / on" "$rn / $rz / $ro / $rc" ""
		tbl "noise: per-round steps/s, min-max" \
			"$(for v in none null off on; do awk -v v="$v" '$2 == v { if (!n++ || $3 < lo) lo = $3; if ($3 > hi) hi = $3 } END { printf "%s %.1f-%.1f  ", v, lo, hi }' "$BENCH_OUT/steps.rounds"; done)" \
			"(the machine's load, not the plugin)"
		read -r zm zl zh zc nr <<<"$(get steps_null_pct)"
		read -r om ol oh oc _ <<<"$(get steps_off_pct)"
		read -r cm cl ch cc _ <<<"$(get steps_on_ms)"
		tbl "a do-nothing SPANK plugin vs none, per round" "median ${zm}% +-${zc} (IQR ${zl}..${zh})" "(any plugin's cost; $nr rounds)"
		tbl "plugin loaded, no --checkpoint, vs none" "median ${om}% +-${oc} (IQR ${ol}..${oh})" \
			"within 1%: $(verdict3 "$om" "$oc" 1 "$nr")"
		tbl "srun --checkpoint vs none, per step" "median +${cm} ms +-${cc} (IQR ${cl}..${ch})" \
			"within 5 ms: $(verdict3 "$cm" "$cc" 5 "$nr")"
	fi
	if [ -s "$BENCH_OUT/commit.dat" ]; then
		while read -r size bytes c f v xv cp tar; do
			excess=$(calc "($c - $f - $v) * 1000" 1)
			tbl "commit $size: commit / floor (fsync+rename) s" "$c / $f ($(calc "$c / $f" 2)x)" \
				"<= floor+hash: $(pm "$(calc "($c <= 1.1 * ($f + $v) + 0.005)" 0)") (${excess} ms over)"
			tbl "commit $size: vs cp -a / tar to other fs" \
				"$(calc "$cp / $c * 100" 0)% / $(calc "$tar / $c * 100" 0)% of their speed" \
				">= 90% of cp: $(pm "$(calc "($cp / $c >= 0.9)" 0)")"
			tbl "verify $size: MB/s vs xxhsum -H128" \
				"$(calc "$bytes / $v / 1e6" 0) vs $(calc "$bytes / $xv / 1e6" 0) ($(calc "$xv / $v * 100" 0)%)" \
				">= 80%: $(pm "$(calc "($xv / $v >= 0.8)" 0)")$([ "$bytes" -lt 268435456 ] && echo ' (xxhsum start-up dominates)')"
		done <"$BENCH_OUT/commit.dat"
	fi
	if [ -n "$(get wake_idle)" ]; then
		tbl "helper wake-ups in ${WINDOW} s: 0 / 1 / $NJOBS / $NSTEPS" \
			"$(get wake_idle) / $(get wake_one) / $(get wake_many) / $(get wake_steps)" \
			"idle 0: $(pm "$([ "$(get wake_idle)" -eq 0 ] && echo 1)")"
		tbl "helper CPU ticks in ${WINDOW} s: 0 / 1 / $NJOBS / $NSTEPS" \
			"$(get cpu_ticks_idle) / $(get cpu_ticks_one) / $(get cpu_ticks_many) / $(get cpu_ticks_steps)" ""
		tbl "helper RSS KiB: 0 / 1 / $NJOBS / $NSTEPS steps" \
			"$(get rss_idle) / $(get rss_one) / $(get rss_many) / $(get rss_steps)" \
			"< 10 MiB: $(pm "$([ -n "$(get rss_steps)" ] && [ "$(get rss_steps)" -lt 10240 ] && echo 1)") (VmHWM $(get hwm_steps))"
		for l in idle one many steps; do
			r=$(get "rpc_$l")
			eval "rph_$l=$(( ${r:-0} * 3600 / WINDOW ))"
		done
		tbl "REQUEST_JOB_INFO/node/h: 0 / 1 / $NJOBS / $NSTEPS" \
			"$rph_idle / $rph_one / $rph_many / $rph_steps" "same for 1 and $NJOBS: $(pm "$(calc "($rph_many <= $rph_one * 1.5 + 60)" 0)")"
		tbl "storm: $NJOBS scheckpoint create at once" \
			"all done in $(get storm_s) s, $(get storm_failed) failed" "(jobs through the plugin)"
		tbl "storm: $STORM of the $NSTEPS steps at once" \
			"$(get storm100_committed) committed in $(get storm100_s) s, $(get storm100_failed) failed" \
			"all: $(pm "$([ "$(get storm100_committed)" = "$STORM" ] && [ "$(get storm100_failed)" = 0 ] && echo 1)")"
		tbl "helper peak RSS (VmHWM) during that storm" "$(get storm100_rss) KiB" \
			"< 10 MiB: $(pm "$([ -n "$(get storm100_rss)" ] && [ "$(get storm100_rss)" -lt 10240 ] && echo 1)")"
	fi
	if [ -n "$(get e2e_state_ckpt)" ]; then
		for v in ckpt recipe none; do
			case $v in
			ckpt) l="slurm-checkpoint (--checkpoint=0)" ;;
			recipe) l="hand-made --signal/trap/requeue" ;;
			none) l="no checkpointing" ;;
			esac
			tbl "time limit, $E2E_N s of work, --time=2: $l" \
				"lost $(get "e2e_lost_$v") s; $(get "e2e_state_$v") in $(get "e2e_wall_$v") s, $(get "e2e_restarts_$v") requeues" ""
		done
	fi
	for k in preempt preempt_usersig; do
		[ -n "$(get "${k}_state_ckpt")" ] || continue
		cfg="default"
		[ "$k" = preempt_usersig ] && cfg="preempt_send_user_signal"
		for v in ckpt recipe none; do
			case $v in
			ckpt) l="slurm-checkpoint" ;;
			recipe) l="hand-made recipe" ;;
			none) l="no checkpointing" ;;
			esac
			tbl "preempted at ${E2E_PAT} s of ${E2E_PN} s, $cfg: $l" \
				"lost $(get "${k}_lost_$v") s; $(get "${k}_state_$v") in $(get "${k}_wall_$v") s, $(get "${k}_restarts_$v") requeues" \
				"$([ "$v" = recipe ] && echo "(its trap ran $(get "${k}_trap_recipe") time(s))")"
		done
	done
} >"$TABLE"
echo
cat "$TABLE"

# ---------------------------------------------------------------- plots ----
PNGS=
if [ -s "$BENCH_OUT/commit.dat" ]; then
	gnuplot <<EOF && PNGS="$PNGS commit.png"
set terminal pngcairo noenhanced size 640,400 font ",9"
set output "$BENCH_OUT/commit.png"
set title "Commit time by image size (log-log), $(hostname -s), $(get run_date)"
set logscale xy
set xlabel "image size (MiB)"
set ylabel "seconds"
set key top left
set grid
plot "$BENCH_OUT/commit.dat" using (\$2/1048576):3 with linespoints title "image_commit (XXH3+fsync+rename)", \
     "" using (\$2/1048576):4 with linespoints title "floor: fsync+rename", \
     "" using (\$2/1048576):5 with linespoints title "restart verify (warm)", \
     "" using (\$2/1048576):6 with linespoints title "xxhsum -H128 (warm)", \
     "" using (\$2/1048576):7 with linespoints title "cp -a to other ext4 + sync", \
     "" using (\$2/1048576):8 with linespoints title "tar | tar to other ext4 + sync"
EOF
fi
if [ -s "$BENCH_OUT/steps.none.us" ]; then
	for v in none null off on; do
		awk -v v="$v" '{ print v, $1 / 1000 }' "$BENCH_OUT/steps.$v.us"
	done >"$BENCH_OUT/steps.dat"
	gnuplot <<EOF && PNGS="$PNGS steps.png"
set terminal pngcairo noenhanced size 640,400 font ",9"
set output "$BENCH_OUT/steps.png"
set title "srun step latency, $(get steps_n_none) steps per variant, interleaved rounds"
set style data boxplot
set style boxplot nooutliers
set ylabel "ms per step"
set xtics ("no plugin" 1, "do-nothing plugin" 2, "checkpoint.so" 3, "srun --checkpoint" 4)
set grid ytics
plot "< grep '^none' $BENCH_OUT/steps.dat" using (1):2 notitle, \
     "< grep '^null' $BENCH_OUT/steps.dat" using (2):2 notitle, \
     "< grep '^off' $BENCH_OUT/steps.dat" using (3):2 notitle, \
     "< grep '^on' $BENCH_OUT/steps.dat" using (4):2 notitle
EOF
fi

# ------------------------------------------------------ doc/benchmarks.md --
[ "$DOC" = 1 ] || { echo "# --no-doc: results in $BENCH_OUT"; return 0 2>/dev/null || exit 0; }
mkdir -p "$top_srcdir/doc/bench"
for p in $PNGS; do cp "$BENCH_OUT/$p" "$top_srcdir/doc/bench/$p"; done
mode=full
[ "$QUICK" = 1 ] && mode=--quick
{
	cat <<EOF
Benchmarks
==========

What checkpointing costs, measured against the limits.  Produced by

    make bench                      # in the build directory
    sudo tests/bench/run.sh         # about 35 minutes; --quick: about 4

which rewrites this file and \`doc/bench/*.png\`.  Every figure below is a
comparison of things measured in the same run, on the same machine, a few
seconds apart: absolute numbers on a shared machine are noise, ratios less
so.

Latest run
----------

- date: $(get run_date), $mode run, commit $(get run_rev)
- CPU: $(lscpu | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) cores
- memory: $(free -m | awk '/^Mem:/ { printf "%.1f GiB", $2 / 1024 }'), kernel $(uname -r)
- filesystem of the checkpoint directory: $(get fs) (on $(findmnt -no SOURCE --target /var/tmp)); the "other filesystem" is a loop-mounted ext4 image on the same disk
- load average at start / end: $LOAD_START / $LOAD_END (other test suites shared the machine)

$(cat "$TABLE")

![commit time by size](bench/commit.png)
![srun step latency](bench/steps.png)

How each figure is measured
---------------------------

**Step launch** (\`steps\`): one private cluster (tests/integration/cluster.sh),
one node.  A batch job runs $STEPS sequential \`srun -n1 true\` steps and times
each with \`date +%s%N\`.  Four variants: *none*, plugstack.conf without the
plugin line; *null*, a SPANK plugin that does nothing
(tests/bench/null-spank.c: what any plugin costs); *off*, the plugin line but no \`--checkpoint\`; *on*,
\`srun --checkpoint=0 --checkpoint-dir=...\` (each step registers with
slurmckptd and unregisters at its end; the log's "registered" lines are
counted: $(get steps_registered)).  plugstack.conf is rewritten between jobs:
srun and each slurmstepd read it afresh (run.sh checks that \`srun --help\`
lists \`--checkpoint\` with the line and not without it).  $ROUNDS short rounds of
one job per variant, the variants in a fresh random order each round (shuf).
Load from other work on the machine changes from minute to minute, so each
variant is compared only with the no-plugin job of the same round, seconds
apart: per round, the variant's median step latency as a percentage over
*none*'s (null, off) or in ms over it (on).  The table gives the median of
these per-round figures, +- the half-width of its ~95% interval
(1.58 x IQR / sqrt(rounds), the notch of a box plot), and their
interquartile range.  The verdict is "pass" only when the whole interval is
within the target, "MISS" only when all of it is beyond, and otherwise
"inconclusive" with the interval: the run could not tell, whatever the
median says; under 8 rounds (--quick) there is no verdict at all, the
interval of so few being too rough.  The medians and steps/s over all steps, and each variant's
per-round steps/s range (the machine's noise), are shown beside.

**Commit** (\`commit\`, program tests/bench/ckptbench.c, linked with
common/libckpt.la): a task writes its image into \`N.partial\` in the
checkpoint directory itself, so a commit never copies data: it is
\`image_commit()\` = XXH3-128 of every file (manifest_build), fsync of every
file and directory, chmod, manifest.json, two renames, fsync of the
directory, rotation.  Measured from "application done" (data written, not
synced, file closed) to \`image_commit()\` returning.  *Floor*: the same
amount of freshly written data, then fsync + rename + fsync of the
directory: the least any crash-safe commit costs.  Since the commit must
also hash, its target is "no more than floor + hash" (hash = the restart
verification time, 10% + 5 ms slack).  The project does not copy images
across filesystems at all, so there is no cross-filesystem commit to
measure; \`cp -a\` and \`tar | tar\` of the committed image to a loop-mounted
ext4 (+ \`sync -f\`) show what a copy-based design would cost instead, and
the "% of their speed" column is cp time / commit time (over 100%: the
commit is faster than cp).

**Checksums**: the restart check (\`image_find_newest()\` = manifest_read +
manifest_verify, which re-hashes every file with XXH3-128) on the image just
committed, warm cache, best of 3, beside \`xxhsum -H128\` on the same file,
best of 3.  For small files xxhsum's process start-up dominates.

**Helper** (\`helper\`): slurmckptd's context switches (voluntary +
involuntary, all threads, /proc/<pid>/task/*/status), CPU ticks
(/proc/<pid>/stat) and VmRSS over a ${WINDOW}-second window of nothing but
\`sleep\`, with no step, with one registered job, with $NJOBS (batch jobs
with \`--checkpoint=0\` running tests/integration/apps/counter.sh on one
node, OverSubscribe=FORCE), at the default poll_interval=10, and with
$NSTEPS registered steps.  Those are not Slurm jobs (a thousand would not fit
the machine): the load harness of tests/integration/1070-load.t, one
tests/integration/apps/loadapp.c process per step (answering each
checkpoint request at once) and apps/registrar.py registering each through
the helper's real socket as slurmstepd's plugin does (register, then the
task's pidfd, the connection held open), here with an interval of an hour:
registered but idle; VmHWM is shown beside.  In the same windows
\`sdiag --reset\` then \`sdiag\`'s REQUEST_JOB_INFO count gives slurmctld's
requests (the bench itself makes none during the window), scaled to one
hour.  Storms: \`scheckpoint create\` for all $NJOBS jobs at once, timed until
the last one has returned (each waits for its commit); then for $STORM of the
$NSTEPS steps at once, the same way, counting the commits in each step's
checkpoint.log, with the helper's peak RSS during it (VmHWM, reset through
/proc/<pid>/clear_refs just before).

**End to end** (\`e2e\`, full run only): three copies of one job counting
to $E2E_N seconds of work (tests/integration/apps/counter.sh), each with
\`--time=2\`, submitted together: with \`--checkpoint=0\` (deadline checkpoint
\`lead=1:00\` before the limit, requeue by slurmckptd), without any
checkpointing, and with the hand-made recipe (\`--signal=B:USR2@60\`, a bash
trap that saves the count and runs \`scontrol requeue\`).  Work lost: seconds
counted more than once (all of them when the job never finished); the wall
time is from submission to the end of the last run.

**Preemption** (\`preempt\`, full run only): the cluster of
tests/integration/1210-preempt.t with three nodes: partition "low"
(PriorityTier=1, GraceTime=$E2E_GRACE, PreemptMode=REQUEUE), partition "high"
(PriorityTier=10), PreemptType=preempt/partition_prio.  The same three jobs
as above, each alone on its own node of "low", counting to $E2E_PN seconds of
work with no time limit; once each has counted $E2E_PAT seconds a job in "high" that
needs every node preempts all three.  Run twice, on two clusters: as Slurm
22.05 is configured by default, where a preempted job gets SIGTERM at the
start of the grace time, sent to its steps only, never to the batch shell
(where the recipe's trap waits) and never its \`--signal\`; and with
\`SlurmctldParameters=preempt_send_user_signal\`, where the job's
\`--signal\` (here B:USR2) is sent instead.  So by default the hand-made
recipe cannot save anything when preempted: it is requeued by Slurm at the
end of the grace time and starts again from its last save (none), like the
job without checkpointing; it works only where the administrator has set
preempt_send_user_signal, and only if the job asked for a \`--signal\` that
its trap catches.  slurm-checkpoint needs neither: slurmckptd sees
PreemptTime when it polls slurmctld, checkpoints and requeues the job
itself.  The table says how many times the recipe's trap ran.
EOF
} >"$top_srcdir/doc/benchmarks.md"
echo "# wrote $top_srcdir/doc/benchmarks.md and doc/bench/:$PNGS; raw figures in $BENCH_OUT"
