#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1310-script-method: checkpoint methods (slurmckptd(8), METHODS) with real
# processes.  The "freeze" method's commands (tests/integration/methods/)
# checkpoint plaincount.sh, a program that knows nothing of checkpoints,
# from outside: stop it, copy its state file, let it go on; after a
# requeue the restart command puts the state back and it resumes.  The
# command starts with no signal ignored (the daemon ignores SIGPIPE).  Also:
# a method whose check= fails is not offered and a job asking for it is
# refused with a clear message, as is a method with a trigger file; a
# bad method name is refused by sbatch;
# a method file others may write stops the daemon.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

# Methods: root's, writable by nobody else, as slurmckptd demands.
mdir=$CLUSTER_DIR/methods
mkdir -p "$mdir/bin"
cp "$top_srcdir"/tests/integration/methods/* "$mdir/bin/"
chmod 755 "$mdir" "$mdir/bin" "$mdir"/bin/*
printf 'checkpoint=%s\nrestart=%s\ncleanup=%s\ncheck=%s\n' "$mdir/bin/freeze-copy" \
	"$mdir/bin/put-back" "$mdir/bin/note-status" "$mdir/bin/say-version" >"$mdir/freeze.method"
printf 'checkpoint=%s\ncheck=/bin/false\n' "$mdir/bin/freeze-copy" >"$mdir/broken.method"
chmod 644 "$mdir"/*.method
helper_stop
CKPT_HELPER_CONF="method_dir=$mdir"
helper_start || fail "slurmckptd did not start with method_dir=$mdir"
wait_for 10 grep -qsE "method broken is not available on this node: (/usr)?/bin/false exited 1" \
	"$CLUSTER_DIR/slurmckptd.log" || fail "broken method not reported: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
grep -q "method freeze: checkpoint=$mdir/bin/freeze-copy.* (check: frobnicator 1.2.3)" \
	"$CLUSTER_DIR/slurmckptd.log" ||
	fail "freeze method not loaded with its check's version: $(grep 'method freeze' "$CLUSTER_DIR/slurmckptd.log")"
ok "slurmckptd offers method freeze (its check says its version); broken (check=/bin/false) is not offered"

# --- a program that cannot checkpoint itself, checkpointed from outside ---
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=30
out=$CLUSTER_WORK/plain.out
j=$(submit --checkpoint=0:05 --checkpoint-method=freeze --checkpoint-dir="$ckdir" \
	--requeue --open-mode=append --chdir="$CLUSTER_WORK" -o "$out" \
	"$APPS/plaincount.sh" "$N") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 commits_at_least "$ckdir" "$j.batch" 2 ||
	fail "no commits by the freeze method: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 20 "$CLUSTER_DIR/slurmckptd.log")"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image $img does not verify"
grep -qx "method=freeze job=$j step=batch reason=periodic" "$img/info" ||
	fail "the command's environment: $(cat "$img/info")"
saved=$(cat "$img/state")
[ "$saved" -ge 1 ] || fail "saved state '$saved'"
grep -q "^$j committed" "$ckdir/cleanup.log" || fail "clean-up command did not run"
ign=$(cat "$img/sigign")
# SIGPIPE (1000) and SIGINT (2); bash itself ignores SIGQUIT.
[ -n "$ign" ] && (( (16#$ign & 0x1002) == 0 )) ||
	fail "the command started with SIGPIPE or SIGINT ignored (SigIgn: $ign)"
ok "method freeze committed $(committed_count "$ckdir" "$j.batch") images (state $saved); clean-up ran; the command started with SIGPIPE and SIGINT not ignored"

scontrol requeue "$j" || fail "scontrol requeue $j"
state=$(job_wait_done "$j" 120) || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N: $(tail -n 5 "$out")"
[ "$(grep -c '^start=' "$out")" -eq 2 ] || fail "runs: $(grep '^start=' "$out")"
start=$(grep '^start=' "$out" | tail -n1)
[ "$start" != start=0 ] || fail "the second run started from 0"
grep -q "^restored_from=$ckdir/$j.ckpt" "$out" || fail "restart command did not put the state back"
ok "requeued; the restart command put the state back; resumed at ${start#start=}, final=$N"

# --- refusals ------------------------------------------------------------------
msg=$(as_user sbatch --checkpoint=0 --checkpoint-method='Bad!' --wrap true 2>&1) &&
	fail "sbatch accepted --checkpoint-method=Bad!"
echo "$msg" | grep -q "invalid --checkpoint-method 'Bad!'" || fail "unclear message: $msg"
ok "sbatch refuses a bad method name: $(echo "$msg" | head -n1)"

bout=$CLUSTER_WORK/broken.out
b=$(submit --checkpoint=0 --checkpoint-method=broken -o "$bout" --wrap "echo ran") ||
	fail "sbatch (broken) failed"
state=$(job_wait_done "$b" 30) || fail "job $b did not end"
[ "$state" = FAILED ] || fail "job $b ended $state"
grep -q "checkpoint method 'broken' is not available on node c1" "$bout" ||
	fail "no clear message: $(cat "$bout")"
grep -q '^ran$' "$bout" && fail "the task ran"
[ "$(sinfo -h -n c1 -o %t)" = idle ] || fail "node c1 is $(sinfo -h -n c1 -o %t)"
ok "a job asking for method broken fails with: $(grep -o "checkpoint method.*" "$bout" | head -n1); node not drained"

# A trigger file asks a cooperating program: not for a method.
tout=$CLUSTER_WORK/trigger.out
b=$(submit --checkpoint=0 --checkpoint-method=freeze --checkpoint-trigger=CHKPT \
	-o "$tout" --wrap "echo ran") || fail "sbatch (freeze + trigger) failed"
state=$(job_wait_done "$b" 30) || fail "job $b did not end"
[ "$state" = FAILED ] || fail "job $b ended $state"
grep -q "a trigger file asks a cooperating program; method 'freeze'" "$tout" ||
	fail "no clear message: $(cat "$tout")"
ok "a job giving both --checkpoint-method=freeze and --checkpoint-trigger is refused"

# A method file others may write: the daemon does not start.
bad=$CLUSTER_DIR/badmethods
mkdir -p "$bad"
chmod 755 "$bad"
printf 'checkpoint=%s\n' "$mdir/bin/freeze-copy" >"$bad/loose.method"
chmod 666 "$bad/loose.method"
printf 'method_dir=%s\n' "$bad" >"$CLUSTER_DIR/bad.conf"
msg=$(timeout 10 "$CLUSTER_DIR/bin/slurmckptd" -f "$CLUSTER_DIR/bad.conf" \
	-s "$CLUSTER_DIR/bad.sock" 2>&1) && fail "slurmckptd started with a loose method file"
echo "$msg" | grep -q "loose.method: must be a regular file owned by root and writable by nobody else" ||
	fail "unclear message: $msg"
ok "slurmckptd refuses a method file others may write: $(echo "$msg" | tail -n1)"

# Every directory above a method file or command is root's alone (issue
# 13, finding 9): one that others may write stops the daemon.
open=$CLUSTER_DIR/open
mkdir -p "$open/m" && chmod 0777 "$open" && chmod 0755 "$open/m"
printf 'checkpoint=%s\n' "$mdir/bin/freeze-copy" >"$open/m/deep.method"
chmod 644 "$open/m/deep.method"
printf 'method_dir=%s\n' "$open/m" >"$CLUSTER_DIR/open.conf"
msg=$(timeout 10 "$CLUSTER_DIR/bin/slurmckptd" -f "$CLUSTER_DIR/open.conf" \
	-s "$CLUSTER_DIR/open.sock" 2>&1) && fail "slurmckptd started with a method under a directory others may write"
echo "$msg" | grep -q "deep.method: its directory $open must be owned by root and writable by nobody else" ||
	fail "unclear message: $msg"
ok "slurmckptd refuses a method below a directory others may write: $(echo "$msg" | tail -n1)"

# What runs is checked when it runs, on the descriptor executed: a
# command that others may write by then is not run.
j=$(submit --checkpoint=0 --checkpoint-method=freeze --checkpoint-dir="$ckdir" \
	--chdir="$CLUSTER_WORK" -o "$CLUSTER_WORK/late.out" "$APPS/plaincount.sh" 120) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
app_started "$CLUSTER_WORK/late.out" || fail "job $j's app did not start: $(cat "$CLUSTER_WORK/late.out")"
chmod o+w "$mdir/bin/freeze-copy"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) && fail "a checkpoint ran a command others may write: $msg"
chmod o-w "$mdir/bin/freeze-copy"
echo "$msg" | grep -q "freeze-copy: must be a regular file owned by root and writable by nobody else" ||
	fail "unclear message: $msg"
msg2=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "create after chmod o-w: $msg2"
scancel "$j"
ok "a command made writable by others after the start is not run ($msg); once fixed it is: $msg2"
