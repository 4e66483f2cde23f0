#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# notify.sh - slurmckptd under systemd's Type=notify, without systemd: a
# datagram socket stands in for NOTIFY_SOCKET.  The daemon must say
# READY=1 only once its socket accepts connections, ping WATCHDOG=1 from
# its event loop at half of WATCHDOG_USEC (0.4 s here), reread its file at
# SIGHUP (RELOADING=1, READY=1), say STOPPING=1 at SIGTERM and exit 0.  And the unit file slurmckptd.service, with
# ExecStart at the built daemon, passes "systemd-analyze verify".
# Skipped where slurmckptd was built without libsystemd.
#
# Run by "make check" with top_srcdir and top_builddir exported; TAP
# output; exit 0/1.
if [ -z "$BASH_VERSION" ]; then
	exec bash "$0" "$@"
fi
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
daemon=$(cd "$top_builddir" && pwd)/helper/slurmckptd
[ -x "$daemon" ] || { echo "1..0 # SKIP $daemon not built"; exit 0; }
grep -q '^#define HAVE_LIBSYSTEMD 1' "$top_builddir/config.h" ||
	{ echo "1..0 # SKIP built without libsystemd"; exit 0; }
command -v python3 >/dev/null || { echo "1..0 # SKIP no python3"; exit 0; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

python3 - "$daemon" "$tmp" <<'PY' || failed=1
import os, signal, socket, subprocess, sys, time

daemon, tmp = sys.argv[1], sys.argv[2]
n = 0
def ok(good, what):
    global n
    n += 1
    print(("ok %d - %s" if good else "not ok %d - %s") % (n, what))
    return good

ns = os.path.join(tmp, "notify.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(ns)
s.settimeout(30)
conf = os.path.join(tmp, "d.conf")
with open(conf, "w") as f:
    f.write("state_dir = %s/state\nmethod_dir = %s/none\n" % (tmp, tmp))
os.mkdir(os.path.join(tmp, "state"), 0o700)
sock = os.path.join(tmp, "d.sock")
env = dict(os.environ, NOTIFY_SOCKET=ns, WATCHDOG_USEC="400000")
env.pop("WATCHDOG_PID", None)
log = open(os.path.join(tmp, "d.log"), "w")
p = subprocess.Popen([daemon, "-f", conf, "-s", sock], env=env, stderr=log,
                     stdin=subprocess.DEVNULL)
good = True
try:
    first = s.recv(4096).decode()
    listening = False
    c = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        c.connect(sock)
        listening = True
    except OSError as e:
        listening = e
    c.close()
    good &= ok(first == "READY=1" and listening is True,
               "first message %r; the socket then: %s" % (first, listening))
    # Four pings, one every 0.2 s: at least 0.6 s from the first to the
    # last (a loop that spins sends them at once; one that never pings
    # runs into the timeout).  A busy machine only makes it longer.
    times = []
    while len(times) < 4:
        if s.recv(4096).decode() == "WATCHDOG=1":
            times.append(time.monotonic())
    span = times[-1] - times[0]
    good &= ok(span >= 0.55, "4 WATCHDOG=1 over %.2f s (one every 0.2 s)"
               % span)
    # systemctl reload: SIGHUP; RELOADING=1 (with MONOTONIC_USEC=, as
    # systemd 253 wants it), then READY=1 once the file is read again.
    # A key that works while running takes its new value; one read only
    # at start-up keeps its value until a restart; a file in error
    # changes nothing, and the daemon goes on.
    def reload_msgs():
        p.send_signal(signal.SIGHUP)
        got = []
        while len(got) < 2:
            m = s.recv(4096).decode()
            if m != "WATCHDOG=1":
                got.append(m)
        return got
    def log_text():
        return open(os.path.join(tmp, "d.log")).read()
    with open(conf, "w") as f:
        f.write("state_dir = %s/state\nmethod_dir = %s/other\n"
                "poll_interval = 7\n" % (tmp, tmp))
    got = reload_msgs()
    good &= ok(got[0].startswith("RELOADING=1\nMONOTONIC_USEC=")
               and got[1] == "READY=1", "at SIGHUP: %r" % got)
    text = log_text()
    good &= ok("poll_interval=7 (was 10)" in text and
               "method_dir=%s/other takes effect when slurmckptd restarts"
               % tmp in text and "reloaded" in text,
               "the reload's log: %r" % text[-400:])
    with open(conf, "a") as f:
        f.write("poll_interval = 8\n")
    got = reload_msgs()
    text = log_text()
    good &= ok(got[1] == "READY=1" and "given twice" in text and
               "configuration in use is kept" in text and p.poll() is None,
               "a file in error changes nothing: %r" % text[-300:])
    p.send_signal(signal.SIGTERM)
    msg = s.recv(4096).decode()
    while msg == "WATCHDOG=1":
        msg = s.recv(4096).decode()
    rc = p.wait(timeout=30)
    good &= ok(msg == "STOPPING=1" and rc == 0,
               "at SIGTERM: %r, exit %d" % (msg, rc))
except socket.timeout:
    good &= ok(False, "no message within 30 s: %s"
               % open(os.path.join(tmp, "d.log")).read()[-500:])
finally:
    if p.poll() is None:
        p.kill()
        p.wait()
with open(os.path.join(tmp, "n"), "w") as f:
    f.write("%d\n" % n)
sys.exit(0 if good else 1)
PY
n=$(cat "$tmp/n" 2>/dev/null || echo 0)

# The unit file as make builds it, with ExecStart at this daemon.
unit=$top_builddir/etc/slurmckptd.service
n=$((n + 1))
if ! command -v systemd-analyze >/dev/null; then
	echo "ok $n # SKIP no systemd-analyze"
elif [ ! -f "$unit" ]; then
	echo "not ok $n - $unit not built"
	failed=1
else
	sed "s|^ExecStart=.*|ExecStart=$daemon|" "$unit" >"$tmp/slurmckptd.service"
	# --man=no: the man pages of Documentation= are not installed here.
	if out=$(systemd-analyze verify --man=no "$tmp/slurmckptd.service" 2>&1); then
		echo "ok $n - systemd-analyze verify slurmckptd.service (Type=$(sed -n 's/^Type=//p' "$unit"))"
	else
		echo "not ok $n - systemd-analyze verify: $out"
		failed=1
	fi
fi
echo "1..$n"
exit $failed
