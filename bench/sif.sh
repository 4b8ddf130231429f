#!/usr/bin/env bash
# SIF benchmark: time from a SIF image to a running /bin/true container (ocirun run with the
# org.ocirun.sif.image annotation: loop device + squashfs mount, run, unmount), against extracting
# the same root file system from an (uncompressed) tar layer into a directory and running it.
# Both for a busybox-only rootfs and for one with 1 GiB of incompressible data (BENCH_SIF_MIB),
# so that the growth with image size shows. Writes the "SIF images" section of
# docs/performance.md (kept by bench/run.sh, which rewrites only the part above it). As root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
command -v hyperfine >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine; }
[ -x .build/release/ocirun ] || bash scripts/build.sh
ocirun=$root/.build/release/ocirun
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
mib=${BENCH_SIF_MIB:-1024}
runs=${BENCH_RUNS:-10}
work=$(mktemp -d)
trap 'for id in $(ls "$work/state" 2>/dev/null); do "$ocirun" --root "$work/state" delete -f "$id" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT

# Two root file systems: busybox, and busybox plus $mib MiB of random data.
for size in small big; do
  r=$work/rootfs-$size
  mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/data"
  cp /bin/busybox "$r/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
done
head -c $((mib << 20)) /dev/urandom > "$work/rootfs-big/data/random.bin"

declare -A BUILD
for size in small big; do
  t0=$(date +%s.%N)
  "$ocirun" sif build "$work/rootfs-$size" "$work/$size.sif" >/dev/null
  t1=$(date +%s.%N)
  BUILD[$size]=$(python3 -c "print('%.1f' % ($t1 - $t0))")
  tar -cf "$work/$size.tar" -C "$work/rootfs-$size" .
done
# Signed copies and a policy requiring the signature: the verified path hashes the whole image.
openssl genpkey -algorithm ed25519 -out "$work/key.pem" 2>/dev/null
openssl pkey -in "$work/key.pem" -pubout -out "$work/key.pub"
printf '{"requireSignature": true, "keys": ["key.pub"]}' > "$work/policy.json"
for size in small big; do
  cp "$work/$size.sif" "$work/$size-signed.sif"
  "$ocirun" sif sign --key "$work/key.pem" "$work/$size-signed.sif" >/dev/null
done

# Bundles: one naming the SIF (root.path an empty directory), one whose rootfs is extracted each run.
mkdir -p "$work/sifb/rootfs" "$work/tarb/rootfs"
(cd "$work/sifb" && "$ocirun" spec)
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
c = json.load(open(w + "/sifb/config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
for size in ("small", "big"):
    s = dict(c, annotations={"org.ocirun.sif.image": f"{w}/{size}.sif"})
    json.dump(s, open(f"{w}/sif-{size}.json", "w"), indent=2)
    v = dict(c, annotations={"org.ocirun.sif.image": f"{w}/{size}-signed.sif", "org.ocirun.sif.policy": f"{w}/policy.json"})
    json.dump(v, open(f"{w}/sifv-{size}.json", "w"), indent=2)
json.dump(c, open(w + "/tarb/config.json", "w"), indent=2)
PY
export OCIRUN_SIF_POLICY=$work/no-policy.json   # no system policy: time the mount, not verification
hf() { hyperfine -N --warmup 1 --runs "$runs" --export-json "$work/$1.json" "${@:2}" >/dev/null; }
median() { python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results']; print(' '.join('%.1f' % (x['median']*1000) for x in r))" "$1"; }

for size in small big; do
  cp "$work/sif-$size.json" "$work/sifb/config.json"
  hf "sif-$size" "$ocirun --root $work/state run -b $work/sifb s"
  cp "$work/sifv-$size.json" "$work/sifb/config.json"
  hf "sifv-$size" "$ocirun --root $work/state run -b $work/sifb s"
  hf "tar-$size" --prepare "rm -rf $work/tarb/rootfs" \
    "sh -c 'mkdir $work/tarb/rootfs && tar -xf $work/$size.tar -C $work/tarb/rootfs && $ocirun --root $work/state run -b $work/tarb t'"
done
if grep -q "$work" /proc/self/mountinfo; then echo "sif bench: mounts left under $work" >&2; exit 1; fi

sif_small=$(median "$work/sif-small.json"); sif_big=$(median "$work/sif-big.json")
sifv_small=$(median "$work/sifv-small.json"); sifv_big=$(median "$work/sifv-big.json")
tar_small=$(median "$work/tar-small.json"); tar_big=$(median "$work/tar-big.json")
size_big=$(du -m "$work/big.sif" | cut -f1)
kernel=$(uname -r)
section=$(cat <<MD
## SIF images

\`bench/sif.sh\`: median milliseconds over $runs runs (hyperfine), release build, kernel $kernel,
from an image file to a finished \`/bin/true\` container. "SIF" is \`ocirun run\` of a bundle whose
config names the image (\`org.ocirun.sif.image\`): loop device, squashfs mount, run, unmount.
"tar" extracts the same root file system from an uncompressed tar layer into a directory, then
\`ocirun run\`s it (an OCI engine's unpack; a gzip layer would cost more). The big image holds
busybox and $mib MiB of random data (SIF $size_big MiB, written by \`ocirun sif build\` in
${BUILD[big]} s, once).

| root file system | SIF → running | signed SIF, policy → running | tar → directory → running |
|---|---|---|---|
| busybox | $sif_small | $sifv_small | $tar_small |
| busybox + $mib MiB | $sif_big | $sifv_big | $tar_big |

Without a policy the SIF path does not read the image's data: its cost does not grow with the
image size. A policy requiring signatures (the second column: ed25519 DSSE, the key listed in
a policy named by \`org.ocirun.sif.policy\`) hashes every signed object, so that path grows with
the image (SHA-256 of the partition, read from the page cache here).
MD
)
python3 - "$section" <<'PY'
import sys
p = "docs/performance.md"
s = open(p).read()
start = s.find("## SIF images")
if start >= 0:
    end = s.find("\n## ", start + 1)
    s = s[:start] + (s[end + 1:] if end >= 0 else "")
s = s.rstrip("\n") + "\n\n" + sys.argv[1] + "\n"
open(p, "w").write(s)
PY
echo "$section"
