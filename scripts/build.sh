#!/usr/bin/env bash
# Builds the fully static release binaries (DESIGN.md §4): .build/release/ocirun, the runtime
# engines call, with ocirun-cli beside it (every other command), and ocirun-hooks.
set -euo pipefail
cd "$(dirname "$0")/.."

# static PRODUCT [SWIFT BUILD FLAGS…]: builds it fully static and checks that it is.
static() {
  local product=$1; shift
  swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product "$product" "$@" || return
  if ldd ".build/release/$product" >/dev/null 2>&1; then
    echo "build: .build/release/$product is dynamically linked" >&2
    exit 1
  fi
}

# The functions the hot commands run are laid out together (bench/order.sh): fewer 64 KB windows
# of the binary mapped per command, so fewer page faults and a smaller RSS. ocirun links with lld
# (Package.swift), which takes the order by symbol.
order=()
[ -s bench/hot-symbols.txt ] && order=(-Xlinker "--symbol-ordering-file=$PWD/bench/hot-symbols.txt"
  -Xlinker --no-warn-symbol-ordering -Xlinker "--script=$PWD/scripts/hot-text.ld")
rm -f .build/release/ocirun   # relinked each time: SwiftPM does not see the order file change
if ! static ocirun "${order[@]}"; then
  [ ${#order[@]} -gt 0 ] || exit 1
  echo "build: linking with the function order failed; building without it" >&2
  static ocirun || exit 1
fi
static ocirun-cli
static ocirun-hooks   # the HPC hooks executable
