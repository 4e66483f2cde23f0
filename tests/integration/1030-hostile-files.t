#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1030-hostile-files: what the application leaves in the staging directory
# cannot hang, mislead or overload the helper.
#   a FIFO                -> the commit fails naming it (and does not block on it)
#   a FIFO named "p\n<forged log line>" -> the same, and neither
#                            checkpoint.log nor the helper's log gets a forged line
#   a FIFO named with terminal escapes -> the same; checkpoint.log, the
#                            helper's log and scheckpoint show it escaped
#   100,000 more files    -> the commit fails: more than MANIFEST_MAX_FILES
#   a name with a newline -> committed; the manifest lists it exactly
#   checkpoint.log a FIFO -> committed at once; the worker does not block on it
# After each failure checkpoint.log says why, no staging directory is left,
# the previous image still verifies, the job keeps running.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

ckcreate() { as_user timeout 60 "$SCHECKPOINT" create "$@"; }

CKPT_MAX_WAIT=60 cluster_start 1

# On a tmpfs: 100,000 fsyncs on a real disk take minutes.
ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
mount -t tmpfs -o size=256m,nr_inodes=300k,mode=0755,uid="$(id -u "$CKPT_USER")",gid="$(id -g "$CKPT_USER")" \
	ckpttest "$ckdir" || skip "cannot mount a tmpfs on $ckdir"
trap 'rc=$?; umount -l "$ckdir" 2>/dev/null; (exit $rc); cluster_stop' EXIT

mode=$CLUSTER_WORK/mode
echo ok >"$mode"
out=$CLUSTER_WORK/files.out
j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" "$APPS/hostile.sh" "$mode") ||
	fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^start=' "$out" || fail "the app did not start: $(cat "$out" 2>&1)"
img=$ckdir/$j.ckpt
msg=$(ckcreate "$j" 2>&1) || fail "first create: $msg"
image_verify "$img" || fail "first image does not verify"
ok "first image: $msg"

# bad_create <mode> <expected message (grep -E)>
bad_create() {
	local seq msg rc start=$SECONDS
	seq=$(manifest_get "$img" .seq)
	echo "$1" >"$mode"
	msg=$(ckcreate "$j" 2>&1)
	rc=$?
	printf '%s\n' "$msg" >"$CLUSTER_WORK/bad_create.msg"
	msg=$(echo "$msg" | tr '\n' ' ')
	[ $rc -ne 124 ] || fail "$1: no reply within 60 s (helper blocked?)"
	[ $rc -eq 1 ] || fail "$1: create exit $rc (want 1): $msg"
	echo "$msg" | grep -Eq "^scheckpoint: $j.batch: $2" || fail "$1: message '$msg' does not match '$2'"
	grep -Eq "$j.batch failed: $2" "$ckdir/checkpoint.log" ||
		fail "$1: checkpoint.log: $(tail -n3 "$ckdir/checkpoint.log")"
	ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "$1: staging left: $(ls "$ckdir")"
	[ "$(manifest_get "$img" .seq)" = "$seq" ] && image_verify "$img" || fail "$1: previous image changed"
	[ "$(job_state "$j")" = RUNNING ] || fail "$1: job $j is $(job_state "$j")"
	require_helper
	ok "$1: refused in $((SECONDS - start)) s: $msg"
}

bad_create fifo "pipe: .*(FIFO|not a regular file|unexpected file type)"
bad_create fifonl "p.*(FIFO|not a regular file|unexpected file type)"
grep -q 'seq=999' "$ckdir/checkpoint.log" && ! grep -q '^2000-01-01T00:00:00Z' "$ckdir/checkpoint.log" ||
	fail "a newline in a file name forged a line in checkpoint.log: $(cat "$ckdir/checkpoint.log")"
grep -q '^2000-01-01T00:00:00Z' "$CLUSTER_DIR/slurmckptd.log" &&
	fail "a newline in a file name forged a line in the helper's log: $(grep -B1 '^2000-01-01' "$CLUSTER_DIR/slurmckptd.log")"
ok "a newline in a file name starts no new line in checkpoint.log or the helper's log"
bad_create fifoesc "p.*(FIFO|not a regular file|unexpected file type)"
# no_escape <file> <what>: no ESC byte in file, and what (grep -E) is
no_escape() {
	grep -q $'\033' "$1" && fail "a terminal escape is in $1: $(grep $'\033' "$1" | cat -v | head -n 2)"
	grep -qE "$2" "$1" || fail "$1 does not show /$2/: $(tail -n 2 "$1" | cat -v)"
}
for f in "$ckdir/checkpoint.log" "$CLUSTER_DIR/slurmckptd.log" "$CLUSTER_WORK/bad_create.msg"; do
	no_escape "$f" 'p(.|\\x1b)]0;owned'
done
# A path with escapes that scheckpoint itself reports (the helper refuses
# it: an ImageDir= with a control character is not a valid request).
escdir=$CLUSTER_WORK/$'esc\033]0;owned\007dir'
msg=$(as_user "$SCHECKPOINT" restart 999999 ImageDir="$escdir" 2>&1)
printf '%s\n' "$msg" >"$CLUSTER_WORK/restart.msg"
no_escape "$CLUSTER_WORK/restart.msg" 'esc\\x1b]0;owned\\x07dir'
ok "names with terminal escapes (a file's, an ImageDir=) are shown escaped by checkpoint.log, the helper's log and scheckpoint: $(head -n 1 "$CLUSTER_WORK/restart.msg")"
bad_create many:100000 ".*(100000|too many|Argument list too long)"

echo newline >"$mode"
msg=$(ckcreate "$j" 2>&1) || fail "newline: create failed: $msg"
[ "$(jq -r '.files[].path' "$img/manifest.json" | grep -vc '^slurm-job\.')" -eq 3 ] ||
	fail "newline: manifest lists: $(jq -c '.files' "$img/manifest.json")"
jq -e '[.files[].path] | index("a\nb")' "$img/manifest.json" >/dev/null ||
	fail "newline: 'a\\nb' not listed: $(jq -c '[.files[].path]' "$img/manifest.json")"
x=$(jq -r '.files[] | select(.path == "a\nb") | .xxh3' "$img/manifest.json")
[ "$x" = "$(xxhsum -H128 <"$img/a
b" | awk '{print $1}')" ] || fail "newline: checksum of 'a\\nb' differs"
grep -c . "$ckdir/checkpoint.log" >/dev/null
ok "a name with a newline is committed and listed exactly: $msg"

# checkpoint.log replaced by a FIFO: the worker writing the log line must
# not block on it (it would hold a worker slot for ever): the checkpoint
# is committed, the FIFO gets nothing.
echo ok >"$mode"
seq=$(manifest_get "$img" .seq)
rm -f "$ckdir/checkpoint.log"
as_user mkfifo "$ckdir/checkpoint.log"
msg=$(ckcreate "$j" 2>&1)
rc=$?
[ $rc -ne 124 ] || fail "checkpoint.log as a FIFO: no reply within 60 s (worker blocked)"
[ $rc -eq 0 ] || fail "checkpoint.log as a FIFO: create exit $rc: $msg"
[ "$(manifest_get "$img" .seq)" -gt "$seq" ] && image_verify "$img" || fail "no new image"
[ -p "$ckdir/checkpoint.log" ] || fail "the FIFO was replaced"
ok "checkpoint.log as a FIFO does not block the worker: $msg"
scancel "$j"
