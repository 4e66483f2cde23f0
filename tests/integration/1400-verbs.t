#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1400-verbs: scheckpoint able, show, disable/enable, create, list and error
# on a running --checkpoint=0:05 job, for people and --json; another user is
# refused every verb (exit 1, "permission denied") and changes nothing; root
# may act on the user's job.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/verbs.out
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" -o "$out" "$APPS/counter.sh" 120) ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
ok "job $j running"
sck() { as_user "$SCHECKPOINT" "$@"; }
seq_now() { manifest_get "$ckdir/$j.ckpt" .seq 2>/dev/null || echo 0; }
seq_above() { [ "$(seq_now)" -gt "$1" ]; }

msg=$(sck able "$j" 2>&1) || fail "able $j: exit $?: $msg"
echo "$msg" | grep -q "^StepId=$j.batch Checkpointable=Yes Since=20" || fail "able: $msg"
ok "able: $msg"

msg=$(sck show "$j" 2>&1) || fail "show $j: exit $?: $msg"
for want in "StepId=$j.batch" "Dir=$ckdir " "Interval=5 " "Periodic=enabled" "Method=signal"; do
	echo "$msg" | grep -qF -- "$want" || fail "show lacks '$want': $msg"
done
ok "show: $(echo "$msg" | tr '\n' ' ')"
js=$(sck --json show "$j") || fail "show --json: exit $?"
[ "$(echo "$js" | jq -r '.steps[0].interval')" = 5 ] || fail "show --json interval: $js"
[ "$(echo "$js" | jq -r '.steps[0].dir')" = "$ckdir" ] || fail "show --json dir: $js"
[ "$(echo "$js" | jq -r '.job')" = "$j" ] || fail "show --json job: $js"
ok "show --json: interval 5, dir, job $j"

# Another user: every verb refused, nothing done.
for v in able show create vacate requeue disable enable error list; do
	msg=$(as_other "$SCHECKPOINT" "$v" "$j" 2>&1)
	rc=$?
	[ $rc -eq 1 ] || fail "$v by $CKPT_OTHER: exit $rc (want 1): $msg"
	echo "$msg" | grep -q 'permission denied' || fail "$v by $CKPT_OTHER: $msg"
done
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j") after $CKPT_OTHER's requests"
sck show "$j" | grep -q 'Periodic=enabled' || fail "$CKPT_OTHER's disable took effect"
ok "$CKPT_OTHER refused for every verb (exit 1, permission denied), job untouched"

wait_for 20 commits_at_least "$ckdir" "$j.batch" 1 || fail "no periodic image: $(cat "$ckdir/checkpoint.log" 2>&1)"
msg=$(sck disable "$j" 2>&1) || fail "disable: exit $?: $msg"
echo "$msg" | grep -q "Periodic=disabled" || fail "disable: $msg"
sleep 2	# a checkpoint in flight at the disable may still commit
s1=$(seq_now)
sleep 12
s2=$(seq_now)
[ "$s1" = "$s2" ] || fail "periodic images while disabled: seq $s1 -> $s2"
sck show "$j" | grep -q 'Periodic=disabled NextCheckpoint=None' || fail "show after disable: $(sck show "$j")"
ok "disable: no periodic image in 12 s (seq stays $s1)"

msg=$(sck create "$j" MaxWait=30 2>&1) || fail "create while disabled: exit $?: $msg"
s3=$(seq_now)
[ "$s3" -gt "$s2" ] || fail "create made no image: seq $s3"
ok "create works while periodic ones are disabled: $msg"

msg=$(sck enable "$j" 2>&1) || fail "enable: exit $?: $msg"
echo "$msg" | grep -q "Periodic=enabled" || fail "enable: $msg"
wait_for 12 seq_above "$s3" || fail "no periodic image 12 s after enable"
ok "enable: periodic images again (seq $(seq_now))"

msg=$(sck list "$j" 2>&1) || fail "list: exit $?: $msg"
n_disk=$(image_count "$ckdir" "$j.ckpt")
n_list=$(echo "$msg" | grep -c "$ckdir/$j.ckpt")
[ "$n_list" = "$n_disk" ] || fail "list shows $n_list images, $n_disk on disk: $msg; $(ls "$ckdir")"
echo "$msg" | grep -qE "^$s3 +20[0-9-]+T[0-9:]+ +[0-9]+ create " || fail "list lacks seq $s3 (create): $msg"
ok "list: $n_list image(s), seq $s3 reason create"
js=$(sck --json list "$j") || fail "list --json: exit $?"
[ "$(echo "$js" | jq '.images | length')" = "$n_disk" ] || fail "list --json: $js"
sz=$(echo "$js" | jq -r ".images[] | select(.seq == $s3) | .size")
[ "$sz" -gt 0 ] 2>/dev/null || fail "list --json size of seq $s3: '$sz': $js"
ok "list --json: $n_disk images, seq $s3 has $sz bytes"

# ImageDir=: images moved elsewhere, read as the job's owner (not root).
other=$(user_dir "$CLUSTER_DIR/moved")
as_user cp -a "$ckdir/$j.ckpt" "$other/" || fail "cp of the image failed"
msg=$(sck list "$j" ImageDir="$other" 2>&1) || fail "list ImageDir=: exit $?: $msg"
echo "$msg" | grep -qE "^[0-9]+ .* $other/$j.ckpt\$" || fail "list ImageDir=$other: $msg"
ok "list ImageDir=$other: $(echo "$msg" | tail -n1)"
secret=$CLUSTER_DIR/rootonly
mkdir -p "$secret" && chmod 0700 "$secret" && cp -a "$ckdir/$j.ckpt" "$secret/"
msg=$(sck list "$j" ImageDir="$secret" 2>&1)
echo "$msg" | grep -q "$secret/$j.ckpt\$" && fail "a root-only directory was listed for $CKPT_USER: $msg"
echo "$msg" | grep -q 'Permission denied' || fail "list of a root-only dir: $msg"
ok "list ImageDir= of a root-only directory: not read ($(echo "$msg" | grep -m1 warning))"
msg=$(sck list "$j" ImageDir=relative 2>&1)
[ $? -eq 2 ] || fail "ImageDir=relative: $msg"
msg=$(sck show "$j" ImageDir="$other" 2>&1)
[ $? -eq 2 ] || fail "show ImageDir=: $msg"
ok "ImageDir= relative, or for show: usage errors"

msg=$(sck error "$j" 2>&1) || fail "error: exit $?: $msg"
[ "$msg" = "StepId=$j.batch error_code=0 error_msg=none" ] ||
	fail "error with no error: $msg"
ok "error (none yet): $msg"

msg=$("$SCHECKPOINT" show "$j" 2>&1) || fail "root: show $j: exit $?: $msg"
ok "root may act on $CKPT_USER's job"

msg=$(sck able 999999 2>&1)
[ $? -eq 1 ] || fail "able of an unknown job: $msg"
msg=$(sck show "$j" MaxWait=x 2>&1)
[ $? -eq 2 ] || fail "MaxWait=x: not a usage error: $msg"
msg=$(sck list 2>&1)
[ $? -eq 2 ] || fail "list without id: not a usage error: $msg"
ok "unknown job exit 1, bad options exit 2"

scancel "$j"
job_wait_done "$j" 20 >/dev/null || fail "job $j not cancelled"
