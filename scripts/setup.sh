#!/usr/bin/env bash
# Installs what ocirun needs to build and to be tested on Debian 12, as root.
# The Swift 6.3 toolchain itself is expected on PATH (swift.org's Linux toolchain).
set -euo pipefail
pkgs=(
  pkg-config libseccomp-dev libcap-dev libyajl-dev   # C libraries ocirun links (static)
  gcc libc6-dev                                       # the static probe used by the tests
  busybox-static                                      # test container rootfs
  runc crun                                           # reference runtimes the conformance suite scores
  squashfs-tools siftool                              # SIF images made and read by other tools
  libsquashfs-dev libzstd-dev liblz4-dev liblzma-dev zlib1g-dev  # squashfs in-process (sif build/mount), static
  squashfuse fuse3 openssl                            # rootless sif mount; test keys
  uidmap                                              # newuidmap/newgidmap for rootless ranges
  python3                                             # conformance runner
  containerd podman conmon python3-grpcio bsdutils   # engine tests (scripts/test-engines.sh)
)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi
command -v swift >/dev/null || { echo "setup: swift (6.3) is not on PATH" >&2; exit 1; }
