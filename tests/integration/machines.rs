//! Labs across machines on one machine: each "machine" is a network namespace with its own
//! mount namespace and its own tmpfs on /run (so its nsctl has its own /run/netns and
//! journal), joined to the others by an underlay bridge (192.0.2.0/24). Each applies its
//! share of one lab file; traffic crosses between them through the VXLAN links nsctl makes.

use crate::support::{sandbox, Out, MULTI};

/// The machines (tests/sandbox/machines.sh: `mkhost N`, `on N CMD...`), two of them, and
/// the lab they share (support's MULTI).
fn machines() -> String {
    format!(
        "set -u\n{}{MULTI}mkhost 1\nmkhost 2\n",
        include_str!("../sandbox/machines.sh")
    )
}

/// An OpenSSH server on each machine, on its underlay address, taking a key made here; the
/// outer sandbox reaches the underlay at 192.0.2.254 and drives the machines through ssh.
const SSHD: &str = "ssh_client\nsshd_on 1\nsshd_on 2\n";

fn run(script: &str) -> Out {
    sandbox(&format!("{}{script}", machines()))
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
on 1 ip netns exec A getent hosts B2 | sed 's/  */ /'
on 1 $NSCTL exec A ping -c 1 -W 2 B | grep -o '^PING B (10.0.0.2)'
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
on 1 ip -n A link set eth0 type vxlan remote 192.0.2.99
on 1 $NSCTL status /tmp/multi.toml | grep -o 'create vxlan eth0 (netns A) to eth0 (netns B) on h2, vni [0-9]*: vni [0-9]*, remote 192.0.2.99, local 192.0.2.1 now' | sed 's/vni [0-9]*/vni N/g'
on 1 $NSCTL apply /tmp/multi.toml > /dev/null && on 1 ip -n A -d -o link show eth0 | grep -o 'remote 192.0.2.2 local 192.0.2.1'
on 1 ip netns exec A ping -c 1 -W 2 10.0.0.2 > /dev/null && echo "A (h1) -> B (h2) after the fix"
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
$NSCTL graph /tmp/multi.toml > /tmp/g.dot && dot -Tsvg /tmp/g.dot > /dev/null && grep -c 'subgraph "cluster_' /tmp/g.dot
"#);
    o.expect_rc(0, "two machines")?;
    let want = "\
multi: 6 created, 0 changed,
multi: 4 created, 0 changed,
A (h1) -> B (h2): ping
10.1.0.2 B2
PING B (10.0.0.2)
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
create vxlan eth0 (netns A) to eth0 (netns B) on h2, vni N: vni N, remote 192.0.2.99, local 192.0.2.1 now
remote 192.0.2.2 local 192.0.2.1
A (h1) -> B (h2) after the fix
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
2
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

/// `--all-hosts` from one place, over OpenSSH (a server on each machine): apply builds every
/// share at once and prints one table; status and test run on every machine; a machine's
/// apply killed with -9 midway is converged by the next `--all-hosts apply`; an unreachable
/// machine is named, with ssh's reason, and fails the run; destroy clears every machine.
pub fn all_hosts() -> Result<(), String> {
    let o = sandbox(&format!(
        "{}{SSHD}{}",
        machines(),
        r#"
$NSCTL apply --all-hosts /tmp/multi.toml 2>/tmp/progress | sed 's/ [0-9.]*s  / T  /; s/in [0-9.]*s$/in T/'; echo "rc=${PIPESTATUS[0]}"
sed 's/in [0-9.]*s/in T/; s/ ([12] of 2)//' /tmp/progress | sort
on 1 ip netns exec A ping -c 1 -W 2 10.0.0.2 > /dev/null && echo "A (h1) -> B (h2): ping"
$NSCTL status --all-hosts /tmp/multi.toml 2>/dev/null | tail -1 | sed 's/in [0-9.]*s$/in T/'; echo "rc=${PIPESTATUS[0]}"
$NSCTL test --all-hosts -j /tmp/multi.toml 2>/dev/null | python3 -c '
import json, sys; v = json.load(sys.stdin)
for h in v["hosts"]: print(h["host"], h["ok"], h["result"]["passed"], h["result"]["failed"])'
cat > /tmp/big.toml <<'EOF'
name = "big"
[hosts.h1]
underlay = "192.0.2.1"
[hosts.h2]
underlay = "192.0.2.2"
[netns.P]
host = "h1"
[netns.Q]
host = "h2"
[netns."n{1..300}"]
host = "h2"
[bridge.br]
host = "h2"
[[veth]]
ends = [{ netns = "P", name = "eth0", addresses = ["10.9.0.1/24"] }, { netns = "Q", name = "eth0", addresses = ["10.9.0.2/24"] }]
[[veth]]
for = "1..300"
ends = [{ netns = "n{i}", name = "eth0", addresses = ["10.8.{i / 250}.{i % 250 + 1}/16"] }, { name = "v{i}", bridge = "br" }]
EOF
for d in 0.05 0.1 0.2; do
  # nsenter itself, not the on function's subshell: kill hits nsctl.
  nsenter -t "$H2" -n -m $NSCTL apply --host h2 /tmp/big.toml > /dev/null 2>&1 & p=$!
  sleep $d; kill -9 $p 2>/dev/null; wait $p; [ $? = 137 ] && break
  on 2 $NSCTL destroy --host h2 /tmp/big.toml > /dev/null 2>&1
done
echo "killed midway: $(on 2 ls /run/netns | grep -c '^n[0-9]') of 300 namespaces made"
$NSCTL apply --all-hosts /tmp/big.toml 2>/dev/null | tail -1 | sed 's/in [0-9.]*s$/in T/'; echo "rc=${PIPESTATUS[0]}"
$NSCTL status --all-hosts /tmp/big.toml 2>/dev/null | tail -1 | sed 's/in [0-9.]*s$/in T/'
on 1 ip netns exec P ping -c 1 -W 2 10.9.0.2 > /dev/null && echo "P (h1) -> Q (h2) on the converged lab"
echo "h2: $(on 2 ls /run/netns | grep -c '^n[0-9]') of 300 namespaces made"
sed 's/192.0.2.2"/192.0.2.9"/' /tmp/big.toml > /tmp/gone.toml
$NSCTL status --all-hosts /tmp/gone.toml > /tmp/gone.out 2>/dev/null; rc=$?
grep -o '^h2 .*unreachable: ssh: connect to host 192.0.2.9 port 22' /tmp/gone.out | sed 's/  */ /g; s/ [0-9.]*s / T /'
echo "rc=$rc"
$NSCTL destroy --all-hosts /tmp/big.toml 2>/dev/null | tail -1 | sed 's/in [0-9.]*s$/in T/'
$NSCTL destroy --all-hosts /tmp/multi.toml 2>/dev/null | tail -1 | sed 's/in [0-9.]*s$/in T/'
echo "left: $(on 1 ls /run/netns | wc -l) + $(on 2 ls /run/netns | wc -l) namespaces"
"#
    ));
    o.expect_rc(0, "all hosts")?;
    let want = "\
HOST  TIME      RESULT
h1    T     6 created, 0 changed, 0 removed, 0 failed
h2    T     4 created, 0 changed, 0 removed, 0 failed
apply multi: 2 hosts, all done in T
rc=0
apply multi: h1 done in T
apply multi: h2 done in T
A (h1) -> B (h2): ping
status multi: 2 hosts, all done in T
rc=0
h1 True 1 0
h2 True 1 0
";
    let want2 = "\
apply big: 2 hosts, all done in T
rc=0
status big: 2 hosts, all done in T
P (h1) -> Q (h2) on the converged lab
h2: 300 of 300 namespaces made
h2 T unreachable: ssh: connect to host 192.0.2.9 port 22
rc=1
destroy big: 2 hosts, all done in T
destroy multi: 2 hosts, all done in T
left: 0 + 0 namespaces
";
    let killed = o
        .stdout
        .lines()
        .find(|l| l.starts_with("killed midway: "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|n| n.parse::<u32>().ok());
    if !o.stdout.starts_with(want) || !o.stdout.ends_with(want2) || killed.is_none_or(|n| n >= 300)
    {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    println!(
        "  killed midway with {} of 300 namespaces made",
        killed.unwrap_or(0)
    );
    Ok(())
}

/// An IPv6 underlay: the tunnel runs over IPv6 between the machines, with the MTU left for
/// the larger encapsulation (70 bytes), and traffic crosses.
pub fn ipv6_underlay() -> Result<(), String> {
    let o = run(r#"
sed -e 's/underlay = "192.0.2.1"/underlay = "2001:db8::1"/' -e 's/underlay = "192.0.2.2"/underlay = "2001:db8::2"/' /tmp/multi.toml > /tmp/six.toml
on 1 $NSCTL apply /tmp/six.toml | tail -1 | cut -d' ' -f2-4
on 2 $NSCTL apply /tmp/six.toml | tail -1 | cut -d' ' -f2-4
on 1 ip -n A -d -o link show eth0 | grep -o '> mtu [0-9]*\|remote 2001:db8::2 local 2001:db8::1'
on 1 ip netns exec A ping -c 1 -W 2 10.0.0.2 > /dev/null && echo "A (h1) -> B (h2) over IPv6"
on 1 $NSCTL status /tmp/six.toml | tail -1
"#);
    o.expect_rc(0, "ipv6 underlay")?;
    let want =
        "multi: 6 created,\nmulti: 4 created,\n> mtu 1430\nremote 2001:db8::2 local 2001:db8::1\n\
                A (h1) -> B (h2) over IPv6\nstatus multi: converged\n";
    if o.stdout != want {
        return Err(format!("got:\n{}--- stderr\n{}", o.stdout, o.stderr));
    }
    Ok(())
}
