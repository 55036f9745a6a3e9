//! What `apply --adopt` takes is used, and destroy puts it back as it found it.

use crate::support::{check, sandbox};

/// Issue 23: `apply --adopt` of an existing namespace whose lo was down, then destroy, left lo
/// up. A namespace made by hand (lo down, forwarding off) holding a bridge made by hand (down,
/// MTU 1500, no address), and a veth pair made by hand with one end in it (in no bridge), are
/// adopted: the lab brings lo and the bridge up, sets the bridge's MTU and address, turns
/// forwarding on, puts the adopted end in the bridge and adds a veth pair of its own; a
/// second apply has nothing to do (lo is not put back down and up again). Destroy deletes the
/// lab's pair and puts everything else back: lo down, the bridge down with its MTU and no
/// address, forwarding off, the adopted end out of the bridge; the namespace, the bridge and
/// the adopted pair stay.
pub fn adopted_namespace_is_put_back() -> Result<(), String> {
    let o = sandbox(
        r#"
ip netns add A
ip -n A link add br0 type bridge
ip link add x1 type veth peer name x0 netns A
cat > /tmp/d.toml <<'TOML'
name = "ad"
[netns.A]
sysctl = { "net.ipv4.ip_forward" = 1 }
[bridge.br0]
netns = "A"
mtu = 1400
addresses = ["10.9.1.1/24"]
[[veth]]
ends = [{ name = "h-a", addresses = ["10.9.0.1/24"] }, { netns = "A", name = "eth0", addresses = ["10.9.0.2/24"] }]
[[veth]]
ends = [{ name = "x1" }, { netns = "A", name = "x0", bridge = "br0" }]
TOML
state() {
  ip -n A -br link show lo | awk '{print $1, $2}'
  ip -n A -o link show br0 | awk '{print $2, "mtu", $5, ($3 ~ /[<,]UP[,>]/ ? "up" : "down")}'
  echo "addresses on br0: $(ip -n A -br addr show br0 | awk '{print $3}')"
  echo "ip_forward $(ip netns exec A cat /proc/sys/net/ipv4/ip_forward)"
  echo "x0: $(ip -n A -o link show x0 | grep -o 'master [a-z0-9]*' || echo 'in no bridge')"
}
before=$(state)
echo "$before"
$NSCTL apply /tmp/d.toml >/dev/null 2>&1; echo "rc=$?"
$NSCTL apply --adopt /tmp/d.toml >/dev/null; echo "adopt rc=$?"
state
$NSCTL apply --adopt --dry-run /tmp/d.toml | sed 's/ in .*//'
$NSCTL destroy /tmp/d.toml | sed 's/ in .*//'
[ "$(state)" = "$before" ] && echo "as found"
state
ls /run/netns
ip link show h-a 2>&1 | head -1
ip -n A -br link show x0 | cut -d@ -f1
"#,
    );
    check(
        &o,
        "lo DOWN\nbr0: mtu 1500 down\naddresses on br0: \nip_forward 0\nx0: in no bridge\n\
         rc=3\nadopt rc=0\n\
         lo UNKNOWN\nbr0: mtu 1400 up\naddresses on br0: 10.9.1.1/24\nip_forward 1\n\
         x0: master br0\n\
         apply ad: nothing to do (14 unchanged)\n\
         left alone (adopted, not created by nsctl): netns A\n\
         destroy ad: 8 removed, 0 failed\n\
         as found\n\
         lo DOWN\nbr0: mtu 1500 down\naddresses on br0: \nip_forward 0\nx0: in no bridge\n\
         A\nDevice \"h-a\" does not exist.\nx0\n",
        "adopted namespace put back",
    )
}
