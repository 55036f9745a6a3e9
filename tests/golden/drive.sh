#!/bin/bash
# drive.sh ip|nsctl OUTDIR - inside a sandbox, run the golden cases with the real ip or with
# nsctl behind tests/golden/ip-shim.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=$1 out=$2
if [ "$mode" = nsctl ]; then
	mkdir -p /tmp/.shim
	ln -s "$here/ip-shim" /tmp/.shim/ip
	chmod 755 /tmp/.shim
	export REAL_IP=$(command -v ip) PATH=/tmp/.shim:$PATH
	: "${NSCTL_BIN:?NSCTL_BIN must name the nsctl binary}"
fi
exec "$here/cases.sh" "$out"
