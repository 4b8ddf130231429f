#!/usr/bin/env python3
"""Writes a symbol ordering file for lld from instruction traces of the hot commands.

usage: order.py BINARY MAP TRACEDIR PRIORITY OUT

BINARY is the runtime linked without an order and MAP its lld link map; TRACEDIR holds one file
per command (bench/steptrace output: each executed address once, in first-execution order).
PRIORITY names the commands, most important first: their functions come first in that order,
those of a command that the earlier ones also ran first of all. Functions in input sections of
more than 128 KB (the stdlib's one non-generic .text) are left out: naming one would move all of it.
"""
import bisect, collections, os, re, subprocess, sys

binary, mapfile, tracedir, priority, out = sys.argv[1:6]
syms = []
for line in subprocess.run(["nm", "-n", "--defined-only", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    p = line.split()
    if len(p) == 3 and p[1] in "tTwW":
        syms.append((int(p[0], 16), p[2]))
starts = [a for a, _ in syms]
big = []
for line in open(mapfile):
    m = re.match(r"\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+\s+\S+:\(\.text[^)]*\)$", line)
    if m and int(m[2], 16) > 128 * 1024:
        big.append((int(m[1], 16), int(m[1], 16) + int(m[2], 16)))

def function(address):
    i = bisect.bisect_right(starts, address) - 1
    return syms[i][1] if i >= 0 else None

runs = {}
for name in sorted(os.listdir(tracedir)):
    seen, order = set(), []
    for line in open(os.path.join(tracedir, name)):
        a = int(line, 16)
        if any(lo <= a < hi for lo, hi in big):
            continue
        f = function(a)
        if f and f not in seen:
            seen.add(f)
            order.append(f)
    runs[os.path.splitext(name)[0]] = order

users = collections.Counter(f for order in runs.values() for f in order)
commands = [c for c in priority.split(",") if c in runs] + sorted(c for c in runs if c not in priority.split(","))
rank = {}
for ci, c in enumerate(commands):
    for i, f in enumerate(runs[c]):
        rank.setdefault(f, (ci, -users[f], i))
with open(out, "w") as o:
    for f in sorted(rank, key=rank.get):
        o.write(f + "\n")
print(f"order: {len(rank)} functions from {len(runs)} commands")
