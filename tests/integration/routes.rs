//! `route add|change|replace|prepend|append|test|del` with metric, table, proto, scope, src
//! and route types, `route show table N|all|local`, `route get`, `addr flush` and `neigh`, against ip: the same
//! command runs through ip in namespace A and through nsctl in namespace B, set up alike;
//! stdout, stderr and rc must match, and so must both namespaces' routes afterwards.

use crate::support::{check, sandbox};

const SCRIPT: &str = r#"
setup() {
  ip netns add $1
  ip -n $1 link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02
  ip -n $1 addr add 10.0.0.1/24 dev v0
  ip -n $1 addr add fd00::1/64 dev v0 nodad
  ip -n $1 link set v0 addrgenmode none; ip -n $1 link set v1 addrgenmode none
  ip -n $1 link set v0 up; ip -n $1 link set v1 up; ip -n $1 link set lo up
  ip -n $1 addr add 10.0.0.2/24 dev v1
}
setup A; setup B
sleep 1
n=0
while IFS= read -r args; do
  # "show:" lines only read, and the kernel's neighbour order differs between namespaces:
  # both programs read namespace A.
  ns=B
  case $args in show:*) args=${args#show:}; ns=A ;; esac
  ip -n A $args > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i
  $NSCTL -n $ns $args > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n
  ip -n A route show table all > /tmp/ia; ip -n A -6 route show table all >> /tmp/ia; ip -n A addr >> /tmp/ia; ip -n A neigh show nud all | sort >> /tmp/ia
  ip -n B route show table all > /tmp/nb; ip -n B -6 route show table all >> /tmp/nb; ip -n B addr >> /tmp/nb; ip -n B neigh show nud all | sort >> /tmp/nb
  if cmp -s /tmp/i /tmp/n && cmp -s /tmp/ia /tmp/nb; then n=$((n + 1)); else echo "DIFF: $args"; diff /tmp/i /tmp/n | head -8; diff /tmp/ia /tmp/nb | head -8; fi
done <<'LINES'
route add 10.1.0.0/24 via 10.0.0.2 dev v0 metric 5 table 100 proto static src 10.0.0.1
route add 10.2.0.0/24 dev v0 table 1000
route add 10.3.0.0/24 via 10.0.0.2 metric 7
route add 10.3.0.0/24 via 10.0.0.2 metric 7
route replace 10.3.0.0/24 via 10.0.0.2 metric 7 proto 99
route add 10.4.0.0/24 dev v0 scope link proto kernel m 9
route add 10.5.0.0/16 dev v0 p 10 t main
route append 10.5.0.0/16 dev v1 p 10
route prepend 10.6.0.0/16 dev v1
route change 10.6.0.0/16 dev v0
route change 10.7.0.0/16 dev v0
route test 10.5.0.0/16 dev v0 p 10
route add local 10.9.0.1 dev v0
route add unreachable 10.10.0.0/16
route add blackhole 10.11.0.0/16 table 100
route add prohibit 10.12.0.0/16 metric 3
route add table local 10.13.0.2 dev v0
route add 10.14.0.0/16 dev v0 metric bogus
route add 10.14.0.0/16 dev v0 table bogus
route add 10.14.0.0/16 dev v0 table all
route add 10.14.0.0/16 dev v0 proto 300
route add 10.14.0.0/16 dev v0 scope nowhere
route add 10.14.0.0/16 dev v0 scope bogus
route add 10.14.0.0/16 via 10.0.0.2 src fd00::1
route add 10.14.0.0/16 via 10.0.0.2 via 10.0.0.3
route add 10.14.0.0/16 dev v0 table
route add fd01::/64 dev v0 metric 5 table 100
route del 10.1.0.0/24 table 100
route del 10.2.0.0/24 table 1000
route del 10.2.0.0/24 table 1000
route del 10.3.0.0/24 metric 7
route del 10.11.0.0/16 table 100
route del 10.0.0.0/24 table 200
route
route show table 100
route show table all
route show table local
route show table main dev v0
route show table 200
route show table bogus
route show table 0
route show t 100
-j route show table all
-j route show table 200
-j -p route show table 100
-6 route show table all
-6 route show table 100
-6 route
-4 route show table local
route get 10.0.0.2
route get 10.0.0.1
route get 10.1.0.7
route get 10.3.0.7
route get 10.0.0.2 from 10.0.0.1
route get to 10.0.0.2 oif v0
-j route get 10.0.0.2
-j route get 10.0.0.1
route get 192.0.2.99
route get 10.10.0.1
route get fd00::2
-6 route get fd00::1
route get
route get 10.0.0.0/24
route get 10.0.0.2 oif nosuch
addr add 10.30.0.1/24 dev v1
addr add 10.31.0.1/24 dev v1
addr flush dev v1
-s addr flush dev v1
addr add 10.32.0.1/24 dev v1
-s addr flush v1
-4 addr flush dev v0
-6 addr flush dev v0
addr flush
addr flush dev nosuch
addr flush v0 dev v1
neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0
neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0
neigh replace 10.0.0.6 lladdr 02:00:00:00:00:06 dev v0 nud stale
neigh change 10.0.0.6 lladdr 02:00:00:00:00:07 dev v0
neigh change 10.0.0.77 lladdr 02:00:00:00:00:07 dev v0
neigh add fd00::5 lladdr 02:00:00:00:00:05 dev v0 router
neigh add 10.0.0.16 lladdr 02:00:00:00:00:10 dev v0 protocol static
neighbour add 10.0.0.17 lladdr 02:00:00:00:00:11 dev v0 nud reachable
neigh add 10.0.0.18 lladdr 02:00:00:00:00:12 dev v0 nud noarp
neigh add 10.0.0.9 dev v0
neigh add 10.0.0.9 lladdr zz:00 dev v0
neigh add 10.0.0.9 lladdr 02:00:00:00:00:09
neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev nosuch
neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0 nud bogus
neigh add bogus dev v0
show:neigh show
show:neigh
show:neigh show dev v0
show:neigh show nud all
show:neigh show nud permanent
show:neigh show nud noarp
show:-j neigh show
show:-j -p neigh show nud all
show:-4 neigh
show:-6 neigh
neigh del 10.0.0.5 dev v0
neigh del 10.0.0.5 dev v0
neigh show dev nosuch
LINES
echo "same: $n""#;

/// How many command lines the script compares.
const FORMS: usize = 103;

pub fn routes_match_ip() -> Result<(), String> {
    let o = sandbox(SCRIPT);
    check(&o, &format!("same: {FORMS}\n"), "routes")
}
