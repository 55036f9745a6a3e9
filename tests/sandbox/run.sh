#!/bin/bash
# run.sh CMD... : run CMD inside a private sandbox, the way the golden record.sh does:
# new mount, net and pid namespaces (the shell is pid 1), a fresh tmpfs on /run and /tmp
# (so /run/netns starts absent), and an overlay on /etc whose upper layer lives in the
# sandbox's /tmp. Nothing done inside reaches the host: when pid 1 exits, every process,
# mount and network namespace made inside goes with it.
#
# Isolation is checked before CMD runs; the script refuses to run CMD if any check fails.
set -u
if [ "${NSCTL_SANDBOX_INSIDE:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "sandbox: must run as root" >&2; exit 125; }
	export NSCTL_SANDBOX_INSIDE=1 NSCTL_HOST_NETNS=$(readlink /proc/self/ns/net) \
		NSCTL_HOST_MNTNS=$(readlink /proc/self/ns/mnt)
	exec unshare --mount --net --pid --fork --mount-proc --propagation private "$0" "$@"
fi
fail() { echo "sandbox: isolation check failed: $*" >&2; exit 125; }
# Detach the private copies of any host /run/netns mounts, then hide /run and /tmp.
while awk '$5 == "/run/netns" {f=1} END {exit !f}' /proc/self/mountinfo; do
	umount -n -l /run/netns || fail "cannot detach /run/netns copy"
done
mount -n -t tmpfs sbxrun /run || fail "tmpfs /run"
# A fresh /tmp, but the repository (scripts, binaries, result folders) stays reachable at its
# own path even when the checkout lives under /tmp: keep a view of the old /tmp first.
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p /run/.hosttmp && mount -n --bind /tmp /run/.hosttmp || fail "keep /tmp"
mount -n -t tmpfs sbxtmp /tmp || fail "tmpfs /tmp"
case $repo in /tmp/*)
	mkdir -p "$repo" && mount -n --bind "/run/.hosttmp/${repo#/tmp/}" "$repo" || fail "repo under /tmp"
esac
umount -n -l /run/.hosttmp && rmdir /run/.hosttmp
mkdir -p /tmp/.ov/upper /tmp/.ov/work
mount -n -t overlay overlay -o lowerdir=/etc,upperdir=/tmp/.ov/upper,workdir=/tmp/.ov/work /etc || fail "overlay /etc"
[ "$(readlink /proc/self/ns/net)" != "$NSCTL_HOST_NETNS" ] || fail "same netns as host"
[ "$(readlink /proc/self/ns/mnt)" != "$NSCTL_HOST_MNTNS" ] || fail "same mount ns as host"
[ ! -e /run/netns ] || fail "/run/netns visible"
[ "$$" = 1 ] || fail "not pid 1 of a new pid namespace"
grep -q ' /run .* - tmpfs sbxrun' /proc/self/mountinfo || fail "/run is not the sandbox tmpfs"
# Cases must not depend on the host's /etc: a host /etc/netns is hidden by a whiteout in the
# overlay's upper layer (the host's own directory is not touched).
if [ -e /etc/netns ] || [ -L /etc/netns ]; then
	grep -q ' /etc .* - overlay overlay ' /proc/self/mountinfo || fail "/etc is not the overlay"
	rm -rf /etc/netns || fail "hide the host's /etc/netns"
fi
# The binary under test lives in the checkout, which may sit in a mode-0700 home that the
# cases run as nobody cannot enter: bind it at a path anyone can reach (a bind mount, so no
# copy; it goes with the sandbox).
umask 022
for var in NSCTL NSCTL_BIN; do
	bin=${!var:-}
	[ -n "$bin" ] && [ -f "$bin" ] || continue
	mkdir -p -m 755 "/tmp/.bin/$var" && : > "/tmp/.bin/$var/nsctl" &&
		mount -n --bind "$bin" "/tmp/.bin/$var/nsctl" || fail "bind $var"
	export "$var=/tmp/.bin/$var/nsctl"
done
cd /tmp
export LC_ALL=C LANG=C
umask 022
"$@"
