#!/usr/bin/env bash
# Engine end-to-end times (`ctr run --rm` and `podman run --rm` of /bin/true) with ocirun, runc and
# crun side by side, in one run (hyperfine). As root; see bench/engines.py and docs/engines.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v hyperfine >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine; }
[ -x .build/release/ocirun ] || bash scripts/build.sh
# crun refuses this kind of host's hybrid cgroups without a v1 hugetlb hierarchy.
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocirun-bench-bin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
install -m 0755 .build/release/ocirun "$tmp/ocirun"
install -m 0755 .build/release/ocirun-cli "$tmp/ocirun-cli"   # beside it: every other command
exec python3 bench/engines.py --runtime "$tmp/ocirun" --runtime "$(command -v runc)" --runtime "$(command -v crun)" "$@"
