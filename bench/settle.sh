#!/bin/sh
# bench/settle.sh - wait until the sandbox is empty again, then sleep $SETTLE seconds.
#
# Deleting a namespace returns before the kernel has cleaned it up: its veths, and so their
# host ends, go later, from a work queue. A lab rebuilt before that finds `vs1` still there
# ("File exists"). So wait for the sandbox's own namespace to hold only lo (it starts that
# way) and /run/netns to be empty, up to 60 s, and then let the cleanup's tail settle.
i=0
while [ "$("$IP" -o link show | grep -cv ': lo:')" != 0 ] || [ -n "$(ls -A /run/netns 2>/dev/null)" ]; do
	i=$((i + 1))
	[ $i -gt 6000 ] && { echo "bench: the sandbox did not empty in 60 s:" >&2; "$IP" -o link show >&2; ls /run/netns >&2; exit 1; }
	sleep 0.01
done
sleep "${SETTLE:-0}"
