#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# 1332-criu-forged-caps: a CRIU dump its owner forged is not let run
# (issue 13, finding 4).  criu restores as the user with
# CAP_CHECKPOINT_RESTORE, and restores the credentials the dump records.
# Each dump carries a MAC (criu.<task>.mac) keyed from a secret only root
# reads (here the cluster's MUNGE key); this test computes it on its own
# from the documented recipe and finds the daemon's.  The user edits
# every thread's creds in a dump (crit decode/encode) to hold
# CAP_CHECKPOINT_RESTORE in its inheritable, permitted, effective and
# ambient sets and recomputes the manifest, so that the image verifies:
# after a requeue the plugin refuses the dump, its MAC does not match,
# and nothing of it runs.  Then root, as if the key had leaked, gives a
# forged dump a valid MAC: criu leaves the restored tree stopped, the
# plugin finds the capability and kills the tree before it ran.  No
# process of the jobs ever holds a capability, and neither counter goes
# on from a forged dump.  Skipped unless a criu whose "criu check"
# passes, and crit, are found.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
. "${top_srcdir:-${0%/*}/../..}/tests/integration/cluster.sh" || exit 99

require_criu
command -v crit >/dev/null 2>&1 || skip "crit not found (package python3-pycriu)"
# A dump takes seconds on a quiet machine; on a busy one it may take
# more than the usual max_wait of 10 s, which is no failure of criu's.
export CKPT_MAX_WAIT=${CKPT_MAX_WAIT:-120}
cluster_start 1
criu_method_start

ckdir=$(user_dir "$CLUSTER_DIR/ckpt")
key=$CLUSTER_DIR/munge/munge.key

# mac <dir>: the MAC of a dump directory, from imagemac.h's recipe.
mac() {
	python3 - "$key" "$1" <<'MAC'
import hashlib, hmac, os, struct, sys
k = hmac.new(open(sys.argv[1], "rb").read(), b"slurm-checkpoint criu image v1",
             hashlib.sha256).digest()
h = hmac.new(k, digestmod=hashlib.sha256)
for n in sorted(os.listdir(sys.argv[2]), key=os.fsencode):
    data = open(os.path.join(sys.argv[2], n), "rb").read()
    h.update(os.fsencode(n) + b"\0" + struct.pack("<Q", len(data)) + data)
print(h.hexdigest())
MAC
}

# remanifest.py <img> <file...>: the manifest's size and xxh3 of each
# file made to match it again (run by the user, or by root).
cat >"$CLUSTER_DIR/remanifest.py" <<'MAN'
import json, os, subprocess, sys
img = sys.argv[1]
man = os.path.join(img, "manifest.json")
m = json.load(open(man))
for rel in sys.argv[2:]:
    p = os.path.join(img, rel)
    x = subprocess.run(["xxhsum", "-H128", p], check=True, capture_output=True,
                       text=True).stdout.split()[0]
    for f in m["files"]:
        if f["path"] == rel:
            f["size"], f["xxh3"] = os.path.getsize(p), x
os.chmod(man, 0o600)
json.dump(m, open(man, "w"))
MAN
chmod 0644 "$CLUSTER_DIR/remanifest.py"

# forge <img>, as the user: CAP_CHECKPOINT_RESTORE (40: bit 8 of the
# second word) in every thread's sets, and the manifest made to match.
forge() {
	local cores
	as_user python3 - "$1" "$CLUSTER_WORK" <<'FORGE' || fail "cannot forge $1 as $CKPT_USER"
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
for core in glob.glob(os.path.join(img, "criu.0", "core-*.img")):
    js = os.path.join(work, "core.json")
    subprocess.run(["crit", "decode", "-i", core, "-o", js], check=True)
    d = json.load(open(js))
    forge(d)
    json.dump(d, open(js, "w"))
    os.chmod(core, 0o600)
    subprocess.run(["crit", "encode", "-i", js, "-o", core], check=True)
FORGE
	cores=$(cd "$1" && ls criu.0/core-*.img)
	# shellcheck disable=SC2086
	as_user python3 "$CLUSTER_DIR/remanifest.py" "$1" $cores ||
		fail "cannot redo the manifest of $1 as $CKPT_USER"
	image_verify "$1" || fail "the forged image does not verify: the forgery is wrong"
}

# refused <out> <what>: after a requeue, the task says it was not
# restored for <what> (a pattern), nothing of the job holds a capability,
# and the counter never went on; sets why.
refused() {
	local after pids
	scontrol requeue "$j" || fail "scontrol requeue $j"
	_said() { grep -q -E "restored from|not restored from" "$1"; }
	wait_for 60 _said "$1" || fail "no restore after the requeue: $(grep -v '^tick=' "$1")"
	if [ "$(job_state "$j")" = RUNNING ]; then
		pids=$(job_caps "$j") || fail "$pids"
	fi
	why=$(grep -m1 "not restored from" "$1") ||
		fail "the forged dump was restored: $(grep -v '^tick=' "$1" | tail -n 5)"
	echo "$why" | grep -q -E "$2" || fail "refused, but not for '$2': $why"
	sleep 3
	after=$(sed -n '/not restored from/,$ s/^tick=//p' "$1" | head -n 1)
	[ -z "$after" ] || fail "the forged dump ran: tick=$after after the refusal"
	scancel "$j" 2>/dev/null
}

out=$CLUSTER_WORK/mem.out
criu_dumped "$out" "$ckdir" 300
want=$(mac "$img/criu.0") || fail "cannot compute the MAC of $img/criu.0"
[ "$(cat "$img/criu.0.mac")" = "$want" ] ||
	fail "criu.0.mac is $(cat "$img/criu.0.mac" 2>&1), the recipe gives $want"
ok "job $j dumped by criu; criu.0.mac is the MAC of criu.0/ by the documented recipe"

forge "$img"
ok "$CKPT_USER forged the dump's credentials to hold CAP_CHECKPOINT_RESTORE; the image verifies"
refused "$out" "not a dump slurmckptd took"
ok "the forged dump was refused before criu ran: ${why#checkpoint: }"

# A forged dump with a valid MAC (root stands in for a leaked key).
out2=$CLUSTER_WORK/mem2.out
criu_dumped "$out2" "$ckdir" 300
forge "$img"
mac "$img/criu.0" >"$img/criu.0.mac" || fail "cannot write criu.0.mac"
python3 "$CLUSTER_DIR/remanifest.py" "$img" criu.0.mac || fail "cannot redo the manifest"
image_verify "$img" || fail "the re-MACed image does not verify"
refused "$out2" "holds capabilities"
ok "a forged dump with a valid MAC was killed before it ran: ${why#checkpoint: }"
