//! `nsctl apply / destroy / status` on real labs in sandboxes: traffic, NAT, convergence,
//! crash safety, foreign objects and validation.

use crate::support::sandbox;

/// The sandbox state a lab must leave as it found it. An address's DAD state is not part of
/// it: a link-local address made just before the first snapshot is still `tentative` there
/// and done by the last, whatever the lab did.
const SNAP: &str = r#"
snap() { ip -o link show | awk -F': ' '{print $2}'; ls -A /run/netns 2>/dev/null; nft list ruleset 2>/dev/null; cat /proc/sys/net/ipv4/ip_forward; ip -o addr show | sed 's/ tentative//'; ip route show; find /etc/netns 2>/dev/null; }
"#;

const ABC: &str = r#"
cat > /tmp/lab.toml <<'TOML'
name = "abc"
[bridge.br0]
addresses = ["10.0.0.1/24"]
[netns.A]
routes = ["default via 10.0.0.1"]
[netns.B]
routes = ["default via 10.0.0.1"]
[netns.C]
routes = ["default via 10.0.0.1"]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24"] }, { name = "veth-a", bridge = "br0" }]
[[veth]]
ends = [{ netns = "B", name = "eth0", addresses = ["10.0.0.3/24"] }, { name = "veth-b", bridge = "br0" }]
[[veth]]
ends = [{ netns = "C", name = "eth0", addresses = ["10.0.0.4/24"] }, { name = "veth-c", bridge = "br0" }]
[[nat]]
source = "10.0.0.0/24"
out = "veth-out"
TOML
"#;

/// "outside": a namespace behind the host that is not part of the lab, made with plain ip.
const OUTSIDE: &str = r#"
ip netns add outside
ip link add veth-out type veth peer name eth0 netns outside
ip addr add 203.0.113.1/24 dev veth-out && ip link set veth-out up
ip -n outside addr add 203.0.113.2/24 dev eth0 && ip -n outside link set eth0 up
# A TCP listener in namespace $1 on $2:8080 that prints who connected, and the client side.
listen() { ip netns exec $1 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(1); s.settimeout(5)
c, peer = s.accept(); print("peer", peer[0], c.recv(100).decode().strip(), flush=True)
' $2 > /tmp/peer & lp=$!
  for i in $(seq 100); do ip netns exec $1 ss -ltn | grep -q ":8080 " && break; sleep 0.02; done; }
connect() { $NSCTL exec $1 bash -c "echo hello > /dev/tcp/$2/8080" || echo "TCP FAILED"; wait $lp; cat /tmp/peer; }
"#;

fn run(script: &str) -> crate::support::Out {
    sandbox(&format!("{SNAP}{ABC}{OUTSIDE}{script}"))
}

/// A-B-C on a bridge with NAT: every pair pings; a TCP connection from A to a listener
/// outside the lab arrives from the host's outside address (masqueraded), while one from A
/// to C on the lab's bridge keeps A's address (br_netfilter is loaded, so bridged traffic
/// passes the nat hook: the lab's own networks are excluded). A second apply changes
/// nothing, and after destroy the sandbox's links, namespaces, nft ruleset, forwarding,
/// addresses and routes are as before.
pub fn abc_lab() -> Result<(), String> {
    let o = run(r#"
modprobe br_netfilter 2>/dev/null
before=$(snap)
$NSCTL apply /tmp/lab.toml >/dev/null || exit 1
for a in A B C; do for b in 2 3 4; do
  $NSCTL exec $a ping -c 1 -W 2 10.0.0.$b >/dev/null || echo "FAIL $a -> 10.0.0.$b"
done; done
echo "pairs ping"
listen outside 203.0.113.2; connect A 203.0.113.2
cat /proc/sys/net/bridge/bridge-nf-call-iptables
listen C 10.0.0.4; connect A 10.0.0.4
$NSCTL apply /tmp/lab.toml | grep -o 'nothing to do'
$NSCTL status /tmp/lab.toml | tail -1
$NSCTL destroy /tmp/lab.toml >/dev/null || echo "DESTROY FAILED"
[ "$before" = "$(snap)" ] && echo "clean" || { echo "NOT CLEAN"; diff <(echo "$before") <(snap); }
"#);
    let want = "pairs ping\npeer 203.0.113.1 hello\n1\npeer 10.0.0.2 hello\nnothing to do\n\
                status abc: converged\nclean\n";
    o.expect_rc(0, "abc")?;
    if o.stdout != want {
        return Err(format!(
            "wanted:\n{want}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}

/// kill -9 in the middle of apply, at several moments (so in different phases). After each
/// kill, either a new apply converges and destroy ends clean, or destroy alone ends clean. A
/// kill that lands after apply finished does not count; at least four must land.
pub fn kill_during_apply() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"{SNAP}
before=$(snap)
lab={root}/examples/star100.toml
for then in apply destroy; do for d in 0.01 0.03 0.05 0.08; do
  $NSCTL apply $lab >/dev/null 2>&1 & p=$!
  sleep $d; kill -9 $p 2>/dev/null; wait $p; rc=$?
  [ $rc = 137 ] && echo "killed at ${{d}}s with $(ls /run/netns 2>/dev/null | wc -l) namespaces made, then $then" || echo "apply finished before ${{d}}s, then $then"
  if [ $then = apply ]; then
    $NSCTL apply $lab > /tmp/out || {{ echo "APPLY FAILED"; cat /tmp/out; }}
    $NSCTL status $lab | tail -1
  else
    echo "(destroy only)"
  fi
  $NSCTL destroy $lab >/dev/null || echo "DESTROY FAILED"
  [ "$before" = "$(snap)" ] && echo "clean" || {{ echo "NOT CLEAN"; diff <(echo "$before") <(snap); }}
done; done
"#,
        root = root.display()
    ));
    o.expect_rc(0, "kill")?;
    let lines: Vec<&str> = o.stdout.lines().collect();
    let mut landed = 0;
    for round in lines.chunks(3) {
        if round.len() != 3
            || round[1]
                != if round[0].ends_with("then destroy") {
                    "(destroy only)"
                } else {
                    "status star100: converged"
                }
            || round[2] != "clean"
            || !(round[0].starts_with("killed at") || round[0].starts_with("apply finished"))
        {
            return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
        }
        if round[0].starts_with("killed at") {
            landed += 1;
        }
        println!("  {}", round[0]);
    }
    if lines.len() != 24 || landed < 4 {
        return Err(format!(
            "{landed} of the kills landed during apply; got:\n{}",
            o.stdout
        ));
    }
    Ok(())
}

/// The 100-namespace star applies (with traffic across it) and destroys.
pub fn star100() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"{SNAP}
before=$(snap)
$NSCTL apply {root}/examples/star100.toml || exit 1
$NSCTL exec ns1 ping -c 1 -W 2 10.100.0.100 >/dev/null && echo "ns1 -> ns100"
ip -d link show br-star | grep -o 'mcast_snooping [01]'
ip -d link show vs1 | grep -o 'numtxqueues [0-9]* numrxqueues [0-9]*'
# Bridge ports without addresses have IPv6 off: no address or route of theirs in the host;
# the namespace ends and the bridge keep their link-local addresses.
echo "ports: disable_ipv6=$(cat /proc/sys/net/ipv6/conf/vs1/disable_ipv6) $(ip -6 -o addr show | grep -c ' vs[0-9]') addresses $(ip -6 route show table all | grep -c 'dev vs[0-9]') routes; $(ip -n ns1 -6 -o addr show dev eth0 scope link | wc -l) in ns1, $(ip -6 -o addr show dev br-star scope link | wc -l) on the bridge"
ip link set br-star type bridge mcast_snooping 0
$NSCTL status {root}/examples/star100.toml > /tmp/st; echo "status rc=$?"; grep -e br-star -e '^status' /tmp/st
$NSCTL apply {root}/examples/star100.toml | cut -d' ' -f3-8
ip -d link show br-star | grep -o 'mcast_snooping [01]'
umount /run/netns/ns2
$NSCTL status {root}/examples/star100.toml | grep 'netns ns2:'
$NSCTL apply {root}/examples/star100.toml | cut -d' ' -f3-6
$NSCTL exec ns2 ping -c 1 -W 2 10.100.0.1 >/dev/null && echo "ns2 -> ns1"
$NSCTL destroy {root}/examples/star100.toml || exit 1
[ "$before" = "$(snap)" ] && echo "clean"
"#,
        root = root.display()
    ));
    o.expect_rc(0, "star100")?;
    // The bridge ends with snooping on (it is born with it off); a bridge left with it off
    // is reported by status and put right by apply. Veths have one queue each way. A
    // namespace name that is an empty file (an add killed before its bind) is reported, and
    // apply makes the namespace again (netns, veth pair with its address, route: 3 created).
    let want = "ns1 -> ns100\nmcast_snooping 1\nnumtxqueues 1 numrxqueues 1\n\
                ports: disable_ipv6=1 0 addresses 0 routes; 1 in ns1, 1 on the bridge\n\
                status rc=1\nturn multicast snooping on for br-star (host): off: an apply was interrupted\n\
                status star100: not converged: 1 to do, 0 in the way (703 unchanged)\n\
                0 created, 1 changed, 0 removed,\nmcast_snooping 1\n\
                create netns ns2: an empty file, not a namespace: an add was interrupted\n\
                2 created, 0 changed,\nns2 -> ns1\n";
    if !o.stdout.contains(want) || !o.stdout.ends_with("clean\n") {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    for l in o
        .stdout
        .lines()
        .filter(|l| l.starts_with("apply") || l.starts_with("destroy"))
    {
        println!("  {l}");
    }
    Ok(())
}

/// Switch namespaces (a small examples/fabric10k.toml): the file turns IPv6 off for the
/// links made in each switch, and nsctl sets that default before it makes them, so every
/// port is born with IPv6 off while the switch's loopback and the leaves keep theirs;
/// traffic crosses the host between switches; a re-apply is a no-op; destroy leaves the
/// host as it was.
pub fn switch_namespaces() -> Result<(), String> {
    let o = sandbox(&format!(
        r#"{SNAP}
before=$(snap)
cat > /tmp/sw.toml <<'EOF'
name = "sw"
[host]
sysctl = {{ "net.ipv4.ip_forward" = 1 }}
[netns."s{{1..3}}"]
sysctl = {{ "net.ipv6.conf.default.disable_ipv6" = 1 }}
[bridge."br{{1..3}}"]
netns = "s{{i}}"
[[veth]]
for = "1..3"
ends = [{{ name = "up{{i}}", addresses = ["10.{{i}}.0.1/16"] }}, {{ netns = "s{{i}}", name = "up", bridge = "br{{i}}" }}]
[netns."n{{1..12}}"]
routes = ["default via 10.{{(i - 1) / 4 + 1}}.0.1"]
[[veth]]
for = "1..12"
ends = [
  {{ netns = "n{{i}}", name = "eth0", addresses = ["10.{{(i - 1) / 4 + 1}}.1.{{i}}/16"] }},
  {{ netns = "s{{(i - 1) / 4 + 1}}", name = "v{{i}}", bridge = "br{{(i - 1) / 4 + 1}}" }},
]
EOF
$NSCTL apply --dry-run /tmp/sw.toml | grep -n -e 'default.disable_ipv6=1 (netns s1)' -e 'create bridge br1 ' | cut -d: -f2-
$NSCTL apply /tmp/sw.toml > /dev/null || exit 1
for d in up v1 v4 br1 lo; do printf '%s=%s ' $d $(ip netns exec s1 cat /proc/sys/net/ipv6/conf/$d/disable_ipv6); done; echo
echo "s1: $(ip -n s1 -6 -o addr show | grep -vc ' lo ') IPv6 addresses off lo; n1: $(ip -n n1 -6 -o addr show dev eth0 scope link | wc -l) link-local"
$NSCTL exec n1 ping -c 1 -W 2 10.3.1.12 > /dev/null && echo "n1 -> n12 across the host"
$NSCTL apply /tmp/sw.toml | cut -d' ' -f3-5
$NSCTL status /tmp/sw.toml; echo "status rc=$?"
$NSCTL destroy /tmp/sw.toml > /dev/null || exit 1
[ "$before" = "$(snap)" ] && echo "clean"
"#
    ));
    o.expect_rc(0, "switch namespaces")?;
    let want = "set sysctl net.ipv6.conf.default.disable_ipv6=1 (netns s1)\n\
                create bridge br1 (netns s1): missing\n\
                up=1 v1=1 v4=1 br1=1 lo=0 \n\
                s1: 0 IPv6 addresses off lo; n1: 1 link-local\n\
                n1 -> n12 across the host\n\
                nothing to do\n\
                status sw: converged\nstatus rc=0\nclean\n";
    if o.stdout != want {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// A bridge nsctl did not create is foreign: apply refuses and changes nothing; --adopt uses
/// it; destroy leaves it (and removes only the address nsctl added). An nft table of the
/// lab's name that nsctl did not create is refused even with --adopt (NAT would replace its
/// contents), and destroy leaves it.
pub fn foreign_bridge() -> Result<(), String> {
    let o = run(r#"
ip link add br0 type bridge
before=$(snap)
$NSCTL apply /tmp/lab.toml; echo "rc=$?"
[ "$before" = "$(snap)" ] && echo "unchanged"
$NSCTL apply --adopt /tmp/lab.toml >/dev/null; echo "adopt rc=$?"
$NSCTL destroy /tmp/lab.toml | tail -1 | sed 's/.*: [0-9]* removed, /removed, /; s/ in .*//'
ip -o link show br0 >/dev/null && echo "br0 kept"
[ "$before" = "$(snap)" ] && echo "back to before"
nft add table ip nsctl-abc; nft add chain ip nsctl-abc mine
before=$(snap)
$NSCTL apply --adopt /tmp/lab.toml; echo "table rc=$?"
[ "$before" = "$(snap)" ] && echo "table unchanged"
$NSCTL destroy /tmp/lab.toml >/dev/null
nft list chain ip nsctl-abc mine >/dev/null && echo "table kept"
"#);
    o.expect_rc(0, "foreign")?;
    let want = "rc=3\nunchanged\nadopt rc=0\nremoved, 0 failed\nbr0 kept\nback to before\n\
                table rc=3\ntable unchanged\ntable kept\n";
    if o.stdout != want
        || !o
            .stderr
            .contains("refusing to take over what nsctl did not create: bridge \"br0\" (host)")
        || !o
            .stderr
            .contains("nft table ip nsctl-abc exists and nsctl did not create it")
    {
        return Err(format!(
            "wanted:\n{want}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}

/// No nft: apply says so (exit 4) and changes nothing. --dry-run changes nothing either.
pub fn missing_nft_and_dry_run() -> Result<(), String> {
    let o = run(r#"
before=$(snap)
# A PATH with nothing on it hides nft on any layout (merged /usr or not).
mkdir -p /tmp/nopath; env PATH=/tmp/nopath $NSCTL apply /tmp/lab.toml; echo "rc=$?"
$NSCTL apply --dry-run /tmp/lab.toml | grep -c '^create'
$NSCTL destroy --dry-run /tmp/lab.toml | tail -1 | sed 's/ in .*//'
[ "$before" = "$(snap)" ] && echo "unchanged"
"#);
    o.expect_rc(0, "nft")?;
    let want = "rc=4\n7\ndestroy abc: nothing to do (0 unchanged)\nunchanged\n";
    if o.stdout != want || !o.stderr.contains("needs nft, and nft is not installed") {
        return Err(format!(
            "wanted:\n{want}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}

/// Every validation error names file:line:column, exits 2 and changes nothing.
pub fn validation_errors() -> Result<(), String> {
    let cases: &[(&str, &str, &str)] = &[
        ("syntax", "[netns.A\n", "bad.toml:1:9: "),
        ("unknown key", "[netns.A]\nrouts = []\n", "bad.toml:2:1: unknown field `routs`"),
        ("duplicate table", "[netns.A]\n[netns.A]\n", "bad.toml:2:"),
        ("undeclared netns", "[[veth]]\nends = [{ netns = \"X\", name = \"a\" }, { name = \"b\" }]\n", "bad.toml:2:19: netns \"X\" is not declared"),
        ("long name", "[[veth]]\nends = [{ name = \"abcdefghijklmnop\" }, { name = \"b\" }]\n", "bad.toml:2:18: interface name \"abcdefghijklmnop\" must be 1-15 bytes"),
        ("same place same name", "[[veth]]\nends = [{ name = \"x\" }, { name = \"x\" }]\n", "bad.toml:2:34: two interfaces named \"x\" in the host"),
        ("bad address", "[[veth]]\nends = [{ name = \"a\", addresses = [\"10.0.0.300/24\"] }, { name = \"b\" }]\n", "bad.toml:2:36: \"10.0.0.300/24\" is not an address"),
        ("no prefix length", "[[veth]]\nends = [{ name = \"a\", addresses = [\"10.0.0.1\"] }, { name = \"b\" }]\n", "bad.toml:2:36: address \"10.0.0.1\" needs a prefix length"),
        ("unreachable gateway", "[netns.A]\nroutes = [\"default via 192.0.2.1\"]\n[[veth]]\nends = [{ netns = \"A\", name = \"a\", addresses = [\"10.0.0.2/24\"] }, { name = \"b\" }]\n", "bad.toml:2:11: route \"default via 192.0.2.1\": no interface in this namespace has an address in the same subnet as 192.0.2.1"),
        ("bad route", "[netns.A]\nroutes = [\"default\"]\n", "bad.toml:2:11: route \"default\": a route needs"),
        ("three ends", "[[veth]]\nends = [{ name = \"a\" }, { name = \"b\" }, { name = \"c\" }]\n", "bad.toml:2:8: a veth has exactly 2 ends, not 3"),
        ("undeclared bridge", "[[veth]]\nends = [{ name = \"a\", bridge = \"br9\" }, { name = \"b\" }]\n", "bad.toml:2:32: bridge \"br9\" is not declared"),
        ("bad nat", "[[nat]]\nsource = \"fd00::/64\"\n", "bad.toml:2:10: nat source \"fd00::/64\" is not an IPv4 prefix"),
        ("generated: the template's position, the instance's name", "[netns.\"h{1..5}\"]\nroutes = [\"default via 10.0.{i}.1\"]\n", "bad.toml:2:11: h1: route \"default via 10.0.1.1\": no interface in this namespace has an address in the same subnet as 10.0.1.1"),
        ("generated: three per template, then a count", "[netns.\"h{1..5}\"]\nroutes = [\"default via 10.0.{i}.1\"]\n", "bad.toml:2:11: h3: route \"default via 10.0.3.1\": no interface in this namespace has an address in the same subnet as 10.0.3.1\nbad.toml:2:11: ... and 2 more like these from the same template"),
        ("generated: one instance of three", "[netns.\"h{1..3}\"]\n[[veth]]\nfor = \"1..3\"\nends = [{ netns = \"h{i}\", name = \"e\", addresses = [\"10.0.0.{i}/24\", \"10.0.0.{4 - i}/24\"] }, { name = \"v{i}\" }]\n", "bad.toml:4:69: veth i=2: address \"10.0.0.2/24\" is listed twice"),
        ("generated: bad range", "[netns.\"h{5..1}\"]\n", "bad.toml:1:1: \"5..1\" is not a range A..B of whole numbers with A <= B"),
        ("generated: bad expression", "[netns.\"h{1..2}\"]\nroutes = [\"default via 10.0.{i/0}.1\"]\n", "bad.toml:2:11: h1: \"default via 10.0.{i/0}.1\": division by zero"),
        ("generated: bad for", "[[veth]]\nfor = \"1..x\"\nends = [{ name = \"a\" }, { name = \"b\" }]\n", "bad.toml:2:7: \"1..x\" is not a range"),
    ];
    let mut script = String::from(SNAP);
    script += "before=$(snap)\n";
    for (k, (_, text, _)) in cases.iter().enumerate() {
        script += &format!(
            "printf '%s' '{}' > /tmp/bad.toml\n",
            text.replace('\'', "'\\''")
        );
        script += &format!(
            "cd /tmp; $NSCTL apply bad.toml 2>/tmp/err{k}; echo \"rc=$?\" >> /tmp/err{k}\n"
        );
    }
    script += "[ \"$before\" = \"$(snap)\" ] && echo unchanged\n";
    for k in 0..cases.len() {
        script += &format!("echo '--- {k}'; cat /tmp/err{k}\n");
    }
    let o = sandbox(&script);
    o.expect_rc(0, "validation")?;
    let mut failures = Vec::new();
    let parts: Vec<&str> = o.stdout.split("--- ").collect();
    if parts.first() != Some(&"unchanged\n") {
        failures.push(format!("system changed:\n{}", o.stdout));
    }
    for (k, (what, _, want)) in cases.iter().enumerate() {
        let got = parts.get(k + 1).unwrap_or(&"");
        if !got.contains(want) || !got.trim_end().ends_with("rc=2") {
            failures.push(format!("{what}: wanted {want:?} and rc=2, got {got:?}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Sysctls: applied inside namespaces and in the host, reported by status, and the host's put
/// back by destroy to the value they had before nsctl changed them.
pub fn sysctls() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/s.toml <<'TOML'
name = "sy"
[netns.A]
sysctl = { "net.ipv4.ip_forward" = 1 }
[host]
sysctl = { "net.ipv4.conf.all.forwarding" = "1" }
TOML
echo 0 > /proc/sys/net/ipv4/conf/all/forwarding
$NSCTL apply /tmp/s.toml >/dev/null || exit 1
$NSCTL exec A cat /proc/sys/net/ipv4/ip_forward
cat /proc/sys/net/ipv4/conf/all/forwarding
$NSCTL status /tmp/s.toml | tail -1
echo 0 > /proc/sys/net/ipv4/conf/all/forwarding
$NSCTL exec A sh -c 'echo 0 > /proc/sys/net/ipv4/ip_forward'
$NSCTL status /tmp/s.toml; echo "rc=$?"
$NSCTL apply /tmp/s.toml | sed 's/ in .*//'
$NSCTL destroy /tmp/s.toml >/dev/null || exit 1
cat /proc/sys/net/ipv4/conf/all/forwarding
"#,
    );
    crate::support::check(
        &o,
        "1\n1\nstatus sy: converged\n\
         set sysctl net.ipv4.ip_forward=1 (netns A): 0 now\n\
         set sysctl net.ipv4.conf.all.forwarding=1 (host): 0 now\n\
         status sy: not converged: 2 to do, 0 in the way (2 unchanged)\nrc=1\n\
         apply sy: 0 created, 2 changed, 0 removed, 2 unchanged, 0 failed\n0\n",
        "sysctls",
    )
}

/// A host route through an interface nsctl did not create outlives the lab's links, so it is
/// journaled and destroy removes it (the interface stays). A route that already existed
/// before apply is not nsctl's, and destroy leaves it.
pub fn host_routes() -> Result<(), String> {
    let o = sandbox(
        r#"
ip link add dum0 type veth peer name dum1 && ip addr add 192.0.2.1/24 dev dum0 && ip link set dum0 up && ip link set dum1 up
ip route add 203.0.113.0/24 via 192.0.2.7
cat > /tmp/r.toml <<'TOML'
name = "rt"
[netns.A]
[host]
routes = ["198.51.100.0/24 via 192.0.2.9", "203.0.113.0/24 via 192.0.2.7"]
TOML
before=$(ip route show)
$NSCTL apply /tmp/r.toml >/dev/null || exit 1
ip route show 198.51.100.0/24
$NSCTL status /tmp/r.toml | tail -1
$NSCTL destroy --dry-run /tmp/r.toml | grep 'route'
$NSCTL destroy /tmp/r.toml | sed 's/ in .*//'
[ "$before" = "$(ip route show)" ] && echo "routes as before"
ip -br link show dum0 | cut -d' ' -f1
"#,
    );
    crate::support::check(
        &o,
        "198.51.100.0/24 via 192.0.2.9 dev dum0 \nstatus rt: converged\n\
         delete route 198.51.100.0/24 via 192.0.2.9 (host)\n\
         destroy rt: 2 removed, 0 failed\nroutes as before\ndum0@dum1\n",
        "host routes",
    )
}

/// Ownership follows the namespace (its cookie) and the link (its ifindex), not their names:
/// ones that someone deleted and made again under the same names are reported as not nsctl's,
/// apply refuses them, and destroy leaves them and everything in them (here the user's own
/// a0 in the new A, named like the lab's veth end).
pub fn replaced_namespace() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/n.toml <<'TOML'
name = "re"
[netns.A]
[netns.B]
[bridge.br0]
[[veth]]
ends = [{ netns = "A", name = "a0" }, { netns = "B", name = "b0" }]
TOML
$NSCTL apply /tmp/n.toml >/dev/null || exit 1
ip netns delete A && ip netns add A && ip -n A link add a0 type veth peer name a1
ip link del br0 && ip link add br0 type bridge && ip link set br0 up
$NSCTL status /tmp/n.toml | grep -e 'netns "A"' -e br0
$NSCTL apply /tmp/n.toml 2>&1; echo "rc=$?"
$NSCTL destroy /tmp/n.toml | sed 's/ in .*//'
ls /run/netns; ip -br link show br0 | cut -d' ' -f1; ip -n A -br link show a0 | cut -d' ' -f1
"#,
    );
    crate::support::check(
        &o,
        "present, not created by nsctl: netns \"A\" (deleted and made again by someone else)\n\
         present, not created by nsctl: bridge \"br0\" (host)\n\
         apply /tmp/n.toml: refusing to take over what nsctl did not create: netns \"A\" \
         (deleted and made again by someone else), bridge \"br0\" (host); \
         rename them in the file, remove them, or run apply --adopt to use them as they are \
         (nsctl will never delete them). Nothing was changed.\nrc=3\n\
         left alone (not created by nsctl): netns \"A\" (deleted and made again by someone else)\n\
         left alone (not created by nsctl): bridge \"br0\" (host)\n\
         destroy re: 2 removed, 0 failed\nA\nbr0\na0@a1\n",
        "replaced namespace",
    )
}

/// apply --adopt takes a namespace someone made again under a journaled name as an ordinary
/// foreign one: what apply adds to it (a veth end, a sysctl) is undone by destroy, and the
/// namespace itself stays.
pub fn adopt_replaced_namespace() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/d.toml <<'TOML'
name = "ad"
[netns.A]
sysctl = { "net.ipv4.ip_forward" = 1 }
[[veth]]
ends = [{ name = "h-a", addresses = ["10.9.0.1/24"] }, { netns = "A", name = "eth0", addresses = ["10.9.0.2/24"] }]
TOML
$NSCTL apply /tmp/d.toml >/dev/null || exit 1
ip netns delete A && ip netns add A
for i in $(seq 200); do ip link show h-a >/dev/null 2>&1 || break; sleep 0.05; done
$NSCTL apply /tmp/d.toml >/dev/null 2>&1; echo "rc=$?"
$NSCTL apply --adopt /tmp/d.toml >/dev/null; echo "adopt rc=$?"
ip netns exec A ping -c1 -W2 10.9.0.1 >/dev/null && echo "ping"
ip netns exec A cat /proc/sys/net/ipv4/ip_forward
$NSCTL destroy /tmp/d.toml | sed 's/ in .*//'
ls /run/netns
ip netns exec A cat /proc/sys/net/ipv4/ip_forward
ip -n A -br link | cut -d' ' -f1
ip link show h-a 2>&1 | head -1
"#,
    );
    crate::support::check(
        &o,
        "rc=3\nadopt rc=0\nping\n1\n\
         left alone (adopted, not created by nsctl): netns A\ndestroy ad: 4 removed, 0 failed\n\
         A\n0\nlo\nDevice \"h-a\" does not exist.\n",
        "adopt a replaced namespace",
    )
}

/// A namespace deleted by hand and applied again at once: its veth pair died with it, but
/// the other end lingers in X while the kernel cleans up; apply waits for it, makes the pair
/// again, and traffic crosses.
pub fn remade_namespace_rewired() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/x.toml <<'TOML'
name = "xy"
[netns.X]
[netns.Y]
[[veth]]
ends = [{ netns = "X", name = "x0", addresses = ["10.7.0.1/24"] }, { netns = "Y", name = "y0", addresses = ["10.7.0.2/24"] }]
TOML
for i in 1 2 3; do
  $NSCTL apply /tmp/x.toml >/dev/null || exit 1
  ip netns delete Y
  # Y's old veth end x0 is deleted when it still lingers, or already gone: [01] removed.
  $NSCTL apply /tmp/x.toml | sed 's/ in .*//; s/[01] removed/N removed/'
  $NSCTL exec X ping -c1 -W2 10.7.0.2 >/dev/null && echo "x -> y"
  $NSCTL destroy /tmp/x.toml >/dev/null || exit 1
done
"#,
    );
    let round = "apply xy: 2 created, 0 changed, N removed, 2 unchanged, 0 failed\nx -> y\n";
    crate::support::check(&o, &round.repeat(3), "remade namespace")
}

/// The multi-tier example: web and db behind a router namespace that forwards between its
/// two bridges, the host routing to both through the router's uplink. Every tier reaches the
/// others, a connection to a namespace outside the lab leaves masqueraded as the host, and
/// destroy ends clean.
pub fn router_tiers() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"{SNAP}{OUTSIDE}
lab={root}/examples/router.toml
before=$(snap)
$NSCTL apply $lab >/dev/null || exit 1
$NSCTL exec web ping -c1 -W2 10.2.0.10 >/dev/null && echo "web -> db"
$NSCTL exec db ping -c1 -W2 10.1.0.10 >/dev/null && echo "db -> web"
ping -c1 -W2 10.2.0.10 >/dev/null && echo "host -> db"
listen outside 203.0.113.2; connect web 203.0.113.2
listen db 10.2.0.10; connect web 10.2.0.10
$NSCTL status $lab | tail -1
$NSCTL destroy $lab >/dev/null || echo "DESTROY FAILED"
[ "$before" = "$(snap)" ] && echo clean || {{ echo "NOT CLEAN"; diff <(echo "$before") <(snap); }}
"#,
        root = root.display()
    ));
    crate::support::check(
        &o,
        "web -> db\ndb -> web\nhost -> db\npeer 203.0.113.1 hello\npeer 10.1.0.10 hello\n\
         status tiers: converged\nclean\n",
        "router tiers",
    )
}

/// Generated entries: the 17-line star100 plans exactly what the 407-line one did, and the
/// generated fabric (4 bridges of 8 namespaces behind a router namespace) is built for real:
/// its far corners ping each other, status is converged, destroy removes it all.
pub fn generated_labs() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"
cd {root}
# The 407-line star100 as it was written before generated entries.
{{ echo 'name = "star100"'; echo '[bridge.br-star]'; echo 'addresses = ["10.100.1.254/16"]'
  for i in $(seq 1 100); do echo "[netns.ns$i]"; echo 'routes = ["default via 10.100.1.254"]'; done
  for i in $(seq 1 100); do
    echo '[[veth]]'
    echo "ends = [{{ netns = \"ns$i\", name = \"eth0\", addresses = [\"10.100.0.$i/16\"] }}, {{ name = \"vs$i\", bridge = \"br-star\" }}]"
  done
}} > /tmp/s100.toml
$NSCTL apply --dry-run examples/star100.toml | sort > /tmp/gen
$NSCTL apply --dry-run /tmp/s100.toml | sort > /tmp/flat
# 100 namespaces, 100 veths, addresses, routes, lo: hundreds of plan lines, all equal.
[ "$(wc -l < /tmp/gen)" -gt 500 ] && cmp -s /tmp/gen /tmp/flat && echo "star100: same plan"
$NSCTL apply examples/fabric.toml
$NSCTL exec ns1 ping -c1 -W2 10.0.4.17 > /dev/null && echo "ns1 -> ns32 through the router"
$NSCTL exec ns32 ping -c1 -W2 10.0.1.10 > /dev/null && echo "ns32 -> ns1 through the router"
ls /run/netns | wc -l
$NSCTL status examples/fabric.toml > /dev/null && echo converged
$NSCTL destroy examples/fabric.toml
ls /run/netns | wc -l
"#,
        root = root.display()
    ));
    {
        // The summary's time varies: compare the lines without it.
        let lines: Vec<String> = o
            .stdout
            .lines()
            .map(|l| l.split(" in ").next().unwrap_or(l).to_string())
            .collect();
        let want = [
            "star100: same plan",
            "apply fabric: 73 created, 0 changed, 0 removed, 0 unchanged, 0 failed",
            "ns1 -> ns32 through the router",
            "ns32 -> ns1 through the router",
            "33",
            "converged",
            "destroy fabric: 37 removed, 0 failed",
            "0",
        ];
        if o.rc == 0 && lines == want {
            println!("  generated: star100 same plan; fabric built, pinged across, destroyed");
            Ok(())
        } else {
            Err(format!(
                "generated labs: wanted {want:?}\ngot:\n{}{}",
                o.stdout, o.stderr
            ))
        }
    }
}

/// `nsctl graph`: DOT that Graphviz parses, SVG that is well-formed XML naming every node,
/// Mermaid; and `--live` marks what was changed or removed by hand.
pub fn graph_pictures() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r##"
cd {root}
$NSCTL graph examples/abc-nat.toml | dot -Tsvg > /dev/null && echo "dot parses it"
$NSCTL graph --format svg examples/fabric.toml | python3 -c '
import sys, xml.etree.ElementTree as E
ids = [g.get("id") for g in E.parse(sys.stdin).iter("{{http://www.w3.org/2000/svg}}g")]
want = ["host", "netns:router"] + ["netns:ns%d" % i for i in range(1, 33)] + ["bridge::br%d" % i for i in range(1, 5)]
print("svg names every node" if sorted(ids) == sorted(want) else "svg nodes: %s" % ids)'
$NSCTL graph --format mermaid examples/mario-luigi.toml | head -1
$NSCTL apply examples/abc-nat.toml > /dev/null
$NSCTL graph --live examples/abc-nat.toml | grep -c '\[present\]'
ip -n B link set eth0 down
ip netns delete C
$NSCTL graph --live examples/abc-nat.toml > /tmp/live.dot
grep -o '"netns:C" \[label="C\\nroute default via 10.0.0.1\\n\[missing\]"' /tmp/live.dot
grep -c '"netns:B" -- "bridge::br0" \[label="eth0 10.0.0.3/24 — veth-b", color="#ef6c00"\]' /tmp/live.dot
dot -Tsvg /tmp/live.dot > /dev/null && echo "live dot parses"
$NSCTL graph --format bogus examples/abc-nat.toml 2>/dev/null; echo "rc=$?"
$NSCTL destroy examples/abc-nat.toml > /dev/null
"##,
        root = root.display()
    ));
    crate::support::check(
        &o,
        "dot parses it\nsvg names every node\ngraph LR\n7\n\
         \"netns:C\" [label=\"C\\nroute default via 10.0.0.1\\n[missing]\"\n1\nlive dot parses\nrc=2\n",
        "graph",
    )
}
