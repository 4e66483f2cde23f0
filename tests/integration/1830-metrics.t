#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1830-metrics: metrics_file= (node-exporter's textfile collector) and the
# "event: {...}" line.  --check-config refuses a directory that is missing
# or writable by anyone; the daemon writes the file at start (up 1, no
# step), counts the running batch step of a job with --checkpoint=0:05,
# its periodic commits under reason="periodic",method="signal", as many
# observations in the duration and size histograms as commits, a size
# above 0; every sample is under its family's # TYPE; each commit is one
# JSON event line in the log; at exit the file says up 0.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

conf=$CLUSTER_DIR/metrics-check.conf
printf 'metrics_file=%s\n' "$CLUSTER_DIR/no-such-dir/ckpt.prom" >"$conf"
out=$("$CLUSTER_DIR/bin/slurmckptd" -f "$conf" --check-config 2>&1) &&
	fail "--check-config accepted a missing directory: $out"
echo "$out" | grep -q "metrics_file=.*no-such-dir.*No such file" ||
	fail "--check-config did not name the missing directory: $out"
mkdir -m 0777 "$CLUSTER_DIR/open"
chmod 0777 "$CLUSTER_DIR/open"
printf 'metrics_file=%s\n' "$CLUSTER_DIR/open/ckpt.prom" >"$conf"
out=$("$CLUSTER_DIR/bin/slurmckptd" -f "$conf" --check-config 2>&1) &&
	fail "--check-config accepted a world-writable directory: $out"
echo "$out" | grep -q "writable by anyone" ||
	fail "--check-config did not say the directory is writable: $out"
printf 'metrics_file=ckpt.prom\n' >"$conf"
out=$("$CLUSTER_DIR/bin/slurmckptd" -f "$conf" --check-config 2>&1) &&
	fail "--check-config accepted a relative path: $out"
ok "--check-config refuses a missing or world-writable directory" \
	"and a relative path"

mdir=$CLUSTER_DIR/textfile
mkdir -m 0755 "$mdir"
prom=$mdir/slurmckptd.prom
printf 'metrics_file=%s\n' "$prom" >"$conf"
"$CLUSTER_DIR/bin/slurmckptd" -f "$conf" --check-config >/dev/null 2>&1 ||
	fail "--check-config refused metrics_file=$prom"
helper_stop
CKPT_HELPER_CONF="metrics_file=$prom"
helper_start || fail "slurmckptd did not start with metrics_file=$prom"

# metric <sample name with labels>: its value in the file (empty: none).
metric() {
	awk -v k="$1" '$1 == k { print $2 }' "$prom" 2>/dev/null
}
# committed_total: the committed counters of every reason and method.
committed_total() {
	awk '/^slurmckptd_checkpoints_committed_total\{/ { n += $2 }
	     END { print n + 0 }' "$prom"
}
helper_log() {
	tail -n 20 "$CLUSTER_DIR/slurmckptd.log"
}
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}
metric_at_least() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "${v%.*}" -ge "$2" ]
}
wait_for 10 metric_is slurmckptd_up 1 ||
	fail "no slurmckptd_up 1 in $prom: $(cat "$prom" 2>&1)"
metric_is slurmckptd_steps_registered 0 ||
	fail "steps registered before any job: $(cat "$prom")"
start=$(metric slurmckptd_start_time_seconds)
[ "$start" -gt $(($(date +%s) - 60)) ] ||
	fail "start time $start is not the daemon's"
ok "metrics file written at start: up 1, no step, start time $start"

# Every sample under the # TYPE of its family (a histogram's _bucket,
# _sum, _count included); promtool where it is installed.
check_format() {
	if command -v promtool >/dev/null; then
		promtool check metrics <"$prom" || return 1
	fi
	awk '
	/^# TYPE / { type[$3] = $4; next }
	/^#/ || /^$/ { next }
	{
		name = $1; sub(/\{.*/, "", name)
		fam = name
		if (!(fam in type)) sub(/_(bucket|sum|count)$/, "", fam)
		if (!(fam in type) ||
		    (fam != name && type[fam] != "histogram")) {
			print "no # TYPE for " $0; bad = 1
		}
		if ($2 !~ /^[0-9.e+-]+$/) { print "bad value: " $0; bad = 1 }
	}
	END { exit bad }' "$prom"
}
check_format || fail "$prom is malformed: $(cat "$prom")"
ok "every sample has a # TYPE for its family"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=25
jout=$CLUSTER_WORK/counter-metrics.out
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" -o "$jout" \
	"$APPS/counter.sh" "$N") || fail "sbatch --checkpoint=0:05 failed"
job_wait_state "$j" RUNNING 30 || fail "job $j did not start"
app_started "$jout" || fail "job $j's app did not start: $(cat "$jout")"
wait_for 15 metric_is slurmckptd_steps_registered 1 ||
	fail "steps registered: '$(metric slurmckptd_steps_registered)'" \
		"while job $j runs"
ok "one step registered while job $j runs"

committed='slurmckptd_checkpoints_committed_total'
committed+='{reason="periodic",method="signal"}'
wait_for 40 metric_at_least "$committed" 1 ||
	fail "no periodic commit counted: $(cat "$prom"; helper_log)"
# One file, one moment: the counters and histograms in it agree.
total=$(committed_total)
count=$(metric slurmckptd_checkpoint_duration_seconds_count)
[ "$count" = "$total" ] ||
	fail "duration histogram counts $count, $total committed:" \
		"$(cat "$prom")"
[ "$(metric slurmckptd_checkpoint_size_bytes_count)" = "$total" ] ||
	fail "size histogram does not count $total: $(cat "$prom")"
inf=$(metric 'slurmckptd_checkpoint_duration_seconds_bucket{le="+Inf"}')
[ "$inf" = "$total" ] ||
	fail "duration +Inf bucket is not $total: $(cat "$prom")"
size=$(metric slurmckptd_checkpoint_size_bytes_sum)
[ "${size%.*}" -gt 0 ] || fail "size sum is $size"
check_format || fail "$prom is malformed: $(cat "$prom")"
ok "$total periodic commit(s) counted (method signal)," \
	"histograms count $count, $size bytes"

# The event lines: one per commit, JSON after a fixed prefix.
events() {
	sed -n 's/.*slurmckptd: [a-z]*: event: //p' \
		"$CLUSTER_DIR/slurmckptd.log"
}
ev=$(events | python3 -c '
import json, sys
job = int(sys.argv[1])
for line in sys.stdin:
    e = json.loads(line)
    if e["job"] == job and e["outcome"] == "committed":
        print(line.strip())
        break
' "$j") || fail "an event line is not JSON: $(events)"
[ -n "$ev" ] || fail "no committed event line for job $j: $(helper_log)"
echo "$ev" | python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
assert e["event"] == "checkpoint", e
assert e["step"] == "batch", e
assert e["seq"] >= 1, e
assert e["reason"] == "periodic" and e["method"] == "signal", e
assert e["bytes"] > 0 and e["duration"] >= 0, e
assert e["node"] == "c1", e
' || fail "event line is not as expected: $ev"
ok "event line: $ev"

job_wait_done "$j" 60 "$jout" >/dev/null || fail "job $j did not finish"
wait_for 15 metric_is slurmckptd_steps_registered 0 ||
	fail "steps registered: '$(metric slurmckptd_steps_registered)'" \
		"after the job"
polls=$(metric 'slurmckptd_slurmctld_requests_total{kind="poll"}')
[ "${polls:-0}" -ge 1 ] || fail "no slurmctld poll counted: $(cat "$prom")"
nev=$(events | grep -c "\"job\":$j,.*\"outcome\":\"committed\"")
total=$(committed_total)
[ "$nev" = "$total" ] || fail "$nev committed event lines, $total counted"
ok "after the job: no step, $polls slurmctld poll(s)," \
	"$nev event lines = $total commits"
grep -v '^# HELP' "$prom" | sed 's/^/# /'

helper_stop
metric_is slurmckptd_up 0 || fail "up is not 0 after exit: $(cat "$prom")"
ls "$mdir" | grep -v '^slurmckptd.prom$' &&
	fail "something left beside the file: $(ls -la "$mdir")"
ok "at exit: up 0, no temporary file left"
