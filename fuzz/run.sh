#!/bin/bash
# fuzz/run.sh [SECONDS]: build every fuzz target and run each for SECONDS (default 30) from
# its seed corpus in fuzz/corpus/TARGET (new inputs go to a scratch directory, so the repo's
# corpus stays small). Exits non-zero on a crash, with the crashing input kept under
# fuzz/artifacts/TARGET. Needs the nightly toolchain; installs cargo-fuzz if missing.
# `fuzz/run.sh --build` only builds (.ci/run starts that early, beside its other builds).
#
# A libFuzzer run uses one core: FUZZ_JOBS targets (default: one per core) run at a time,
# each still for SECONDS of its own, so 5 targets take 3 rounds on 2 cores instead of 5.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
rustup toolchain list | grep -q nightly || { echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2; exit 1; }
# --debug: cargo-fuzz only drives cargo, and a debug build of it compiles in half the time.
command -v cargo-fuzz >/dev/null || cargo install --locked --debug cargo-fuzz@0.13.2
cargo +nightly fuzz build
[ "$secs" = --build ] && exit 0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# One target: its result line in $scratch/T.ok, or its log's tail in $scratch/T.crash.
one() {
	local t=$1 runs
	mkdir -p "$scratch/$t"
	if ! cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
		-max_total_time="$secs" -close_fd_mask=3 -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
		tail -40 "$scratch/$t.log" >"$scratch/$t.crash"
		return
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$' || true)
	echo "fuzz: $t: ${runs:-?} runs in ${secs}s, no crash" >"$scratch/$t.ok"
}

targets=$(cargo +nightly fuzz list)
for t in $targets; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
	one "$t" &
done
wait
crashed=0
for t in $targets; do
	if [ -e "$scratch/$t.ok" ]; then
		cat "$scratch/$t.ok"
	else
		echo "fuzz: $t crashed:" >&2
		cat "$scratch/$t.crash" >&2 2>/dev/null || echo "fuzz: $t left no log" >&2
		crashed=1
	fi
done
exit "$crashed"
