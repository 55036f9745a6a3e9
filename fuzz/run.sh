#!/bin/bash
# fuzz/run.sh [SECONDS]: build every fuzz target and run each for SECONDS (default 30) from
# its seed corpus in fuzz/corpus/TARGET (new inputs go to a scratch directory, so the repo's
# corpus stays small). Exits non-zero on a crash, with the crashing input kept under
# fuzz/artifacts/TARGET. Needs the nightly toolchain; installs cargo-fuzz if missing.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-30}
rustup toolchain list | grep -q nightly || { echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2; exit 1; }
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
cargo +nightly fuzz build
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in $(cargo +nightly fuzz list); do
	mkdir -p "$scratch/$t"
	if ! cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
		-max_total_time="$secs" -close_fd_mask=3 -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
		echo "fuzz: $t crashed:" >&2
		tail -40 "$scratch/$t.log" >&2
		exit 1
	fi
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$scratch/$t.log" | grep -o '[0-9]*$')
	echo "fuzz: $t: ${runs:-?} runs in ${secs}s, no crash"
done
