#!/usr/bin/env bash
# ocirun-hooks against a real NVIDIA GPU and driver (docs/hooks.md, "Checked on real hardware"),
# as root on a machine with the driver, nvidia-smi and nvcc:
#   1. the `gpu` hook as a createContainer hook (NVIDIA_VISIBLE_DEVICES=all) under ocirun;
#   2. a CDI spec written by `ocirun-hooks cdi generate gpu`, applied by ocirun from the
#      `cdi.k8s.io/...` annotation (devices `all` and `0`).
# Each container runs `nvidia-smi -L`, `nvidia-smi` and a small CUDA program (scripts/gpu-check/
# cuda-check.cu, built here with `nvcc -cudart static`: once as machine code for this GPU, once as
# PTX only, which the driver compiles at load time through libnvidia-ptxjitcompiler).
# The container rootfs is made here: a static busybox, a static ldconfig, and this machine's glibc
# libraries that the programs need; the driver's files come only from the hook or the CDI spec.
#
# Usage: scripts/gpu-check.sh [LOGDIR]
#   OCIRUN, OCIRUN_HOOKS: the binaries (default .build/release/…); BUSYBOX: a static busybox
#   (default: `busybox` on the PATH); LDCONFIG: a static glibc ldconfig for the rootfs (default this
#   machine's ldconfig.real or ldconfig, when it is an ELF file); NVCC (default nvcc).
# Exit status 0 when every check passed; each check prints "ok - …" or "FAIL - …".
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
logdir=$(realpath -m "${1:-gpu-check-logs}")
mkdir -p "$logdir"
OCIRUN=$(realpath "${OCIRUN:-.build/release/ocirun}")
HOOKS=$(realpath "${OCIRUN_HOOKS:-.build/release/ocirun-hooks}")
BUSYBOX=${BUSYBOX:-$(command -v busybox || true)}
NVCC=${NVCC:-nvcc}

die() { echo "gpu-check: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root"
[ -x "$OCIRUN" ] && [ -x "$HOOKS" ] || die "missing $OCIRUN or $HOOKS"
[ -n "$BUSYBOX" ] && [ -x "$BUSYBOX" ] || die "needs a static busybox (BUSYBOX=…)"
is_elf() { [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }
if [ -z "${LDCONFIG:-}" ]; then
  for c in /sbin/ldconfig.real /usr/sbin/ldconfig.real /sbin/ldconfig /usr/sbin/ldconfig; do
    if [ -x "$c" ] && is_elf "$c"; then LDCONFIG=$c; break; fi
  done
fi
[ -n "${LDCONFIG:-}" ] || die "no ELF ldconfig found (LDCONFIG=…)"

failed=0
ok() { echo "ok - $*"; }
bad() { echo "FAIL - $*"; failed=$((failed + 1)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/ocirun-gpu-check.XXXXXX")
state=$work/state
ids=()
cleanup() {
  for id in "${ids[@]}"; do "$OCIRUN" --root "$state" delete --force "$id" >/dev/null 2>&1 || true; done
  { grep -F " $work" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "== host"
uname -r
cat /proc/driver/nvidia/version 2>&1
nvidia-smi -L 2>&1
nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv 2>&1
ls -l /dev/nvidia* 2>&1
echo "nvidia-smi on the PATH: $(command -v nvidia-smi || echo none)"
# Tools in the system directories may be links or wrapper scripts of a driver installed elsewhere.
for t in /usr/bin/nvidia-* /usr/local/bin/nvidia-*; do
  [ -e "$t" ] || continue
  if is_elf "$t"; then echo "$t: ELF$( [ -L "$t" ] && echo ", link to $(readlink "$t")")"
  else echo "$t: not ELF:"; head -n 12 "$t" | sed 's/^/    /'; fi
done
ldconfig -p | grep -E 'libcuda\.so|libnvidia-ml\.so|libnvidia-ptxjitcompiler\.so' || echo "(libcuda/libnvidia-ml not in the host ld cache)"
"$NVCC" --version 2>&1 | tail -2

# The cgroup filesystem: ocirun needs one; a bare VM may have none mounted.
if ! grep -qE ' /sys/fs/cgroup(/[^ ]*)? (cgroup2?) ' /proc/self/mounts; then
  mount -t cgroup2 none /sys/fs/cgroup || die "no cgroup filesystem and cgroup2 cannot be mounted"
  echo "mounted cgroup2 on /sys/fs/cgroup"
fi
grep -E ' cgroup2? ' /proc/self/mounts

echo "== build the CUDA program"
"$NVCC" -O2 -cudart static -arch=native -o "$work/cuda-check" scripts/gpu-check/cuda-check.cu \
  && "$NVCC" -O2 -cudart static -gencode arch=compute_75,code=compute_75 -o "$work/cuda-check-ptx" scripts/gpu-check/cuda-check.cu \
  || die "nvcc failed"
# On the host first: the reference result, and the first CUDA call creates /dev/nvidia-uvm
# (through nvidia-modprobe) where the driver has not made it yet.
if "$work/cuda-check" && "$work/cuda-check-ptx"; then ok "CUDA program on the host"; else bad "CUDA program on the host"; fi
ls -l /dev/nvidia* 2>&1

echo "== container rootfs"
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,etc,proc,sys,dev,tmp,usr/local/bin,lib64}
cp "$BUSYBOX" "$rootfs/bin/busybox"
for a in $("$rootfs/bin/busybox" --list); do [ -e "$rootfs/bin/$a" ] || ln -s busybox "$rootfs/bin/$a"; done
rm -f "$rootfs/bin/ldconfig" "$rootfs/sbin/ldconfig"
cp "$LDCONFIG" "$rootfs/sbin/ldconfig"
cp "$work/cuda-check" "$work/cuda-check-ptx" "$rootfs/usr/local/bin/"
# glibc and the C++ runtime of this machine, and whatever else the programs link (never the
# driver's own libraries: those must come from the hook or the CDI spec).
smi=$(command -v nvidia-smi || true)
libs=$(for f in "$work/cuda-check" ${smi:+"$smi"}; do ldd "$f" 2>/dev/null; done |
  awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u)
for l in $libs; do
  case $(basename "$l") in libcuda.*|libnvidia-*) continue ;; esac
  mkdir -p "$rootfs$(dirname "$l")"; cp -L "$l" "$rootfs$l"
done
for n in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6; do
  p=$(ldconfig -p | awk -v n="$n" '$1 == n && /x86-64|x86_64/ {print $NF; exit}')
  [ -n "$p" ] && [ ! -e "$rootfs$p" ] && { mkdir -p "$rootfs$(dirname "$p")"; cp -L "$p" "$rootfs$p"; }
done
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$rootfs/lib64/"
libdirs=$(cd "$rootfs" && find . -name '*.so*' -type f | sed 's|^\.||; s|/[^/]*$||' | sort -u)
printf '%s\n' $libdirs > "$rootfs/etc/ld.so.conf"
"$rootfs/sbin/ldconfig" -r "$rootfs"
echo "rootfs libraries: $(cd "$rootfs" && find . -name '*.so*' -type f | sort | tr '\n' ' ')"

# The commands each container runs; the last line is the count of failed steps.
container_cmd='for step in "nvidia-smi -L" "nvidia-smi" "cuda-check" "cuda-check-ptx"; do
  echo "-- $step"; $step; echo "rc $step: $?"
done
echo "-- injected"; ls /.ocirun/gpu/bin /.ocirun/gpu/lib; ls -l /dev/nvidia*
ldconfig -p | grep -E "libcuda|libnvidia-ml|ptxjit"'

# bundle NAME ENV_JSON ANNOTATIONS_JSON HOOKS_JSON -> $work/NAME/config.json, from `ocirun spec`
bundle() {
  mkdir -p "$work/$1" && (cd "$work/$1" && "$OCIRUN" spec) || die "ocirun spec"
  python3 - "$work/$1/config.json" "$rootfs" "$1" "$container_cmd" "$2" "$3" "$4" <<'PY'
import json, sys
path, rootfs, name, cmd, env, ann, hooks = sys.argv[1:8]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", cmd]
c["process"]["env"] = ["PATH=/.ocirun/gpu/bin:/usr/local/bin:/bin:/sbin"] + json.loads(env)
c["root"]["path"] = rootfs
c["hostname"] = name
c["annotations"] = json.loads(ann)
c["hooks"] = json.loads(hooks)
json.dump(c, open(path, "w"), indent=1)
PY
}
run_container() { # ID [env for ocirun...] -> $logdir/ID.out, $logdir/ID.err
  local id=$1; shift; ids+=("$id")
  env "$@" "$OCIRUN" --root "$state" run --bundle "$work/$id" "$id" >"$logdir/$id.out" 2>"$logdir/$id.err"
  local rc=$?
  echo "== $id: ocirun exit status $rc"; cat "$logdir/$id.out"
  [ -s "$logdir/$id.err" ] && { echo "-- stderr:"; cat "$logdir/$id.err"; }
  return $rc
}
check_view() { # ID WHAT
  local out=$logdir/$1.out
  for step in "nvidia-smi -L" "nvidia-smi" "cuda-check" "cuda-check-ptx"; do
    if grep -qxF "rc $step: 0" "$out"; then ok "$2: $step"; else bad "$2: $step"; fi
  done
  grep -q '^GPU 0: ' "$out" && ok "$2: nvidia-smi -L lists GPU 0" || bad "$2: nvidia-smi -L lists no GPU"
  [ "$(grep -c '^cuda-check: OK$' "$out")" = 2 ] && ok "$2: CUDA result correct (machine code and PTX)" || bad "$2: CUDA result"
}

echo "== 1. the gpu hook (createContainer, NVIDIA_VISIBLE_DEVICES=all)"
hooks=$(python3 -c 'import json,sys; print(json.dumps({"createContainer": [{"path": sys.argv[1], "args": ["ocirun-hooks", "gpu"]}]}))' "$HOOKS")
bundle gpu-hook '["NVIDIA_VISIBLE_DEVICES=all"]' '{}' "$hooks"
if run_container gpu-hook; then ok "gpu hook: container exit status 0"; else bad "gpu hook: container exit status"; fi
check_view gpu-hook "gpu hook"

echo "== 2. CDI: ocirun-hooks cdi generate gpu"
mkdir -p "$work/cdi"
if "$HOOKS" cdi generate gpu -o "$work/cdi/ocirun-gpu.json"; then
  cp "$work/cdi/ocirun-gpu.json" "$logdir/cdi-gpu.json"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print("kind", s["kind"], "devices", [d["name"] for d in s["devices"]]); e=s["containerEdits"]; print("spec-wide: %d mounts, %d device nodes, hooks %s" % (len(e.get("mounts") or []), len(e.get("deviceNodes") or []), [h["args"][:2] for h in e.get("hooks") or []]))' "$work/cdi/ocirun-gpu.json"
  ok "cdi generate gpu"
  for dev in all 0; do
    bundle "gpu-cdi-$dev" '[]' "{\"cdi.k8s.io/gpu\": \"ocirun.dev/gpu=$dev\"}" '{}'
    if run_container "gpu-cdi-$dev" OCIRUN_CDI_SPEC_DIRS="$work/cdi"; then ok "CDI ocirun.dev/gpu=$dev: container exit status 0"
    else bad "CDI ocirun.dev/gpu=$dev: container exit status"; fi
    check_view "gpu-cdi-$dev" "CDI ocirun.dev/gpu=$dev"
  done
else
  bad "cdi generate gpu"
fi

echo "gpu-check: $failed failed"
[ "$failed" = 0 ]
