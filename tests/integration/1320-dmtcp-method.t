#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1320-dmtcp-method: the dmtcp method of contrib/methods/dmtcp with a real
# DMTCP.  A counter that keeps its count only in memory runs under
# slurm-dmtcp-launch; slurmckptd checkpoints it through DMTCP, the job is
# requeued, and it resumes from the image where it was.  Debian 12 has no
# DMTCP package: the test is skipped unless dmtcp_launch is found (in
# PATH, /usr/local/bin or /opt/dmtcp/bin).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

PATH=$PATH:/usr/local/bin:/opt/dmtcp/bin
command -v dmtcp_launch >/dev/null || skip "DMTCP is not installed (not packaged by Debian 12)"

cluster_start 1

mdir=$CLUSTER_DIR/methods
mkdir -p "$mdir/bin"
cp "$top_srcdir"/contrib/methods/dmtcp/dmtcp-checkpoint \
	"$top_srcdir"/contrib/methods/dmtcp/dmtcp-check \
	"$top_srcdir"/contrib/methods/dmtcp/slurm-dmtcp-launch "$mdir/bin/"
chmod 755 "$mdir" "$mdir/bin" "$mdir"/bin/*
sed "s|@pkglibexecdir@|$mdir/bin|" \
	"$top_srcdir/contrib/methods/dmtcp/dmtcp.method.in" >"$mdir/dmtcp.method"
chmod 644 "$mdir/dmtcp.method"
helper_stop
CKPT_HELPER_CONF="method_dir=$mdir"
helper_start || fail "slurmckptd did not start"
grep -q "method dmtcp: checkpoint=.*(check: DMTCP 4" "$CLUSTER_DIR/slurmckptd.log" ||
	fail "method dmtcp not offered: $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
ok "slurmckptd offers method dmtcp ($(sed -n 's/.*method dmtcp: .*(check: \(.*\))$/\1/p' "$CLUSTER_DIR/slurmckptd.log"))"

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
N=40
out=$CLUSTER_WORK/mem.out
j=$(submit --checkpoint=0:08 --checkpoint-method=dmtcp --checkpoint-dir="$ckdir" \
	--requeue --open-mode=append --chdir="$CLUSTER_WORK" -o "$out" \
	--wrap "exec $mdir/bin/slurm-dmtcp-launch $APPS/memcount.sh $N") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 40 commits_at_least "$ckdir" "$j.batch" 1 ||
	fail "no DMTCP image: $(cat "$ckdir/checkpoint.log" 2>&1; tail -n 20 "$CLUSTER_DIR/slurmckptd.log"; tail "$out")"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image does not verify"
ls "$img"/ckpt_*.dmtcp >/dev/null || fail "no DMTCP files in the image: $(ls "$img")"
ok "DMTCP image committed: $(ls "$img" | tr '\n' ' ')($(du -sh "$img" | cut -f1))"
sleep 2
scontrol requeue "$j" || fail "scontrol requeue"
state=$(job_wait_done "$j" 150) || fail "job $j did not finish: $(tail -n 5 "$out")"
[ "$state" = COMPLETED ] || fail "job $j ended $state: $(tail -n 20 "$out")"
grep -qx "final=$N" "$out" || fail "no final=$N"
[ "$(grep -c '^start=' "$out")" -eq 1 ] || fail "the program started again from 0"
grep -q "resuming from $ckdir/$j.ckpt" "$out" || fail "slurm-dmtcp-launch did not resume"
ticks=$(sed -n 's/^tick=//p' "$out")
missing=$(comm -23 <(seq 1 "$N" | sort) <(echo "$ticks" | sort -u))
[ -z "$missing" ] || fail "numbers never counted: $(echo $missing)"
lost=$(($(echo "$ticks" | wc -l) - N))
ok "requeued and resumed by dmtcp_restart from the image: final=$N, $lost s of work repeated"
