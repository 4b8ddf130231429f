#!/usr/bin/env bash
# Regenerates bench/hot-functions.txt: the functions the runtime binary runs for the hot
# commands, which scripts/build.sh has the linker (gold, --section-ordering-file) place together
# at the start of the text segment. Each page fault on code maps a 64 KB window of the binary;
# with the executed code side by side, a command touches fewer windows: fewer faults and a
# smaller RSS (docs/performance.md, item 17).
#
# How: perf samples (30 kHz, with call chains) of run, exec, state, create/start/kill/delete and
# an error, on a busybox bundle; every function of the binary seen on a sampled stack, most
# frequent first. Functions in the stdlib's one big .text section and in glibc cannot be
# moved; the others (ocirun's own, the stdlib's specializations, the Swift runtime) can.
# Run as root after changing the runtime's code, then rebuild. Needs perf.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
command -v perf >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf; }
bash scripts/build.sh
bin=$root/.build/release/ocirun
work=$(mktemp -d)
trap 'for id in $(ls "$work/state" 2>/dev/null); do "$bin" --root "$work/state" delete -f "$id" >/dev/null 2>&1 || true; done; rm -rf "$work"' EXIT
b=$work/bundle
mkdir -p "$b/rootfs/bin"
cp /bin/busybox "$b/rootfs/bin/busybox"
for a in sh true sleep cat; do ln -s busybox "$b/rootfs/bin/$a"; done
(cd "$b" && "$bin" spec && python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open("config-true.json", "w"))
c["process"]["args"] = ["sleep", "100000"]
json.dump(c, open("config-sleep.json", "w"))
PY
)
cd "$b"
cp config-sleep.json config.json
"$bin" --root "$work/state" run -d s
cp config-true.json config.json
perf record -q -F 30000 -g -o "$work/perf.data" -- sh -c "
for i in \$(seq 1 150); do $bin --root $work/state run r; done
for i in \$(seq 1 150); do $bin --root $work/state exec s /bin/true; $bin --root $work/state state s >/dev/null; done
for i in \$(seq 1 60); do $bin --root $work/state create c && $bin --root $work/state start c && $bin --root $work/state kill c KILL; $bin --root $work/state delete -f c; $bin --root $work/state state missing 2>/dev/null; done
" >/dev/null 2>&1 || true
perf script -i "$work/perf.data" -F ip,sym,dso 2>/dev/null \
  | awk -v bin="$(realpath "$bin")" 'index($0, bin) && $2 != "[unknown]" { sub(/\+0x[0-9a-f]+$/, "", $2); print $2 }' \
  | sort | uniq -c | sort -rn | awk '{ print ".text." $2 }' > "$root/bench/hot-functions.txt"
echo "order: $(wc -l < "$root/bench/hot-functions.txt") functions in bench/hot-functions.txt; run scripts/build.sh again"
