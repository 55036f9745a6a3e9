#!/bin/bash
# bench/run.sh [--smoke] - nsctl against iproute2, side by side, on this machine and kernel.
#
# Everything runs inside a private sandbox (tests/sandbox/run.sh). Needs root, hyperfine and
# GNU time (Debian: hyperfine, time). Prints a markdown table: medians, nsctl/ip ratios, user
# and system time, and nsctl's peak RSS; then the targets, met or missed.
#   --smoke   tiny sizes and few runs, no targets: proves the bench still works (CI runs it).
# Sizes can be set: RUNS (single commands), BATCH (adds), LISTN, LAB1, LAB2 (lab sizes).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --smoke ]; then
	export SMOKE=1 RUNS=3 BATCH=20 LISTN=5 BRUNS=2 LRUNS=1 IPRUNS=1 LAB1=4 LAB2=8 SETTLE=0 OBS_SETTLE=0
else
	export SMOKE=0 RUNS=${RUNS:-50} BATCH=${BATCH:-2000} LISTN=${LISTN:-100} BRUNS=${BRUNS:-10}
	export LRUNS=${LRUNS:-5} IPRUNS=${IPRUNS:-1} LAB1=${LAB1:-100} LAB2=${LAB2:-1000} SETTLE=${SETTLE:-1}
	export OBS_SETTLE=${OBS_SETTLE:-15}
fi
# SETTLE: seconds to wait after mass creation or removal, so the kernel's asynchronous netns
# cleanup of one run does not land in the timing of the next. OBS_SETTLE: seconds between an
# apply and the timing of observation (status, no-op re-apply), see inside.sh.
for t in hyperfine python3; do command -v $t >/dev/null || { echo "bench: $t is missing" >&2; exit 1; }; done
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 1; }
(cd "$here" && cargo build --release --quiet)
export OUT=$here/target/bench-out NSCTL=$here/target/release/nsctl IP=$(command -v ip) GEN=$here/bench/gen.py
rm -rf "$OUT" && mkdir -p "$OUT"
"$here/tests/sandbox/run.sh" bash "$here/bench/inside.sh"
python3 "$here/bench/table.py" "$OUT"
