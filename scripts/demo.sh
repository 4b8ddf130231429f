#!/usr/bin/env bash
# From a fresh Debian 12 machine (as root): install, build, and run a busybox container
# that prints a line.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/etc"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/bundle/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/bundle/rootfs/etc/group"
cd "$work/bundle"
"$OLDPWD/.build/release/ocirun" spec
python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "echo hello from ocirun in $(hostname), pid $$"]
json.dump(c, open("config.json", "w"), indent=2)
PY
exec "$OLDPWD/.build/release/ocirun" --root "$work/state" run demo
