#!/usr/bin/env bash
# Engine integration tests (issue 4): containerd 1.6 (ctr and the CRI plugin, through
# containerd-shim-runc-v2) and podman 4.3 (through conmon) on top of the static release ocirun,
# and the same scenarios on top of runc in the same run. Needs root and the packages of
# scripts/setup.sh; expects .build/release/ocirun (scripts/build.sh). See docs/engines.md.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .build/release/ocirun ] || { echo "test-engines: .build/release/ocirun is missing (run scripts/build.sh)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "test-engines: needs root" >&2; exit 1; }

# A copy, so a rebuild during the run does not change the binary under the engines; it keeps
# the name ocirun, which names the CRI handler and podman's runtime.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ocirun-engines-bin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
install -m 0755 .build/release/ocirun "$tmp/ocirun"
install -m 0755 .build/release/ocirun-cli "$tmp/ocirun-cli"   # beside it: every other command

# The CRI client uses grpcio: Debian's python3-grpcio is importable by Debian's python3.
py=python3
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import grpc' 2>/dev/null; then py=$candidate; break; fi
done

"$py" engines/run.py --runtime "$tmp/ocirun" --runtime "$(command -v runc)" "$@"
