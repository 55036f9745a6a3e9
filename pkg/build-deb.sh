#!/bin/bash
# pkg/build-deb.sh: build the Debian package, target/debian/nsctl_VERSION-1_ARCH.deb, and
# print its path as the last line. Install it with `apt-get install ./target/debian/nsctl_*.deb`.
#
# The man pages and completion scripts are not in the repository: the built binary writes
# them (`nsctl man`, `nsctl man lab`, `nsctl completions SHELL`), so the package always
# carries the ones that match its binary. Hence three steps: build the release binary, have
# it write those files into target/pkg/, then `cargo deb --no-build` packs the binary and
# them as Cargo.toml's [package.metadata.deb] lists (cargo-deb gzips the man pages).
# Installs cargo-deb (crates.io) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# The version this script was written and checked against; any 3.x reads the same metadata.
# --debug: it compiles in half the time (42 s instead of 91 s here) and packs nsctl about as
# fast (3 s instead of 2 s).
CARGO_DEB_VERSION=3.8.0
command -v cargo-deb >/dev/null || cargo install --locked --debug "cargo-deb@$CARGO_DEB_VERSION"
cargo build --release
bin=${CARGO_TARGET_DIR:-target}/release/nsctl
out=target/pkg
rm -rf "$out" && mkdir -p "$out/man" "$out/completions"

# One page: the .TH line's title and section name the file (nsctl.8, nsctl-lab.5).
page() {
	local roff th name sec
	roff=$("$bin" man "$@")
	th=$(grep -m1 '^\.TH ' <<<"$roff") || { echo "build-deb: nsctl man $*: no .TH line" >&2; exit 1; }
	read -r _ name sec _ <<<"$th"
	name=${name//\"/} sec=${sec//\"/}
	name=${name,,}
	[[ $name =~ ^[a-z0-9-]+$ && $sec =~ ^[1-9]$ ]] || { echo "build-deb: nsctl man $*: odd .TH line: $th" >&2; exit 1; }
	mkdir -p "$out/man/man$sec"
	printf '%s\n' "$roff" > "$out/man/man$sec/$name.$sec"
	echo "build-deb: $out/man/man$sec/$name.$sec" >&2
}
page        # nsctl(8)
page lab    # nsctl-lab(5), the lab file's format
"$bin" completions bash > "$out/completions/nsctl.bash"
"$bin" completions zsh > "$out/completions/_nsctl"
"$bin" completions fish > "$out/completions/nsctl.fish"

# --no-build: cargo-deb packs the binary just built (it finds target/release/nsctl in the
# real target directory, CARGO_TARGET_DIR included).
deb=$(cargo deb --no-build)
echo "$deb"
