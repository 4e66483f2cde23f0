#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run.sh - what checkpointing costs, measured side by side (issue 5).
#
#   sudo tests/bench/run.sh [--quick] [--no-doc] [--only steps,commit,helper,e2e,preempt]
#   sudo tests/bench/run.sh --report-only [--quick]   (the table and the doc
#                          again from the last run's figures in $BENCH_OUT)
#
# Needs root, a built tree (`make bench` in ./build or the source tree),
# the Slurm packages, xxhsum and gnuplot (contrib/install-deps.sh).  Every
# figure is a ratio or comparison of things measured in the same run:
#   steps   srun step latency: no plugin / a SPANK plugin that does nothing /
#           checkpoint.so, no --checkpoint / srun --checkpoint, rounds
#           interleaved on one private cluster
#   commit  image_commit against the floor (fsync + rename), against cp -a
#           and tar to another filesystem; restart verification and XXH3
#           hashing against xxhsum -H128 on the same file
#   helper  slurmckptd wake-ups, RSS and slurmctld REQUEST_JOB_INFO
#           requests with 0, 1 and N registered jobs and 1,000 registered
#           steps; checkpoint storms of N jobs and of 100 of those steps
#   e2e     work lost at a time limit: this project / no checkpointing /
#           the hand-made --signal + trap + scontrol requeue recipe
#           (full run only: about 5 minutes)
#   preempt the same for a preempted job, on two 3-node clusters: Slurm's
#           default and preempt_send_user_signal (full run only: about 10
#           minutes)
# It prints a table, writes PNG plots and the raw figures into
# $BENCH_OUT (default <build>/bench), and rewrites doc/benchmarks.md and
# doc/bench/*.png (unless --no-doc).  Not part of `make check`: it is slow
# (--quick: about 4 minutes, 8 with e2e; full: about 35).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"

QUICK=0
DOC=1
REPORT_ONLY=0
ONLY=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--no-doc) DOC=0 ;;
	--report-only) REPORT_ONLY=1 ;;
	--only) ONLY=${2:?}; shift ;;
	-h | --help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "usage: $0 [--quick] [--no-doc] [--only steps,commit,helper,e2e,preempt]" >&2; exit 2 ;;
	esac
	shift
done
if [ -z "$ONLY" ]; then
	ONLY=steps,commit,helper,e2e,preempt
	[ "$QUICK" = 1 ] && ONLY=steps,commit,helper
fi
want() { case ",$ONLY," in *",$1,"*) return 0 ;; esac; return 1; }

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
. "$top_srcdir/tests/integration/cluster.sh" || exit 1
. "$top_srcdir/tests/bench/e2e.sh" || exit 1
for b in xxhsum gnuplot mkfs.ext4 losetup; do
	command -v "$b" >/dev/null || { echo "run.sh: $b not found (contrib/install-deps.sh)" >&2; exit 1; }
done
CKPTBENCH=$top_builddir/tests/bench/ckptbench
[ -x "$CKPTBENCH" ] || { echo "run.sh: $CKPTBENCH not built: make bench" >&2; exit 1; }

if [ "$QUICK" = 1 ]; then
	SIZES=${BENCH_SIZES:-"1M 16M 256M"}
	ROUNDS=${BENCH_ROUNDS:-4}
	STEPS=${BENCH_STEPS:-8}
	WINDOW=${BENCH_WINDOW:-20}
	NJOBS=${BENCH_NJOBS:-10}
	NSTEPS=${BENCH_NSTEPS:-1000}
	STORM=${BENCH_STORM:-100}
else
	SIZES=${BENCH_SIZES:-"1M 16M 256M 1G 4G"}
	ROUNDS=${BENCH_ROUNDS:-24}
	STEPS=${BENCH_STEPS:-12}
	WINDOW=${BENCH_WINDOW:-60}
	NJOBS=${BENCH_NJOBS:-50}
	NSTEPS=${BENCH_NSTEPS:-1000}
	STORM=${BENCH_STORM:-100}
fi
BENCH_OUT=${BENCH_OUT:-$top_builddir/bench}
mkdir -p "$BENCH_OUT" || exit 1
RES=$BENCH_OUT/results.txt	# "key value" lines, the figures
res() { echo "$1 $2" >>"$RES"; }
get() { sed -n "s/^$1 //p" "$RES" | tail -n1; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
if [ "$REPORT_ONLY" = 1 ]; then
	[ -s "$RES" ] || { echo "run.sh: no figures in $RES" >&2; exit 1; }
	LOAD_START=$(get load_start) LOAD_END=$(get load_end)
	ONLY=none
else
	: >"$RES"
	rm -f "$BENCH_OUT"/*.dat "$BENCH_OUT"/steps.* "$BENCH_OUT"/*.png
	res run_date "$(date -u '+%F %H:%M UTC')"
	res run_rev "$(git -C "$top_srcdir" rev-parse --short HEAD 2>/dev/null)"
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	res load_start "$LOAD_START"
fi

bytes_of() {
	case $1 in
	*K) echo $((${1%K} << 10)) ;; *M) echo $((${1%M} << 20)) ;;
	*G) echo $((${1%G} << 30)) ;; *) echo "$1" ;;
	esac
}

# min_time <n> <cmd...>: the fastest of n runs of cmd, in seconds.
min_time() {
	local n=$1 i a b best=
	shift
	for ((i = 0; i < n; i++)); do
		a=$(date +%s%N)
		"$@" >/dev/null 2>&1 || return 1
		b=$(date +%s%N)
		[ -z "$best" ] || [ $((b - a)) -lt "$best" ] && best=$((b - a))
	done
	calc "$best / 1e9" 6
}

# ------------------------------------------------------------- commit ------
# Same filesystem: the image is written where it is committed (N.partial
# beside N), so a commit is XXH3 + fsync + rename; the project never copies
# an image to another filesystem.  cp -a and tar to a loop-mounted ext4
# show what a copy-based commit would cost instead.
bench_commit() {
	local work mnt img size bytes line c f v xv cp tar vmin loopmb
	work=$(mktemp -d /var/tmp/ckptbench.XXXXXX) || return 1
	mnt=$work/mnt
	mkdir -p "$mnt"
	loopmb=$(($(bytes_of "${SIZES##* }") * 5 / 4 / 1048576 + 256))
	truncate -s "${loopmb}M" "$work/other.ext4" &&
		mkfs.ext4 -q -F "$work/other.ext4" &&
		mount -o loop "$work/other.ext4" "$mnt" || { rm -rf "$work"; return 1; }
	BENCH_FS=$(findmnt -no FSTYPE --target "$work")
	note "commit: in $work ($BENCH_FS), copies to a loop-mounted ext4 (${loopmb} MiB)"
	: >"$BENCH_OUT/commit.dat"
	for size in $SIZES; do
		bytes=$(bytes_of "$size")
		line=$("$CKPTBENCH" commit "$work/ck" "$bytes") || break
		img=${line##*image=}
		c=$(sed 's/.*commit_s=\([0-9.]*\).*/\1/' <<<"$line")
		f=$(sed 's/.*floor_s=\([0-9.]*\).*/\1/' <<<"$line")
		# warm cache, best of 3: the restart check beside xxhsum
		vmin=$(for i in 1 2 3; do "$CKPTBENCH" verify "$work/ck" 1.0.ckpt; done |
			sed 's/verify_s=//' | sort -g | head -n1)
		xv=$(min_time 3 xxhsum -H128 "$img/data")
		rm -rf "${mnt:?}"/*
		cp=$(min_time 1 sh -c "cp -a '$img' '$mnt/cp' && sync -f '$mnt'")
		rm -rf "${mnt:?}"/*
		tar=$(min_time 1 sh -c "tar -C '$img' -cf - . | (mkdir '$mnt/tar' && tar -C '$mnt/tar' -xf -) && sync -f '$mnt'")
		rm -rf "${mnt:?}"/* "$work/ck"
		echo "$size $bytes $c $f $vmin $xv $cp $tar" >>"$BENCH_OUT/commit.dat"
		note "commit $size: commit $c s, floor $f s, verify $vmin s, xxhsum $xv s, cp -a $cp s, tar $tar s"
	done
	umount "$mnt" && rm -rf "$work"
	res fs "$BENCH_FS"
}

# -------------------------------------------------------------- steps ------
PLUG_LINE=
set_variant() {
	case $1 in
	none) echo "# no plugin (bench)" >"$CLUSTER_DIR/plugstack.conf" ;;
	null) echo "required $CLUSTER_DIR/lib/null-spank.so" >"$CLUSTER_DIR/plugstack.conf" ;;
	*) echo "$PLUG_LINE" >"$CLUSTER_DIR/plugstack.conf" ;;
	esac
}

# steps_round <round> <variant>: one job of $STEPS sequential srun steps;
# appends each step's microseconds to steps.<variant>.us and
# "<round> <variant> <steps/s> <median ms>" to steps.rounds
steps_round() {
	local r=$1 v=$2 opts="" out j med
	set_variant "$v"
	[ "$v" = on ] && opts="--checkpoint=0 --checkpoint-dir=$CKDIR"
	out=$CLUSTER_WORK/steps.$v.$RANDOM.out
	j=$(submit --wait -o "$out" "$CLUSTER_WORK/steps.sh" "$STEPS" $opts) || {
		note "steps $v: job failed: $(tail -n 3 "$out")"
		return 1
	}
	[ "$(grep -c '^us=' "$out")" -eq "$STEPS" ] || {
		note "steps $v: $(grep -c '^us=' "$out") of $STEPS steps ran: $(grep -v '^us=' "$out" | tail -n 3)"
		return 1
	}
	sed -n 's/^us=//p' "$out" >>"$BENCH_OUT/steps.$v.us"
	med=$(sed -n 's/^us=//p' "$out" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] / 1000 }')
	awk -v r="$r" -v v="$v" -v m="$med" '/^us=/ { s += substr($0, 4); n++ }
		END { printf "%s %s %.3f %s\n", r, v, n / (s / 1e6), m }' "$out" >>"$BENCH_OUT/steps.rounds"
}

# stats <file> <column>: "<median> <q1> <q3> <notch> <n>" of the column;
# notch = 1.58 IQR / sqrt(n), the usual ~95% interval of a median
# (McGill, Tukey and Larsen 1978, as box plots' notches draw it)
stats() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
		function q(p,  x, i) { x = p * (NR - 1) + 1; i = int(x); return a[i] + (x - i) * (a[i + 1] - a[i]) }
		{ a[NR] = $1 }
		END { if (!NR) exit 1; a[NR + 1] = a[NR]; m = q(0.5); lo = q(0.25); hi = q(0.75)
		      printf "%.2f %.2f %.2f %.2f %d\n", m, lo, hi, 1.58 * (hi - lo) / sqrt(NR), NR }'
}

bench_steps() {
	local r v order
	cat >"$CLUSTER_WORK/steps.sh" <<'EOF'
#!/bin/bash
# steps.sh K [srun options]: K sequential one-task steps, each timed
k=$1; shift
for ((i = 0; i < k; i++)); do
	a=$(date +%s%N)
	srun -n1 "$@" true || exit 1
	b=$(date +%s%N)
	echo "us=$(((b - a) / 1000))"
done
EOF
	chmod 0755 "$CLUSTER_WORK/steps.sh"
	CKDIR=$(user_dir "$CLUSTER_DIR/ckpt")
	cc -shared -fPIC -O2 -o "$CLUSTER_DIR/lib/null-spank.so" "$top_srcdir/tests/bench/null-spank.c" ||
		{ note "steps: cannot build null-spank.so"; return 1; }
	chmod 0755 "$CLUSTER_DIR/lib/null-spank.so"
	# the variants are what they claim: srun knows --checkpoint or not
	set_variant none
	as_user srun --help 2>&1 | grep -q -- '--checkpoint' && { note "steps: plugin still loaded with an empty plugstack"; return 1; }
	set_variant off
	as_user srun --help 2>&1 | grep -q -- '--checkpoint' || { note "steps: plugin not loaded"; return 1; }
	for ((r = 0; r < ROUNDS; r++)); do
		# a fresh random order each round: no variant always follows another
		order=$(printf '%s\n' none null off on | shuf | tr '\n' ' ')
		res "steps_order_$r" "$order"
		for v in $order; do
			steps_round "$r" "$v" || return 1
		done
		note "steps: round $((r + 1))/$ROUNDS done"
	done
	set_variant on
	local regs
	regs=$(grep -c 'step [0-9]*\.[0-9]* registered' "$CLUSTER_DIR/slurmckptd.log")
	res steps_registered "$regs"
	for v in none null off on; do
		res "steps_med_$v" "$(sort -n "$BENCH_OUT/steps.$v.us" | awk '{a[NR] = $1} END { print a[int((NR + 1) / 2)] / 1000 }')"
		res "steps_mean_$v" "$(awk '{ s += $1 } END { printf "%.2f", s / NR / 1000 }' "$BENCH_OUT/steps.$v.us")"
		res "steps_rate_$v" "$(awk -v v="$v" '$2 == v { s += $3; n++ } END { printf "%.2f", s / n }' "$BENCH_OUT/steps.rounds")"
		res "steps_n_$v" "$(wc -l <"$BENCH_OUT/steps.$v.us")"
	done
	# Per round, each variant against the no-plugin job of the same round
	# (seconds apart, so under about the same load from the rest of the machine):
	# "<round> <null %> <off %> <on ms>" from the rounds' median latencies
	awk '{ m[$1 " " $2] = $4; if (!($1 in seen)) { seen[$1] = 1; r[++n] = $1 } }
		END { for (i = 1; i <= n; i++) { k = r[i]; b = m[k " none"]
			printf "%s %.3f %.3f %.3f\n", k, (m[k " null"] / b - 1) * 100,
				(m[k " off"] / b - 1) * 100, m[k " on"] - b } }' \
		"$BENCH_OUT/steps.rounds" >"$BENCH_OUT/steps.pairs"
	res steps_null_pct "$(stats "$BENCH_OUT/steps.pairs" 2)"
	res steps_off_pct "$(stats "$BENCH_OUT/steps.pairs" 3)"
	res steps_on_ms "$(stats "$BENCH_OUT/steps.pairs" 4)"
}

# ------------------------------------------------------------- helper ------
# ctx_switches <pid>: voluntary + involuntary context switches, all threads
ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^(voluntary|nonvoluntary)_ctxt_switches/ { s += $2 } END { print s + 0 }'
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
sdiag_job_info() {
	sdiag | sed -n 's/^[[:space:]]*REQUEST_JOB_INFO[[:space:]]*( *[0-9]*) count:\([0-9]*\).*/\1/p' | head -n1
}

# window <label>: $WINDOW seconds of nothing but sleep; helper wake-ups,
# CPU ticks, RSS and slurmctld's job information requests over it.
window() {
	local l=$1 c0 c1 t0 t1 r
	sdiag --reset >/dev/null
	c0=$(ctx_switches "$CLUSTER_HELPER_PID")
	t0=$(awk '{ print $14 + $15 }' "/proc/$CLUSTER_HELPER_PID/stat")
	sleep "$WINDOW"
	c1=$(ctx_switches "$CLUSTER_HELPER_PID")
	t1=$(awk '{ print $14 + $15 }' "/proc/$CLUSTER_HELPER_PID/stat")
	r=$(sdiag_job_info)
	res "wake_$l" "$((c1 - c0))"
	res "cpu_ticks_$l" "$((t1 - t0))"
	res "rss_$l" "$(rss_kib "$CLUSTER_HELPER_PID")"
	res "rpc_$l" "${r:-0}"
	note "helper, $l: $((c1 - c0)) wake-ups, $((t1 - t0)) CPU ticks, RSS $(rss_kib "$CLUSTER_HELPER_PID") KiB, ${r:-0} REQUEST_JOB_INFO in $WINDOW s"
}

registered() { [ "$(grep -c 'step [0-9]*\.batch registered' "$CLUSTER_DIR/slurmckptd.log")" -ge "$1" ]; }

bench_helper() {
	local jobs=() i j t0 t1 fails=0 pids=()
	set_variant on
	CKDIR=${CKDIR:-$(user_dir "$CLUSTER_DIR/ckpt")}
	window idle
	jobs+=("$(submit --checkpoint=0 --checkpoint-dir="$CKDIR" -o /dev/null "$APPS/counter.sh" 100000)")
	wait_for 60 registered 1 || { note "helper: job ${jobs[0]} never registered"; return 1; }
	window one
	for ((i = 1; i < NJOBS; i++)); do
		jobs+=("$(submit --checkpoint=0 --checkpoint-dir="$CKDIR" -o /dev/null "$APPS/counter.sh" 100000)")
	done
	wait_for 300 registered "$NJOBS" || { note "helper: only $(grep -c 'batch registered' "$CLUSTER_DIR/slurmckptd.log") of $NJOBS registered"; return 1; }
	window many
	# the storm: scheckpoint create for every job at once
	t0=$(date +%s%N)
	for j in "${jobs[@]}"; do
		as_user "$SCHECKPOINT" create "$j.batch" >/dev/null 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
	t1=$(date +%s%N)
	# each create returns once its image is committed: check the log says so
	i=$(grep -c 'batch seq=.* committed .*reason=create' "$CKDIR/checkpoint.log")
	[ "$i" -eq "$NJOBS" ] || { note "storm: $i of $NJOBS create commits in checkpoint.log"; tail -n 5 "$CKDIR/checkpoint.log"; return 1; }
	res storm_s "$(calc "($t1 - $t0) / 1e9" 2)"
	res storm_failed "$fails"
	res storm_rss "$(rss_kib "$CLUSTER_HELPER_PID")"
	note "storm: $NJOBS checkpoints at once, all done in $(get storm_s) s, $fails failed"
	scancel --quiet "${jobs[@]}"
	bench_steps_many
}

# bench_steps_many: NSTEPS steps registered through the helper's real
# socket by apps/registrar.py (the load harness of 1070-load.t: one
# apps/loadapp.c process per step, answering at once), with an interval of
# an hour: registered but idle.  A window over them; then a storm of
# STORM `scheckpoint create` of as many of those steps at once, with the
# helper's peak RSS (VmHWM, reset just before through clear_refs).
bench_steps_many() {
	local base pidfile regout app apppid reg i t0 t1 fails=0 done=0 pids=() first=500000
	base=$(user_dir "$CLUSTER_DIR/many")
	pidfile=$CLUSTER_WORK/many.pids
	regout=$CLUSTER_WORK/many.reg
	"${CC:-cc}" -O2 -o "$CLUSTER_DIR/bin/loadapp" "$APPS/loadapp.c" || { note "cannot build apps/loadapp.c"; return 1; }
	chmod 0755 "$CLUSTER_DIR/bin/loadapp"
	for ((i = 0; i < NSTEPS; i++)); do echo "$base/s$i"; done | as_user xargs mkdir -p || return 1
	as_user "$CLUSTER_DIR/bin/loadapp" "$NSTEPS" "$base" "$first" "$pidfile" &
	app=$!
	wait_for 60 _lines_at_least "$pidfile" "$NSTEPS" || { note "loadapp did not start $NSTEPS processes"; kill "$app"; return 1; }
	apppid=$(ps -o ppid= -p "$(awk 'NR == 1 { print $2 }' "$pidfile")" | tr -d ' ')
	t0=$(date +%s%N)
	python3 "$APPS/registrar.py" "$SLURM_CHECKPOINT_SOCKET" "$(id -u "$CKPT_USER")" \
		"$(id -g "$CKPT_USER")" "$base" "$first" "$pidfile" 3600 >"$regout" 2>&1 &
	reg=$!
	if ! wait_for 240 grep -qs "^registered $NSTEPS" "$regout"; then
		note "registration failed: $(tail -n 3 "$regout")"
		kill "$reg" "$apppid"
		return 1
	fi
	res steps_reg_s "$(calc "($(date +%s%N) - $t0) / 1e9" 2)"
	note "$NSTEPS steps registered in $(get steps_reg_s) s"
	window steps
	res hwm_steps "$(awk '/^VmHWM/ { print $2 }' "/proc/$CLUSTER_HELPER_PID/status")"
	# the storm: STORM steps asked at once, each create waits for its commit
	echo 5 >"/proc/$CLUSTER_HELPER_PID/clear_refs" || note "cannot reset VmHWM"
	t0=$(date +%s%N)
	for ((i = 0; i < STORM; i++)); do
		as_user "$SCHECKPOINT" create "$((first + i)).0" >/dev/null 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
	t1=$(date +%s%N)
	res storm100_rss "$(awk '/^VmHWM/ { print $2 }' "/proc/$CLUSTER_HELPER_PID/status")"
	for ((i = 0; i < STORM; i++)); do
		grep -qs 'committed .*reason=create' "$base/s$i/checkpoint.log" && done=$((done + 1))
	done
	res storm100_s "$(calc "($t1 - $t0) / 1e9" 2)"
	res storm100_failed "$fails"
	res storm100_committed "$done"
	note "storm: $STORM of $NSTEPS steps at once: $done committed in $(get storm100_s) s, $fails failed, helper VmHWM $(get storm100_rss) KiB"
	kill "$reg" "$apppid" 2>/dev/null
	wait "$reg" "$app" 2>/dev/null
	return 0
}
_lines_at_least() { [ "$(wc -l 2>/dev/null <"$1" || echo 0)" -ge "$2" ]; }

CLUSTER_PARTITIONS="PartitionName=debug Nodes=@NODES@ Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:64"
CKPT_POLL=10		# the default poll_interval
if want commit; then
	bench_commit || echo "# commit benchmark failed" >&2
fi
if want steps || want helper || want e2e; then
	cluster_start 1
	PLUG_LINE=$(cat "$CLUSTER_DIR/plugstack.conf")
	if want steps; then bench_steps || fail "step launch benchmark failed"; fi
	if want helper; then bench_helper || fail "helper benchmark failed"; fi
	if want e2e; then bench_e2e || note "end-to-end benchmark failed"; fi
fi
# two clusters of their own (3 nodes, preemption configured)
if want preempt; then bench_preempt || note "preemption benchmark failed"; fi
cluster_stop >/dev/null 2>&1
if [ "$REPORT_ONLY" = 0 ]; then
	LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
	res load_end "$LOAD_END"
fi

# -------------------------------------------------------------- report -----
. "$top_srcdir/tests/bench/report.sh"
