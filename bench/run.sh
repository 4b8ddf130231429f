#!/usr/bin/env bash
# Benchmarks ocirun against crun and runc side by side, in one run, on the same busybox bundle:
# run of /bin/true, create+start+delete, exec into a running container, state, kill+delete,
# peak RSS per command, and 100 parallel runs. Writes docs/performance.md. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/setup.sh
command -v /usr/bin/time >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time
[ -x .build/release/ocirun ] || bash scripts/build.sh
if [ -d /sys/fs/cgroup/unified ] && ! mountpoint -q /sys/fs/cgroup/hugetlb; then
  mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
work=$(mktemp -d)
trap 'for r in ocirun crun runc; do for d in state list; do for id in $(ls "$work/$d-$r" 2>/dev/null); do "$(rt $r)" --root "$work/$d-$r" delete -f "$id" >/dev/null 2>&1 || true; done; done; done; rm -rf "$work"' EXIT
rt() { case $1 in ocirun) echo "$root/.build/release/ocirun";; crun) command -v crun;; runc) command -v runc;; esac; }

b=$work/bundle
mkdir -p "$b/rootfs/bin" "$b/rootfs/etc"
cp /bin/busybox "$b/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$b/rootfs/bin/$a"; done
(cd "$b" && "$(rt ocirun)" spec && python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
c["ociVersion"] = "1.0.2"  # crun 1.8 refuses 1.2.0
json.dump(c, open("config.json", "w"), indent=2)
PY
)
cp "$b/config.json" "$work/config-true.json"
python3 - "$work" <<'PY'
import json, sys
c = json.load(open(sys.argv[1] + "/config-true.json"))
c["process"]["args"] = ["sleep", "100000"]
json.dump(c, open(sys.argv[1] + "/config-sleep.json", "w"), indent=2)
PY

# All three binaries start from the same page-cache state: written back and evicted, then read
# in by the kernel's readahead on first use, as an installed binary is. How a file's pages got
# into the cache changes its mapped size (this kernel maps a fault's whole large folio, and
# readahead makes large folios where a linker's writes make 4 KB ones): right after linking,
# ocirun's `run` measured 3.1 MB of RSS, after eviction 3.3 MB, copied with cp 3.8 MB.
evict() {
  python3 - "$@" <<'PY'
import os, sys
for p in sys.argv[1:]:
    fd = os.open(os.path.realpath(p), os.O_RDONLY)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
PY
}
evict "$(rt ocirun)" "$(rt crun)" "$(rt runc)"

runs=${BENCH_RUNS:-60}
out=$work/results.md
cd "$b"
export work
# The three runtimes take turns run by run, back to back (bench/paired.py): each ocirun run is
# paired with a crun and a runc run made under the same conditions, the order rotated from one
# round to the next.
# hf NAME PREPARE_OCIRUN CMD_OCIRUN PREPARE_CRUN CMD_CRUN PREPARE_RUNC CMD_RUNC; a PREPARE runs
# untimed before each run of its command ("" for none).
hf() {
  local name=$1; shift
  # Let the kernel's deferred work from the previous measurement (network namespaces torn down
  # by a kworker, RCU callbacks) finish first: on 2 cores it competes with the runs.
  sleep 2
  python3 "$root/bench/paired.py" "$runs" "$work/$name.json" ocirun "$1" "$2" crun "$3" "$4" runc "$5" "$6"
}
median() {
  python3 - "$1" <<'PY2'
import json, statistics, sys
times = json.load(open(sys.argv[1]))
print(" ".join("%.2f" % (statistics.median(times[n]) * 1000) for n in ("ocirun", "crun", "runc")))
PY2
}

cp "$work/config-true.json" config.json
hf run "" "$(rt ocirun) --root $work/state-ocirun run b" "" "$(rt crun) --root $work/state-crun run b" "" "$(rt runc) --root $work/state-runc run b"
# The same, 50 ms apart: a node that starts a container now and then, not in a tight loop. On
# a quiet host, moving a process into a cgroup by pid waits for an RCU grace period
# (docs/performance.md, "Where the time goes").
hf runidle "sleep 0.05" "$(rt ocirun) --root $work/state-ocirun run b" \
  "sleep 0.05" "$(rt crun) --root $work/state-crun run b" \
  "sleep 0.05" "$(rt runc) --root $work/state-runc run b"
hf csd \
  "" "sh -c '$(rt ocirun) --root $work/state-ocirun create b && $(rt ocirun) --root $work/state-ocirun start b && $(rt ocirun) --root $work/state-ocirun delete -f b'" \
  "" "sh -c '$(rt crun) --root $work/state-crun create b && $(rt crun) --root $work/state-crun start b && $(rt crun) --root $work/state-crun delete -f b'" \
  "" "sh -c '$(rt runc) --root $work/state-runc create b && $(rt runc) --root $work/state-runc start b && $(rt runc) --root $work/state-runc delete -f b'"
cp "$work/config-sleep.json" config.json
for r in ocirun crun runc; do "$(rt $r)" --root "$work/state-$r" run -d s >/dev/null; done
hf exec "" "$(rt ocirun) --root $work/state-ocirun exec s /bin/true" "" "$(rt crun) --root $work/state-crun exec s /bin/true" "" "$(rt runc) --root $work/state-runc exec s /bin/true"
hf execidle "sleep 0.05" "$(rt ocirun) --root $work/state-ocirun exec s /bin/true" \
  "sleep 0.05" "$(rt crun) --root $work/state-crun exec s /bin/true" \
  "sleep 0.05" "$(rt runc) --root $work/state-runc exec s /bin/true"
hf state "" "$(rt ocirun) --root $work/state-ocirun state s" "" "$(rt crun) --root $work/state-crun state s" "" "$(rt runc) --root $work/state-runc state s"
# Peak RSS: the median of $samples readings per command, the runtimes taking turns; a single
# reading moves by the kernel's per-CPU batching of RSS counts (below).
samples=${BENCH_RSS_SAMPLES:-7}
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
declare -A R
med() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
declare -A S
for ((i = 1; i <= samples; i++)); do
  for r in ocirun crun runc; do
    S[$r-state]+=" $(rss "$(rt $r)" --root "$work/state-$r" state s)"
    S[$r-exec]+=" $(rss "$(rt $r)" --root "$work/state-$r" exec s /bin/true)"
  done
done
for r in ocirun crun runc; do R[$r-state]=$(med ${S[$r-state]}); R[$r-exec]=$(med ${S[$r-exec]}); done
for r in ocirun crun runc; do "$(rt $r)" --root "$work/state-$r" delete -f s >/dev/null; done
for ((i = 1; i <= samples; i++)); do
  cp "$work/config-sleep.json" config.json
  for r in ocirun crun runc; do "$(rt $r)" --root "$work/state-$r" run -d "s$i" >/dev/null; done
  for r in ocirun crun runc; do S[$r-kill]+=" $(rss "$(rt $r)" --root "$work/state-$r" kill "s$i" KILL)"; done
  sleep 0.2
  for r in ocirun crun runc; do S[$r-delete]+=" $(rss "$(rt $r)" --root "$work/state-$r" delete -f "s$i")"; done
  cp "$work/config-true.json" config.json
  for r in ocirun crun runc; do S[$r-run]+=" $(rss "$(rt $r)" --root "$work/state-$r" run rr)"; done
done
for r in ocirun crun runc; do
  for c in kill delete run; do R[$r-$c]=$(med ${S[$r-$c]}); done
done
hf killdel \
  "sh -c '$(rt ocirun) --root $work/state-ocirun delete -f k >/dev/null 2>&1; cp $work/config-sleep.json config.json; $(rt ocirun) --root $work/state-ocirun run -d k'" \
  "sh -c '$(rt ocirun) --root $work/state-ocirun kill k KILL; $(rt ocirun) --root $work/state-ocirun delete -f k'" \
  "sh -c '$(rt crun) --root $work/state-crun delete -f k >/dev/null 2>&1; cp $work/config-sleep.json config.json; $(rt crun) --root $work/state-crun run -d k'" \
  "sh -c '$(rt crun) --root $work/state-crun kill k KILL; $(rt crun) --root $work/state-crun delete -f k'" \
  "sh -c '$(rt runc) --root $work/state-runc delete -f k >/dev/null 2>&1; cp $work/config-sleep.json config.json; $(rt runc) --root $work/state-runc run -d k'" \
  "sh -c '$(rt runc) --root $work/state-runc kill k KILL; $(rt runc) --root $work/state-runc delete -f k'"
cp "$work/config-true.json" config.json

# `list` with 1000 containers in the state directory: one stopped container and 999 copies
# of its state directory (each runtime's own format).
for r in ocirun crun runc; do
  cp "$work/config-sleep.json" config.json
  "$(rt $r)" --root "$work/list-$r" create l0 >/dev/null
  "$(rt $r)" --root "$work/list-$r" kill l0 KILL
done
sleep 0.3
for r in ocirun crun runc; do
  for i in $(seq 1 999); do cp -a "$work/list-$r/l0" "$work/list-$r/l$i"; done
done
cp "$work/config-true.json" config.json
hf list "" "$(rt ocirun) --root $work/list-ocirun list" "" "$(rt crun) --root $work/list-crun list" "" "$(rt runc) --root $work/list-runc list"
for r in ocirun crun runc; do
  for ((i = 1; i <= samples; i++)); do S[$r-list]+=" $(rss "$(rt $r)" --root "$work/list-$r" list)"; done
  R[$r-list]=$(med ${S[$r-list]})
  for i in $(seq 1 999); do rm -rf "$work/list-$r/l$i"; done
  "$(rt $r)" --root "$work/list-$r" delete -f l0 >/dev/null 2>&1 || true
done

# 100 containers started in parallel (10 at a time): wall time and errors.
par() {
  local r=$1 errs=0 t0 t1
  t0=$(date +%s.%N)
  seq 1 100 | xargs -P 10 -I{} sh -c "$(rt $r) --root $work/state-$r run p{} >/dev/null 2>&1 || echo err" > "$work/par-$r.txt"
  t1=$(date +%s.%N)
  errs=$(grep -c err "$work/par-$r.txt" || true)
  echo "$(python3 -c "print('%.2f' % ($t1 - $t0))") $errs"
}
read -r P_o E_o <<<"$(par ocirun)"; read -r P_c E_c <<<"$(par crun)"; read -r P_r E_r <<<"$(par runc)"

read -r run_o run_c run_r <<<"$(median "$work/run.json")"
read -r csd_o csd_c csd_r <<<"$(median "$work/csd.json")"
read -r ri_o ri_c ri_r <<<"$(median "$work/runidle.json")"
read -r ei_o ei_c ei_r <<<"$(median "$work/execidle.json")"
read -r ex_o ex_c ex_r <<<"$(median "$work/exec.json")"
read -r st_o st_c st_r <<<"$(median "$work/state.json")"
read -r kd_o kd_c kd_r <<<"$(median "$work/killdel.json")"
read -r ls_o ls_c ls_r <<<"$(median "$work/list.json")"
ratio() { python3 -c "print('%.2f' % ($1/$2))"; }
cd "$root"
{
  echo "# Performance"
  echo
  echo "Generated by \`bash bench/run.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores, kernel $(uname -r),"
  echo "$(crun --version | head -1), $(runc --version | head -1); ocirun static release build."
  echo "Median wall time of $runs runs each, same busybox bundle, ms. The three take turns run by"
  echo "run, back to back, the order rotated from one round to the next (bench/paired.py), so that"
  echo "each ocirun run is paired with a crun and a runc run made under the same conditions. The"
  echo "three binaries are written back and evicted from the page cache first, then read in by"
  echo "readahead on first use, as an installed binary is."
  echo
  echo "| command | ocirun | crun | runc | ocirun/crun | ocirun/runc |"
  echo "|---|---|---|---|---|---|"
  echo "| run /bin/true | $run_o | $run_c | $run_r | $(ratio $run_o $run_c) | $(ratio $run_o $run_r) |"
  echo "| create+start+delete | $csd_o | $csd_c | $csd_r | $(ratio $csd_o $csd_c) | $(ratio $csd_o $csd_r) |"
  echo "| exec /bin/true | $ex_o | $ex_c | $ex_r | $(ratio $ex_o $ex_c) | $(ratio $ex_o $ex_r) |"
  echo "| run /bin/true, 50 ms apart | $ri_o | $ri_c | $ri_r | $(ratio $ri_o $ri_c) | $(ratio $ri_o $ri_r) |"
  echo "| exec /bin/true, 50 ms apart | $ei_o | $ei_c | $ei_r | $(ratio $ei_o $ei_c) | $(ratio $ei_o $ei_r) |"
  echo "| state | $st_o | $st_c | $st_r | $(ratio $st_o $st_c) | $(ratio $st_o $st_r) |"
  echo "| kill+delete | $kd_o | $kd_c | $kd_r | $(ratio $kd_o $kd_c) | $(ratio $kd_o $kd_r) |"
  echo "| list (1000 containers) | $ls_o | $ls_c | $ls_r | $(ratio $ls_o $ls_c) | $(ratio $ls_o $ls_r) |"
  echo
  echo "Peak RSS (KiB, /usr/bin/time -f %M), the median of $samples readings each, the runtimes taking"
  echo "turns. The kernel counts RSS per CPU and folds each CPU's count in 32 pages at a time, so a"
  echo "single reading moves in steps of 128 KiB and is good to about 128 KiB per CPU:"
  echo
  echo "| command | ocirun | crun | runc |"
  echo "|---|---|---|---|"
  for c in run state exec kill delete list; do echo "| $c | ${R[ocirun-$c]} | ${R[crun-$c]} | ${R[runc-$c]} |"; done
  echo
  echo "100 containers, 10 in parallel: ocirun ${P_o}s ($E_o errors), crun ${P_c}s ($E_c errors), runc ${P_r}s ($E_r errors)."
  echo
} > docs/performance.md.new
sed -n '/^## Where the time goes/,$p' docs/performance.md 2>/dev/null >> docs/performance.md.new || true
mv docs/performance.md.new docs/performance.md
cat docs/performance.md
