#!/usr/bin/env bash
# Builds the fully static release binaries (DESIGN.md §4): .build/release/ocirun, the runtime
# engines call, with ocirun-cli beside it (every other command), and ocirun-hooks.
set -euo pipefail
cd "$(dirname "$0")/.."
# The functions the hot commands run are laid out together (bench/order.sh): fewer page faults
# and a smaller RSS per command.
order=()
[ -s bench/hot-functions.txt ] && order=(-Xlinker "--section-ordering-file=$PWD/bench/hot-functions.txt")
rm -f .build/release/ocirun   # relinked each time: SwiftPM does not see the order file change
if ! swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun "${order[@]}"; then
  # The ordering file is gold's option; a toolchain linking with another linker builds without it.
  [ ${#order[@]} -gt 0 ] || exit 1
  echo "build: linking with the function order failed; building without it" >&2
  swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun
fi
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
