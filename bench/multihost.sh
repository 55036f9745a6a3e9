#!/bin/bash
# bench/multihost.sh - a 1,000-namespace lab across two "machines" (issue 13): the star of
# bench/gen.py split in two, 500 namespaces on a bridge of each machine, the two bridges
# joined by one VXLAN link. Times each machine's own apply (`--host`), and `--all-hosts`
# driving both over OpenSSH; 3 runs each, medians. Each machine is a network namespace with
# its own mount namespace, /run and /etc/netns, inside one private sandbox
# (tests/sandbox/run.sh), joined by an underlay bridge; both share this machine's 2 cores and
# one kernel, where real machines would not. Needs root, GNU time, sshd and ssh.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ -x /usr/bin/time ] || { echo "bench: GNU time is missing (apt-get install time)" >&2; exit 1; }
[ -x /usr/sbin/sshd ] || { echo "bench: sshd is missing (apt-get install openssh-server)" >&2; exit 1; }
(cd "$here" && cargo build --release --quiet)
inside=$here/target/multihost-inside.sh
cat > "$inside" <<'INSIDE'
set -eu
. "$HERE/tests/sandbox/machines.sh"
ssh_client
mkhost 1
mkhost 2
sshd_on 1
sshd_on 2
lab=/tmp/two1000.toml
cat > $lab <<'EOF'
name = "two1000"
[hosts.h1]
underlay = "192.0.2.1"
[hosts.h2]
underlay = "192.0.2.2"
[bridge.br1]
host = "h1"
addresses = ["10.100.255.254/16"]
[bridge.br2]
host = "h2"
[netns."n{1..500}"]
host = "h1"
routes = ["default via 10.100.255.254"]
[netns."n{501..1000}"]
host = "h2"
routes = ["default via 10.100.255.254"]
[[veth]]
for = "1..500"
ends = [{ netns = "n{i}", name = "eth0", addresses = ["10.100.{i / 250}.{i % 250 + 1}/16"], mtu = 1450 }, { name = "v{i}", bridge = "br1" }]
[[veth]]
for = "501..1000"
ends = [{ netns = "n{i}", name = "eth0", addresses = ["10.100.{i / 250}.{i % 250 + 1}/16"], mtu = 1450 }, { name = "v{i}", bridge = "br2" }]
[[veth]]
ends = [{ name = "x1", bridge = "br1", mtu = 1450 }, { name = "x2", bridge = "br2", mtu = 1450 }]
EOF
t() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
median() { sort -n | sed -n 2p; }
settle() { sleep 5; }
a1=(); a2=(); all=(); st=()
for r in 1 2 3; do
  a1+=("$(t nsenter -t "$H1" -n -m $NSCTL apply --host h1 $lab)")
  a2+=("$(t nsenter -t "$H2" -n -m $NSCTL apply --host h2 $lab)")
  [ $r = 1 ] && on 1 ip netns exec n1 ping -c 1 -W 2 10.100.4.1 > /dev/null && echo "n1 (h1) -> n1000 (h2): ok"
  settle
  st+=("$(t $NSCTL status --all-hosts $lab)")
  $NSCTL destroy --all-hosts $lab > /dev/null 2>&1
  settle
  all+=("$(t $NSCTL apply --all-hosts $lab)")
  $NSCTL destroy --all-hosts $lab > /dev/null 2>&1
  settle
done
echo "apply --host h1 (500 namespaces): $(printf '%s\n' "${a1[@]}" | median) s"
echo "apply --host h2 (500 namespaces): $(printf '%s\n' "${a2[@]}" | median) s"
echo "apply --all-hosts (both, over ssh): $(printf '%s\n' "${all[@]}" | median) s"
echo "status --all-hosts: $(printf '%s\n' "${st[@]}" | median) s"
echo "runs: h1 ${a1[*]}; h2 ${a2[*]}; all-hosts ${all[*]}; status ${st[*]}"
echo "left: $(on 1 ls /run/netns | wc -l) + $(on 2 ls /run/netns | wc -l) namespaces"
INSIDE
HERE=$here NSCTL=$here/target/release/nsctl "$here/tests/sandbox/run.sh" bash "$inside"
