//! The MAC addresses of the links a lab makes are derived from the file: a namespace made
//! again (by a range edit, or destroy and apply) comes back with the MACs it had, so its
//! neighbours' ARP entries still hold and traffic crosses at once.

use crate::support::{check, sandbox};

/// Issue 23: a namespace made again got new random MACs, and its neighbours' ARP entries
/// pointed at the old ones (ping failed for tens of seconds after a range edit). Three
/// namespaces on a bridge; n1 holds n3's MAC in a permanent neighbour entry (so the test
/// waits for no timer: a wrong MAC fails every time). The range shrinks to 1..2 and grows
/// back: n3 and its pair are made again with the MACs they had, and n1 reaches n3 at once.
/// Destroy and apply again: every MAC, the bridge's too, is the same. All are distinct,
/// locally administered unicast addresses (the bridge no longer takes a port's).
pub fn remade_links_keep_their_macs() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/m.toml <<'TOML'
name = "mx"
[bridge.br0]
addresses = ["10.77.0.254/24"]
[netns."n{1..3}"]
[[veth]]
for = "1..3"
ends = [{ netns = "n{i}", name = "eth0", addresses = ["10.77.0.{i}/24"] }, { name = "v{i}", bridge = "br0" }]
TOML
sed 's/1\.\.3/1..2/' /tmp/m.toml > /tmp/m2.toml
mac() { $NSCTL ${1:+-n $1} link show "$2" | sed -n 's/.*link\/ether \([0-9a-f:]*\) .*/\1/p'; }
macs() {
  for n in n1 n2 n3; do echo "$n eth0 $(mac $n eth0)"; done
  for l in br0 v1 v2 v3; do echo "host $l $(mac '' $l)"; done
}
$NSCTL apply /tmp/m.toml >/dev/null || exit 1
before=$(macs)
echo "$before" | awk '$3 != "" {print $3}' | sort -u | wc -l
echo "$before" | awk '{print $3}' | while read m; do echo "first octet & 3 = $(( 0x${m%%:*} & 3 ))"; done | sort -u
mac3=$(mac n3 eth0)
ip -n n1 neigh replace 10.77.0.3 lladdr "$mac3" dev eth0 nud permanent
ip netns exec n1 ping -c1 -W1 10.77.0.3 >/dev/null && echo "ping before"
$NSCTL apply /tmp/m2.toml >/dev/null && echo $(ls /run/netns)
$NSCTL apply /tmp/m.toml >/dev/null && echo $(ls /run/netns)
ip -n n1 neigh show 10.77.0.3 | grep -q "$mac3 PERMANENT" && echo "n1 still holds n3's MAC"
[ "$(macs)" = "$before" ] && echo "same MACs after the range edit"
ip netns exec n1 ping -c1 -W1 10.77.0.3 >/dev/null && echo "ping after the range edit"
$NSCTL destroy /tmp/m.toml >/dev/null && $NSCTL apply /tmp/m.toml >/dev/null
[ "$(macs)" = "$before" ] && echo "same MACs after destroy and apply"
$NSCTL apply --dry-run /tmp/m.toml | sed 's/ in .*//'
$NSCTL destroy /tmp/m.toml >/dev/null
"#,
    );
    check(
        &o,
        "7\nfirst octet & 3 = 2\nping before\nn1 n2\nn1 n2 n3\nn1 still holds n3's MAC\n\
         same MACs after the range edit\nping after the range edit\n\
         same MACs after destroy and apply\napply mx: nothing to do (21 unchanged)\n",
        "MACs of links made again",
    )
}
