#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# badpackets.py <socket> - malformed packets to slurmckptd's socket, each on
# a connection of its own: empty, not JSON, not an object, fields missing
# or unknown, too long, a registration's fields missing, a task packet
# with two descriptors.  Each is answered or dropped; the caller checks
# that the daemon lives on (1050-valgrind, 1051-asan-helper).
import os, socket, sys
bad = [b"", b"{", b"null", b"[]", b'{"v":1}', b'{"v":1,"op":"create","job":1,"step":0,"x":1}',
       b'{"v":1,"op":"register","job":1,"step":0}', b"\xff" * 70000, b'{"v":1,"op":"task","job":1,"step":0,"task":0}']
for b in bad:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    try:
        if b.startswith(b'{"v":1,"op":"task"'):
            r, w = os.pipe()
            socket.send_fds(s, [b], [r, w])
        else:
            s.send(b)
        s.settimeout(5)
        s.recv(65536)
    except OSError:
        pass
    s.close()
