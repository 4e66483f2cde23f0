#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# layers.sh - the files of each component call each other in layers that
# only point down: no two files of helper/, spank/, scheckpoint/ or
# common/ call each other, directly or round a loop.  Read from the
# object files that "make" built (nm: what each defines and what it
# calls), so a call through a header's inline function or a macro counts
# where it lands.  Prints each component's files bottom-up, the files each
# one calls, and, for a loop, the calls that close it.
#
# Run by "make check" with top_builddir exported; TAP output; exit 0/1.
if [ -z "$BASH_VERSION" ]; then
	exec bash "$0" "$@"
fi
top_builddir=${top_builddir:-.}
command -v nm >/dev/null || { echo "1..0 # SKIP nm not installed"; exit 0; }
command -v python3 >/dev/null || { echo "1..0 # SKIP python3 not installed"; exit 0; }

exec python3 - "$top_builddir" <<'PY'
import glob, os, subprocess, sys

top = sys.argv[1]
# component: (its objects, the prefix automake gives them)
components = [
    ("helper", "helper/slurmckptd-*.o", "slurmckptd-"),
    ("spank", "spank/.libs/checkpoint_la-*.o", "checkpoint_la-"),
    ("scheckpoint", "scheckpoint/scheckpoint-*.o", "scheckpoint-"),
    ("common", "common/.libs/libckpt_la-*.o", "libckpt_la-"),
]

def nm(args, obj):
    out = subprocess.run(["nm"] + args + [obj], capture_output=True,
                         text=True, check=True).stdout
    return [line.split() for line in out.splitlines()]

def cycles(edges):
    """Tarjan: the strongly connected components of more than one file."""
    index, low, stack, on, found, n = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = stack.pop(); on.discard(w); c.append(w)
                if w == v:
                    break
            if len(c) > 1:
                found.append(sorted(c))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found

def floors(edges):
    """Each file's floor: 1 + the highest floor of what it calls."""
    memo = {}
    def floor(v):
        if v not in memo:
            memo[v] = 0
            memo[v] = 1 + max((floor(w) for w in edges[v]), default=0)
        return memo[v]
    return {v: floor(v) for v in edges}

tap, failed = [], False
for name, pattern, prefix in components:
    objs = sorted(glob.glob(os.path.join(top, pattern)))
    if not objs:
        tap.append("ok %d - %s # SKIP not built" % (len(tap) + 1, name))
        continue
    unit = lambda o: os.path.basename(o)[len(prefix):-2]
    defs, calls = {}, {}
    for o in objs:
        calls[unit(o)] = set()
        for f in nm(["--defined-only"], o):
            if len(f) == 3 and f[1] in "TDBRC":
                defs[f[2]] = unit(o)
    for o in objs:
        for f in nm(["-u"], o):
            d = defs.get(f[-1])
            if d and d != unit(o):
                calls[unit(o)].add((d, f[-1]))
    edges = {u: sorted({d for d, _ in c}) for u, c in calls.items()}
    loops = cycles(edges)
    fl = floors(edges) if not loops else {}
    for u in sorted(edges, key=lambda u: (fl.get(u, 0), u)):
        print("# %s/%s -> %s" % (name, u, " ".join(edges[u]) or "-"))
    for c in loops:
        for u in c:
            for d, sym in sorted(calls[u]):
                if d in c:
                    print("#   loop: %s/%s calls %s (%s)" % (name, u, sym, d))
    failed |= bool(loops)
    tap.append("%s %d - %s: %d files, %s" % (
        "not ok" if loops else "ok", len(tap) + 1, name, len(edges),
        "loops: " + "; ".join(" ".join(c) for c in loops) if loops
        else "no loop, %d floors" % max(fl.values(), default=0)))
print("1..%d" % len(tap))
print("\n".join(tap))
sys.exit(1 if failed else 0)
PY
