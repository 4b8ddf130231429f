#!/usr/bin/env bash
# Builds the fully static release binaries (DESIGN.md §4): .build/release/ocirun, the runtime
# engines call, with ocirun-cli beside it (every other command), and ocirun-hooks.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun
if ldd .build/release/ocirun >/dev/null 2>&1; then
  echo "build: .build/release/ocirun is dynamically linked" >&2
  exit 1
fi
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun-cli
if ldd .build/release/ocirun-cli >/dev/null 2>&1; then
  echo "build: .build/release/ocirun-cli is dynamically linked" >&2
  exit 1
fi
# The HPC hooks executable, static the same way.
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun-hooks
if ldd .build/release/ocirun-hooks >/dev/null 2>&1; then
  echo "build: .build/release/ocirun-hooks is dynamically linked" >&2
  exit 1
fi
