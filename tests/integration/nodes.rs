//! `nsctl status --nodes FILE [-j]`: an applied lab node by node (src/lab/nodes.rs), compared
//! whole with what the lab file and the kernel say, before and after links are changed by
//! hand; and a machine's share of a lab across hosts, with its machine column and tunnels.

use crate::support::{check, sandbox, MULTI};

/// abc-nat applied: every interface with its peer, addresses and state (exit 0); then B's
/// eth0 down, C's address deleted, veth-a out of its bridge and the namespace outside gone
/// (exit 1, each said in its row); B's eth0 up again shows up again. `-j` is one JSON
/// object that parses, with the same states.
pub fn nodes_table() -> Result<(), String> {
    let root = crate::support::root_dir().display().to_string();
    let o = sandbox(&format!(
        r#"
lab={root}/examples/abc-nat.toml
$NSCTL apply $lab > /dev/null || exit 1
$NSCTL status --nodes $lab; echo "rc=$?"
ip -n B link set eth0 down
ip -n C addr del 10.0.0.4/24 dev eth0
ip link set veth-a nomaster
ip netns del outside
# The kernel removes a deleted namespace's links in a worker, after `ip netns del` returns:
# wait until veth-out (the peer of its eth0) is gone; 10 s at most, a guard only.
for i in $(seq 100); do ip link show veth-out > /dev/null 2>&1 || break; sleep 0.1; done
$NSCTL status --nodes $lab; echo "rc=$?"
ip -n B link set eth0 up
$NSCTL status --nodes $lab | grep '^B '
$NSCTL status --nodes -j $lab > /tmp/j; echo "rc=$?"
python3 -c '
import json, sys
d = json.load(open("/tmp/j"))
print(d["lab"], d["machine"], d["ok"])
for n in d["nodes"]:
    for i in n["interfaces"]:
        print(n["netns"], n["state"], i["name"], i["kind"], i["peer"], i["bridge"], i["addresses"], i["state"], i["notes"])
'
$NSCTL status --nodes; echo "rc=$?"
$NSCTL destroy $lab > /dev/null
"#
    ));
    let want = "\
NAMESPACE  INTERFACE  PEER                         ADDRESSES        STATE
(host)     br0        bridge of 3 ports            10.0.0.1/24      up
(host)     veth-a     eth0 (netns A), port of br0  -                up
(host)     veth-b     eth0 (netns B), port of br0  -                up
(host)     veth-c     eth0 (netns C), port of br0  -                up
(host)     veth-out   eth0 (netns outside)         198.51.100.1/24  up
A          eth0       veth-a (host)                10.0.0.2/24      up
B          eth0       veth-b (host)                10.0.0.3/24      up
C          eth0       veth-c (host)                10.0.0.4/24      up
outside    eth0       veth-out (host)              198.51.100.2/24  up
rc=0
NAMESPACE  INTERFACE  PEER                         ADDRESSES        STATE
(host)     br0        bridge of 3 ports            10.0.0.1/24      up
(host)     veth-a     eth0 (netns A), port of br0  -                up, not in br0
(host)     veth-b     eth0 (netns B), port of br0  -                up
(host)     veth-c     eth0 (netns C), port of br0  -                up
(host)     veth-out   eth0 (netns outside)         198.51.100.1/24  missing
A          eth0       veth-a (host)                10.0.0.2/24      up
B          eth0       veth-b (host)                10.0.0.3/24      down
C          eth0       veth-c (host)                -                up, without 10.0.0.4/24
outside    eth0       veth-out (host)              198.51.100.2/24  missing (no namespace)
rc=1
B          eth0       veth-b (host)                10.0.0.3/24      up
rc=1
abc None False
None present br0 bridge None None ['10.0.0.1/24'] up []
None present veth-a veth eth0 (netns A) br0 [] up ['not in br0']
None present veth-b veth eth0 (netns B) br0 [] up []
None present veth-c veth eth0 (netns C) br0 [] up []
None present veth-out veth eth0 (netns outside) None ['198.51.100.1/24'] missing []
A present eth0 veth veth-a (host) None ['10.0.0.2/24'] up []
B present eth0 veth veth-b (host) None ['10.0.0.3/24'] up []
C present eth0 veth veth-c (host) None [] up ['without 10.0.0.4/24']
outside missing eth0 veth veth-out (host) None ['198.51.100.2/24'] missing []
rc=2
";
    check(&o, want, "status --nodes on abc-nat")?;
    if !o.stderr.contains("required arguments were not provided") {
        return Err(format!("status --nodes without a file: {}", o.stderr));
    }
    Ok(())
}

/// The table of h1's nodes in support's MULTI, every one as the file says.
const H1_NODES: &str = "\
NAMESPACE  MACHINE  INTERFACE  PEER                                ADDRESSES    STATE
(host)     h1       lan        bridge of 2 ports                   -            up
(host)     h1       va2        eth0 (netns A2) on h1, port of lan  -            up
(host)     h1       vb2        eth0 (netns B2) on h2, port of lan  -            up
A          h1       eth0       eth0 (netns B) on h2                10.0.0.1/24  up
A2         h1       eth0       va2 (host) on h1                    10.1.0.1/24  up
";

/// Machine h1's share of a lab across two hosts (its underlay address on a veth): the
/// MACHINE column, the tunnels (vxlan) named by their far ends on h2, a bridge with a
/// tunnel as a port. Asking for h2's share on h1 is refused (exit 3), as plain status is.
pub fn nodes_across_hosts() -> Result<(), String> {
    let o = sandbox(&format!(
        "{MULTI}{}",
        r#"
ip link add u0 type veth peer name u1 && ip addr add 192.0.2.1/24 dev u0 && ip link set u0 up && ip link set u1 up
$NSCTL apply --host h1 /tmp/multi.toml > /dev/null || exit 1
$NSCTL status --nodes --host h1 /tmp/multi.toml; echo "rc=$?"
$NSCTL status --nodes -j --host h1 /tmp/multi.toml \
  | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["machine"], [(n["machine"], [i["kind"] for i in n["interfaces"]]) for n in d["nodes"]])'
$NSCTL status --nodes --host h2 /tmp/multi.toml 2> /tmp/err; echo "rc=$?"
grep -o "lab multi on this machine is host h1's share" /tmp/err
"#
    ));
    let want = format!(
        "{H1_NODES}\
rc=0
h1 [('h1', ['bridge', 'veth', 'vxlan']), ('h1', ['vxlan']), ('h1', ['veth'])]
rc=3
lab multi on this machine is host h1's share
"
    );
    check(&o, &want, "status --nodes on a share of a lab across hosts")
}

/// `--all-hosts --nodes` over ssh to two machines (tests/sandbox/machines.sh): one table of
/// every machine's nodes, each with its machine, then the row per machine; B's eth0 taken
/// down on h2 shows in the table and fails h2's row (exit 1). `-j` nests each machine's
/// object.
pub fn nodes_all_hosts() -> Result<(), String> {
    let o = sandbox(&format!(
        "set -u\n{}{MULTI}{}",
        include_str!("../sandbox/machines.sh"),
        r#"
mkhost 1; mkhost 2; ssh_client; sshd_on 1; sshd_on 2
$NSCTL apply --all-hosts /tmp/multi.toml > /dev/null 2>&1 || exit 1
on 2 ip -n B link set eth0 down
$NSCTL status --nodes --all-hosts /tmp/multi.toml 2>/dev/null | sed -E 's/^(h[12] +)[0-9.]+s +/\1T  /; s/in [0-9.]+s$/in T/'; echo "rc=${PIPESTATUS[0]}"
$NSCTL status --nodes --all-hosts -j /tmp/multi.toml 2>/dev/null | python3 -c '
import json, sys; v = json.load(sys.stdin)
for h in v["hosts"]: print(h["host"], h["exit"], h["result"]["machine"], h["result"]["ok"], len(h["result"]["nodes"]))'
$NSCTL destroy --all-hosts /tmp/multi.toml > /dev/null 2>&1; echo "destroy rc=$?"
"#
    ));
    let want = format!(
        "{H1_NODES}\
B          h2       eth0       eth0 (netns A) on h1                10.0.0.2/24  down
B2         h2       eth0       vb2 (host) on h1                    10.1.0.2/24  up

HOST  TIME      RESULT
h1    T  every node as the file says
h2    T  some nodes not as the file says
status multi: 1 of 2 hosts failed (h2) in T
rc=1
h1 0 h1 True 3
h2 1 h2 False 2
destroy rc=0
"
    );
    check(&o, &want, "status --nodes --all-hosts")
}
