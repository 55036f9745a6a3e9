#!/bin/bash
# drive.sh ip|nsctl OUTDIR - inside a sandbox, run the golden cases with the real ip or with
# nsctl behind tests/golden/ip-shim.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 out=$2
if [ "$mode" = nsctl ]; then
	# A copy, not a link into the checkout: the cases run as nobody must reach it even when
	# the checkout is in a mode-0700 home.
	mkdir -p -m 755 /tmp/.shim
	install -m 755 "$here/ip-shim" /tmp/.shim/ip
	export REAL_IP=$(command -v ip) PATH=/tmp/.shim:$PATH
	: "${NSCTL_BIN:?NSCTL_BIN must name the nsctl binary}"
fi
exec "$here/cases.sh" "$out"
