#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# notify.sh - slurmckptd under systemd's Type=notify, without systemd: a
# datagram socket stands in for NOTIFY_SOCKET.  The daemon must say
# READY=1 only once its socket accepts connections, ping WATCHDOG=1 from
# its event loop at half of WATCHDOG_USEC (0.4 s here), say STOPPING=1 at
# SIGTERM and exit 0.  And the unit file slurmckptd.service, with
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
