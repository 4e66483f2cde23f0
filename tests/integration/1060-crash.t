#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1060-crash: slurmckptd survives its own crash.  First at rest: SIGKILL,
# restart, and the running step is re-adopted from state_dir (the job's task
# keeps its pid, nothing is restarted) and checkpoints again.  Then
# CRASH_ITERATIONS (50) times: "scheckpoint create", SIGKILL the helper after
# a random delay (spread over one checkpoint's duration, measured first),
# classify from what is on disk where the kill landed (staging, manifest,
# renaming, rotating, before/after), restart it, and check: every image left
# verifies (manifest sizes and XXH3-128), no staging or half-removed image
# survives the restart, the step is still registered with the same task,
# and its next checkpoint commits a newer image.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

ITER=${CRASH_ITERATIONS:-50}
NFILES=${CRASH_FILES:-1500}	# files per image: each phase takes a while
CKPT_KEEP=2 CKPT_MAX_WAIT=30 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/crash.out
log=$CLUSTER_DIR/slurmckptd.log
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" \
	"$APPS/manyfiles.sh" "$NFILES" 100000) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
apppid=$(sed -n 's/^pid=//p' "$out")
name=$j.ckpt
img=$ckdir/$name

# All images of the step verify, and no debris is left.
check_dir() {
	local i n=0
	for i in $(images "$ckdir" "$name"); do
		image_verify "$i" || return 1
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || { echo "# no image left" >&2; return 1; }
	# shellcheck disable=SC2012
	if ls -d "$img".partial "$img".deleted.* 2>/dev/null | grep -q .; then
		echo "# debris: $(ls -d "$img".partial "$img".deleted.* 2>/dev/null | tr '\n' ' ')" >&2
		return 1
	fi
	return 0
}

seq_of() {
	manifest_get "$img" .seq 2>/dev/null || echo 0
}

starts() {
	grep -c 'started, listening' "$log"
}

starts_at_least() {
	[ "$(starts)" -ge "$1" ]
}

# restart: start the helper again and wait until it has read its state.
restart() {
	local want=$(($(starts) + 1))
	helper_start || fail "slurmckptd did not start again"
	wait_for 20 starts_at_least "$want" || fail "slurmckptd did not finish its start-up"
}

same_task() {
	kill -0 "$apppid" 2>/dev/null && [ "$(grep -c '^pid=' "$out")" -eq 1 ]
}

# The shorter of two checkpoints: a busy machine makes one slow.
dur=
for k in 1 2; do
	t0=$(date +%s%N)
	msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "checkpoint $k failed: $msg"
	t=$((($(date +%s%N) - t0) / 1000000))
	[ -z "$dur" ] || [ "$t" -lt "$dur" ] && dur=$t
done
check_dir || fail "images after two plain checkpoints do not verify"
ok "two checkpoints of $NFILES files each, the shorter ${dur} ms"

# At rest: the state is saved, a crash loses nothing.
jq -e --argjson j "$j" '.steps[] | select(.job == $j) | .tasks | length == 1' \
	"$CLUSTER_DIR/ckptd-state/state.json" >/dev/null ||
	fail "state.json does not hold the step and its task: $(cat "$CLUSTER_DIR/ckptd-state/state.json")"
[ "$(stat -c %a "$CLUSTER_DIR/ckptd-state")" = 700 ] || fail "state_dir is not mode 0700"
seq=$(seq_of)
helper_kill
# A saved state behind the images (a kill before its write, an older
# file): the re-adopted step's LastSeq is the newest image's all the same.
st=$CLUSTER_DIR/ckptd-state/state.json
jq '(.steps[] | .last_seq) = 0' "$st" >"$st.new" && mv "$st.new" "$st" || fail "cannot edit $st"
restart
grep -q "step $j.batch re-adopted" "$log" || fail "step not re-adopted: $(tail -5 "$log")"
same_task || fail "the job's task changed or died (pid $apppid)"
msg=$(as_user "$SCHECKPOINT" show "$j.batch" 2>&1) || fail "show $j.batch: $msg"
echo "$msg" | grep -q " LastSeq=$seq " || fail "re-adopted step's show: $msg (newest image seq $seq)"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "checkpoint after the restart failed: $msg"
[ "$(seq_of)" -gt "$seq" ] || fail "no newer image after the restart"
ok "SIGKILL at rest: step $j.batch re-adopted (task pid $apppid unchanged), next checkpoint seq $(seq_of)"

# A pid that is reused is not adopted: a saved task whose start time does
# not match is dropped, and so is a step left without tasks.
helper_kill
python3 - "$CLUSTER_DIR/ckptd-state/state.json" <<'PY' || fail "cannot edit state.json"
import json, sys
p = sys.argv[1]
st = json.load(open(p))
fake = dict(st["steps"][0])
fake["job"] = 999999
fake["tasks"] = [{"id": 0, "pid": 1, "start": 12345}]
st["steps"].append(fake)
json.dump(st, open(p, "w"))
PY
restart
grep -q 'step 999999.batch: its tasks are gone, dropped' "$log" ||
	fail "a step whose task's start time differs was not dropped: $(tail -5 "$log")"
same_task || fail "the job's task changed or died"
ok "a saved task with another start time (pid 1) is not adopted; its step is dropped"

declare -A phases=()
for ((i = 1; i <= ITER; i++)); do
	before=$(seq_of)
	# 0.3 to 1.2 times a checkpoint's duration: staging (the task writing)
	# takes most of it, the commit is its last part.
	delay=$((dur * 3 / 10 + RANDOM % (dur * 9 / 10 + 1)))
	as_user "$SCHECKPOINT" create "$j" >/dev/null 2>&1 &
	cpid=$!
	sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
	helper_kill
	wait "$cpid" 2>/dev/null
	# Where did it land?  (What is on disk before the restart.)
	if [ -d "$img.partial" ] && [ ! -e "$img" ]; then
		phase=renaming
	elif [ -d "$img.partial" ] && [ -e "$img.partial/manifest.json" ]; then
		phase=renaming
	elif [ -d "$img.partial" ] && ls -A "$img.partial" | grep -q '^\.done\.'; then
		phase=manifest
	elif [ -d "$img.partial" ]; then
		phase=staging
	elif ls -d "$img".deleted.* >/dev/null 2>&1 || [ "$(image_count "$ckdir" "$name")" -gt 2 ]; then
		phase=rotating
	elif [ "$(seq_of)" -gt "$before" ]; then
		phase=after
	else
		phase=before
	fi
	phases[$phase]=$((${phases[$phase]:-0} + 1))
	restart
	check_dir || fail "iteration $i (killed after ${delay} ms, $phase): the directory is not clean"
	same_task || fail "iteration $i: the job's task changed or died"
	before=$(seq_of)
	msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) ||
		fail "iteration $i ($phase): the next checkpoint failed: $msg"
	[ "$(seq_of)" -gt "$before" ] || fail "iteration $i: no newer image"
	check_dir || fail "iteration $i: images after the next checkpoint do not verify"
done
summary=
for p in before staging manifest renaming rotating after; do
	summary="$summary $p=${phases[$p]:-0}"
done
ok "$ITER kills during checkpoints survived; kills per phase:$summary"
for p in staging manifest renaming rotating; do
	[ "${phases[$p]:-0}" -gt 0 ] || note "no kill landed in $p"
done
[ "${phases[staging]:-0}" -gt 0 ] && [ $((${phases[manifest]:-0} + ${phases[renaming]:-0} + ${phases[rotating]:-0})) -gt 0 ] ||
	fail "the kills did not spread over the commit (per phase:$summary)"

# The two renames of a commit (N -> N.<seq>, N.partial -> N) and the one
# of rotation take microseconds: random delays never land there.  Fault
# injection does: RENAME_ITERATIONS (10) more kills with the helper run
# under strace, which holds every rename of the helper and its workers for
# 250 ms on entry; each kill comes 0 to 600 ms after the manifest appears
# in the staging directory, so it lands before, between or after the
# renames.
RITER=${RENAME_ITERATIONS:-10}
declare -A rphases=()
if ((RITER > 0)); then
	command -v strace >/dev/null || fail "strace is not installed (contrib/install-deps.sh)"
	manifest_written() {
		[ -e "$img.partial/manifest.json" ]
	}
	helper_stop
	HELPER_WRAP="strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:delay_enter=250000"
	restart
	for ((i = 1; i <= RITER; i++)); do
		before=$(seq_of)
		as_user "$SCHECKPOINT" create "$j" MaxWait=60 >/dev/null 2>&1 &
		cpid=$!
		wait_for 60 manifest_written || fail "rename iteration $i: no manifest was written"
		delay=$((RANDOM % 600))
		sleep "0.$(printf '%03d' "$delay")"
		helper_kill
		wait "$cpid" 2>/dev/null
		if [ -d "$img.partial" ] && [ ! -e "$img" ]; then
			phase=between-renames
		elif [ -d "$img.partial" ]; then
			phase=before-renames
		elif ls -d "$img".deleted.* >/dev/null 2>&1 || [ "$(image_count "$ckdir" "$name")" -gt 2 ]; then
			phase=rotating
		elif [ "$(seq_of)" -gt "$before" ]; then
			phase=after
		else
			phase=other
		fi
		rphases[$phase]=$((${rphases[$phase]:-0} + 1))
		restart
		check_dir || fail "rename iteration $i (killed ${delay} ms after the manifest, $phase): the directory is not clean"
		same_task || fail "rename iteration $i: the job's task changed or died"
		before=$(seq_of)
		msg=$(as_user "$SCHECKPOINT" create "$j" MaxWait=60 2>&1) ||
			fail "rename iteration $i ($phase): the next checkpoint failed: $msg"
		[ "$(seq_of)" -gt "$before" ] || fail "rename iteration $i: no newer image"
		check_dir || fail "rename iteration $i: images after the next checkpoint do not verify"
	done
	rsummary=
	for p in before-renames between-renames rotating after other; do
		rsummary="$rsummary $p=${rphases[$p]:-0}"
	done
	ok "$RITER kills with the renames held by strace survived; per phase:$rsummary"
	[ "${rphases[between-renames]:-0}" -gt 0 ] || [ "${rphases[rotating]:-0}" -gt 0 ] ||
		note "no kill landed between the renames or in rotation:$rsummary"
	helper_stop
	HELPER_WRAP=
	restart
fi

# The step ends: the re-adopted step is dropped when its task exits.
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
wait_for 20 grep -qE "step $j.batch (ended|unregistered)" "$log" || fail "the re-adopted step was not dropped at its end"
no_steps_saved() {
	[ "$(jq '.steps | length' "$CLUSTER_DIR/ckptd-state/state.json")" -eq 0 ]
}
wait_for 5 no_steps_saved ||
	fail "state.json still holds steps: $(cat "$CLUSTER_DIR/ckptd-state/state.json")"
ok "the job ended: its step is dropped from the helper and from state.json"
require_helper
