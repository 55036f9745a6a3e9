#!/bin/bash
# bench/fabric10k.sh - the 10,000-namespace fabric (examples/fabric10k.toml): apply, ping
# across, no-op re-apply, status, destroy, with times, nsctl's peak RSS and the kernel's
# memory per namespace (the drop of MemAvailable over the apply / 10,000). Runs inside a
# private sandbox (tests/sandbox/run.sh); needs root and GNU time. Takes a few minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 1; }
(cd "$here" && cargo build --release --quiet)
inside=$here/target/fabric10k-inside.sh
cat > "$inside" <<'INSIDE'
set -u
cd "$HERE"
avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
before=$(avail)
/usr/bin/time -f "apply: %e s, peak RSS %M KiB" $NSCTL apply examples/fabric10k.toml
after=$(avail)
echo "kernel memory per namespace: $(( (before - after) / 10100 )) KiB"
echo "namespaces: $(ls /run/netns | wc -l)"
$NSCTL exec n1 ping -c1 -W2 10.100.1.100 > /dev/null && echo "n1 -> n10000 through the host: ok"
/usr/bin/time -f "no-op re-apply: %e s, peak RSS %M KiB" $NSCTL apply examples/fabric10k.toml > /dev/null
/usr/bin/time -f "status: %e s" $NSCTL status examples/fabric10k.toml | tail -1
/usr/bin/time -f "destroy: %e s, peak RSS %M KiB" $NSCTL destroy examples/fabric10k.toml
echo "left: $(ls /run/netns | wc -l) namespaces, $(ip -br link | wc -l) links"
INSIDE
HERE=$here NSCTL=$here/target/release/nsctl "$here/tests/sandbox/run.sh" bash "$inside"
