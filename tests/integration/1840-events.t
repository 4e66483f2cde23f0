#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1840-events: "scheckpoint events" gathers the checkpoint events that
# each node's slurmckptd kept of a job.  Two nodes, one helper each; a
# two-node job whose batch step runs on c1 and a one-node srun step on
# c2; one checkpoint of each is committed and one of the batch step fails
# (an ImageDir= the user may not write).  From the login side (no helper
# on the node, SLURM_CHECKPOINT_PORTS), the job's owner gets all three,
# oldest first, from both nodes: the table and --json (the fields of the
# log's "event:" lines, one per event there); a step, or NodeList=, only
# theirs; another user none (exit 1); root all; an unknown job, exit 1; a
# bad option, exit 2.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
. "$top_srcdir/tests/integration/multinode.sh" || exit 99

cluster_start 2
mn_helpers_start || fail "the per-node helpers did not start"
ok "one slurmckptd per node: c1 ${PORT[c1]}, c2 ${PORT[c2]}"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
closed=$(user_dir "$CLUSTER_DIR/closed")
chmod 0500 "$closed"
out=$CLUSTER_WORK/events.out
script=$CLUSTER_WORK/events.sh
cat >"$script" <<EOS
#!/bin/bash
srun -N1 -n1 -r1 -o "$CLUSTER_WORK/events-step.out" "$APPS/counter.sh" 300 &
exec "$APPS/counter.sh" 300
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -N2 -n2 --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$script") ||
	fail "sbatch -N2 failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 20 grep -q '^start=' "$out" || fail "the batch step did not start: $(cat "$out")"
wait_for 20 grep -q '^start=' "$CLUSTER_WORK/events-step.out" ||
	fail "the srun step did not start: $(cat "$CLUSTER_WORK/events-step.out")"
wait_for 10 grep -q "step $j.0 registered" "$(mn_log c2)" ||
	fail "step $j.0 did not register on c2: $(grep "$j" "$(mn_log c2)" | tail -n 3)"

# login <args>: scheckpoint as $1's user (user, other, root) from a node
# without a helper: the job's nodes through slurmctld, each over TCP.
login() {
	local as=()
	case $1 in
	user) as=(as_user) ;;
	other) as=(as_other) ;;
	esac
	shift
	"${as[@]}" env SLURM_CHECKPOINT_SOCKET="$CLUSTER_DIR/none.sock" \
		SLURM_CHECKPOINT_PORTS="c1:${PORT[c1]},c2:${PORT[c2]}" "$@"
}
# A second between them: each event's time (in seconds) is later than
# the one before, so that "oldest first" is one order.
t0=$(date +%s)
msg=$(login user "$SCHECKPOINT" create "$j.batch" MaxWait=60 2>&1) || fail "create $j.batch: $msg"
sleep 1
msg=$(login user "$SCHECKPOINT" create "$j.0" MaxWait=60 2>&1) || fail "create $j.0: $msg"
sleep 1
msg=$(login user "$SCHECKPOINT" create "$j.batch" ImageDir="$closed" MaxWait=60 2>&1) &&
	fail "create $j.batch into a directory the user may not write succeeded: $msg"
t1=$(date +%s)
ok "$j.batch (c1) and $j.0 (c2) checkpointed, one of $j.batch failed: $(echo "$msg" | head -n 1 | cut -c1-160)"

# The table: a header and one line per event, oldest first.
table=$(login user "$SCHECKPOINT" events "$j" 2>&1) || fail "scheckpoint events $j: $table"
echo "$table" | head -n 1 | grep -q '^TIME  *STEP  *SEQ  *REASON  *METHOD  *OUTCOME  *SIZE  *DURATION  *NODE$' ||
	fail "no header: $table"
rows=$(echo "$table" | sed 1d)
[ "$(echo "$rows" | wc -l)" = 3 ] || fail "want 3 events: $table"
echo "$rows" | sed -n 1p | grep -Eq '^[0-9T:-]{19} batch +1 create +signal +committed +[1-9][0-9]* +[0-9.]+ c1$' ||
	fail "first row: $table"
echo "$rows" | sed -n 2p | grep -Eq '^[0-9T:-]{19} 0 +1 create +signal +committed +[1-9][0-9]* +[0-9.]+ c2$' ||
	fail "second row: $table"
echo "$rows" | sed -n 3p | grep -Eq '^[0-9T:-]{19} batch +0 create +signal +failed +0 +[0-9.]+ c1  .+' ||
	fail "third row (the failure and its error): $table"
ok "scheckpoint events $j: 3 events from c1 and c2, oldest first"
echo "$table" | sed "s/^/# /"

# --json: the log's event lines, gathered; their times within the test's.
json=$(login user "$SCHECKPOINT" --json events "$j" 2>&1) || fail "--json events $j: $json"
[ "$(echo "$json" | jq -c '[.events[] | [.node, .step, .seq, .outcome]]')" = \
	'[["c1","batch",1,"committed"],["c2",0,1,"committed"],["c1","batch",0,"failed"]]' ] ||
	fail "--json events: $json"
echo "$json" | jq -e --argjson a "$t0" --argjson b "$t1" \
	'[.events[].time] | (. == sort) and all(. >= $a and . <= $b)' >/dev/null ||
	fail "event times not in order or not within $t0..$t1: $json"
echo "$json" | jq -e '.events[2].error | length > 0' >/dev/null || fail "the failure has no error: $json"
for n in c1 c2; do
	want=$(echo "$json" | jq -c --arg n $n '[.events[] | select(.node == $n)]')
	got=$(sed -n 's/.*event: \({.*"job":'"$j"',.*}\)$/\1/p' "$(mn_log $n)" | jq -sc .)
	[ "$want" = "$got" ] || fail "$n's log has other events than scheckpoint shows: log $got, shown $want"
done
ok "--json events $j: the log's event lines of c1 and c2, times in order within the test's"

rows=$(login user "$SCHECKPOINT" --json events "$j.0" | jq -c '[.events[] | .node]') || fail "events $j.0"
[ "$rows" = '["c2"]' ] || fail "events $j.0 gave events of $rows"
rows=$(login user "$SCHECKPOINT" --json events "$j" NodeList=c1 | jq -c '[.events[] | .node]') ||
	fail "events $j NodeList=c1"
[ "$rows" = '["c1","c1"]' ] || fail "events $j NodeList=c1 gave events of $rows"
rows=$(login root "$SCHECKPOINT" --json events "$j" | jq '.events | length')
[ "$rows" = 3 ] || fail "root sees $rows events of $j"
ok "events $j.0: c2's only; NodeList=c1: c1's only; root sees all 3"

msg=$(login other "$SCHECKPOINT" events "$j" 2>&1)
rc=$?
[ $rc = 1 ] || fail "another user got exit $rc: $msg"
echo "$msg" | grep -q "no checkpoint event of $j kept on c1,c2$" || fail "another user: $msg"
ok "$CKPT_OTHER sees none of $CKPT_USER's events: $msg"
msg=$(login user "$SCHECKPOINT" events 999999 2>&1)
rc=$?
[ $rc = 1 ] || fail "events of an unknown job: exit $rc: $msg"
[ "$msg" = "scheckpoint: no checkpoint event of 999999 found: slurmckptd is not running on this node ($CLUSTER_DIR/none.sock: No such file or directory); the job's nodes are not known: job 999999: Invalid job id specified" ] ||
	fail "events of an unknown job: $msg"
msg2=$(login user "$SCHECKPOINT" events "$j" Bogus=1 2>&1)
rc=$?
[ $rc = 2 ] || fail "a bad option: exit $rc: $msg2"
ok "an unknown job: exit 1 ($msg); a bad option: exit 2 ($msg2)"

scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j not cancelled"
rows=$(login user "$SCHECKPOINT" --json events "$j" | jq '.events | length')
[ "$rows" = 3 ] || fail "after the job ended: $rows events"
ok "after the job ended, its 3 events are still there"
mn_helpers_stop
