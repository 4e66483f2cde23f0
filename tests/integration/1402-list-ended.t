#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1402-list-ended: "scheckpoint list" of a job that has ended, which no
# slurmckptd has any more, reads its images from the directory
# (ImageDir=, else SLURM_CHECKPOINT_DIR) as the user who runs it (root:
# as the directory's owner), with no daemon on the node too; without a
# directory it says how to give one, and a step without images is an
# error.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

cluster_start 1

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
sck() { as_user "$SCHECKPOINT" "$@"; }
out=$CLUSTER_WORK/le.out

j=$(submit --checkpoint=0 --checkpoint-dir="$ckdir" -o "$out" \
	"$APPS/counter.sh" 300) || fail "sbatch failed"
app_started "$out" || fail "job $j did not start: $(cat "$out" 2>&1)"
for k in 1 2; do
	msg=$(sck create "$j" 2>&1) || fail "create $j: $msg"
done
scancel "$j"
job_wait_done "$j" 30 >/dev/null || fail "job $j did not end"
ok "job $j: two images, cancelled"

# rows: the SEQ column of a list's output, "1 2"
rows() { awk 'NR > 1 { print $1 }' | tr '\n' ' ' | sed 's/ $//'; }

msg=$(sck list "$j" ImageDir="$ckdir" 2>&1) || fail "list $j ImageDir: exit $?: $msg"
[ "$(echo "$msg" | rows)" = "1 2" ] || fail "list $j ImageDir: $msg"
echo "$msg" | grep -q " $ckdir/$j.ckpt\$" || fail "list $j: no $ckdir/$j.ckpt: $msg"
ok "list of ended job $j from ImageDir: seqs $(echo "$msg" | rows)"

msg=$(SLURM_CHECKPOINT_DIR=$ckdir as_user "$SCHECKPOINT" --json list "$j" 2>&1) ||
	fail "list $j (SLURM_CHECKPOINT_DIR): exit $?: $msg"
[ "$(echo "$msg" | jq '[.images[].seq] | join(" ")' -r)" = "1 2" ] || fail "list --json: $msg"
ok "list --json with SLURM_CHECKPOINT_DIR: $(echo "$msg" | jq -c '[.images[].seq]')"

msg=$(env -u SLURM_CHECKPOINT_DIR runuser -u "$CKPT_USER" -- "$SCHECKPOINT" list "$j" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "list $j without a directory: exit $rc: $msg"
echo "$msg" | grep -q "ImageDir=" || fail "list $j without a directory: $msg"
ok "list without a directory: $msg"

msg=$(sck list "$j.0" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "list $j.0: exit $rc: $msg"
echo "$msg" | grep -q "$ckdir holds no image of $j.0" || fail "list $j.0: $msg"
ok "list of a step without images: $msg"

msg=$("$SCHECKPOINT" list "$j" ImageDir="$ckdir" 2>&1) || fail "list $j by root: exit $?: $msg"
[ "$(echo "$msg" | rows)" = "1 2" ] || fail "list $j by root: $msg"
ok "list by root (as the directory's owner)"

# The other user cannot read a 0700 directory of ckptuser's.
chmod 0700 "$ckdir"
msg=$(as_other "$SCHECKPOINT" list "$j" ImageDir="$ckdir" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "list by $CKPT_OTHER: exit $rc: $msg"
echo "$msg" | grep -q "Permission denied" || fail "list by $CKPT_OTHER: $msg"
chmod 0755 "$ckdir"
ok "list by $CKPT_OTHER of a 0700 directory: $msg"

helper_stop
msg=$(sck list "$j" ImageDir="$ckdir" 2>&1) || fail "list $j without slurmckptd: exit $?: $msg"
[ "$(echo "$msg" | rows)" = "1 2" ] || fail "list $j without slurmckptd: $msg"
ok "list without slurmckptd on the node"
