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

# The functions the hot commands run are laid out together (bench/order.sh): fewer page faults
# and a smaller RSS per command.
order=()
[ -s bench/hot-functions.txt ] && order=(-Xlinker "--section-ordering-file=$PWD/bench/hot-functions.txt")
rm -f .build/release/ocirun   # relinked each time: SwiftPM does not see the order file change
if ! static ocirun "${order[@]}"; then
  # The ordering file is gold's option; a toolchain linking with another linker builds without it.
  [ ${#order[@]} -gt 0 ] || exit 1
  echo "build: linking with the function order failed; building without it" >&2
  static ocirun || exit 1
fi
static ocirun-cli
static ocirun-hooks   # the HPC hooks executable
