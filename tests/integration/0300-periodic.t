#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 0300-periodic: sbatch --checkpoint=0:05 with the bash-trap counter as the
# batch script: periodic images <job>.ckpt and <job>.ckpt.<seq> are committed,
# with a valid manifest (size, XXH3-128), read-only files owned by the user,
# "committed" lines in checkpoint.log, never more than keep=2 images, and no
# staging directory left when the job has ended.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

CKPT_KEEP=2 cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=22
j=$(submit --checkpoint=0:05 --checkpoint-dir="$ckdir" -o "$CLUSTER_WORK/counter-%j.out" \
	"$APPS/counter.sh" "$N") || fail "sbatch --checkpoint=0:05 failed"
ok "job $j submitted"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
img=$j.ckpt

# While it runs: sample the number of images; wait for at least two.
max=0
end=$((SECONDS + 30))
while :; do
	n=$(image_count "$ckdir" "$img")
	[ "$n" -gt "$max" ] && max=$n
	[ "$n" -ge 2 ] && break
	[ "$SECONDS" -lt "$end" ] || fail "fewer than 2 images after 30 s: $(ls -la "$ckdir"; cat "$ckdir/checkpoint.log" 2>&1)"
	_job_finished "$j" && fail "job $j ended before 2 images: $(cat "$CLUSTER_WORK/counter-$j.out")"
	sleep 0.2
done
ok "two images after $((SECONDS + 30 - end)) s: $(cd "$ckdir" && echo $j.ckpt*)"

verify_images() {
	local im seq prev=
	for im in $(images "$ckdir" "$img"); do
		image_verify "$im" || fail "$im does not verify: $(cat "$im/manifest.json")"
		[ "$(manifest_get "$im" .job)" = "$j" ] || fail "$im: manifest job is not $j"
		[ "$(manifest_get "$im" .step)" = 4294967291 ] || fail "$im: manifest step is not the batch step"
		[ "$(manifest_get "$im" .node)" = c1 ] || fail "$im: manifest node is '$(manifest_get "$im" .node)', not the Slurm node name c1"
		manifest_get "$im" '.files[].path' | grep -qx count || fail "$im: manifest does not list count"
		seq=$(manifest_get "$im" .seq)
		case $im in
		*.ckpt) ;;
		*) [ "${im##*.}" = "$seq" ] || fail "$im: name says seq ${im##*.}, manifest says $seq" ;;
		esac
		[ -z "$prev" ] || [ "$seq" -lt "$prev" ] || fail "$im: seq $seq not older than $prev"
		prev=$seq
		[ "$(stat -c %U "$im")" = "$CKPT_USER" ] || fail "$im owned by $(stat -c %U "$im")"
		[ "$(stat -c %U "$im/count")" = "$CKPT_USER" ] || fail "$im/count owned by $(stat -c %U "$im/count")"
		[ -z "$(find "$im" -type f -perm /222)" ] || fail "$im has writable files: $(ls -l "$im")"
		v=$(cat "$im/count")
		[ "$v" -ge 1 ] && [ "$v" -le "$N" ] || fail "$im/count is '$v'"
	done
}
verify_images
ok "images verify (valid manifest.json, size and xxh3 of count, read-only, owned by $CKPT_USER)"

# Until the end: never more than keep=2.
while ! _job_finished "$j"; do
	n=$(image_count "$ckdir" "$img")
	[ "$n" -gt "$max" ] && max=$n
	[ "$SECONDS" -lt $((end + 60)) ] || fail "job $j did not finish"
	sleep 0.2
done
[ "$max" -le 2 ] || fail "up to $max images seen with keep=2"
state=$(job_state "$j")
[ "$state" = COMPLETED ] || fail "job $j ended $state"
out=$CLUSTER_WORK/counter-$j.out
grep -qx "final=$N" "$out" || fail "no final=$N in the output: $(cat "$out")"
ok "job completed (final=$N), at most $max images seen (keep=2)"

n=$(image_count "$ckdir" "$img")
[ "$n" -eq 2 ] || fail "$n images at the end, expected 2: $(ls "$ckdir")"
verify_images
newest=$(manifest_get "$ckdir/$img" .seq)
[ "$newest" -ge 3 ] || fail "newest seq is $newest after a ${N}s job with a 5 s interval"
ok "newest image seq $newest; the rest rotated away"

commits=$(committed_count "$ckdir" "$j.batch")
[ "$commits" -ge "$newest" ] || fail "checkpoint.log has $commits committed lines for $j.batch, newest seq $newest: $(cat "$ckdir/checkpoint.log")"
grep -E "$j\.batch seq=$newest committed" "$ckdir/checkpoint.log" >/dev/null ||
	fail "checkpoint.log lacks 'seq=$newest committed': $(cat "$ckdir/checkpoint.log")"
grep -E "$j\.batch seq=$newest committed .* node=c1 " "$ckdir/checkpoint.log" >/dev/null ||
	fail "checkpoint.log does not say node=c1: $(grep "seq=$newest" "$ckdir/checkpoint.log")"
ok "checkpoint.log: $commits committed lines"
ls -d "$ckdir"/*.partial >/dev/null 2>&1 && fail "staging directory left: $(ls "$ckdir")"
ok "no .partial left"
# The acknowledged checkpoints in the output match the committed ones.
acks=$(grep -c '^ckpt=' "$out")
[ "$acks" -ge "$commits" ] || fail "$commits commits but the app acknowledged only $acks times"
ok "the app acknowledged $acks requests"
