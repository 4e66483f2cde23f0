#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# registrar.py - many steps registered with one slurmckptd through its real
# socket, as slurmstepd's plugin does (register, then the task's pidfd), for
# the load test (1070-load.t) and the benchmarks (tests/bench/run.sh).
#
#   registrar.py <socket> <uid> <gid> <base> <first-job> <pidfile> <interval>
#
# <pidfile> holds "<i> <pid>" lines (apps/loadapp.c): step <first-job + i>.0
# of <uid>:<gid>, its only task <pid>, images in <base>/s<i>, a checkpoint
# every <interval> seconds.  One connection per step, held open (as
# slurmstepd does) until this process is killed; prints "registered <n>"
# after every 100 and once all are.  Run as root (the helper trusts only root's registrations).
import json, os, resource, socket, sys, time
path, uid, gid, base, first, pidfile, interval = sys.argv[1:]
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
conns = []
for line in open(pidfile):
    i, pid = map(int, line.split())
    job = int(first) + i
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    s.send(json.dumps({"v": 1, "op": "register", "job": job, "step": 0,
        "uid": int(uid), "gid": int(gid), "ntasks": 1,
        "interval": int(interval), "max_wait": 10, "keep": 1, "lead": 0,
        "max_requeue": 0, "exit_code": 0, "signo": 12,
        "dir": "%s/s%d" % (base, i), "node": "c1"}).encode())
    r = json.loads(s.recv(65536))
    assert r["ok"], r
    fd = os.pidfd_open(pid)
    socket.send_fds(s, [json.dumps({"v": 1, "op": "task", "job": job,
        "step": 0, "task": 0}).encode()], [fd])
    os.close(fd)
    r = json.loads(s.recv(65536))
    assert r["ok"], r
    conns.append(s)
    if len(conns) % 100 == 0:
        print("registered", len(conns), flush=True)
if len(conns) % 100:
    print("registered", len(conns), flush=True)
while True:
    time.sleep(60)
