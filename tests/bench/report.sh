# shellcheck shell=bash
# report.sh - sourced by tests/bench/run.sh at the end: the table on stdout,
# the PNG plots, and doc/benchmarks.md.  Reads $RES and $BENCH_OUT/*.dat.

pm() { if [ "$1" = 1 ]; then echo pass; else echo MISS; fi; }
# verdict <pass?> <noisy?>: pass/MISS, or "inconclusive" when the run's own
# round-to-round spread is wider than the target
verdict() { if [ "$2" = 1 ]; then echo "inconclusive, $(pm "$1")"; else pm "$1"; fi; }
tbl() { printf '| %-44s | %-30s | %-34s |\n' "$1" "$2" "$3"; }

TABLE=$BENCH_OUT/table.md
{
	tbl "figure (measured side by side)" "result" "target"
	tbl "---" "---" "---"
	if [ -n "$(get steps_med_none)" ]; then
		n=$(get steps_med_none) o=$(get steps_med_off) c=$(get steps_med_on) z=$(get steps_med_null)
		rn=$(get steps_rate_none) ro=$(get steps_rate_off) rc=$(get steps_rate_on) rz=$(get steps_rate_null)
		off_pct=$(calc "($o - $n) / $n * 100" 1)
		rate_pct=$(calc "($ro - $rn) / $rn * 100" 1)
		on_ms=$(calc "$c - $n" 1)
		tbl "srun step, median ms: none / null / off / on" "$n / $z / $o / $c" "($(get steps_n_none) steps each)"
		tbl "srun steps/s: none / null / off / on" "$rn / $rz / $ro / $rc" ""
		tbl "noise: per-round steps/s, min-max" \
			"$(for v in none null off on; do awk -v v="$v" '$1 == v { if (!n++ || $2 < lo) lo = $2; if ($2 > hi) hi = $2 } END { printf "%s %.1f-%.1f  ", v, lo, hi }' "$BENCH_OUT/steps.rounds"; done)" \
			"(the machine's load, not the plugin)"
		tbl "a do-nothing SPANK plugin vs none" "latency $(calc "($z - $n) / $n * 100" 1)%" "(any plugin's cost)"
		# the noise: spread of the per-round rates of the no-plugin variant
		noise=$(awk '$1 == "none" { if (!n++ || $2 < lo) lo = $2; if ($2 > hi) hi = $2; s += $2 }
			END { printf "%.0f", (hi - lo) / (s / n) * 100 }' "$BENCH_OUT/steps.rounds")
		noise_ms=$(calc "$n * $noise / 100" 0)
		tbl "plugin loaded, no --checkpoint, vs none" "latency ${off_pct}%, rate ${rate_pct}%" \
			"within 1%: $(verdict "$(calc "($off_pct <= 1 && $rate_pct >= -1)" 0)" "$(calc "($noise > 5)" 0)") (noise ${noise}%)"
		tbl "srun --checkpoint vs none, per step" "+$on_ms ms (median)" \
			"within 5 ms: $(verdict "$(calc "($on_ms <= 5)" 0)" "$(calc "($noise_ms > 5)" 0)") (noise ${noise_ms} ms)"
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
		tbl "helper wake-ups in ${WINDOW} s: idle / 1 / $NJOBS jobs" \
			"$(get wake_idle) / $(get wake_one) / $(get wake_many)" \
			"idle 0: $(pm "$([ "$(get wake_idle)" -eq 0 ] && echo 1)")"
		tbl "helper CPU ticks in ${WINDOW} s: idle / 1 / $NJOBS" \
			"$(get cpu_ticks_idle) / $(get cpu_ticks_one) / $(get cpu_ticks_many)" ""
		tbl "helper RSS KiB: idle / 1 / $NJOBS jobs / storm" \
			"$(get rss_idle) / $(get rss_one) / $(get rss_many) / $(get storm_rss)" \
			"< 10 MiB: $(pm "$([ "$(get rss_many)" -lt 10240 ] && echo 1)") ($NJOBS, not 1000)"
		for l in idle one many; do
			eval "rph_$l=\$(( \$(get rpc_$l) * 3600 / WINDOW ))"
		done
		tbl "REQUEST_JOB_INFO/node/h: 0 / 1 / $NJOBS jobs" \
			"$rph_idle / $rph_one / $rph_many" "same for 1 and $NJOBS: $(pm "$(calc "($rph_many <= $rph_one * 1.5 + 60)" 0)")"
		tbl "storm: $NJOBS scheckpoint create at once" \
			"all done in $(get storm_s) s, $(get storm_failed) failed" ""
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
    sudo tests/bench/run.sh         # or --quick (about 3 minutes)

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
lists \`--checkpoint\` with the line and not without it).  $ROUNDS rounds,
the variants in a fresh random order each round (shuf) to cancel drift.  The figure
is the median per-step latency and the mean rate over all steps.  The
"noise" is the spread (max - min over the mean) of the per-round rates of
the no-plugin variant: where it is wider than the target, the verdict says
"inconclusive" (the run cannot resolve a 1% or 5 ms difference), whatever
the medians say.

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
\`sleep\`, with no job, with one registered job and with $NJOBS (batch jobs
with \`--checkpoint=0\` running tests/integration/apps/counter.sh on one
node, OverSubscribe=FORCE), at the default poll_interval=10.  In the same
windows \`sdiag --reset\` then \`sdiag\`'s REQUEST_JOB_INFO count gives
slurmctld's requests (the bench itself makes none during the window), scaled
to one hour.  The storm: \`scheckpoint create\` for all $NJOBS jobs at once,
timed until the last one has returned (each waits for its commit).

**End to end** (\`e2e\`, full run only): three copies of one job counting
to $E2E_N seconds of work (tests/integration/apps/counter.sh), each with
\`--time=2\`, submitted together: with \`--checkpoint=0\` (deadline checkpoint
\`lead=1:00\` before the limit, requeue by slurmckptd), without any
checkpointing, and with the hand-made recipe (\`--signal=B:USR2@60\`, a bash
trap that saves the count and runs \`scontrol requeue\`).  Work lost: seconds
counted more than once (all of them when the job never finished); the wall
time is from submission to the end of the last run.

Not measured yet
----------------

- RSS with 1,000 registered steps (the run registers $NJOBS jobs; the helper
  keeps one small struct per step, so its growth from 1 to $NJOBS is the
  figure to extrapolate).
- End to end for a preempted job (tests/integration/1210-preempt.t prints
  the work lost with slurm-checkpoint beside the same job without it).
EOF
} >"$top_srcdir/doc/benchmarks.md"
echo "# wrote $top_srcdir/doc/benchmarks.md and doc/bench/:$PNGS; raw figures in $BENCH_OUT"
