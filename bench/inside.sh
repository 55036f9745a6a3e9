#!/bin/bash
# The part of bench/run.sh that runs inside the sandbox. Results go to $OUT/*.json.
set -euo pipefail
# hyperfine's own output is kept and shown only when it fails, so a CI log says why.
h() { hyperfine -N --style none -w "${W:-3}" "$@" >$OUT/hyperfine.log 2>&1 || { echo "bench: hyperfine $* failed:" >&2; tail -20 $OUT/hyperfine.log >&2; exit 1; }; }
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }   # peak RSS in KiB
S=$(cd "$(dirname "$0")" && pwd)/settle.sh   # waits for the kernel's cleanup, see there
settle() { sh "$S"; }

# 1. Single commands, $RUNS runs each in both orders (nsctl first, then ip first); table.py
#    merges the two, so neither program always runs second on a drifting machine.
pair() {
	local key=$1 a=$2 b=$3; shift 3
	h -r $RUNS "$@" --export-json $OUT/$key.1.json "$a" "$b"
	h -r $RUNS "$@" --export-json $OUT/$key.2.json "$b" "$a"
}
$IP netns add b1
pair exec "$NSCTL exec b1 true" "$IP netns exec b1 true"
pair add "$NSCTL add x" "$IP netns add x" --prepare "sh -c \"$IP netns delete x 2>/dev/null; true\""
pair delete "$NSCTL delete x" "$IP netns delete x" --prepare "sh -c \"$IP netns add x 2>/dev/null; true\""
pair nlink "$NSCTL -n b1 link set lo up" "$IP -n b1 link set lo up"
# show: $LISTN veth pairs in b1, one end of each with an address and a route.
for i in $(seq 1 $LISTN); do
	echo "link add s$i type veth peer name t$i"
	echo "addr add 10.$((i / 250)).$((i % 250)).1/24 dev s$i"
	echo "link set s$i up"
	echo "route add 172.$((16 + i / 250)).$((i % 250)).0/24 dev s$i"
done > /tmp/show-batch
$IP -n b1 -b /tmp/show-batch
pair lshow "$NSCTL -n b1 link" "$IP -n b1 link"
pair ashow "$NSCTL -n b1 addr" "$IP -n b1 addr"
pair rshow "$NSCTL -n b1 route" "$IP -n b1 route"
for i in $(seq 1 $LISTN); do $IP netns add l$i; done
pair list "$NSCTL list" "$IP netns list"
pair jlist "$NSCTL -j list" "$IP -j netns list"
{
	echo "exec $(rss $NSCTL exec b1 true)"
	echo "add $(rss $NSCTL add y)"
	echo "delete $(rss $NSCTL delete y)"
	echo "nlink $(rss $NSCTL -n b1 link set lo up)"
	echo "lshow $(rss $NSCTL -n b1 link)"
	echo "ashow $(rss $NSCTL -n b1 addr)"
	echo "rshow $(rss $NSCTL -n b1 route)"
	echo "list $(rss $NSCTL list)"
	echo "jlist $(rss $NSCTL -j list)"
} > $OUT/rss.txt
$IP -all netns delete
settle

# 2. Batches: $BATCH adds through -b FILE from an empty /run/netns, then -all delete.
for i in $(seq 1 $BATCH); do echo "netns add n$i"; done > /tmp/adds
# These are kernel-bound and the kernel's asynchronous netns cleanup drifts over a run, so
# each is measured in both orders (nsctl first, then ip first) and the table merges them.
for order in 1 2; do
	a="$NSCTL -b /tmp/adds" b="$IP -b /tmp/adds"; [ $order = 2 ] && { t=$a; a=$b; b=$t; }
	h -r $BRUNS --prepare "sh -c \"$IP -all netns delete; sh $S\"" --export-json $OUT/batch.$order.json "$a" "$b"
	a="$NSCTL -all delete" b="$IP -all netns delete"; [ $order = 2 ] && { t=$a; a=$b; b=$t; }
	h -r $BRUNS --prepare "sh -c \"$IP -force -b /tmp/adds 2>/dev/null; sleep $SETTLE\"" --export-json $OUT/alldel.$order.json "$a" "$b"
done
$IP -all netns delete
settle
echo "batch $(rss $NSCTL -b /tmp/adds)" >> $OUT/rss.txt
echo "alldel $(rss $NSCTL -all delete)" >> $OUT/rss.txt
settle

# 3. Labs: stars of $LAB1 and $LAB2 namespaces (veth to one bridge, address, lo up, default
#    route), by nsctl apply/destroy, by a shell script of ip commands, and by ip -b.
for n in $LAB1 $LAB2; do
	d=/tmp/star$n; mkdir -p $d
	python3 "$GEN" $n $d
	runs=$LRUNS; [ $n = $LAB2 ] && runs=$(( (LRUNS + 1) / 2 ))
	W=1 h -r $runs --prepare "sh -c \"$NSCTL destroy $d/lab.toml >/dev/null; sh $S\"" --export-json $OUT/apply$n.json "$NSCTL apply $d/lab.toml"
	# Observation: a no-op re-apply and a status of the applied lab (the last apply run left
	# it applied). Both read every namespace; neither changes anything. Right after an apply
	# the kernel is still configuring IPv6 on every new interface (DAD, MLD, router
	# solicitations, for several seconds), which competes for the two cores: one status is
	# timed then (reported, not judged), and the medians are taken once that has settled.
	/usr/bin/time -f "status_fresh$n %e" $NSCTL status $d/lab.toml 2>>$OUT/fresh.txt >/dev/null
	sleep $OBS_SETTLE
	h -r $runs --export-json $OUT/reapply$n.json "$NSCTL apply $d/lab.toml"
	h -r $runs --export-json $OUT/status$n.json "$NSCTL status $d/lab.toml"
	W=1 h -r $runs --prepare "sh -c \"$NSCTL apply $d/lab.toml >/dev/null; sleep $SETTLE\"" --export-json $OUT/destroy$n.json "$NSCTL destroy $d/lab.toml"
	settle
	echo "apply$n $(rss $NSCTL apply $d/lab.toml)" >> $OUT/rss.txt
	echo "destroy$n $(rss $NSCTL destroy $d/lab.toml)" >> $OUT/rss.txt
	settle
	W=0 h -r $IPRUNS --prepare "sh -c \"sh $d/ip-down.sh >/dev/null 2>&1; sh $S\"" --export-json $OUT/ipsh$n.json "sh $d/ip-up.sh"
	W=0 h -r $IPRUNS --prepare "sh -c \"sh $d/ip-down.sh >/dev/null 2>&1; sh $S && sh $d/ip-up.sh\"" --export-json $OUT/ipshdown$n.json "sh $d/ip-down.sh"
	settle
	W=0 h -r $IPRUNS --prepare "sh -c \"sh $d/ip-down.sh >/dev/null 2>&1; sh $S\"" --export-json $OUT/ipb$n.json "sh $d/ipb-up.sh"
	sh $d/ip-down.sh >/dev/null 2>&1
	settle
done
# 4. Full mode only (FABRIC=0 skips it): the 10,000-namespace fabric of
#    examples/fabric10k.toml, once each (a run takes minutes): apply with its peak RSS and
#    the kernel's memory per namespace, a no-op re-apply and status once the kernel has
#    settled, destroy; then the same fabric through ip -b (bench/gen_fabric.py).
if [ "$SMOKE" = 0 ] && [ "${FABRIC:-1}" = 1 ]; then
	lab=$(cd "$(dirname "$0")/.." && pwd)/examples/fabric10k.toml
	avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
	t() { /usr/bin/time -f "$1 %e %M" "${@:2}" 2>&1 >/dev/null | tail -1 >> $OUT/fabric.txt; }
	before=$(avail)
	t apply $NSCTL apply $lab
	echo "kmem $(( (before - $(avail)) / 10100 ))" >> $OUT/fabric.txt
	sleep $OBS_SETTLE
	t reapply $NSCTL apply $lab
	t status $NSCTL status $lab
	t destroy $NSCTL destroy $lab
	settle
	d=/tmp/fabric; mkdir -p $d; python3 "$(dirname "$0")/gen_fabric.py" 100 100 $d
	t ipb sh $d/ipb-up.sh
	sh $d/ip-down.sh >/dev/null 2>&1
	settle
fi
cp /proc/cpuinfo $OUT/cpuinfo; uname -r > $OUT/kernel; $IP -V > $OUT/ipversion; nproc > $OUT/nproc
