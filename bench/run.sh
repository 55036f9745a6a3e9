#!/bin/bash
# bench/run.sh [--smoke] - nsctl against iproute2, side by side, on this machine and kernel.
# Everything runs inside a private sandbox (tests/sandbox/run.sh). Needs root and hyperfine
# (Debian: apt-get install hyperfine). Prints a markdown table of medians and nsctl/ip ratios,
# with user and system time. --smoke: tiny sizes and few runs, only to prove the bench works.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# SETTLE: seconds to wait after a mass add/delete, so the kernel's asynchronous netns cleanup
# of one run does not land in the timing of the next (whichever program ran second paid it).
if [ "${1:-}" = --smoke ]; then export RUNS=3 BATCH=20 LISTN=5 BRUNS=2 SETTLE=0; else export RUNS=${RUNS:-50} BATCH=${BATCH:-2000} LISTN=${LISTN:-100} BRUNS=${BRUNS:-10} SETTLE=${SETTLE:-1}; fi
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)" >&2; exit 1; }
(cd "$here" && cargo build --release --quiet)
rm -rf "$here/target/bench-out" && mkdir -p "$here/target/bench-out"
export NSCTL=$here/target/release/nsctl IP=$(command -v ip) OUT=$here/target/bench-out
"$here/tests/sandbox/run.sh" bash -c '
set -e
h() { hyperfine -N --style none -w 3 "$@" >/dev/null 2>&1 || { echo "bench: hyperfine $* failed" >&2; exit 1; }; }
$NSCTL add b1
# Single commands: nsctl first, ip second, each the median of $RUNS runs.
h -r $RUNS --export-json $OUT/exec.json "$NSCTL exec b1 true" "$IP netns exec b1 true"
h -r $RUNS --prepare "sh -c \"$IP netns delete x 2>/dev/null; true\"" --export-json $OUT/add.json "$NSCTL add x" "$IP netns add x"
h -r $RUNS --prepare "sh -c \"$IP netns add x 2>/dev/null; true\"" --export-json $OUT/delete.json "$NSCTL delete x" "$IP netns delete x"
for i in $(seq 1 $LISTN); do $IP netns add l$i; done
h -r $RUNS --export-json $OUT/list.json "$NSCTL list" "$IP netns list"
h -r $RUNS --export-json $OUT/jlist.json "$NSCTL -j list" "$IP -j netns list"
$IP -all netns delete
# Batches: $BATCH adds through -b FILE, from an empty /run/netns each time.
for i in $(seq 1 $BATCH); do echo "netns add n$i"; done > /tmp/adds
h -r $BRUNS --prepare "sh -c \"$IP -all netns delete; sleep $SETTLE\"" --export-json $OUT/batch.json "$NSCTL -b /tmp/adds" "$IP -b /tmp/adds"
h -r $BRUNS --prepare "sh -c \"$IP -force -b /tmp/adds 2>/dev/null; sleep $SETTLE\"" --export-json $OUT/alldel.json "$NSCTL -all delete" "$IP -all netns delete"
'
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
rows = [("exec NAME true", "exec"), ("add", "add"), ("delete", "delete"),
        (f"list ({os.environ['LISTN']} names)", "list"), (f"-j list ({os.environ['LISTN']} names)", "jlist"),
        (f"-b FILE ({os.environ['BATCH']} adds)", "batch"), (f"-all delete ({os.environ['BATCH']} names)", "alldel")]
def med(r): return sorted(r["times"])[len(r["times"]) // 2] if r.get("times") else r["median"]
def ms(x): return f"{x * 1000:.2f} ms"
print("| case | nsctl median | ip median | nsctl/ip | nsctl user/sys | ip user/sys |")
print("|---|---|---|---|---|---|")
for label, key in rows:
    p = os.path.join(out, key + ".json")
    if not os.path.exists(p):
        continue
    n, i = json.load(open(p))["results"]
    print(f"| {label} | {ms(med(n))} | {ms(med(i))} | {med(n) / med(i):.2f} | "
          f"{ms(n['user'])}/{ms(n['system'])} | {ms(i['user'])}/{ms(i['system'])} |")
PY
rm -rf "$OUT"
