//! Labs across machines on one machine: each "machine" is a network namespace with its own
//! mount namespace and its own tmpfs on /run (so its nsctl has its own /run/netns and
//! journal), joined to the others by an underlay bridge (192.0.2.0/24). Each applies its
//! share of one lab file; traffic crosses between them through the VXLAN links nsctl makes.

use crate::support::{sandbox, Out};

/// Shell functions: `mkhost N` makes machine N (underlay 192.0.2.N); `on N CMD...` runs a
/// command on it.
const MACHINES: &str = r#"
set -u
ip link add ul type bridge && ip link set ul up
mkhost() {
  unshare --net --mount --propagation private bash -c "mount -t tmpfs tmpfs /run && touch /tmp/ready$1 && exec sleep 600" > /dev/null 2>&1 &
  eval "H$1=$!"
  for _ in $(seq 100); do [ -e /tmp/ready$1 ] && break; sleep 0.05; done
  ip link add u$1 type veth peer name eth0 netns $!
  ip link set u$1 master ul up
  on $1 sh -c "ip addr add 192.0.2.$1/24 dev eth0 && ip link set eth0 up && ip link set lo up"
}
on() { local p; eval "p=\$H$1"; shift; nsenter -t "$p" -n -m "$@"; }
cat > /tmp/multi.toml <<'EOF'
name = "multi"

[hosts.h1]
underlay = "192.0.2.1"

[hosts.h2]
underlay = "192.0.2.2"

[netns.A]
host = "h1"

[netns.A2]
host = "h1"

[netns.B]
host = "h2"

[netns.B2]
host = "h2"

[bridge.lan]
host = "h1"

[[veth]]                       # A (h1) <-> B (h2): a point-to-point tunnel
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"] },
        { netns = "B", name = "eth0", addresses = ["10.0.0.2/24"] }]

[[veth]]                       # A2 on lan, on h1
ends = [{ netns = "A2", name = "eth0", addresses = ["10.1.0.1/24"], mtu = 1450 },
        { name = "va2", bridge = "lan" }]

[[veth]]                       # B2 on h2 joins lan on h1: a tunnel that is a port of lan
ends = [{ netns = "B2", name = "eth0", addresses = ["10.1.0.2/24"] },
        { name = "vb2", bridge = "lan" }]
EOF
mkhost 1
mkhost 2
"#;

fn run(script: &str) -> Out {
    sandbox(&format!("{MACHINES}{script}"))
}

/// Two machines each apply their share; A (h1) reaches B (h2) by ping and TCP through a
/// point-to-point VXLAN link, and A2 (on h1's bridge) reaches B2 (h2) through a tunnel that
/// is a port of that bridge. Both machines derive the same VNI; the tunnel's UDP socket is in
/// the machine's own namespace; re-apply is a no-op; destroying one machine's share leaves
/// the other's journal and links as they were; the file can come on standard input.
pub fn two_machines() -> Result<(), String> {
    let o = run(r#"
on 1 $NSCTL apply --host h1 /tmp/multi.toml | tail -1 | cut -d' ' -f2-6
on 2 $NSCTL apply /tmp/multi.toml | tail -1 | cut -d' ' -f2-6
on 1 ip netns exec A ping -c 1 -W 2 10.0.0.2 > /dev/null && echo "A (h1) -> B (h2): ping"
on 1 ip netns exec A2 ping -c 1 -W 2 10.1.0.2 > /dev/null && echo "A2 (h1, lan) -> B2 (h2): ping"
on 2 ip netns exec B python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", 7000)); s.listen(1); s.settimeout(10); c, a = s.accept(); c.sendall(("hello " + a[0] + "\n").encode())' &
server=$!
sleep 0.5
on 1 ip netns exec A bash -c 'exec 3<>/dev/tcp/10.0.0.2/7000 && head -1 <&3' | sed 's/^/A (h1) -> B (h2): tcp: /'
wait $server
v1=$(on 1 ip -n A -d -o link show eth0 | grep -o 'vxlan id [0-9]*')
v2=$(on 2 ip -n B -d -o link show eth0 | grep -o 'vxlan id [0-9]*')
[ -n "$v1" ] && [ "$v1" = "$v2" ] && echo "same VNI on both machines"
on 1 ip -n A -d -o link show eth0 | grep -o 'remote 192.0.2.2 local 192.0.2.1 dev eth0'
on 1 ip -n A -o link show eth0 | grep -o 'mtu [0-9]*'
on 1 ip -d -o link show vb2 | grep -o 'master lan'
on 1 ip -d -o link show vb2 | grep -c 'vxlan id [0-9]* remote 192.0.2.2 local 192.0.2.1'
echo "UDP 4789 sockets: $(on 1 ss -Huln 'sport = 4789' | wc -l) in h1's namespace, $(on 1 ip netns exec A ss -Huln 'sport = 4789' | wc -l) in A"
on 1 $NSCTL apply --host h1 /tmp/multi.toml | cut -d' ' -f3-5
on 1 $NSCTL status /tmp/multi.toml | tail -1
sum1=$(on 1 md5sum /run/nsctl/labs/multi.json)
on 2 $NSCTL destroy /tmp/multi.toml | tail -1 | cut -d' ' -f2-5
echo "h2 after destroy: $(on 2 ls /run/netns | wc -l) namespaces, links: $(on 2 ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | tr '\n' ' ')"
[ "$sum1" = "$(on 1 md5sum /run/nsctl/labs/multi.json)" ] && echo "h1's journal untouched"
on 1 $NSCTL status /tmp/multi.toml | tail -1
on 1 ip netns exec A ping -c 1 -W 1 10.0.0.2 > /dev/null || echo "A -> B fails while h2's share is gone"
cat /tmp/multi.toml | on 2 $NSCTL apply --host h2 - | tail -1 | cut -d' ' -f2-6
# B's link is new, with the MAC the file gives it: A's neighbour entry still holds.
on 1 ip netns exec A ping -c 1 -W 2 10.0.0.2 > /dev/null && echo "A (h1) -> B (h2) again"
on 2 $NSCTL apply --host h1 /tmp/multi.toml 2>&1; echo "rc=$?"
$NSCTL apply --dry-run /tmp/multi.toml 2>&1; echo "rc=$?"
$NSCTL apply --host h3 /tmp/multi.toml 2>&1; echo "rc=$?"
on 1 $NSCTL destroy --host h1 /tmp/multi.toml | tail -1 | cut -d' ' -f2-5
on 2 $NSCTL destroy /tmp/multi.toml | tail -1 | cut -d' ' -f2-5
"#);
    o.expect_rc(0, "two machines")?;
    let want = "\
multi: 6 created, 0 changed,
multi: 4 created, 0 changed,
A (h1) -> B (h2): ping
A2 (h1, lan) -> B2 (h2): ping
A (h1) -> B (h2): tcp: hello 10.0.0.1
same VNI on both machines
remote 192.0.2.2 local 192.0.2.1 dev eth0
mtu 1450
master lan
1
UDP 4789 sockets: 1 in h1's namespace, 0 in A
nothing to do
status multi: converged
multi: 2 removed, 0
h2 after destroy: 0 namespaces, links: lo eth0 
h1's journal untouched
status multi: converged
A -> B fails while h2's share is gone
multi: 4 created, 0 changed,
A (h1) -> B (h2) again
apply /tmp/multi.toml: lab multi on this machine is host h2's share, and this run is for host h1's share; run nsctl destroy --lab multi here first. Nothing was changed.
rc=3
/tmp/multi.toml: no underlay address of the file's hosts (h1 192.0.2.1, h2 192.0.2.2) is configured on this machine; pass --host NAME
rc=2
/tmp/multi.toml: --host h3 is not one of the file's hosts (h1, h2)
rc=2
multi: 4 removed, 0
multi: 2 removed, 0
";
    if o.stdout != want {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// A lab across hosts is checked like any lab file: every problem at its FILE:LINE:COL, exit
/// 2, nothing changed. Unknown hosts, underlays that are not addresses, two hosts on one
/// underlay, objects that do not say their host, and a VNI range too small for the links.
pub fn bad_files() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/bad.toml <<'EOF'
name = "bad"
[hosts.h1]
underlay = "192.0.2.1"
[hosts.h2]
underlay = "192.0.2.x"
[hosts.h3]
underlay = "192.0.2.1"
[netns.A]
host = "h1"
[netns.B]
host = "h9"
[netns.C]
[[veth]]
ends = [{ netns = "A", name = "e1" }, { netns = "C", name = "e1" }]
[[veth]]
ends = [{ netns = "A", name = "e2", host = "h2" }, { name = "x" }]
EOF
$NSCTL apply /tmp/bad.toml; echo "rc=$?"
ls /run/netns 2>/dev/null | wc -l
printf 'name = "v"\nvni = "7..7"\n[hosts.h1]\nunderlay = "192.0.2.1"\n[hosts.h2]\nunderlay = "2001:db8::2"\n' > /tmp/v.toml
printf '[netns.A]\nhost = "h1"\n[netns.B]\nhost = "h2"\n[[veth]]\nfor = "1..2"\nends = [{ netns = "A", name = "a{i}" }, { netns = "B", name = "b{i}" }]\n' >> /tmp/v.toml
$NSCTL apply /tmp/v.toml; echo "rc=$?"
printf 'hosts = false\n[netns.A]\n' > /tmp/old.toml
$NSCTL apply /tmp/old.toml; echo "rc=$?"
printf '[netns.A]\n' | $NSCTL apply --dry-run -; echo "rc=$?"
"#,
    );
    o.expect_rc(0, "bad files")?;
    let want = "rc=2\n0\nrc=2\nrc=2\nrc=2\n";
    let err = "\
/tmp/bad.toml:5:12: underlay \"192.0.2.x\" of host h2 is not a unicast IPv4 or IPv6 address
/tmp/bad.toml:7:12: hosts h1 and h3 have the same underlay 192.0.2.1; each machine needs its own
/tmp/bad.toml:11:8: host \"h9\" is not declared (add a [hosts.h9] table with its underlay address)
/tmp/bad.toml:12:1: netns \"C\" needs host = \"...\": the file names 3 hosts
/tmp/bad.toml:16:44: host = \"h2\", but its netns A is on host h1
/tmp/bad.toml:16:52: a veth end in a host namespace needs host = \"...\": the file names 3 hosts
";
    if o.stdout != want || !o.stderr.starts_with(err) || o.stderr.contains("expected a map") {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    for line in [
        "/tmp/v.toml:2:7: the VNI range 7..7 holds 1 ids, and the file has 2 links between hosts; widen it",
        "/tmp/old.toml:1:1: `hosts = true|false` is now `etc_hosts = true|false`",
        "a lab file read from standard input needs name = \"...\"",
    ] {
        if !o.stderr.contains(line) {
            return Err(format!("no \"{line}\" in:\n{}", o.stderr));
        }
    }
    Ok(())
}
