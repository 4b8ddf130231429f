#!/usr/bin/env python3
"""Times commands that take turns run by run, back to back: paired runs.

usage: paired.py RUNS OUT.json NAME PREPARE COMMAND [NAME PREPARE COMMAND ...]

Each round runs every COMMAND once, in an order rotated from one round to the next, so that
each run of one command has a run of each other one made right before or after it under the
same conditions (other load, the CPU's frequency, the kernel's deferred work from the previous
container), and none of them runs in a warm loop of its own. The first round is a warm-up and
is not counted. PREPARE is a shell command run untimed right before each run of its COMMAND
("" for none). COMMAND is split like a shell word list and run directly (no shell), with
stdout and stderr on /dev/null, as `hyperfine -N` runs it; the time is from the spawn to the
reaped exit. OUT.json gets {NAME: [seconds, ...]}. Any failed run fails the whole measurement.

bench/run.sh uses it for its table. Why not hyperfine: it times one command at a time, so its
runs are either in a loop of their own or, one hyperfine per round, each after a pause of tens
of milliseconds, and both change what is measured (docs/performance.md, item 35).
"""
import json
import os
import shlex
import subprocess
import sys
import time


def main() -> int:
    runs, out = int(sys.argv[1]), sys.argv[2]
    rest = sys.argv[3:]
    if runs < 1 or len(rest) == 0 or len(rest) % 3 != 0:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    entries = [(rest[i], rest[i + 1], shlex.split(rest[i + 2])) for i in range(0, len(rest), 3)]
    devnull = os.open(os.devnull, os.O_RDWR)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in entries}
    for r in range(runs + 1):
        for k in range(len(entries)):
            name, prepare, argv = entries[(r + k) % len(entries)]
            if prepare:
                subprocess.run(["/bin/sh", "-c", prepare], stdout=devnull, stderr=devnull, check=False)
            t0 = time.perf_counter()
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
            _, status = os.waitpid(pid, 0)
            elapsed = time.perf_counter() - t0
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                print(f"paired: {name}: `{shlex.join(argv)}` exited with {code} (round {r})", file=sys.stderr)
                return 1
            if r > 0:
                times[name].append(elapsed)
    with open(out, "w") as f:
        json.dump(times, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
