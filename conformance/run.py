#!/usr/bin/env python3
"""Score one or more OCI runtime binaries against the project's conformance checks.

    python3 conformance/run.py --runtime .build/release/ocirun --runtime runc --runtime crun

Each check builds a fresh bundle (busybox + a static probe), drives the runtime
through its command line with a private --root, and asserts on what the probe
printed inside the container and on what the host sees.  See README.md.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from harness import Fail, Skip  # noqa: E402
from registry import CHECKS  # noqa: E402
import checks  # noqa: E402,F401  (registers every check)


def build_probe(cache):
    src = os.path.join(HERE, "probe", "probe.c")
    out = os.path.join(cache, "probe")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
        return out
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-static", "-O2", "-Wall", "-o", out + ".tmp", src],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit("building the probe failed (needs a C compiler and static libc, libc6-dev):\n" + r.stderr)
    os.rename(out + ".tmp", out)
    return out


def ensure_hugetlb_v1():
    """crun refuses a hybrid host whose hugetlb controller sits on the cgroup2 mount.

    Mount a v1 hugetlb hierarchy (what the brief of this suite documents) when crun is scored.
    """
    d = "/sys/fs/cgroup/hugetlb"
    if subprocess.run(["mountpoint", "-q", d]).returncode == 0:
        return None
    if not os.path.isdir("/sys/fs/cgroup/unified"):
        return None      # not a hybrid host: nothing to do
    try:
        os.makedirs(d, exist_ok=True)
    except OSError as e:
        return "cannot create %s: %s" % (d, e)
    r = subprocess.run(["mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", d], capture_output=True, text=True)
    if r.returncode != 0:
        return "mounting a v1 hugetlb hierarchy failed: %s" % r.stderr.strip()
    return "mounted a v1 hugetlb hierarchy at %s (crun needs it on a hybrid host)" % d


def load_allowed(path):
    allowed = set()
    if not path:
        return allowed
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                allowed.add(line)
    return allowed


HUNG_LIMIT = 4


def run_one(fn, env, rt):
    t0 = time.time()
    if rt.timeouts_in_row >= HUNG_LIMIT:
        return "fail", "not run: the runtime timed out on its last %d commands" % rt.timeouts_in_row, 0.0
    try:
        fn(env, rt)
        status, msg = "pass", ""
    except Skip as e:
        status, msg = "skip", str(e)
    except Fail as e:
        status, msg = "fail", str(e)
    except Exception as e:  # a bug in the check or an unexpected host error: still a failure, with a trace
        status, msg = "fail", "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc(limit=3))
    finally:
        try:
            harness.sweep_cgroups()
        except Exception:
            pass
    return status, msg, time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runtime", action="append", required=False, default=[],
                    help="runtime binary (path or name on PATH); repeat to compare; the first one sets the exit status")
    ap.add_argument("--filter", action="append", default=[],
                    help="run only checks whose name contains this substring (repeatable)")
    ap.add_argument("--tap", action="store_true", help="TAP output even with several runtimes")
    ap.add_argument("--allow-failures", metavar="FILE",
                    help="check names (one per line, # comments) whose failure of the first runtime does not fail the run")
    ap.add_argument("--list", action="store_true", help="list the checks and exit")
    ap.add_argument("--verbose", "-v", action="store_true", help="print failure details in table mode too")
    ap.add_argument("--cache", default=os.path.join(HERE, "out"), help="where the probe and rootfs template are built")
    args = ap.parse_args()

    selected = [(n, f, s) for (n, f, s) in CHECKS if not args.filter or any(x in n for x in args.filter)]
    if args.list:
        for n, _f, s in selected:
            print("%-40s %s" % (n, s))
        return 0
    if not args.runtime:
        ap.error("at least one --runtime is required")
    if os.geteuid() != 0:
        print("# warning: not running as root; most checks need root", file=sys.stderr)

    runtimes = [harness.Runtime(p) for p in args.runtime]
    names = [r.name for r in runtimes]
    if len(set(names)) != len(names):   # two binaries with the same base name: label them by position
        for i, r in enumerate(runtimes):
            r.name = "%s#%d" % (r.name, i + 1)
    allowed = load_allowed(args.allow_failures)

    os.makedirs(args.cache, exist_ok=True)
    probe = build_probe(args.cache)
    template = harness.build_template(args.cache, probe)
    if any("crun" in os.path.basename(r.path) for r in runtimes):
        note = ensure_hugetlb_v1()
        if note:
            print("# " + note)
    work = tempfile.mkdtemp(prefix="ocirun-conformance-")
    os.chmod(work, 0o711)
    env = harness.Env(work, template)

    tap = args.tap or len(runtimes) == 1
    results = {r.name: {} for r in runtimes}
    if tap:
        print("TAP version 13")
        print("1..%d" % (len(selected) * len(runtimes)))
    else:
        w = max([len(n) for n, _f, _s in selected] + [10])
        print("%-*s  %s" % (w, "check", "  ".join("%-8s" % r.name for r in runtimes)))
    n = 0
    t_start = time.time()
    try:
        for name, fn, _spec in selected:
            row = []
            for rt in runtimes:
                n += 1
                status, msg, dt = run_one(fn, env, rt)
                results[rt.name][name] = (status, msg)
                if tap:
                    label = "%s %s" % (rt.name, name) if len(runtimes) > 1 else name
                    if status == "pass":
                        print("ok %d - %s" % (n, label))
                    elif status == "skip":
                        print("ok %d - %s # SKIP %s" % (n, label, msg.splitlines()[0] if msg else ""))
                    else:
                        print("not ok %d - %s" % (n, label))
                        for line in msg.splitlines():
                            print("#   " + line)
                else:
                    row.append({"pass": "pass", "fail": "FAIL", "skip": "skip"}[status])
                sys.stdout.flush()
            if not tap:
                print("%-*s  %s" % (w, name, "  ".join("%-8s" % c for c in row)))
                if args.verbose:
                    for rt in runtimes:
                        st, msg = results[rt.name][name]
                        if st != "pass" and msg:
                            print("    %s: %s" % (rt.name, msg.splitlines()[0][:300]))
                sys.stdout.flush()
    finally:
        for note in env.notes:
            print("# cleanup: " + note)
        if not env.notes:
            shutil.rmtree(work, ignore_errors=True)

    print("# %d checks x %d runtimes in %.0fs" % (len(selected), len(runtimes), time.time() - t_start))
    first = runtimes[0].name
    unexpected = []
    for rt in runtimes:
        res = results[rt.name]
        p = sum(1 for s, _ in res.values() if s == "pass")
        f = sum(1 for s, _ in res.values() if s == "fail")
        k = sum(1 for s, _ in res.values() if s == "skip")
        if rt.name == first:
            unexpected = [c for c, (s, _) in res.items() if s == "fail" and c not in allowed]
            first_counts = (p, f, k)
        print("%s: %d passed, %d failed, %d skipped" % (rt.name, p, f, k))
    if unexpected:
        print("# %s: failures not in the allowed list: %s" % (first, ", ".join(unexpected)))
    print("%d passed, %d failed, %d skipped" % first_counts)
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
