#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# frame.py <port> <file> - the file's bytes as one frame (a 4-byte length,
# big-endian, then the body: slurmckptd's TCP port) to 127.0.0.1:<port>;
# prints "ok" or the reply's error (1430-remote-munge, 1510-multi-node-abort).
import json, socket, struct, sys
body = open(sys.argv[2], "rb").read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(struct.pack(">I", len(body)) + body)
hdr = b""
while len(hdr) < 4:
    c = s.recv(4 - len(hdr))
    if not c: break
    hdr += c
n = struct.unpack(">I", hdr)[0]
data = b""
while len(data) < n:
    data += s.recv(n - len(data))
r = json.loads(data)
print("ok" if r["ok"] else r["error"])
