#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1710-offsite-step: a four-task step ("srun -n4 counter.sh --per-task")
# whose images go to a WebDAV store (nginx, see nginx.sh); after a requeue
# with its checkpoint directory removed, its four tasks all ask the helper
# for the image: one fetch serves them, and each resumes from its count.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
PATH=$PATH:/usr/sbin:/sbin
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v nginx >/dev/null 2>&1 || skip "nginx is not installed"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/nginx.sh" || exit 99

cluster_start 1
nginx_start
creds=$CLUSTER_DIR/offsite.cred
printf 'user=ckpt\npassword=%s\n' "$DAV_PASS" >"$creds"
chmod 0600 "$creds"
helper_stop
CKPT_HELPER_CONF="offsite_url=$DAV
offsite_credentials=$creds"
helper_start || fail "slurmckptd did not start: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
ok "nginx on port $NG_PORT; slurmckptd with offsite_url=$DAV"

ckroot=$(user_dir "$CLUSTER_WORK/ckpt")
ckdir=$(user_dir "$ckroot/run")
N=50
out=$CLUSTER_WORK/step.out
script=$CLUSTER_WORK/step.sh
cat >"$script" <<EOS
#!/bin/bash
srun -l -n4 "$APPS/counter.sh" --per-task $N
EOS
chown "$CKPT_USER:" "$script"
j=$(submit -n4 --checkpoint=0:04 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$script") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
img=$ckdir/$j.0.ckpt
remote=$NG/data/dav/$CKPT_USER/$j/$j.0.ckpt
wait_for 30 commits_at_least "$ckdir" "$j.0" 2 || fail "no 2 commits of $j.0: $(cat "$ckdir/checkpoint.log" 2>&1)"
msg=$(as_user "$SCHECKPOINT" requeue "$j" 2>&1) || fail "scheckpoint requeue: $msg"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still running after the requeue"
wait_for 5 scontrol hold "$j" 2>/dev/null || fail "scontrol hold $j: state $(job_state "$j")"
seq=$(manifest_get "$img" .seq)
for t in 0 1 2 3; do
	want[$t]=$(cat "$img/count.$t")
done
wait_for 20 offsite_remote_has "$remote" "$seq" || fail "seq $seq not uploaded: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
diff -r "$img" "$remote/$seq" >/dev/null || fail "remote seq $seq differs from $img"
rm -rf "$ckdir"
ok "requeued with seq $seq on the server (counts ${want[*]}); $ckdir removed"

scontrol release "$j" || fail "scontrol release $j"
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
for t in 0 1 2 3; do
	wait_for 20 grep -q "^$t: start=${want[$t]}\$" "$out" ||
		fail "task $t did not resume at ${want[$t]}: $(grep 'start=' "$out"; tail -n 8 "$CLUSTER_DIR/slurmckptd.log")"
done
ok "the four tasks resumed at ${want[*]}"
n=$(grep -c "$j.0: fetching the newest image" "$CLUSTER_DIR/slurmckptd.log")
[ "$n" = 1 ] || fail "$n fetches of $j.0 for its four tasks, want 1"
n=$(grep -c "$j.0 seq=$seq fetched from the offsite store" "$ckdir/checkpoint.log")
[ "$n" = 1 ] || fail "$n 'fetched' lines in checkpoint.log: $(cat "$ckdir/checkpoint.log")"
n=$(grep -c "GET /dav/$CKPT_USER/$j/$j.0.ckpt/$seq/manifest.json 200" "$NG/access.log")
[ "$n" = 1 ] || fail "the manifest was fetched $n times"
ok "one fetch for four tasks: $(grep -m1 "$j.0 seq=$seq fetched" "$ckdir/checkpoint.log" | cut -c1-150)"
state=$(job_wait_done "$j" 30 "$out") || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state"
ok "job completed"
