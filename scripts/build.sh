#!/usr/bin/env bash
# Builds the fully static release binary: .build/release/ocirun (DESIGN.md §4).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun
if ldd .build/release/ocirun >/dev/null 2>&1; then
  echo "build: .build/release/ocirun is dynamically linked" >&2
  exit 1
fi
# The HPC hooks executable, static the same way.
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun-hooks
if ldd .build/release/ocirun-hooks >/dev/null 2>&1; then
  echo "build: .build/release/ocirun-hooks is dynamically linked" >&2
  exit 1
fi
