#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1820-expedited-requeue: how long a job that slurmckptd checkpoints and
# requeues waits before it runs again, with and without Slurm's expedited
# requeue (25.11+: "sbatch --requeue=expedite" with
# SlurmctldParameters=enable_expedited_requeue).  slurmctld holds a
# requeued job for SchedulerParameters=requeue_delay (by default
# cred_expire: 120 s by default, 10 s in the test cluster) unless it is
# expedited.  Two counters, one submitted with
# --requeue=expedite and one with --requeue, are requeued by "scheckpoint
# requeue" at the same moment; each must resume from its image, and the
# time from the requeue to its resumed first line is printed for both.
# Skipped where sbatch has no --requeue=expedite.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
DELAY=10	# cluster.sh's cred_expire
CLUSTER_CONF_EXTRA="SlurmctldParameters=enable_expedited_requeue"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
# (sbatch --help needs a configuration; its binary holds the help text.)
grep -aq 'requeue\[=expedite\]' "$(command -v sbatch)" ||
	skip "sbatch has no --requeue=expedite (Slurm 25.11 and later)"

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
declare -A job out t0 t1 count pid
declare -A flag=([expedite]=--requeue=expedite [plain]=--requeue)
for k in expedite plain; do
	out[$k]=$CLUSTER_WORK/$k.out
	job[$k]=$(submit -n 1 --checkpoint=0 --checkpoint-dir="$ckdir" \
		"${flag[$k]}" --open-mode=append -o "${out[$k]}" \
		"$APPS/counter.sh" 600) || fail "sbatch ${flag[$k]} failed"
done
for k in expedite plain; do
	job_wait_state "${job[$k]}" RUNNING 30 || fail "$k job ${job[$k]} did not start"
	wait_for 30 grep -qs '^tick=3$' "${out[$k]}" ||
		fail "$k job does not count: $(cat "${out[$k]}")"
done
ok "job ${job[expedite]} (--requeue=expedite) and job ${job[plain]} (--requeue) count"

for k in expedite plain; do
	t0[$k]=$(date +%s.%N)
	as_user "$SCHECKPOINT" requeue "${job[$k]}" MaxWait=60 >"$CLUSTER_WORK/$k.rq" 2>&1 &
	pid[$k]=$!
done
# Those two only: slurmckptd is a background job of this shell too.
wait "${pid[expedite]}" "${pid[plain]}"
for k in expedite plain; do
	grep -q 'committed.*job requeued' "$CLUSTER_WORK/$k.rq" ||
		fail "scheckpoint requeue ${job[$k]}: $(cat "$CLUSTER_WORK/$k.rq")"
	count[$k]=$(cat "$ckdir/${job[$k]}.ckpt/count")
done
# Each resumed run's first line, waited for side by side.
end=$((SECONDS + DELAY * 3 + 60))
while [ -z "${t1[expedite]:-}" ] || [ -z "${t1[plain]:-}" ]; do
	for k in expedite plain; do
		[ -z "${t1[$k]:-}" ] && grep -qs '^restart_count=1' "${out[$k]}" &&
			t1[$k]=$(date +%s.%N)
	done
	[ "$SECONDS" -lt "$end" ] ||
		fail "not resumed within $((DELAY * 3 + 60)) s: $(for k in expedite plain; do echo "$k: $(job_state "${job[$k]}") $(job_field "${job[$k]}" Reason)"; done)"
	sleep 0.2
done
for k in expedite plain; do
	wait_for 10 grep -qx "start=${count[$k]}" "${out[$k]}" ||
		fail "$k job did not resume at ${count[$k]}: $(grep start= "${out[$k]}")"
	scancel "${job[$k]}"
done
fig() { awk -v a="${t0[$1]}" -v b="${t1[$1]}" 'BEGIN { printf "%.1f", b - a }'; }
ok "requeue to resumed: $(fig expedite) s with --requeue=expedite, $(fig plain) s without (requeue_delay = cred_expire = $DELAY s); both resumed from their images"
