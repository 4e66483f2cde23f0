#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# node.sh - a node made as an admin makes one, under systemd: the Debian
# packages installed with apt, one plugstack.conf line, systemctl enable
# --now slurmckptd; then a user's job is checkpointed on request, the
# daemon is reloaded, and its event is in the journal and in scheckpoint
# events.  Run as root inside a booted root filesystem (contrib/rootfs.sh
# boot; contrib/test.sh does it for sid), from the top of the source tree:
#   tests/system/node.sh <directory of the .deb files>
# TAP output; exit 0/1.  Slurm's and munge's units come masked (rootfs.sh
# boot): unmasked and configured here, for one node on this host.
set -u
debs=$(cd "${1:?usage: node.sh <debs dir>}" && pwd) || exit 1
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; failed=1; }
# bail <why>: the rest cannot run.
bail() { not_ok "$*"; echo "1..$n"; exit 1; }
wait_for() {	# wait_for <seconds> <command...>
	local t=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		t=$((t - 1))
		[ "$t" -gt 0 ] || return 1
		sleep 0.1
	done
}
apps=$(pwd)/tests/integration/apps
host=$(hostname -s)

# 1. The packages, as apt installs them (nothing to download: what they need
# is installed already).
pkgs=$(ls "$debs"/*.deb | grep -v -- -dbgsym)
out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends $pkgs 2>&1) || bail "apt-get install: $(echo "$out" | tail -n 5)"
ok "apt-get install $(echo "$pkgs" | xargs -n1 basename | tr '\n' ' ')"

# 2. Slurm for one node (what the site has already).
rm -f /etc/systemd/system/munge.service /etc/systemd/system/slurmd.service \
	/etc/systemd/system/slurmctld.service
systemctl daemon-reload
[ -s /etc/munge/munge.key ] || mungekey -c -f >/dev/null 2>&1 ||
	bail "no munge key"
mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm
chown slurm: /var/lib/slurm/slurmctld /var/log/slurm 2>/dev/null
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=node
SlurmctldHost=$host
SlurmUser=slurm
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SchedulerParameters=sched_interval=1
ReturnToService=2
MailProg=/bin/true
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroup plugin: this machine's cgroups are the container's, a v2
# hierarchy beside the kernel's v1 ones (which Slurm calls hybrid).
echo "CgroupPlugin=disabled" >/etc/slurm/cgroup.conf
systemctl start munge slurmctld || bail "munge, slurmctld: $(journalctl -n 20 --no-pager)"

# 3. What the README asks of the admin: one plugstack line, the daemon
# (and, where criu is installed, the criu method: slurmckptd(8), METHODS).
echo "required checkpoint.so" >/etc/slurm/plugstack.conf
criu=$(command -v criu)
if [ -n "$criu" ]; then
	mkdir -p /etc/slurm/slurmckptd.d
	printf 'criu=%s\nimage_key=/etc/munge/munge.key\n' "$criu" \
		>/etc/slurm/slurmckptd.d/criu.method
fi
out=$(systemctl enable --now slurmckptd 2>&1) ||
	bail "systemctl enable --now slurmckptd: $out $(journalctl -u slurmckptd -n 20 --no-pager)"
state=$(systemctl show -p ActiveState,SubState,Type --value slurmckptd | tr '\n' ' ')
case $state in
"active running notify "*) ok "systemctl enable --now slurmckptd: $state" ;;
*) bail "slurmckptd: $state $(journalctl -u slurmckptd -n 20 --no-pager)" ;;
esac
systemctl start slurmd || bail "slurmd: $(journalctl -u slurmd -n 20 --no-pager)"
idle() { sinfo -h -o %t | grep -qx idle; }
wait_for 60 idle || bail "the node is not idle: $(sinfo -h -o '%t %E' 2>&1)"
ok "munge, slurmctld, slurmd up; node $host idle"

# 4. A user's job, checkpointed on request.
id ckptuser >/dev/null 2>&1 || useradd -m ckptuser
work=/home/ckptuser
cp "$apps/counter.sh" "$work/" && chmod 755 "$work/counter.sh"
runuser -u ckptuser -- mkdir -p "$work/ckpt"
j=$(cd "$work" && runuser -u ckptuser -- sbatch --parsable --checkpoint=0 \
	--checkpoint-dir="$work/ckpt" -o "$work/job.out" \
	--wrap "exec $work/counter.sh 120" 2>&1) || bail "sbatch: $j"
running() { [ "$(squeue -h -j "$j" -o %T)" = RUNNING ] && grep -q '^start=' "$work/job.out"; }
wait_for 60 running || bail "job $j did not run: $(squeue -h -j "$j" 2>&1) $(cat "$work/job.out" 2>&1)"
sleep 2
msg=$(cd "$work" && runuser -u ckptuser -- scheckpoint create "$j" 2>&1)
if [ $? -eq 0 ] && [ -f "$work/ckpt/$j.ckpt/manifest.json" ]; then
	ok "scheckpoint create $j: $msg"
else
	not_ok "scheckpoint create $j: $msg; $(journalctl -u slurmckptd -n 20 --no-pager)"
fi
owner=$(stat -c %U "$work/ckpt/$j.ckpt/count" 2>&1)
[ "$owner" = ckptuser ] && ok "the image is the user's ($owner)" ||
	not_ok "the image's count file: owner $owner"

# 5. One place to look: the event line in the journal.
ev=$(journalctl -u slurmckptd --no-pager -o cat | grep -m1 "^event: .*\"job\":$j,")
[ -n "$ev" ] && ok "journal: $ev" ||
	not_ok "no event line in the journal: $(journalctl -u slurmckptd -n 10 --no-pager -o cat)"
# The same, for the user, from the daemon.
msg=$(cd "$work" && runuser -u ckptuser -- scheckpoint events "$j" 2>&1)
echo "$msg" | grep -Eq "^[0-9T:-]{19} batch +1 create +signal +committed .* $host\$" &&
	ok "scheckpoint events $j: $(echo "$msg" | tail -n 1)" ||
	not_ok "scheckpoint events $j: $msg"

# 6. systemctl reload: the file again, the step still registered.
echo "max_workers=8" >>/etc/slurm/slurmckptd.conf
out=$(systemctl reload slurmckptd 2>&1) || not_ok "systemctl reload: $out"
seq=$(grep -o '"seq": *[0-9]*' "$work/ckpt/$j.ckpt/manifest.json" | grep -o '[0-9]*$')
msg=$(cd "$work" && runuser -u ckptuser -- scheckpoint create "$j" 2>&1)
if journalctl -u slurmckptd --no-pager -o cat | grep -q 'max_workers=8 (was 64)' &&
	[ "$(systemctl show -p ActiveState --value slurmckptd)" = active ] &&
	echo "$msg" | grep -q "seq $((seq + 1))"; then
	ok "systemctl reload slurmckptd: max_workers=8 taken; next checkpoint: $msg"
else
	not_ok "reload: $msg; $(journalctl -u slurmckptd -n 10 --no-pager -o cat)"
fi

# 7. The unit's sandbox, as systemd sees it.
score=$(systemd-analyze security slurmckptd --no-pager 2>/dev/null | tail -n 1)
props=$(systemctl show -p ProtectSystem,NoNewPrivileges,CapabilityBoundingSet slurmckptd |
	tr '\n' ' ')
ok "hardening: $props; $score"

scancel "$j" 2>/dev/null
gone() { [ -z "$(squeue -h -j "$j" 2>/dev/null)" ]; }
wait_for 60 gone || not_ok "job $j did not end at scancel"

# Under the unit's sandbox, criu check passes and criu dumps a job.
if [ -n "$criu" ]; then
	said=$(journalctl -u slurmckptd --no-pager -o cat | grep -m1 'method criu')
	[ -z "$said" ] && ok "criu check passed at start-up (criu.method)" ||
		not_ok "$said"
	running2() { [ "$(squeue -h -j "$j2" -o %T)" = RUNNING ] && grep -q '^start=' "$work/job2.out"; }
	if j2=$(cd "$work" && runuser -u ckptuser -- sbatch --parsable \
		--checkpoint=0 --checkpoint-method=criu \
		--checkpoint-dir="$work/ckpt" -o "$work/job2.out" \
		--wrap "exec $work/counter.sh 120" 2>&1) && wait_for 60 running2; then
		msg=$(cd "$work" && runuser -u ckptuser -- scheckpoint create "$j2" 2>&1)
	else
		msg="criu job did not run: $j2 $(cat "$work/job2.out" 2>&1)"
	fi
	if ls "$work/ckpt/$j2.ckpt" 2>/dev/null | grep -q '^criu'; then
		ok "criu dump under the sandbox: $msg"
	else
		not_ok "criu dump: $msg; $(journalctl -u slurmckptd -n 10 --no-pager -o cat)"
	fi
	scancel "$j2" 2>/dev/null
fi

systemctl stop slurmckptd
[ "$(systemctl show -p Result --value slurmckptd)" = success ] &&
	ok "systemctl stop slurmckptd: exit 0 (STOPPING=1)" ||
	not_ok "slurmckptd stopped: $(systemctl show -p Result,ExecMainStatus slurmckptd | tr '\n' ' ')"
echo "1..$n"
exit $failed
