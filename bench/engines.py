#!/usr/bin/env python3
"""End-to-end time of an engine running /bin/true in a fresh container on each OCI runtime:
`ctr run --rm` (containerd 1.6 + containerd-shim-runc-v2) and `podman run --rm` (podman 4.3 +
conmon), measured with hyperfine. The engines are set up exactly as the engine tests set them up
(engines/run.py: private containerd and podman configuration under a temporary directory).

    python3 bench/engines.py --runtime PATH [--runtime PATH ...] [--runs N] [--markdown FILE]
"""

import argparse
import json
import os
import random
import shlex
import shutil
import string
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "engines"))
import image  # noqa: E402
import run as engines  # noqa: E402


def hyperfine(commands, runs, env):
    out = tempfile.mktemp(suffix=".json")
    argv = ["hyperfine", "--style", "basic", "--warmup", "3", "--runs", str(runs), "--export-json", out]
    for name, argv_cmd in commands:
        argv += ["--command-name", name, " ".join(shlex.quote(a) for a in argv_cmd)]
    subprocess.run(argv, check=True, env=env)
    with open(out) as f:
        results = json.load(f)["results"]
    os.unlink(out)
    return {r["command"]: r for r in results}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runtime", action="append", required=True)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--markdown", help="also write the table to this file")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="ocirun-bench-engines-")
    prefix = "ocirun-bench-" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    runtimes = [engines.Runtime(os.path.abspath(p), workdir) for p in args.runtime]
    cd = None
    try:
        images = image.build_images(os.path.join(workdir, "images"))
        cd = engines.Containerd(workdir, runtimes, prefix, images)
        cd.start()
        # overlay as on production hosts (the tests use vfs): vfs copies the image per container.
        pm = engines.Podman(workdir, runtimes, prefix, images, driver="overlay")
        pm.load()
        commands = []
        for rt in runtimes:
            commands.append(("ctr run --rm (%s)" % rt.name,
                             engines.ctr_run_argv(cd, rt, "bench-" + rt.name, ["/bin/true"], ["--rm"])))
        for rt in runtimes:
            commands.append(("podman run --rm (%s)" % rt.name,
                             pm.argv(rt, ["run", "--rm", "--cgroup-parent", "/%s/podman" % prefix,
                                          images["busybox"][0], "/bin/true"])))
        results = hyperfine(commands, args.runs, pm.env)
        lines = ["| engine command | " + " | ".join(rt.name for rt in runtimes) + " |",
                 "|---|" + "---|" * len(runtimes)]
        for engine in ("ctr run --rm", "podman run --rm"):
            cells = []
            for rt in runtimes:
                r = results["%s (%s)" % (engine, rt.name)]
                cells.append("%.0f ± %.0f ms" % (r["mean"] * 1000, r["stddev"] * 1000))
            lines.append("| `%s` /bin/true | %s |" % (engine, " | ".join(cells)))
        table = "\n".join(lines)
        print(table)
        if args.markdown:
            with open(args.markdown, "w") as f:
                f.write(table + "\n")
        subprocess.run(["podman", "system", "reset", "--force"], env=pm.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        engines.kill_leftovers(prefix, cd.socket if cd else None)
        if cd:
            cd.stop()
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f]
        for m in reversed(mounts):
            if m.startswith(workdir + "/"):
                subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        engines.remove_cgroups(prefix)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
