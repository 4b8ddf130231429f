#!/usr/bin/env bash
# The HPC hooks end to end (docs/hooks.md), as root: a fake host tree (libraries compiled here
# with the right sonames, an ld.so.cache made by `ldconfig -r`, /proc/driver/nvidia/version,
# device nodes made with mknod), a glibc container rootfs made from this host's libraries, and
# containers run by ocirun and runc with the gpu, ib and mpi hooks, and by ocirun through a
# generated CDI spec. No GPU or InfiniBand hardware is needed or used.
# Usage: scripts/test-hooks.sh   (OCIRUN=… OCIRUN_HOOKS=… pick the binaries; default .build/debug)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
OCIRUN=$(realpath "${OCIRUN:-.build/debug/ocirun}")
HOOKS=$(realpath "${OCIRUN_HOOKS:-.build/debug/ocirun-hooks}")

fail() { echo "FAIL: $*" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
  [ -n "${CI:-}" ] && fail "test-hooks needs root (CI is set: not skipping)"
  echo "test-hooks: skipped (needs root)"; exit 0
fi
for tool in gcc readelf ldconfig mknod python3 runc crun busybox unshare; do
  command -v "$tool" >/dev/null || [ -x "/sbin/$tool" ] || fail "missing $tool (scripts/setup.sh installs it)"
done
[ -x "$OCIRUN" ] && [ -x "$HOOKS" ] || fail "build first: $OCIRUN and $HOOKS"

work=$(mktemp -d "${TMPDIR:-/tmp}/ocirun-hooks-test.XXXXXX")
cgparent=ocirun-hooks-test-$$
ids=()
cleanup() {
  for id in "${ids[@]}"; do
    "$OCIRUN" --root "$work/state" delete --force "$id" >/dev/null 2>&1 || true
    runc --root "$work/runc-state" delete --force "$id" >/dev/null 2>&1 || true
    crun --root "$work/crun-state" delete --force "$id" >/dev/null 2>&1 || true
  done
  # Anything a failed run left mounted under the work tree (nothing, when all went well).
  { grep -F " $work" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r | while read -r m; do umount -l "$m" || true; done
  rm -rf "$work"
  for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/unified/"$cgparent"; do [ ! -d "$d" ] || rmdir "$d" || true; done
}
trap cleanup EXIT
passed=0
pass() { echo "ok - $*"; passed=$((passed + 1)); }
expect_line() { # OUTPUT LINE WHAT
  grep -qxF -- "$2" <<<"$1" || { echo "$1" >&2; fail "$3: expected the line '$2'"; }
}

triplet=$(gcc -print-multiarch)
host=$work/host
lib=$host/usr/lib/$triplet
mkdir -p "$lib" "$host/usr/lib/old" "$host/usr/bin" "$host/etc" "$host/proc/driver/nvidia" \
  "$host/dev/infiniband" "$host/opt/mpich/lib" "$host/opt/openmpi/lib" "$lib/libibverbs" "$host/etc/libibverbs.d" \
  "$host/run/nvidia-persistenced" "$host/dev/dri"
cc_lib() { # OUT SONAME ID [extra gcc args]
  local out=$1 soname=$2 id=$3; shift 3
  printf 'const char *fake_id(void) { return "%s"; }\nint fake_entry(void) { return 0; }\n' "$id" > "$work/src.c"
  gcc -shared -fPIC -Wl,-soname,"$soname" -o "$out" "$work/src.c" "$@"
}

# --- the fake host ---
drv=535.104.05
cc_lib "$lib/libcuda.so.$drv" libcuda.so.1 "fake-cuda-$drv"
cc_lib "$lib/libnvidia-ml.so.$drv" libnvidia-ml.so.1 "fake-nvml-$drv"
cc_lib "$host/usr/lib/old/libnvidia-ml.so.470.57.02" libnvidia-ml.so.1 "stale-nvml-470"   # an old driver's leftover
cc_lib "$lib/libibverbs.so.1.14.44.0" libibverbs.so.1 "fake-verbs"
cc_lib "$lib/librdmacm.so.1.3.44.0" librdmacm.so.1 "fake-rdmacm"
cc_lib "$lib/libibverbs/libfake-rdmav34.so" libfake-rdmav34.so "fake-provider"
echo "driver fake" > "$host/etc/libibverbs.d/fake.driver"
cc_lib "$host/opt/mpich/lib/libfabric.so.1.18.0" libfabric.so.1 "fake-fabric"
ln -s libfabric.so.1.18.0 "$host/opt/mpich/lib/libfabric.so.1"
cc_lib "$host/opt/mpich/lib/libmpi.so.12.5.0" libmpi.so.12 "host-mpi-12.5.0" -L"$host/opt/mpich/lib" -l:libfabric.so.1
ln -s libmpi.so.12.5.0 "$host/opt/mpich/lib/libmpi.so.12"
cc_lib "$host/opt/openmpi/lib/libmpi.so.40.30.0" libmpi.so.40 "host-openmpi-40"
ln -s libmpi.so.40.30.0 "$host/opt/openmpi/lib/libmpi.so.40"
printf '/usr/lib/%s\n/usr/lib/old\n' "$triplet" > "$host/etc/ld.so.conf"
ldconfig -r "$host"            # the host's ld.so.cache, and the soname links
echo "NVRM version: NVIDIA UNIX $(uname -m) Kernel Module  $drv  Wed Aug 23 00:00:00 UTC 2023" > "$host/proc/driver/nvidia/version"
printf '#include <stdio.h>\nint main(void){puts("NVIDIA-SMI fake %s");return 0;}\n' "$drv" > "$work/smi.c"
gcc -o "$host/usr/bin/nvidia-smi" "$work/smi.c"
mknod "$host/dev/nvidia0" c 195 0; mknod "$host/dev/nvidia1" c 195 1
mknod "$host/dev/nvidiactl" c 195 255; mknod "$host/dev/nvidia-modeset" c 195 254
mknod "$host/dev/nvidia-uvm" c 237 0; mknod "$host/dev/nvidia-uvm-tools" c 237 1
mknod "$host/dev/infiniband/uverbs0" c 231 192; mknod "$host/dev/infiniband/rdma_cm" c 10 58
mknod "$host/dev/infiniband/umad0" c 231 0; mknod "$host/dev/infiniband/issm0" c 231 64
mknod "$host/dev/kfd" c 234 0; mknod "$host/dev/dri/card0" c 226 0; mknod "$host/dev/dri/renderD128" c 226 128
cc_lib "$lib/libhsa-runtime64.so.1.9.0" libhsa-runtime64.so.1 "fake-hsa"
ldconfig -r "$host"
printf '#include <stdio.h>\nint main(void){puts("ROCk module is loaded (fake)");return 0;}\n' > "$work/rocminfo.c"
gcc -o "$host/usr/bin/rocminfo" "$work/rocminfo.c"
chmod 666 "$host"/dev/nvidia* "$host"/dev/infiniband/* "$host"/dev/kfd "$host"/dev/dri/*

# --- a glibc container rootfs from this host's libraries ---
rootfs=$work/rootfs
mkdir -p "$rootfs"/{bin,sbin,etc,proc,dev,tmp,lib64,"lib/$triplet","usr/lib/$triplet"}
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for a in sh ls cat grep awk; do ln -s busybox "$rootfs/bin/$a"; done
cp -L /sbin/ldconfig "$rootfs/sbin/ldconfig"
libc=$(gcc -print-file-name=libc.so.6)
cp -L "$(dirname "$(readlink -f "$libc")")/libc.so.6" "$rootfs/lib/$triplet/"
interp=$(readelf -l "$(command -v gcc)" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
mkdir -p "$rootfs$(dirname "$interp")"; cp -L "$interp" "$rootfs$interp"
gcc -O2 -o "$rootfs/bin/probe" scripts/hooks-test/probe.c
cc_lib "$rootfs/usr/lib/$triplet/libmpi.so.12.1.1" libmpi.so.12 "container-mpi-12.1.1"
printf 'include /etc/ld.so.conf.d/*.conf\n/lib/%s\n/usr/lib/%s\n' "$triplet" "$triplet" > "$rootfs/etc/ld.so.conf"
mkdir -p "$rootfs/etc/ld.so.conf.d"
ldconfig -r "$rootfs"
cp "$rootfs/etc/ld.so.cache" "$work/rootfs-ld.so.cache.orig"
"$rootfs/bin/busybox" true

# --- bundles ---
# bundle NAME ARGS_JSON ENV_JSON ANNOTATIONS_JSON HOOKS_JSON [UID] -> $work/NAME with config.json
bundle() {
  mkdir -p "$work/$1"
  python3 - "$work/$1/config.json" "$rootfs" "$1" "$2" "$3" "$4" "$5" "$cgparent" "${6:-0}" <<'PY'
import json, sys
out, rootfs, name, args, env, ann, hooks, cgparent = sys.argv[1:9]
uid = int(sys.argv[9]) if len(sys.argv) > 9 else 0
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
cfg = {
  "ociVersion": "1.0.2",
  "process": {"user": {"uid": uid, "gid": uid}, "args": json.loads(args), "cwd": "/",
              "env": ["PATH=/bin:/sbin"] + json.loads(env),
              "capabilities": {k: caps for k in ["bounding", "effective", "permitted"]}},
  "root": {"path": rootfs},
  "hostname": name,
  "annotations": json.loads(ann),
  "hooks": json.loads(hooks),
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1777"]},
  ],
  "linux": {
    "cgroupsPath": "/" + cgparent + "/" + name,
    "resources": {"devices": [{"allow": False, "access": "rwm"}]},
    "namespaces": [{"type": t} for t in ["pid", "mount", "ipc", "uts", "network"]],
  },
}
json.dump(cfg, open(out, "w"), indent=1)
PY
}
run_in() { # RUNTIME ID BUNDLE -> stdout; stderr to $work/ID.err
  local rt=$1 id=$2 b=$3; ids+=("$id")
  case $rt in
    ocirun) "$OCIRUN" --root "$work/state" run --bundle "$b" "$id" 2>"$work/$id.err" ;;
    runc) runc --root "$work/runc-state" run --bundle "$b" "$id" 2>"$work/$id.err" ;;
    crun) crun --root "$work/crun-state" run --bundle "$b" "$id" 2>"$work/$id.err" ;;
  esac
}
hook() { # STAGE ARGS... -> hooks JSON
  local stage=$1; shift
  python3 -c 'import json,sys; print(json.dumps({sys.argv[1]: [{"path": sys.argv[2], "args": ["ocirun-hooks"] + sys.argv[3:]}]}))' "$stage" "$HOOKS" "$@"
}

gpu_cmd='["/bin/sh","-c","probe dlopen libcuda.so.1 dlopen libnvidia-ml.so.1; ldconfig -p | grep -c \"libcuda.so.1 \"; probe stat /dev/nvidia0 stat /dev/nvidiactl stat /dev/nvidia1 open /dev/nvidia0 mknod-open /tmp/nvidia1 195 1; ls /.ocirun/gpu/lib; /.ocirun/gpu/bin/nvidia-smi; ls -ln /.ocirun/ldcache/ld.so.cache | awk \"{print \\\"cache owner\\\", \\$3}\""]'
check_gpu() { # OUTPUT WHAT
  expect_line "$1" "dlopen libcuda.so.1: ok fake-cuda-$drv" "$2"
  expect_line "$1" "dlopen libnvidia-ml.so.1: ok fake-nvml-$drv" "$2 (not the stale 470 library)"
  expect_line "$1" "1" "$2: ldconfig -p lists libcuda.so.1"
  expect_line "$1" "stat /dev/nvidia0: c 195:0" "$2"
  expect_line "$1" "stat /dev/nvidiactl: c 195:255" "$2"
  expect_line "$1" "stat /dev/nvidia1: ENOENT" "$2: unselected GPU is absent"
  # The allowed node passes the device cgroup, then finds no driver (fake): ENXIO, not EPERM.
  expect_line "$1" "open /dev/nvidia0: ENXIO" "$2: device cgroup allows nvidia0"
  grep -qE '^(open /tmp/nvidia1 \(195:1\)|mknod /tmp/nvidia1 195:1): EPERM$' <<<"$1" || { echo "$1" >&2; fail "$2: the unselected GPU must get EPERM"; }
  expect_line "$1" "NVIDIA-SMI fake $drv" "$2: nvidia-smi bound"
  expect_line "$1" "cache owner 65534" "$2: the container's ldconfig ran as nobody"
  grep -q 'libnvidia-ml.so.470' <<<"$1" && fail "$2: the stale driver library was injected"
  return 0
}

# 1. GPU, createContainer hook (runs inside the container's namespaces before pivot_root).
for rt in ocirun runc crun; do
  bundle "gpu-$rt" "$gpu_cmd" '["NVIDIA_VISIBLE_DEVICES=0"]' '{}' "$(hook createContainer gpu --host-root "$host")"
  out=$(run_in "$rt" "gpu-$rt" "$work/gpu-$rt") || { cat "$work/gpu-$rt.err" >&2; fail "gpu under $rt"; }
  [ -n "${HOOKS_TEST_VERBOSE:-}" ] && echo "$out"
  check_gpu "$out" "gpu hook under $rt"
  [ "$rt" = ocirun ] && gpu_hook_view=$out
  pass "gpu hook under $rt: libcuda.so.1 loads, ldconfig -p lists it, /dev/nvidia0 is c 195:0, nvidia0 allowed, nvidia1 EPERM"
done
cmp -s "$rootfs/etc/ld.so.cache" "$work/rootfs-ld.so.cache.orig" || fail "the image's /etc/ld.so.cache was changed"
[ ! -e "$rootfs/.ocirun/gpu" ] || fail "files were left in the image's /.ocirun"
pass "the image itself is unchanged (new ld cache and libraries live in a tmpfs)"

# 2. GPU through the annotation, as a prestart hook (runs in the runtime's namespaces: setns).
for rt in ocirun runc crun; do
  bundle "gpua-$rt" "$gpu_cmd" '[]' '{"org.ocirun.hooks.gpu": "0"}' "$(hook prestart gpu --host-root "$host")"
  out=$(run_in "$rt" "gpua-$rt" "$work/gpua-$rt") || { cat "$work/gpua-$rt.err" >&2; fail "gpu (annotation, prestart) under $rt"; }
  check_gpu "$out" "gpu prestart hook under $rt"
  pass "gpu prestart hook via annotation under $rt"
done

# 3. No GPU asked for: the hook does nothing.
bundle nogpu '["/bin/sh","-c","ls /.ocirun 2>&1; probe stat /dev/nvidia0"]' '[]' '{}' "$(hook createContainer gpu --host-root "$host")"
out=$(run_in ocirun nogpu "$work/nogpu") || fail "no-gpu container"
expect_line "$out" "stat /dev/nvidia0: ENOENT" "container without a GPU request"
pass "gpu hook leaves a container that asks for no GPU alone"

# 3b. A GPU asked for on a host without a driver, or one that does not exist: create fails, clearly, leaving nothing.
mkdir -p "$work/emptyhost"
for rt in ocirun runc; do
  bundle "nodrv-$rt" '["/bin/true"]' '["NVIDIA_VISIBLE_DEVICES=0"]' '{}' "$(hook createContainer gpu --host-root "$work/emptyhost")"
  if run_in "$rt" "nodrv-$rt" "$work/nodrv-$rt" >/dev/null; then fail "gpu on a host without a driver accepted under $rt"; fi
  grep -q "ocirun-hooks gpu: gpu: no NVIDIA driver on this host (cannot read $work/emptyhost/proc/driver/nvidia/version)" "$work/nodrv-$rt.err" \
    || { cat "$work/nodrv-$rt.err" >&2; fail "no-driver error under $rt"; }
  bundle "badgpu-$rt" '["/bin/true"]' '["NVIDIA_VISIBLE_DEVICES=5"]' '{}' "$(hook createContainer gpu --host-root "$host")"
  if run_in "$rt" "badgpu-$rt" "$work/badgpu-$rt" >/dev/null; then fail "a missing GPU accepted under $rt"; fi
  grep -q "GPU 5 requested but $host/dev/nvidia5 does not exist" "$work/badgpu-$rt.err" || { cat "$work/badgpu-$rt.err" >&2; fail "missing-GPU error under $rt"; }
done
[ -z "$(ls "$work/state" 2>/dev/null | grep -E 'nodrv|badgpu' || true)" ] || fail "ocirun state left by failed creates"
for d in /sys/fs/cgroup/*/"$cgparent"/{nodrv,badgpu}-*; do [ ! -d "$d" ] || fail "cgroup $d left by a failed create"; done
pass "gpu asked for without a driver, or a missing GPU: create fails naming the cause, nothing left (ocirun, runc)"

# 4. CDI: a spec generated from the fake host, applied by ocirun from the annotation, gives the same view.
mkdir -p "$work/cdi"
"$HOOKS" cdi generate gpu --host-root "$host" -o "$work/cdi/ocirun-gpu.json"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["cdiVersion"]=="1.1.0" and s["kind"]=="ocirun.dev/gpu", s; assert [d["name"] for d in s["devices"]]==["0","1","all"], s["devices"]' "$work/cdi/ocirun-gpu.json"
bundle gpu-cdi "$gpu_cmd" '[]' '{"cdi.k8s.io/test": "ocirun.dev/gpu=0"}' '{}'
out=$(OCIRUN_CDI_SPEC_DIRS=$work/cdi run_in ocirun gpu-cdi "$work/gpu-cdi") || { cat "$work/gpu-cdi.err" >&2; fail "gpu through CDI"; }
check_gpu "$out" "gpu through CDI under ocirun"
[ "$out" = "$gpu_hook_view" ] || { diff <(echo "$gpu_hook_view") <(echo "$out") >&2; fail "CDI view differs from the hook's"; }
pass "CDI spec from 'ocirun-hooks cdi generate gpu' applied by ocirun: same container view as the hook"
bundle cdi-missing '["/bin/true"]' '[]' '{"cdi.k8s.io/test": "ocirun.dev/gpu=7"}' '{}'
if OCIRUN_CDI_SPEC_DIRS=$work/cdi run_in ocirun cdi-missing "$work/cdi-missing" >/dev/null; then fail "unknown CDI device accepted"; fi
grep -q 'ocirun.dev/gpu=7' "$work/cdi-missing.err" || { cat "$work/cdi-missing.err" >&2; fail "unknown CDI device error does not name it"; }
[ -z "$("$OCIRUN" --root "$work/state" list -q 2>/dev/null | grep cdi-missing || true)" ] || fail "state left for a refused container"
pass "unknown CDI device refused, naming it, nothing left"

# 4b. AMD ROCm, by annotation.
rocm_cmd='["/bin/sh","-c","probe dlopen libhsa-runtime64.so.1 stat /dev/kfd stat /dev/dri/renderD128 open /dev/kfd mknod-open /tmp/nvidia0 195 0; /.ocirun/rocm/bin/rocminfo"]'
for rt in ocirun runc; do
  bundle "rocm-$rt" "$rocm_cmd" '[]' '{"org.ocirun.hooks.rocm": "true"}' "$(hook createContainer rocm --host-root "$host")"
  out=$(run_in "$rt" "rocm-$rt" "$work/rocm-$rt") || { cat "$work/rocm-$rt.err" >&2; fail "rocm under $rt"; }
  expect_line "$out" "dlopen libhsa-runtime64.so.1: ok fake-hsa" "rocm under $rt"
  expect_line "$out" "stat /dev/kfd: c 234:0" "rocm under $rt"
  expect_line "$out" "stat /dev/dri/renderD128: c 226:128" "rocm under $rt"
  expect_line "$out" "open /dev/kfd: ENXIO" "rocm under $rt: device cgroup allows kfd"
  grep -qE '^(open /tmp/nvidia0 \(195:0\)|mknod /tmp/nvidia0 195:0): EPERM$' <<<"$out" || { echo "$out" >&2; fail "rocm under $rt: other devices must stay refused"; }
  expect_line "$out" "ROCk module is loaded (fake)" "rocm under $rt: rocminfo bound"
  pass "rocm hook under $rt: libhsa-runtime64.so.1 loads, /dev/kfd c 234:0 allowed, others EPERM"
done

# 5. InfiniBand, createRuntime (runtime namespaces) under all three runtimes.
ib_cmd='["/bin/sh","-c","probe dlopen libibverbs.so.1 dlopen librdmacm.so.1 stat /dev/infiniband/uverbs0 stat /dev/infiniband/rdma_cm stat /dev/infiniband/umad0 open /dev/infiniband/uverbs0; ls /usr/lib/'"$triplet"'/libibverbs /etc/libibverbs.d"]'
for rt in ocirun runc crun; do
  bundle "ib-$rt" "$ib_cmd" '[]' '{"org.ocirun.hooks.ib": "true"}' "$(hook createRuntime ib --host-root "$host")"
  out=$(run_in "$rt" "ib-$rt" "$work/ib-$rt") || { cat "$work/ib-$rt.err" >&2; fail "ib under $rt"; }
  expect_line "$out" "dlopen libibverbs.so.1: ok fake-verbs" "ib under $rt"
  expect_line "$out" "dlopen librdmacm.so.1: ok fake-rdmacm" "ib under $rt"
  expect_line "$out" "stat /dev/infiniband/uverbs0: c 231:192" "ib under $rt"
  expect_line "$out" "stat /dev/infiniband/rdma_cm: c 10:58" "ib under $rt"
  expect_line "$out" "stat /dev/infiniband/umad0: c 231:0" "ib under $rt (root container gets umad)"
  expect_line "$out" "open /dev/infiniband/uverbs0: ENXIO" "ib under $rt: device cgroup allows uverbs0"
  expect_line "$out" "libfake-rdmav34.so" "ib under $rt: provider library at the host's provider path"
  expect_line "$out" "fake.driver" "ib under $rt: /etc/libibverbs.d"
  pass "ib hook under $rt: verbs libraries, provider, /etc/libibverbs.d, uverbs0 c 231:192 allowed"
done

bundle ib-user '["/bin/sh","-c","probe stat /dev/infiniband/uverbs0 stat /dev/infiniband/umad0 stat /dev/infiniband/issm0"]' '[]' '{}' "$(hook createRuntime ib --host-root "$host")" 1000
out=$(run_in ocirun ib-user "$work/ib-user") || { cat "$work/ib-user.err" >&2; fail "ib as a non-root user"; }
expect_line "$out" "stat /dev/infiniband/uverbs0: c 231:192" "ib for a non-root container"
expect_line "$out" "stat /dev/infiniband/umad0: ENOENT" "ib: umad only for root containers"
expect_line "$out" "stat /dev/infiniband/issm0: ENOENT" "ib: issm only for root containers"
pass "ib hook gives a non-root container uverbs but not umad/issm"

# The same through CDI (the generated spec carries the non-root device set: no umad/issm).
"$HOOKS" cdi generate ib --host-root "$host" -o "$work/cdi/ocirun-ib.json"
ib_view='["/bin/sh","-c","probe dlopen libibverbs.so.1 dlopen librdmacm.so.1 stat /dev/infiniband/uverbs0 stat /dev/infiniband/rdma_cm open /dev/infiniband/uverbs0 mknod-open /tmp/uverbs1 231 193; ls /usr/lib/'"$triplet"'/libibverbs /etc/libibverbs.d /.ocirun/ib/lib"]'
bundle ib-view-hook "$ib_view" '[]' '{}' "$(hook createRuntime ib --host-root "$host")"
bundle ib-view-cdi "$ib_view" '[]' '{"cdi.k8s.io/ib": "ocirun.dev/ib=all"}' '{}'
hook_out=$(run_in ocirun ib-view-hook "$work/ib-view-hook") || { cat "$work/ib-view-hook.err" >&2; fail "ib view (hook)"; }
cdi_out=$(OCIRUN_CDI_SPEC_DIRS=$work/cdi run_in ocirun ib-view-cdi "$work/ib-view-cdi") || { cat "$work/ib-view-cdi.err" >&2; fail "ib view (CDI)"; }
expect_line "$cdi_out" "open /dev/infiniband/uverbs0: ENXIO" "ib through CDI"
grep -qE '^(open /tmp/uverbs1 \(231:193\)|mknod /tmp/uverbs1 231:193): EPERM$' <<<"$cdi_out" || { echo "$cdi_out" >&2; fail "ib through CDI: other devices must stay refused"; }
[ "$hook_out" = "$cdi_out" ] || { diff <(echo "$hook_out") <(echo "$cdi_out") >&2; fail "ib: CDI view differs from the hook's"; }
pass "CDI spec from 'ocirun-hooks cdi generate ib' applied by ocirun: same container view as the ib hook"

# 5b. cgroup2: the device filter is an eBPF program on the container's cgroup2 directory, which a
# hook can only replace. On this host (hybrid) ocirun attaches one beside the v1 rules; for a
# v2-only host the runtime runs in a private mount namespace where the cgroup2 hierarchy is
# mounted on /sys/fs/cgroup and the v1 hierarchies are gone: ocirun and runc see a v2-only host
# and take their v2 paths (runc detects it from /sys/fs/cgroup), the container's v1 devices cgroup
# stays the root one (allow all), and the program alone decides. (crun needs to raise
# RLIMIT_MEMLOCK to load its program, which root here may not: it is not run that way.)
run_v2() { # RUNTIME ID BUNDLE -> stdout; stderr to $work/ID.err
  local rt=$1 id=$2 b=$3 cmd; ids+=("$id")
  case $rt in
    ocirun) cmd=("$OCIRUN" --root "$work/state") ;;
    runc) cmd=(runc --root "$work/runc-state") ;;
  esac
  unshare --mount --propagation private sh -c 'umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 97
    grep -q " - cgroup " /proc/self/mountinfo && exit 98; exec "$@"' sh "${cmd[@]}" run --bundle "$b" "$id" 2>"$work/$id.err"
}
merge_hooks() { python3 -c 'import json,sys; d={}; [d.setdefault(k, []).extend(v) for a in sys.argv[1:] for k, v in json.loads(a).items()]; print(json.dumps(d))' "$@"; }
for rt in ocirun runc; do
  bundle "gpu2-$rt" "${gpu_cmd%\"]}; grep :devices: /proc/self/cgroup\"]" '["NVIDIA_VISIBLE_DEVICES=0"]' '{}' "$(hook createContainer gpu --host-root "$host")"
  out=$(run_v2 "$rt" "gpu2-$rt" "$work/gpu2-$rt") || { cat "$work/gpu2-$rt.err" >&2; fail "gpu on cgroup2 only under $rt"; }
  grep -qE '^[0-9]+:devices:/$' <<<"$out" || { echo "$out" >&2; fail "gpu on cgroup2 only under $rt: the container is in a v1 devices cgroup (not v2-only)"; }
  check_gpu "$out" "gpu hook on cgroup2 only under $rt"
  pass "gpu hook on a cgroup v2-only host under $rt: the rebuilt eBPF program allows nvidia0 (ENXIO), refuses nvidia1 (EPERM)"
done
# Two hooks (gpu, then rocm) and a CDI device in one container: the second hook's program keeps
# what the runtime (CDI) and the first hook allowed.
multi_cmd='["/bin/sh","-c","probe open /dev/nvidia0 open /dev/kfd open /dev/infiniband/uverbs0 mknod-open /tmp/nvidia1 195 1"]'
multi_hooks=$(merge_hooks "$(hook createRuntime gpu --host-root "$host")" "$(hook createContainer rocm --host-root "$host")")
for layout in host v2; do
  for rt in ocirun runc; do
    ann='{"org.ocirun.hooks.rocm": "true", "cdi.k8s.io/ib": "ocirun.dev/ib=all"}'
    [ "$rt" = runc ] && ann='{"org.ocirun.hooks.rocm": "true"}'   # CDI is applied by ocirun itself
    [ "$rt/$layout" = runc/host ] && continue                      # runc attaches no program on a hybrid host
    id=multi-$layout-$rt
    bundle "$id" "$multi_cmd" '["NVIDIA_VISIBLE_DEVICES=0"]' "$ann" "$multi_hooks"
    if [ "$layout" = v2 ]; then out=$(OCIRUN_CDI_SPEC_DIRS=$work/cdi run_v2 "$rt" "$id" "$work/$id") || { cat "$work/$id.err" >&2; fail "$id"; }
    else out=$(OCIRUN_CDI_SPEC_DIRS=$work/cdi run_in "$rt" "$id" "$work/$id") || { cat "$work/$id.err" >&2; fail "$id"; }; fi
    expect_line "$out" "open /dev/nvidia0: ENXIO" "$id: the first hook's device stays allowed"
    expect_line "$out" "open /dev/kfd: ENXIO" "$id: the second hook's device"
    if [ "$rt" = ocirun ]; then expect_line "$out" "open /dev/infiniband/uverbs0: ENXIO" "$id: the CDI device stays allowed"
    else expect_line "$out" "open /dev/infiniband/uverbs0: ENOENT" "$id"; fi
    grep -qE '^(open /tmp/nvidia1 \(195:1\)|mknod /tmp/nvidia1 195:1): EPERM$' <<<"$out" || { echo "$out" >&2; fail "$id: other devices must stay refused"; }
    pass "gpu + rocm hooks$([ "$rt" = ocirun ] && echo " + CDI ib") under $rt ($layout layout): every device allowed in the end, others EPERM"
  done
done

# 6. MPI: the container's libmpi.so.12.1.1 replaced by the host's libmpi.so.12.5.0 (and its libfabric).
cat > "$work/mpi-ok.json" <<JSON
{"mpi": {"libraries": ["/opt/mpich/lib/libmpi.so.12"], "dependencies": ["/opt/mpich/lib/libfabric.so.1"], "compatibility": "full"}}
JSON
cat > "$work/mpi-bad.json" <<JSON
{"mpi": {"libraries": ["/opt/openmpi/lib/libmpi.so.40"]}}
JSON
mpi_cmd='["/bin/sh","-c","probe dlopen libmpi.so.12; cat /.ocirun/mpi/env"]'
for rt in ocirun runc; do
  stage=createContainer; [ "$rt" = runc ] && stage=prestart   # runc's init does not carry the launcher's env
  bundle "mpi-$rt" "$mpi_cmd" '[]' '{"org.ocirun.hooks.mpi": "true"}' "$(hook $stage mpi --host-root "$host" --config "$work/mpi-ok.json")"
  out=$(PMI_RANK=3 SLURM_JOB_ID=42 run_in "$rt" "mpi-$rt" "$work/mpi-$rt") || { cat "$work/mpi-$rt.err" >&2; fail "mpi under $rt"; }
  expect_line "$out" "dlopen libmpi.so.12: ok host-mpi-12.5.0" "mpi under $rt"
  expect_line "$out" "export PMI_RANK='3'" "mpi under $rt: PMI env passed"
  expect_line "$out" "export SLURM_JOB_ID='42'" "mpi under $rt: Slurm env passed"
  pass "mpi hook ($stage) under $rt: host libmpi.so.12.5.0 (with its libfabric) replaces the container's 12.1.1; PMI/Slurm env in /.ocirun/mpi/env"
  bundle "mpibad-$rt" "$mpi_cmd" '[]' '{}' "$(hook $stage mpi --host-root "$host" --config "$work/mpi-bad.json")"
  if run_in "$rt" "mpibad-$rt" "$work/mpibad-$rt" >/dev/null; then fail "mpi: libmpi.so.40 accepted for a .12 container under $rt"; fi
  grep -q 'libmpi.so.40.30.0 (version 40.30.0) is not ABI-compatible with the container.s /usr/lib/'"$triplet"'/libmpi.so.12.1.1 (version 12.1.1)' "$work/mpibad-$rt.err" \
    || { cat "$work/mpibad-$rt.err" >&2; fail "mpi mismatch error under $rt does not name both versions"; }
  pass "mpi hook under $rt refuses host libmpi.so.40 for the container's .12, naming both versions"
done
[ -z "$(ls "$work/state" 2>/dev/null | grep mpibad || true)" ] || fail "state left behind by the refused MPI container"

# 7. Bad input: no state on stdin, a missing config.
if echo 'not json' | "$HOOKS" gpu 2>"$work/bad.err"; then fail "garbage state accepted"; fi
grep -q 'ocirun-hooks gpu: read the container state on stdin' "$work/bad.err" || fail "bad state error: $(cat "$work/bad.err")"
if echo '{}' | "$HOOKS" mpi --config "$work/nope.json" 2>"$work/bad.err"; then fail "missing config accepted"; fi
grep -q "$work/nope.json" "$work/bad.err" || fail "missing config error: $(cat "$work/bad.err")"
pass "bad state and missing config give clear errors"

echo "test-hooks: $passed passed, 0 failed"
