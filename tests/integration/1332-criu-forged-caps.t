#!/bin/bash
# 1332-criu-forged-caps: a CRIU dump its owner forged to keep criu's
# capability is not let run (issue 13, finding 4).  criu restores as the
# user with CAP_CHECKPOINT_RESTORE, and restores the credentials the
# dump records: the user edits every thread's creds in the dump (crit
# decode/encode) to hold CAP_CHECKPOINT_RESTORE in its inheritable,
# permitted, effective and ambient sets and recomputes the manifest, so
# the image verifies.  After a requeue, criu leaves the restored tree
# stopped, the plugin finds the capability, kills the tree before it ran
# a single instruction, and says so; no process of the job ever holds a
# capability, and the counter never counts on from the forged dump.
# Skipped unless a criu whose "criu check" passes, and crit, are found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
command -v crit >/dev/null 2>&1 || skip "crit not found (package python3-pycriu)"
cluster_start 1
criu_method_start

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
out=$CLUSTER_WORK/mem.out
j=$(submit --checkpoint=0 --checkpoint-method=criu --checkpoint-dir="$ckdir" \
	--requeue --open-mode=append --chdir="$CLUSTER_WORK" -o "$out" \
	--wrap "exec $APPS/memcount.sh 300") || fail "sbatch failed"
job_wait_state "$j" RUNNING 20 || fail "job $j did not start"
wait_for 10 grep -q '^tick=3$' "$out" || fail "the counter does not count: $(tail -n 3 "$out")"
msg=$(as_user "$SCHECKPOINT" create "$j" 2>&1) ||
	fail "scheckpoint create: $msg; $(tail -n 5 "$CLUSTER_DIR/slurmckptd.log")"
img=$ckdir/$j.ckpt
image_verify "$img" || fail "image does not verify"
ls "$img/criu.0"/core-*.img >/dev/null 2>&1 || fail "no criu core images in $img: $(ls -R "$img")"
ok "job $j dumped by criu"

# The forgery, as the user: CAP_CHECKPOINT_RESTORE (40: bit 8 of the
# second word) in every thread's sets, then the manifest made to match.
as_user python3 - "$img" "$CLUSTER_WORK" <<'FORGE' || fail "cannot forge $img as $CKPT_USER"
import glob, json, os, subprocess, sys
img, work = sys.argv[1], sys.argv[2]
def forge(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "creds" and isinstance(v, dict):
                for c in ("cap_inh", "cap_prm", "cap_eff", "cap_amb"):
                    v[c] = [0, 256]
            else:
                forge(v)
    elif isinstance(o, list):
        for v in o:
            forge(v)
man = os.path.join(img, "manifest.json")
m = json.load(open(man))
for core in glob.glob(os.path.join(img, "criu.0", "core-*.img")):
    js = os.path.join(work, "core.json")
    subprocess.run(["crit", "decode", "-i", core, "-o", js], check=True)
    d = json.load(open(js))
    forge(d)
    json.dump(d, open(js, "w"))
    os.chmod(core, 0o600)
    subprocess.run(["crit", "encode", "-i", js, "-o", core], check=True)
    rel = os.path.relpath(core, img)
    x = subprocess.run(["xxhsum", "-H128", core], check=True,
                       capture_output=True, text=True).stdout.split()[0]
    for f in m["files"]:
        if f["path"] == rel:
            f["size"], f["xxh3"] = os.path.getsize(core), x
os.chmod(man, 0o600)
json.dump(m, open(man, "w"))
FORGE
image_verify "$img" || fail "the forged image does not verify: the forgery is wrong"
at=$(sed -n 's/^tick=//p' "$out" | tail -n1)
ok "$CKPT_USER forged the dump's credentials to hold CAP_CHECKPOINT_RESTORE; the image verifies"

scontrol requeue "$j" || fail "scontrol requeue $j"
_said() { grep -q -E "restored from|not restored from" "$out"; }
wait_for 60 _said || fail "no restore after the requeue: $(grep -v '^tick=' "$out")"
# Whatever of the job runs now holds no capability.
if [ "$(job_state "$j")" = RUNNING ]; then
	pids=$(job_caps "$j") || fail "$pids"
fi
why=$(grep -m1 "not restored from" "$out") ||
	fail "the forged dump was restored: $(grep -v '^tick=' "$out" | tail -n 5)"
echo "$why" | grep -q "holds capabilities" || fail "refused, but not for its capabilities: $why"
sleep 3
after=$(sed -n '/not restored from/,$ s/^tick=//p' "$out" | head -n 1)
[ -z "$after" ] || fail "the forged dump ran: tick=$after after the refusal"
scancel "$j" 2>/dev/null
ok "the forged dump was killed before it ran: ${why#checkpoint: }"
