#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1700-offsite: the offsite store (slurmckptd(8), OFFSITE STORE) against
# a real WebDAV server: nginx from Debian's package, started here as root
# on a free port (its dav module takes PUT, DELETE, MKCOL).
#   - a credentials file that others can read stops slurmckptd at start;
#   - an endpoint nobody listens on: the job and its local images are
#     unharmed, checkpoint.log says the copy failed;
#   - a server that never answers: the upload is stopped at
#     offsite_timeout, checkpoints go on meanwhile;
#   - an upload hanging when the helper is killed is in its saved state
#     and is made again after its restart;
#   - a job's images appear on the server, the same files as on disk, the
#     manifest last, the older ones deleted down to keep; its checkpoint
#     directory is then removed, the job requeued, and it resumes from the
#     image the helper fetched back (it goes on with its count); once it
#     has ended and its directory is empty, scheckpoint restart fetches
#     its newest image and the job resumes again (another user's restart
#     finds no image of theirs);
#   - kind s3: the requests are signed with AWS SigV4, and nginx serves
#     them only when botocore's signer computes the same signature
#     (sigv4-check.py, through auth_request); with a wrong secret every
#     request is refused, nothing is stored, the job and its local image
#     are unharmed and checkpoint.log says the copy failed; a stored
#     manifest whose path climbs into another user's part of the store
#     deletes nothing there.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
PATH=$PATH:/usr/sbin:/sbin
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99
command -v nginx >/dev/null 2>&1 || skip "nginx is not installed"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/nginx.sh" || exit 99
cluster_start 1
nginx_start
ok "nginx (WebDAV) on port $NG_PORT"

# ----------------------------------------------- credentials refused -------
creds=$CLUSTER_DIR/offsite.cred
printf 'user=ckpt\npassword=%s\n' "$DAV_PASS" >"$creds"
chmod 0644 "$creds"
printf 'state_dir=%s\noffsite_url=%s\noffsite_credentials=%s\n' \
	"$CLUSTER_DIR/bad-state" "$DAV" "$creds" >"$CLUSTER_DIR/bad.conf"
msg=$(timeout 10 "$CLUSTER_DIR/bin/slurmckptd" -f "$CLUSTER_DIR/bad.conf" \
	-s "$CLUSTER_DIR/bad.sock" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "slurmckptd with a 0644 credentials file: exit $rc: $msg"
echo "$msg" | grep -q 'offsite_credentials.*refused.*0644' || fail "message: $msg"
[ -e "$CLUSTER_DIR/bad.sock" ] && fail "it created its socket"
ok "credentials file readable by others refused at start: $msg"
chmod 0600 "$creds"

# Configuration for a helper_start: $1 the URL, then more lines.
offsite_conf() {
	CKPT_HELPER_CONF="offsite_url=$1
offsite_credentials=$creds
offsite_timeout=${OFFSITE_TIMEOUT:-60}${2:+
$2}"
}
restart_helper() {
	helper_stop
	helper_start || fail "slurmckptd did not start: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
	grep -q "offsite store: $1" "$CLUSTER_DIR/slurmckptd.log" ||
		fail "the helper does not name the offsite store: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
}

# The credentials never reach the user: not in the helper's arguments
# nor in any environment of this cluster's processes.
no_secret_visible() {
	local pid
	for pid in $(cluster_pids) $CLUSTER_HELPER_PID; do
		grep -qaF "$DAV_PASS" "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null &&
			fail "the password is visible in /proc/$pid ($(tr '\0' ' ' <"/proc/$pid/cmdline"))"
	done
	return 0
}

# --------------------------------------------- unreachable endpoint -------
dead_port=$(free_port)
offsite_conf "http://127.0.0.1:$dead_port/dav"
restart_helper "http://127.0.0.1:$dead_port/dav"
ckdir=$(user_dir "$CLUSTER_WORK/ckpt-dead")
out=$CLUSTER_WORK/dead.out
j=$(submit --checkpoint=0:04 --checkpoint-dir="$ckdir" -o "$out" \
	"$APPS/offsite-counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 30 commits_at_least "$ckdir" "$j.batch" 2 || fail "no 2 commits: $(cat "$ckdir/checkpoint.log" 2>&1)"
wait_for 20 grep -q "not copied to the offsite store" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not say the copy failed: $(cat "$ckdir/checkpoint.log")"
image_verify "$ckdir/$j.ckpt" || fail "the local image does not verify"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j")"
grep -q "offsite copy of seq .* failed" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the helper log says nothing of the failed copy"
ok "unreachable store: job running, image seq $(manifest_get "$ckdir/$j.ckpt" .seq) verifies, failure logged: $(grep -m1 'not copied' "$ckdir/checkpoint.log" | cut -c1-160)"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"

# ------------------------------------------------- a stalled server -------
# It accepts connections and never answers: the upload is stopped at
# offsite_timeout, and checkpoints go on meanwhile.
stall_port=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16); held = []
while True:
	held.append(s.accept()[0])' "$stall_port" </dev/null >/dev/null 2>&1 &
stall_pid=$!
_stalling() { [ -n "$(ss -Hltn "sport = :$stall_port")" ]; }
wait_for 60 _stalling || fail "the stalling server does not listen on port $stall_port"
OFFSITE_TIMEOUT=10 offsite_conf "http://127.0.0.1:$stall_port/dav"
restart_helper "http://127.0.0.1:$stall_port/dav"
ckdir=$(user_dir "$CLUSTER_WORK/ckpt-stall")
j=$(submit --checkpoint=0:03 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/stall.out" \
	"$APPS/offsite-counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
t0=$SECONDS
wait_for 30 grep -q "$j.batch: offsite copy of seq 1 failed.*not done within offsite_timeout=10 s" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the stalled upload was not stopped: $(grep offsite "$CLUSTER_DIR/slurmckptd.log" | tail -n 3)"
n=$(committed_count "$ckdir" "$j.batch")
[ "$n" -ge 3 ] || fail "only $n commits while the upload of seq 1 stalled"
# One upload per step at a time: the next starts only after it.
wait_for 20 grep -q "$j.batch: offsite copy of seq [2-9][0-9]* failed" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "no upload after the stalled one"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j")"
ok "stalled server: upload of seq 1 stopped at offsite_timeout=10 s; $n commits meanwhile; the next upload then started"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"

# ------------------------------------- an upload cut by a helper crash ----
# The helper is killed while an upload hangs on the stalled server: the
# upload is in its saved state, and the restarted helper (now with nginx
# as its store) makes it again.
OFFSITE_TIMEOUT=120 offsite_conf "http://127.0.0.1:$stall_port/dav"
restart_helper "http://127.0.0.1:$stall_port/dav"
ckdir=$(user_dir "$CLUSTER_WORK/ckpt-cut")
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/cut.out" \
	"$APPS/offsite-counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$CLUSTER_WORK/cut.out" || fail "the app did not start"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg"
_saved_upload() {
	jq -e --argjson j "$j" '.offsite[] | select(.job == $j and .seq == 1)' \
		"$CLUSTER_DIR/ckptd-state/state.json" >/dev/null 2>&1
}
wait_for 10 _saved_upload || fail "the hanging upload is not in the saved state: $(cat "$CLUSTER_DIR/ckptd-state/state.json")"
helper_kill
offsite_conf "$DAV"
restart_helper "$DAV"
remote=$NG/data/dav/$CKPT_USER/$j/$j.ckpt
wait_for 20 offsite_remote_has "$remote" 1 ||
	fail "the cut upload was not made again: $(grep offsite "$CLUSTER_DIR/slurmckptd.log" | tail -n 3)"
diff -r "$ckdir/$j.ckpt" "$remote/1" >/dev/null || fail "the remote seq 1 differs from $ckdir/$j.ckpt"
grep -q "$j.batch: offsite copy of seq 1, not done at the last stop, made again" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the helper log does not say so"
ok "upload cut by SIGKILL of the helper made again after its restart: seq 1 on the server, same files"
kill "$stall_pid"
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"

# ------------------------------------------------- WebDAV round trip -------
offsite_conf "$DAV"
restart_helper "$DAV"
ckroot=$(user_dir "$CLUSTER_WORK/ckpt")
ckdir=$(user_dir "$ckroot/run")
out=$CLUSTER_WORK/dav.out
j=$(submit --checkpoint=0:04 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/offsite-counter.sh" 60) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
remote=$NG/data/dav/$CKPT_USER/$j/$j.ckpt

# The remote index lists seq $1.
remote_has() {
	offsite_remote_has "$remote" "$1"
}
# The image's files and manifest on the server are those on disk.
same_as_remote() {
	local img=$1 seq
	seq=$(manifest_get "$img" .seq)
	diff -r "$img" "$remote/$seq" >/dev/null ||
		fail "remote seq $seq differs from $img: $(diff -r "$img" "$remote/$seq" 2>&1 | head -5)"
}
wait_for 40 commits_at_least "$ckdir" "$j.batch" 3 || fail "no 3 commits: $(cat "$ckdir/checkpoint.log" 2>&1)"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
wait_for 20 remote_has "$seq" || fail "seq $seq not in the remote index: $(cat "$remote/index.json" 2>&1; tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
same_as_remote "$ckdir/$j.ckpt"
[ -f "$remote/$seq/sub dir/deeper/note" ] || fail "no nested file on the server"
# keep=2: the server holds at most two images, and the index lists them.
n_remote=$(find "$remote" -mindepth 1 -maxdepth 1 -type d | wc -l)
[ "$n_remote" -le 2 ] || fail "$n_remote images on the server (keep 2): $(ls "$remote")"
[ "$(jq '.seqs | length' "$remote/index.json")" -le 2 ] || fail "index: $(cat "$remote/index.json")"
grep -q "seq=$seq copied to the offsite store" "$ckdir/checkpoint.log" || fail "checkpoint.log: no copy of seq $seq"
# The manifest was the last file of the image to be PUT.
last=$(grep "^PUT /dav/$CKPT_USER/$j/$j.ckpt/$seq/" "$NG/access.log" | tail -n1)
[[ $last == *"/$seq/manifest.json 201 user=ckpt" ]] || fail "last PUT of seq $seq: $last"
ok "seq $seq on the server, same files as on disk, manifest PUT last, $n_remote image(s) kept: $(cat "$remote/index.json")"
no_secret_visible
ok "the WebDAV password is in no process's arguments or environment"

# Requeue; hold the job while its new image is uploaded, then remove the
# whole checkpoint directory: only the server has an image now.
msg=$(as_user "$SCHECKPOINT" requeue "$j" 2>&1) || fail "scheckpoint requeue: $msg"
_not_running() { [ "$(job_state "$1")" != RUNNING ]; }
wait_for 20 _not_running "$j" || fail "job $j still running after the requeue"
# Eligible again only cred_expire (10 s) after the requeue: hold it first.
wait_for 5 scontrol hold "$j" 2>/dev/null || fail "scontrol hold $j: state $(job_state "$j")"
img=$ckdir/$j.ckpt
seq=$(manifest_get "$img" .seq)
count=$(cat "$img/count")
wait_for 20 remote_has "$seq" || fail "requeue image seq $seq not uploaded: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
same_as_remote "$img"
rm -rf "$ckdir"
ok "requeued at count $count (seq $seq, on the server); $ckdir removed"
scontrol release "$j" || fail "scontrol release $j"
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
wait_for 20 grep -q "^start=$count\$" "$out" ||
	fail "second run did not resume at $count: $(grep -E 'start=|restart|bad_state' "$out"; tail -n 8 "$CLUSTER_DIR/slurmckptd.log")"
grep -q bad_state "$out" && fail "the fetched state does not match its count"
rdir=$(sed -n 's/^restart_dir=//p' "$out" | tail -n1)
[ "$(jq -r .seq "$rdir/manifest.json")" = "$seq" ] || fail "SLURM_RESTART_DIR $rdir is not seq $seq"
image_verify "$rdir" || fail "the fetched image $rdir does not verify"
grep -q "seq=$seq fetched from the offsite store" "$ckdir/checkpoint.log" ||
	fail "checkpoint.log does not say where the image came from: $(cat "$ckdir/checkpoint.log")"
[ "$(grep -c "fetching the newest image" "$CLUSTER_DIR/slurmckptd.log")" = 1 ] || fail "not one fetch"
ok "resumed at $count from the fetched image $rdir (seq $seq): $(grep -m1 fetched "$ckdir/checkpoint.log" | cut -c1-160)"
state=$(job_wait_done "$j" 90) || fail "job $j did not finish"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 5 "$out")"
grep -qx "final=60" "$out" || fail "no final=60"
ok "job completed with final=60 after resuming from the offsite store"

# The job has ended and its directory is lost (empty): scheckpoint restart
# has this node's helper fetch the newest image, as the user, and submits
# the job again from it.  Another user finds no image of theirs.
rm -rf "$ckdir"
user_dir "$ckdir" >/dev/null
seq=$(jq '.seqs[-1]' "$remote/index.json")
count=$(cat "$remote/$seq/count")
other=$(as_other "$SCHECKPOINT" restart "$j" ImageDir="$CLUSTER_WORK" 2>&1) &&
	fail "restart of $CKPT_USER's job $j by $CKPT_OTHER succeeded: $other"
echo "$other" | grep -q "none fetched from the offsite store: .*/$CKPT_OTHER/$j/$j.ckpt/index.json: HTTP status 404" ||
	fail "restart by $CKPT_OTHER: $other"
# The user runs it with another effective group (as a set-group-id
# program would): the fetch is still done with the user's own groups.
# (The job COMPLETED: restart runs it again only with Force.)
ogroup=$(id -gn "$CKPT_OTHER")
msg=$(cd "$CLUSTER_WORK" && runuser -u "$CKPT_USER" -g "$ogroup" -- "$SCHECKPOINT" restart "$j" ImageDir="$ckdir" Force 2>&1) ||
	fail "scheckpoint restart $j: $msg"
echo "$msg" | grep -q "seq $seq of job $j fetched from the offsite store into $ckdir/$j.ckpt" ||
	fail "restart does not say it fetched seq $seq: $msg"
fgroup=$(stat -c %G "$ckdir/$j.ckpt")
[ "$fgroup" = "$(id -gn "$CKPT_USER")" ] ||
	fail "the restart run with group $ogroup fetched an image of group $fgroup, not $CKPT_USER's own"
j2=$(echo "$msg" | sed -n 's/^Submitted batch job \([0-9]*\)$/\1/p')
[ -n "$j2" ] || fail "restart submitted no job: $msg"
image_verify "$ckdir/$j.ckpt" || fail "the fetched image does not verify"
state=$(job_wait_done "$j2" 120) || fail "restarted job $j2 did not finish"
[ "$state" = COMPLETED ] || fail "job $j2 ended $state: $(tail -n 5 "$out")"
[ "$(grep '^start=' "$out" | tail -n 1)" = "start=$count" ] ||
	fail "job $j2 did not resume at $count: $(grep -E 'start=|restart_dir' "$out" | tail -n 3)"
ok "ended job $j, directory lost: scheckpoint restart (run with group $ogroup) fetched seq $seq as $CKPT_USER:$fgroup and job $j2 resumed at $count; $CKPT_OTHER finds none of theirs: $(echo "$other" | cut -c1-200)"

# ----------------------------------------------------- s3: SigV4 ----------
printf 'access_key=%s\nsecret_key=%s\n' "$S3_ACCESS" "$S3_SECRET" >"$creds"
offsite_conf "http://127.0.0.1:$NG_PORT/s3/bucket" "offsite_kind=s3
offsite_region=$S3_REGION"
restart_helper "http://127.0.0.1:$NG_PORT/s3/bucket"
ckroot=$(user_dir "$CLUSTER_WORK/ckpt-s3")
ckdir=$(user_dir "$ckroot/run")
out=$CLUSTER_WORK/s3.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" --requeue --open-mode=append \
	-o "$out" "$APPS/offsite-counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$CLUSTER_WORK/s3.out" || fail "the app did not start"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg"
remote=$NG/data/s3/bucket/$CKPT_USER/$j/$j.ckpt
wait_for 20 remote_has 1 || fail "s3: seq 1 not uploaded: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
same_as_remote "$ckdir/$j.ckpt"
grep -q "PUT /s3/bucket/$CKPT_USER/$j/$j.ckpt/1/manifest.json 201 auth=\"AWS4-HMAC-SHA256 Credential=AKCKPTTEST/[0-9]*/test-1/s3/aws4_request, SignedHeaders=[^\"]*, Signature=[0-9a-f]\{64\}\" sha=\"UNSIGNED-PAYLOAD\"" "$NG/s3.log" ||
	fail "s3: no SigV4 Authorization header: $(tail -n 2 "$NG/s3.log")"
grep -q 'MKCOL' "$NG/s3.log" && fail "s3: MKCOL sent"
grep -q "GET /s3/bucket/$CKPT_USER/$j/$j.ckpt/index.json 404 auth=\"AWS4-HMAC-SHA256 " "$NG/s3.log" ||
	fail "s3: the index was not asked for with a signature"
ok "s3: uploaded with SigV4 ($(grep -m1 -o 'Credential=[^,]*' "$NG/s3.log")); no MKCOL"
grep -q '^refused' "$NG/sigv4.log" && fail "s3: signatures refused: $(grep -m3 '^refused' "$NG/sigv4.log")"
grep -q "^ok PUT /s3/bucket/$CKPT_USER/$j/$j.ckpt/1/manifest.json$" "$NG/sigv4.log" ||
	fail "s3: the manifest's PUT was not checked: $(tail -n 3 "$NG/sigv4.log")"
# "3 GET, 12 PUT": what sigv4.log has checked so far.
checked() {
	awk '{print $2}' "$NG/sigv4.log" | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}'
}
ok "s3: botocore's signer agrees on all $(grep -c '^ok' "$NG/sigv4.log") signatures ($(checked))"
# keep=2: seq 1's objects are deleted one by one, as its manifest lists
# them (the store has no directories to delete), its manifest first.
for i in 2 3; do
	msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg"
	wait_for 20 remote_has "$i" || fail "s3: seq $i not uploaded"
done
[ "$(jq -c .seqs "$remote/index.json")" = "[2,3]" ] || fail "s3 index: $(cat "$remote/index.json")"
left=$(find "$remote/1" -type f 2>/dev/null)
[ -z "$left" ] || fail "s3: seq 1 objects left: $left"
dels=$(grep -o "DELETE /s3/bucket/$CKPT_USER/$j/$j.ckpt/1/[^ ]* 20[04]" "$NG/s3.log" | awk '{print $2}' | sed 's|.*/1/||' | tr '\n' ' ')
[[ $dels == "manifest.json "* ]] || fail "s3: deletes of seq 1 in this order: $dels"
ok "s3: seq 1 deleted object by object, manifest first ($dels)"
# A manifest on the store whose path climbs out of the job's part of it
# (issue 13, finding 2): when its seq is dropped, nothing of another user
# is deleted; the manifest is refused and only it goes.
victim=$NG/data/s3/bucket/$CKPT_OTHER/9/9.ckpt/1/count
mkdir -p "${victim%/*}" && echo theirs >"$victim"
chown -R --reference="$remote" "$NG/data/s3/bucket/$CKPT_OTHER"
climb="../../../../$CKPT_OTHER/9/9.ckpt/1/count"
forged=$(jq --arg p "$climb" '.files += [{"path": $p, "size": 7, "xxh3": "0123456789abcdef0123456789abcdef"}]' \
	"$remote/2/manifest.json") || fail "cannot forge seq 2's manifest"
printf '%s\n' "$forged" >"$remote/2/manifest.json"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg"
wait_for 20 remote_has 4 || fail "s3: seq 4 not uploaded"
[ "$(jq -c .seqs "$remote/index.json")" = "[3,4]" ] || fail "s3 index: $(cat "$remote/index.json")"
[ -f "$victim" ] || fail "$CKPT_OTHER's object deleted through seq 2's manifest: $(grep DELETE "$NG/s3.log" | tail -n 3)"
wait_for 10 grep -q "offsite: .*/2/manifest.json: .*invalid path '$climb'" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "the forged manifest is not reported: $(grep offsite "$CLUSTER_DIR/slurmckptd.log" | tail -n 3)"
grep -q "DELETE /s3/bucket/$CKPT_USER/$j/$j.ckpt/2/manifest.json 20[04]" "$NG/s3.log" || fail "s3: seq 2's manifest not deleted"
ok "s3: a stored manifest that climbs ($climb) is refused: $CKPT_OTHER's object is still there"

# Requeued, its image only on the store: fetched back, with signed GETs.
wait_for 10 grep -q '^tick=2$' "$out" || fail "s3: the app does not count: $(tail -n 3 "$out")"
msg=$(as_user "$SCHECKPOINT" requeue "$j" 2>&1) || fail "scheckpoint requeue: $msg"
wait_for 20 _not_running "$j" || fail "job $j still running after the requeue"
wait_for 5 scontrol hold "$j" 2>/dev/null || fail "scontrol hold $j: state $(job_state "$j")"
seq=$(manifest_get "$ckdir/$j.ckpt" .seq)
count=$(cat "$ckdir/$j.ckpt/count")
wait_for 20 remote_has "$seq" || fail "s3: requeue image seq $seq not uploaded"
rm -rf "$ckdir"
scontrol release "$j" || fail "scontrol release $j"
job_wait_state "$j" RUNNING 60 || fail "job $j did not run again"
_second_start() { sed -n '/^restart_count=1$/,$p' "$out" | grep -q '^start='; }
wait_for 30 _second_start || fail "s3: no second start: $(tail -n 3 "$out")"
sed -n '/^restart_count=1$/,$p' "$out" | grep -q "^start=$count\$" ||
	fail "s3: second run did not resume at $count: $(grep -E 'start=|restart|bad_state' "$out"; tail -n 8 "$CLUSTER_DIR/slurmckptd.log")"
grep -q bad_state "$out" && fail "s3: the fetched state does not match its count"
grep -q "seq=$seq fetched from the offsite store" "$ckdir/checkpoint.log" ||
	fail "s3: checkpoint.log does not say where the image came from: $(cat "$ckdir/checkpoint.log")"
grep -q "^ok GET /s3/bucket/$CKPT_USER/$j/$j.ckpt/$seq/manifest.json$" "$NG/sigv4.log" ||
	fail "s3: the fetch's GET of the manifest was not checked: $(grep GET "$NG/sigv4.log" | tail -n 3)"
grep -q '^refused' "$NG/sigv4.log" && fail "s3: signatures refused: $(grep -m3 '^refused' "$NG/sigv4.log")"
ok "s3: requeued, directory removed, resumed at $count from seq $seq fetched back; all signatures right ($(checked))"
scancel "$j"

# A wrong secret: the server refuses every request; the job runs on and
# its image is only local.
printf 'access_key=%s\nsecret_key=%s\n' "$S3_ACCESS" "not-$S3_SECRET" >"$creds"
restart_helper "http://127.0.0.1:$NG_PORT/s3/bucket"
ckdir=$(user_dir "$CLUSTER_WORK/ckpt-s3-bad")
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/s3-bad.out" \
	"$APPS/offsite-counter.sh" 300) || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$CLUSTER_WORK/s3-bad.out" || fail "the app did not start"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) || fail "scheckpoint create: $msg"
wait_for 30 grep -q "not copied to the offsite store" "$ckdir/checkpoint.log" ||
	fail "s3, wrong secret: checkpoint.log does not say the copy failed: $(cat "$ckdir/checkpoint.log")"
grep -q "^refused [A-Z]* /s3/bucket/$CKPT_USER/$j/.*: signature does not match$" "$NG/sigv4.log" ||
	fail "s3, wrong secret: no refused signature: $(tail -n 3 "$NG/sigv4.log")"
grep -q "^ok [A-Z]* /s3/bucket/$CKPT_USER/$j/" "$NG/sigv4.log" &&
	fail "s3, wrong secret: a request was accepted: $(grep "^ok [A-Z]* /s3/bucket/$CKPT_USER/$j/" "$NG/sigv4.log" | head -n 2)"
[ -z "$(find "$NG/data/s3/bucket/$CKPT_USER/$j" -type f 2>/dev/null)" ] || fail "s3, wrong secret: objects stored"
image_verify "$ckdir/$j.ckpt" || fail "s3, wrong secret: the local image does not verify"
[ "$(job_state "$j")" = RUNNING ] || fail "job $j is $(job_state "$j")"
ok "s3, wrong secret: refused ($(grep -m1 "^refused [A-Z]* /s3/bucket/$CKPT_USER/$j/" "$NG/sigv4.log" | cut -c1-100)); nothing stored; job running; $(grep -m1 'not copied' "$ckdir/checkpoint.log" | cut -c1-120)"
scancel "$j"
