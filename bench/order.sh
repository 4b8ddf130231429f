#!/usr/bin/env bash
# Regenerates bench/hot-symbols.txt: the functions the runtime binary runs for the hot commands,
# in the order scripts/build.sh has lld (--symbol-ordering-file) lay them out at the start of
# the text segment. Each page fault on code maps a 64 KB window of the binary (the kernel's
# fault-around); with the code a command runs side by side, it touches fewer windows: fewer
# faults and a smaller RSS (docs/performance.md).
#
# How: the runtime is built without an order and with a link map; bench/steptrace runs each
# hot command one instruction at a time and records every address it runs, per process
# (`run`'s own process and the container's init apart); bench/order.py turns the addresses into
# functions, commands ordered by PRIORITY below. The stdlib's one big non-generic .text section
# (1.6 MB) cannot be split and stays where it is.
# Run as root after changing the runtime's code, then run scripts/build.sh. Takes some minutes:
# single-stepping is about 100 times slower than running.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

# Most important first: the commands engines run on every container (and list, which monitoring
# agents call often). A trace's .N files are the command's other threads and processes in the
# order they started: exec.1 is exec's child and run.2 run's init (after run.1, the launcher
# thread), which share the runtime's memory until they exec, so they come right after their
# command; create's init (create.2, after the network namespace helper create.1) forks, and its
# RSS is counted apart.
PRIORITY=exec,exec.1,run,run.1,run.2,state,kill,delete,list,start,create,pause,resume,create.1,create.2

work=$(mktemp -d)
bin=$work/ocirun
cleanup() {
  for id in $(ls "$work/state" 2>/dev/null); do "$bin" --root "$work/state" delete -f "$id" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

"${CC:-cc}" -O2 -o "$work/steptrace" bench/steptrace.c
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun-cli >/dev/null
cp .build/release/ocirun-cli "$work/"   # for `spec`
rm -f .build/release/ocirun
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --product ocirun \
  -Xlinker "-Map=$work/ocirun.map" >/dev/null
cp .build/release/ocirun "$bin"
rm -f .build/release/ocirun   # scripts/build.sh links the ordered one
read -r text_start text_size < <(readelf -lW "$bin" | awk '$1 == "LOAD" && $7 == "R" && $8 == "E" { print $3, $6 }')
text_end=$(printf %x $((text_start + text_size)))

b=$work/bundle
mkdir -p "$b/rootfs/bin" "$work/traces"
cp /bin/busybox "$b/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$b/rootfs/bin/$a"; done
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
trace() {
  local name=$1; shift
  timeout 600 "$work/steptrace" "$(printf %x "$text_start")" "$text_end" "$work/traces/$name" -- \
    "$bin" --root "$work/state" "$@" >/dev/null 2>&1 || true
}
cp config-sleep.json config.json
"$bin" --root "$work/state" run -d s
cp config-true.json config.json
trace run run r
trace create create c
trace start start c
trace state state c
trace kill kill c KILL
sleep 0.2
trace delete delete c
trace exec exec s /bin/true
trace pause pause s
trace resume resume s
# list over a stopped container and 40 copies of its state (as bench/run.sh lists 1000)
"$bin" --root "$work/state" create x && "$bin" --root "$work/state" kill x KILL
sleep 0.2
for i in $(seq 1 40); do cp -a "$work/state/x" "$work/state/x$i"; done
trace list list
rm -rf "$work/state"/x?*
"$bin" --root "$work/state" delete -f x
trace state-running state s
trace kill-running kill s CONT
trace state-missing state missing
trace kill-missing kill missing
trace delete-missing delete -f missing
cd "$root"
python3 bench/order.py "$bin" "$work/ocirun.map" "$work/traces" "$PRIORITY" bench/hot-symbols.txt
echo "order: now run scripts/build.sh"
