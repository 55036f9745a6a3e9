//! What the lab model answers once for every user (issue 23): a namespace's "first address"
//! is its first in the file, for the checks and the hosts files alike (bridges came first
//! before); a check whose ends share no address family, and a route the kernel already
//! makes (a place's own connected subnet), are refused when the file is checked, with their
//! FILE:LINE:COL and exit 2, before anything is made.

use crate::support::{check, sandbox};

/// `left`: what exists after a refused file (namespaces, journals, /etc/netns).
const LEFT: &str = r#"
left() { echo "netns: $(ls /run/netns 2>/dev/null | wc -l), journals: $(ls /run/nsctl/labs/*.json 2>/dev/null | wc -l), etc: $(ls -d /etc/netns 2>/dev/null | wc -l)"; }
"#;

/// B's veth address is on line 6; its bridges' addresses come later (zz on line 10, aa on
/// line 13). The check to B pings the first, and A's hosts file lists B's in that order.
pub fn first_address_is_the_files() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/order.toml <<'T'
name = "order"
[netns.A]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.1.0.1/24"] },
  { netns = "B", name = "eth0", addresses = ["10.1.0.2/24"] }]
# B also holds two bridges, their addresses written after its veth end's.
[bridge.zz]
netns = "B"
addresses = ["10.2.0.1/24"]
[bridge.aa]
netns = "B"
addresses = ["10.3.0.1/24"]
[[check]]
from = "A"
to = "B"
ping = true
T
$NSCTL apply /tmp/order.toml > /dev/null; echo "apply rc=$?"
$NSCTL test /tmp/order.toml | sed 's/  */ /g; s/ [0-9.]* ms$//; s/ in [0-9.]*s$//'; echo "test rc=${PIPESTATUS[0]}"
grep 'B$' /etc/netns/A/hosts
ip netns exec A getent hosts B | head -1 | sed 's/  */ /g'
ip netns exec A ping -c1 -W2 B | head -1
"#,
    );
    let want = "apply rc=0\n \
CHECK EXPECTED RESULT TIME\n\
ok ping A -> B (10.1.0.2) reachable reachable\n\
test order: all 1 checks hold\n\
test rc=0\n\
10.1.0.2\tB\n10.2.0.1\tB\n10.3.0.1\tB\n\
10.1.0.2 B\n\
PING B (10.1.0.2) 56(84) bytes of data.\n";
    check(&o, want, "first address is the file's")?;
    println!("  a namespace's first address is its first in the file: the check and the hosts file agree");
    Ok(())
}

/// `a` has only an IPv6 address, `b` only an IPv4 one: a check between them (or from `a` to
/// an IPv4 address) is refused by every verb that reads the file, and nothing is made.
pub fn check_without_a_common_family_refused() -> Result<(), String> {
    let o = sandbox(&format!(
        "{LEFT}{}",
        r#"
cat > /tmp/fam.toml <<'T'
name = "fam"
[netns.a]
[netns.b]
[[veth]]
ends = [{ netns = "a", name = "e", addresses = ["fd00::1/64"] }, { netns = "b", name = "e", addresses = ["10.0.0.2/24"] }]
[[check]]
from = "a"
to = "b"
ping = true
[[check]]
from = "a"
to = "10.0.0.2"
tcp = 80
T
cd /tmp
$NSCTL apply fam.toml; echo "apply rc=$?"
$NSCTL apply --test fam.toml 2> /dev/null; echo "apply --test rc=$?"
$NSCTL test fam.toml 2> /dev/null; echo "test rc=$?"
left
"#
    ));
    let want = "apply rc=2\napply --test rc=2\ntest rc=2\nnetns: 0, journals: 0, etc: 0\n";
    check(&o, want, "check without a common family")?;
    let err = "fam.toml:8:6: \"a\" has only IPv6 addresses and \"b\" only IPv4 ones: they share no address family; give both an address of one family\n\
fam.toml:12:6: \"a\" has no IPv4 address in the file to send to 10.0.0.2 from; give it one, or check an IPv6 address\n";
    if o.stderr != err {
        return Err(format!("wanted on stderr:\n{err}got:\n{}", o.stderr));
    }
    println!("  a check whose ends share no address family: FILE:LINE:COL, exit 2, nothing made");
    Ok(())
}

/// A route to a place's own connected subnet (IPv4 and IPv6, in a namespace and in the
/// host), or to fe80::/64, is the kernel's: refused, and nothing is made. Routes beside
/// them that the kernel does not make are fine.
pub fn kernel_routes_refused() -> Result<(), String> {
    let o = sandbox(&format!(
        "{LEFT}{}",
        r#"
cat > /tmp/conn.toml <<'T'
name = "conn"
[netns.A]
routes = ["10.9.0.0/30 via 10.9.0.2", "fd09::/64 dev e", "fe80::/64 dev e"]
[netns.B]
routes = ["10.9.0.0/24 via 10.9.0.1", "10.9.0.1/32 dev e"]
[host]
routes = ["10.8.0.0/24 dev h"]
[[veth]]
ends = [{ netns = "A", name = "e", addresses = ["10.9.0.1/30", "fd09::1/64"] }, { netns = "B", name = "e", addresses = ["10.9.0.2/30"] }]
[[veth]]
ends = [{ name = "h", addresses = ["10.8.0.1/24"] }, { netns = "B", name = "u", addresses = ["10.8.0.2/24"] }]
T
cd /tmp
$NSCTL apply conn.toml; echo "apply rc=$?"
$NSCTL status conn.toml 2> /dev/null; echo "status rc=$?"
left
ip route show 10.8.0.0/24
# Without them, the same lab applies, and A keeps the kernel's route to its subnet.
sed -i 's/^routes = \["10.9.0.0\/30.*/routes = []/; s/^routes = \["10.8.0.0.*/routes = []/' conn.toml
$NSCTL apply conn.toml > /dev/null; echo "apply rc=$?"
ip -n A route show 10.9.0.0/30
"#
    ));
    let want = "apply rc=2\nstatus rc=2\nnetns: 0, journals: 0, etc: 0\napply rc=0\n\
10.9.0.0/30 dev e proto kernel scope link src 10.9.0.1 \n";
    check(&o, want, "kernel routes refused")?;
    let tail = "; take it out of the file";
    let err = format!(
        "conn.toml:3:11: route \"10.9.0.0/30 via 10.9.0.2\": the kernel already makes the route to 10.9.0.0/30 for the address 10.9.0.1/30 on e{tail}\n\
conn.toml:3:39: route \"fd09::/64 dev e\": the kernel already makes the route to fd09::/64 for the address fd09::1/64 on e{tail}\n\
conn.toml:3:58: route \"fe80::/64 dev e\": the kernel already makes the route to fe80::/64 on every IPv6 link, for the link-local addresses{tail}\n\
conn.toml:7:11: route \"10.8.0.0/24 dev h\": the kernel already makes the route to 10.8.0.0/24 for the address 10.8.0.1/24 on h{tail}\n"
    );
    if o.stderr != err {
        return Err(format!("wanted on stderr:\n{err}got:\n{}", o.stderr));
    }
    println!("  a route the kernel makes (a place's own subnet, fe80::/64): FILE:LINE:COL, exit 2");
    Ok(())
}

/// A kernel route of the host (for an address on a link the lab does not know) under a lab
/// route of the same destination: apply refuses, even with --adopt, and the kernel's route
/// stays; before, --adopt replaced it and destroy then deleted it.
pub fn adopt_never_replaces_a_kernel_route() -> Result<(), String> {
    let o = sandbox(
        r#"
ip link add d0 type veth peer name d1 && ip addr add 10.50.0.1/24 dev d0 && ip link set d0 up && ip link set d1 up
cat > /tmp/kr.toml <<'T'
name = "kr"
[netns.A]
[host]
routes = ["10.50.0.0/24 via 10.0.0.2"]
[[veth]]
ends = [{ name = "h", addresses = ["10.0.0.1/24"] }, { netns = "A", name = "e", addresses = ["10.0.0.2/24"] }]
T
$NSCTL apply --adopt /tmp/kr.toml; echo "adopt rc=$?"
$NSCTL apply /tmp/kr.toml 2>/dev/null; echo "apply rc=$?"
ip route show 10.50.0.0/24
ls /run/netns 2>/dev/null | wc -l
"#,
    );
    check(
        &o,
        "adopt rc=3\napply rc=3\n10.50.0.0/24 dev d0 proto kernel scope link src 10.50.0.1 \n0\n",
        "a kernel route under --adopt",
    )?;
    let want = "apply /tmp/kr.toml: refusing: route 10.50.0.0/24 via 10.0.0.2 (host): the kernel made the route to 10.50.0.0/24 for an address there (proto kernel), and nsctl never replaces it; take the route out of the file. Nothing was changed.\n";
    if o.stderr != want {
        return Err(format!("wanted on stderr:\n{want}got:\n{}", o.stderr));
    }
    Ok(())
}
