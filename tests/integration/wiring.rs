//! link / addr / route over netlink, proven by real traffic inside sandboxes.

use crate::support::{check, sandbox};

/// mario and luigi joined by one veth pair, addressed and up, pinging both ways: nsctl alone.
pub fn mario_and_luigi() -> Result<(), String> {
    let o = sandbox(
        r#"
set -e
$NSCTL add mario
$NSCTL add luigi
$NSCTL -n mario link add eth0 type veth peer name eth0 netns luigi
$NSCTL -n mario link set lo up
$NSCTL -n luigi link set lo up
$NSCTL -n mario addr add 10.0.0.1/24 dev eth0
$NSCTL -n luigi addr add 10.0.0.2/24 dev eth0
$NSCTL -n mario link set eth0 up
$NSCTL -n luigi link set eth0 up
$NSCTL exec mario ping -c 1 -W 2 10.0.0.2 >/dev/null && echo "mario -> luigi"
$NSCTL exec luigi ping -c 1 -W 2 10.0.0.1 >/dev/null && echo "luigi -> mario"
$NSCTL -n mario addr add fd00::1/64 dev eth0 nodad
$NSCTL -n luigi addr add fd00::2/64 dev eth0 nodad
$NSCTL exec mario ping -c 1 -W 2 fd00::2 >/dev/null && echo "mario -> luigi v6"
ip link show | grep -c eth0 || true
"#,
    );
    check(
        &o,
        "mario -> luigi\nluigi -> mario\nmario -> luigi v6\n0\n",
        "mario/luigi",
    )
}

/// A, B and C on a bridge in the sandbox's host namespace; the host on the bridge; A's
/// default route via the bridge reaches an address behind the host.
pub fn abc_bridge() -> Result<(), String> {
    let o = sandbox(
        r#"
set -e
$NSCTL link add br0 type bridge
$NSCTL link set br0 up
$NSCTL addr add 10.1.0.254/24 dev br0
i=0
for ns in A B C; do
  i=$((i + 1))
  $NSCTL add $ns
  $NSCTL link add veth-$ns type veth peer name eth0 netns $ns
  $NSCTL link set veth-$ns master br0 up
  $NSCTL -n $ns addr add 10.1.0.$i/24 dev eth0
  $NSCTL -n $ns link set eth0 up
  $NSCTL -n $ns link set lo up
done
for a in A B C; do for b in 1 2 3; do
  $NSCTL exec $a ping -c 1 -W 2 10.1.0.$b >/dev/null || echo "FAIL $a -> 10.1.0.$b"
done; done
for b in 1 2 3; do ping -c 1 -W 2 10.1.0.$b >/dev/null || echo "FAIL host -> 10.1.0.$b"; done
echo "pairs ok"
# An address behind the host: on a second bridge with nothing else on it.
$NSCTL link add br-out type bridge
$NSCTL link set br-out up
$NSCTL addr add 198.51.100.1/24 dev br-out
$NSCTL -n A route add default via 10.1.0.254
$NSCTL exec A ping -c 1 -W 2 198.51.100.1 >/dev/null && echo "A reaches 198.51.100.1"
$NSCTL exec B ping -c 1 -W 1 198.51.100.1 >/dev/null 2>&1 || echo "B has no route"
"#,
    );
    check(
        &o,
        "pairs ok\nA reaches 198.51.100.1\nB has no route\n",
        "A-B-C",
    )
}

/// A link moved into a namespace and back, by name and by pid.
pub fn move_and_back() -> Result<(), String> {
    let o = sandbox(
        r#"
set -e
$NSCTL add ns1
$NSCTL link add m0 type veth peer name m1
$NSCTL link set m0 netns ns1
ip -o link show m0 >/dev/null 2>&1 && echo "still in host" || echo "gone from host"
ip -n ns1 -o link show m0 >/dev/null && echo "in ns1"
$NSCTL -n ns1 link set m0 netns 1
ip -o link show m0 >/dev/null && echo "back by pid"
sleep 100 & p=$!
$NSCTL exec ns1 sh -c 'exec sleep 100' & q=$!
sleep 0.2
$NSCTL link set m0 netns $q name moved up mtu 1400
ip -n ns1 -o link show moved | grep -o 'mtu 1400' 
$NSCTL -n ns1 link set moved netns $p name m0
ip -o link show m0 | grep -o 'mtu 1400'
kill $p $q
"#,
    );
    check(
        &o,
        "gone from host\nin ns1\nback by pid\nmtu 1400\nmtu 1400\n",
        "move",
    )
}

/// Failures change nothing: bad keywords, bad addresses, a peer that cannot be created.
pub fn failures_change_nothing() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ns1; $NSCTL add ns2
$NSCTL -n ns2 link add taken type veth peer name x2
snap() { for n in "" ns1 ns2; do ip ${n:+-n $n} -o link show | awk -F': ' '{print $2}'; ip ${n:+-n $n} -o addr show; ip ${n:+-n $n} route show; done; }
before=$(snap)
$NSCTL link add v0 type veth peer name taken netns ns2; echo "peer exists rc=$?"
$NSCTL link add v0 type veth peer name p0 netns nosuch; echo "no netns rc=$?"
$NSCTL link add v0 type veth peer name p0 frobnicate; echo "bad peer word rc=$?"
$NSCTL link add waytoolongname0123 type veth; echo "long name rc=$?"
$NSCTL link set nosuch up; echo "no dev rc=$?"
$NSCTL link set lo mtu x; echo "bad mtu rc=$?"
$NSCTL addr add 10.0.0.300/24 dev lo; echo "bad addr rc=$?"
$NSCTL addr add 10.0.0.1/24 dev nosuch; echo "addr no dev rc=$?"
$NSCTL route add 10.9.0.0/24 via 192.0.2.1; echo "unreachable gw rc=$?"
$NSCTL route add 10.9.0.0/24 frob 1; echo "bad route word rc=$?"
$NSCTL link add d0 type dummy; echo "no dummy rc=$?"
[ "$before" = "$(snap)" ] && echo "unchanged"
"#,
    );
    check(
        &o,
        "peer exists rc=2\nno netns rc=255\nbad peer word rc=255\nlong name rc=2\nno dev rc=1\n\
bad mtu rc=255\nbad addr rc=1\naddr no dev rc=1\nunreachable gw rc=2\nbad route word rc=255\nno dummy rc=2\nunchanged\n",
        "failures",
    )
}

/// Links made by nsctl are usable by ip, and the other way round; one batch mixes netns,
/// link, addr and route lines in ip's batch format.
pub fn interop_and_batch() -> Result<(), String> {
    let o = sandbox(
        r#"
set -e
ip netns add a
printf '%s\n' 'netns add b' 'link add va type veth peer name vb netns b' 'link set va netns a' > /tmp/lab
$NSCTL -b /tmp/lab
printf '%s\n' 'addr add 10.2.0.2/24 dev vb' 'link set vb up' 'route add default via 10.2.0.1' > /tmp/lab-b
$NSCTL -n b -b /tmp/lab-b
ip -n a addr add 10.2.0.1/24 dev va
ip -n a link set va up
ip netns exec a ping -c 1 -W 2 10.2.0.2 >/dev/null && echo "ip -> nsctl link"
ip -n b route show default
$NSCTL -n a link set va down
ip -n a -o link show va | grep -q 'state DOWN' && echo "nsctl set seen by ip"
"#,
    );
    check(
        &o,
        "ip -> nsctl link\ndefault via 10.2.0.1 dev vb \nnsctl set seen by ip\n",
        "interop",
    )
}

/// Gateways of the other family and batch lines for objects nsctl lacks behave as in ip:
/// each form is run by ip and by nsctl in one sandbox and compared (stdout, stderr, rc and
/// the route the kernel holds); an endless batch line (`-b /dev/zero` under a memory limit)
/// is refused, not a crash.
pub fn route_families_and_batch_objects() -> Result<(), String> {
    let o = crate::support::sandbox(
        r#"
ip link add d0 type veth peer name d1; ip link set d0 up; ip link set d1 up
ip addr add 10.0.0.1/24 dev d0; ip addr add fd00::1/64 dev d0 nodad
for args in "route add 10.1.0.0/16 via ::1" "route add ::/0 via 10.0.0.1" "route add via 10.0.0.7 fd00:5::/64" "route add 10.3.0.0/16 via inet6 zz dev d0" "route add 10.2.0.0/16 via inet6 fe80::1 dev d0"; do
  ip $args > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i; r1=$(ip route show 10.2.0.0/16); ip route del 10.2.0.0/16 2>/dev/null
  $NSCTL $args > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n; r2=$(ip route show 10.2.0.0/16); ip route del 10.2.0.0/16 2>/dev/null
  cmp -s /tmp/i /tmp/n && [ "$r1" = "$r2" ] && echo "same: $(tr '\n' ' ' < /tmp/i)$r1" || { echo "DIFF: $args"; cat /tmp/i /tmp/n; echo "$r1 / $r2"; }
done
printf 'bogus\nnetns add after\n' > /tmp/bf
ip -force -b /tmp/bf > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i; ls /run/netns >> /tmp/i; ip netns del after
$NSCTL -force -b /tmp/bf > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n; ls /run/netns >> /tmp/n; ip netns del after
cmp -s /tmp/i /tmp/n && echo "same batch: $(tr '\n' ' ' < /tmp/i)" || { cat /tmp/i; echo ---; cat /tmp/n; }
(ulimit -v 400000; $NSCTL -b /dev/zero; echo "zero rc=$?") 2>&1
"#,
    );
    crate::support::check(
        &o,
        "same: Error: inet address is expected rather than \"::1\". rc=1 \n\
         same: Error: inet6 address is expected rather than \"10.0.0.1\". rc=1 \n\
         same: Error: inet prefix is expected rather than \"fd00:5::/64\". rc=1 \n\
         same: Error: inet6 address is expected rather than \"zz\". rc=1 \n\
         same: rc=0 10.2.0.0/16 via inet6 fe80::1 dev d0 \n\
         same batch: Object \"bogus\" is unknown, try \"ip help\". Command failed /tmp/bf:1 rc=1 after \n\
         Line 1 is longer than 1048576 bytes\nzero rc=1\n",
        "route families and batch objects",
    )
}

/// ip's readers of addresses, MACs and MTUs: short IPv4 forms (`10/8`, `1.2.3`), MAC
/// lengths checked against the device, the bad part of a MAC named, `mtu -1` sent as ip
/// sends it. Each form is run by ip and by nsctl and compared (output, rc, and the device's
/// addresses and MAC after it).
pub fn ip_readers() -> Result<(), String> {
    let forms = [
        "addr add 1.2.3 dev d0",
        "addr add 10/8 dev d0",
        "addr add 10.1/16 dev d0",
        "addr add 300.1/8 dev d0",
        "addr add 1.2.3.4.5 dev d0",
        "route add 10/8 dev d0",
        "link set d0 mtu -1",
        "link set d0 address 00:11:22:33:44:55:66:77:88",
        "link set d0 address 00:11:zz",
        "link set d0 address 0011",
    ];
    let o = crate::support::sandbox(&format!(
        r#"
ip link add d0 type veth peer name d1
for args in {}; do
  ip $args > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i; s1=$(ip -br addr show d0; ip -br link show d0 | awk '{{print $3}}'); ip addr flush dev d0
  $NSCTL $args > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n; s2=$(ip -br addr show d0; ip -br link show d0 | awk '{{print $3}}'); ip addr flush dev d0
  cmp -s /tmp/i /tmp/n && [ "$s1" = "$s2" ] && echo "same: $args" || {{ echo "DIFF: $args"; cat /tmp/i /tmp/n; echo "$s1 / $s2"; }}
done
"#,
        forms
            .iter()
            .map(|f| format!("\"{f}\""))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    let want: String = forms.iter().map(|f| format!("same: {f}\n")).collect();
    crate::support::check(&o, &want, "ip readers")
}

/// Interface names are bytes: a name that is not UTF-8 is sent as it is, so it never names
/// the link whose name is U+FFFD (the lossy form of those bytes). Each command on `\xfe`
/// is compared with ip's; the U+FFFD link survives; `link add \xff` makes `\xff`; and
/// `show` prints such names (link, peer, master, label, alias, altname) as ip does.
pub fn non_utf8_names() -> Result<(), String> {
    let o = crate::support::sandbox(
        r#"
ip link add $'\xef\xbf\xbd' type veth peer name r0
for args in "link del X" "addr add 10.0.0.1/24 dev X" "route add 10.9.0.0/16 dev X" "link set X up"; do
  a=${args/X/$'\xfe'}
  ip $a > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i
  $NSCTL $a > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n
  cmp -s /tmp/i /tmp/n && echo "same: $args" || { echo "DIFF: $args"; od -c /tmp/i; od -c /tmp/n; }
done
ip -o link | grep -c $'\xef\xbf\xbd@r0'
$NSCTL link add $'\xff' type veth peer name p1; echo "rc=$?"
ip -o link | grep -c $'\xff@p1'
ip link add $'br\xfa' type bridge
ip link set $'\xff' master $'br\xfa' up
ip link set p1 alias $'al\xfb'
ip link property add dev p1 altname $'alt\xfc'
ip addr add 10.1.0.1/24 dev $'\xff' label $'\xff:1'
ip addr add 10.2.0.1/24 dev $'\xff'
ip route add 10.3.0.0/16 dev $'\xff'
n=0
for args in "link" "addr" "-br link" "-br addr" "-j link" "-j addr" "link show dev X" "route"; do
  a=${args/X/$'\xff'}
  ip $a > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i
  $NSCTL $a > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n
  cmp -s /tmp/i /tmp/n && n=$((n + 1)) || { echo "DIFF: $args"; diff /tmp/i /tmp/n | od -c | head -20; }
done
echo "show: $n same"
# Commands on an existing link whose name is not UTF-8 find it (the kernel's answer names it
# in bytes the async decoder cannot read; such a lookup once waited for ever).
timeout 5 $NSCTL link set $'\xff' mtu 1400; echo "rc=$?"
ip -o link show $'\xff' | grep -c "mtu 1400"
timeout 5 $NSCTL addr add 10.4.0.1/24 dev $'\xff'; echo "rc=$?"
ip -o addr show dev $'\xff' | grep -c 10.4.0.1
timeout 5 $NSCTL link del $'\xff'; echo "rc=$?"
ip -o link | grep -c $'\xff@' || true
"#,
    );
    crate::support::check(
        &o,
        "same: link del X\nsame: addr add 10.0.0.1/24 dev X\nsame: route add 10.9.0.0/16 dev X\n\
         same: link set X up\n1\nrc=0\n1\nshow: 8 same\nrc=0\n1\nrc=0\n1\nrc=0\n0\n",
        "non-UTF-8 names",
    )
}

/// `link add … type macvlan|vxlan` against ip: for each command line, stdout, stderr and rc,
/// and then the link the kernel holds (its lower device and `ip -d -j`'s linkinfo: mode,
/// VNI, addresses, port, ttl, learning) must be the same.
pub fn macvlan_and_vxlan_match_ip() -> Result<(), String> {
    let o = crate::support::sandbox(
        r#"
ip link add v0 type veth peer name v1
state() {
  ip -d -j link show "$1" 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)[0]
i = d["linkinfo"]
i.get("info_data", {}).pop("usedbcqueuelen", None)
print(d.get("link"), json.dumps(i, sort_keys=True))'
}
n=0
while read -r name args; do
  ip link add $name $args > /tmp/i 2>&1; echo "rc=$?" >> /tmp/i; state $name >> /tmp/i
  ip link del $name 2>/dev/null
  $NSCTL link add $name $args > /tmp/n 2>&1; echo "rc=$?" >> /tmp/n; state $name >> /tmp/n
  ip link del $name 2>/dev/null
  if cmp -s /tmp/i /tmp/n; then n=$((n + 1)); else echo "DIFF: $name $args"; diff /tmp/i /tmp/n | head -10; fi
done <<'LINES'
m0 link v0 type macvlan mode bridge
m0 link v0 type macvlan mode private
m0 link v0 type macvlan mode vepa
m0 link v0 type macvlan
m0 l v0 type macvlan m passthru nopromisc
m0 link v0 type macvtap mode bridge
m0 link v0 type macvlan mode source bcqueuelen 100 flag nodst
m0 link nosuch type macvlan mode bridge
m0 type macvlan mode bridge
m0 link v0 type macvlan mode bogus
m0 link v0 type macvlan mode bridge nopromisc
m0 link v0 type macvlan bogus
m0 link v0 type macvlan help
vx0 type vxlan id 42 dstport 4789 remote 192.0.2.2 local 192.0.2.1 ttl 64 nolearning
vx0 type vxlan id 43
vx0 type vxlan vni 44 dev v0 group 239.1.1.1 dstport 4789 ttl inherit learning
vx0 type vxlan id 46 dstport 4789 ttl auto local 2001:db8::1 remote 2001:db8::2
vx0 type vxlan id 47 dstport 0 d v0 dst 4790
vx0 type vxlan id 16777216
vx0 type vxlan dstport 4789
vx0 type vxlan id 1 group 239.1.1.1
vx0 type vxlan id 1 remote 192.0.2.2 group 239.1.1.1
vx0 type vxlan id 1 dev nosuch
vx0 type vxlan id 1 local 192.0.2.1 remote 2001:db8::2
vx0 type vxlan id 1 bogus
vx0 type vxlan id 1 id 2
vx0 type vxlan id 1 learning nolearning
vx0 type vxlan id 1 ttl 300
vx0 type vxlan id 1 ttl x
vx0 type vxlan
vx0 type vxlan help
LINES
echo "same: $n"
"#,
    );
    crate::support::check(&o, "same: 31\n", "macvlan and vxlan")
}
