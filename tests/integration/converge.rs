//! Labs converge to the file, observe what they rely on, share host settings, and keep their
//! journal safe: one case per observation of issue 9, each checked against the kernel's
//! state (ip, nft, /proc), not against nsctl's word.

use crate::support::{check, sandbox};

/// A lab with NAT, a host route, sysctls and two namespaces on a bridge.
const LAB: &str = r#"
cat > /tmp/c.toml <<'TOML'
name = "cv"
[bridge.br0]
addresses = ["10.0.0.1/24"]
[netns.A]
routes = ["default via 10.0.0.1"]
sysctl = { "net.ipv4.conf.all.rp_filter" = 2 }
[netns.C]
routes = ["default via 10.0.0.1"]
[host]
routes = ["198.51.100.0/24 via 10.0.0.9"]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24"] }, { name = "veth-a", bridge = "br0" }]
[[veth]]
ends = [{ netns = "C", name = "eth0", addresses = ["10.0.0.4/24"] }, { name = "veth-c", bridge = "br0" }]
[[nat]]
source = "10.0.0.0/24"
TOML
snap() { ip -o link show | awk -F': ' '{print $2}'; ls -A /run/netns 2>/dev/null; nft list ruleset 2>/dev/null; cat /proc/sys/net/ipv4/ip_forward; ip -o addr show; ip route show; find /etc/netns 2>/dev/null; }
echo 0 > /proc/sys/net/ipv4/ip_forward
"#;

fn run(script: &str) -> crate::support::Out {
    sandbox(&format!("{LAB}{script}"))
}

/// Observation 1: edits to the file converge. A namespace, an address, the NAT and a host
/// route taken out of the file are removed by the next apply, forwarding goes back to what
/// it was, and an address changed in the file replaces the old one.
pub fn edits_converge() -> Result<(), String> {
    let o = run(r#"
before=$(snap)
$NSCTL apply /tmp/c.toml >/dev/null || exit 1
# C, its veth pair, the NAT and the host route leave the file; A's address changes.
cat > /tmp/c.toml <<'TOML'
name = "cv"
[bridge.br0]
addresses = ["10.0.0.1/24"]
[netns.A]
routes = ["default via 10.0.0.1"]
sysctl = { "net.ipv4.conf.all.rp_filter" = 2 }
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.5/24"] }, { name = "veth-a", bridge = "br0" }]
TOML
$NSCTL apply --dry-run /tmp/c.toml | sed 's/ in .*//' > /tmp/dry
$NSCTL apply /tmp/c.toml | sed 's/ in .*//'
tail -1 /tmp/dry
ls /run/netns; ip -br link show veth-c 2>&1 | head -1
ip -n A -4 -o addr show dev eth0 | awk '{print $4}'
nft list table ip nsctl-cv 2>&1 | head -1
cat /proc/sys/net/ipv4/ip_forward
ip route show 198.51.100.0/24 | wc -l
$NSCTL status /tmp/c.toml | tail -1
$NSCTL destroy /tmp/c.toml >/dev/null
[ "$before" = "$(snap)" ] && echo clean || { echo "NOT CLEAN"; diff <(echo "$before") <(snap); }
"#);
    check(
        &o,
        "apply cv: 1 created, 2 changed, 5 removed, 9 unchanged, 0 failed\n\
         apply cv: 1 would be created, 2 would be changed, 5 would be removed, 9 unchanged, 0 failed\n\
         A\nDevice \"veth-c\" does not exist.\n10.0.0.5/24\n\
         Error: No such file or directory\n0\n0\nstatus cv: converged\nclean\n",
        "edits converge",
    )
}

/// Observation 2: a route changed by hand (in a namespace and in the host) is replaced, and
/// other damage in the same run (a link down, the NAT table deleted, forwarding off) is
/// repaired too: nothing stops at "File exists".
pub fn damage_is_repaired() -> Result<(), String> {
    let o = run(r#"
$NSCTL apply /tmp/c.toml >/dev/null || exit 1
ip -n A route replace default via 10.0.0.99
ip route replace 198.51.100.0/24 via 10.0.0.77
ip link set veth-c down; nft delete table ip nsctl-cv; echo 0 > /proc/sys/net/ipv4/ip_forward
ip -n C link set lo down
$NSCTL status /tmp/c.toml; echo "status rc=$?"
$NSCTL apply /tmp/c.toml | sed 's/ in .*//'; echo "rc=$?"
ip -n A route show default; ip route show 198.51.100.0/24
ip -br link show veth-c | awk '{print $2}'; ip -n C -br link show lo | awk '{print $2}'
nft list table ip nsctl-cv | grep -c masquerade; cat /proc/sys/net/ipv4/ip_forward
$NSCTL status /tmp/c.toml | tail -1
"#);
    check(
        &o,
        "set route default via 10.0.0.1 (netns A): via 10.0.0.99 now\n\
         set lo up (netns C): down\n\
         set veth-c up (host): down\n\
         set route 198.51.100.0/24 via 10.0.0.9 (host): via 10.0.0.77 now\n\
         set sysctl net.ipv4.ip_forward=1 (host): 0 now\n\
         install nft table ip nsctl-cv (1 masquerade rules): missing\n\
         status cv: not converged: 6 to do, 0 in the way (15 unchanged)\nstatus rc=1\n\
         apply cv: 1 created, 5 changed, 0 removed, 15 unchanged, 0 failed\nrc=0\n\
         default via 10.0.0.1 dev eth0 \n\
         198.51.100.0/24 via 10.0.0.9 dev br0 \n\
         UP\nUNKNOWN\n1\n1\nstatus cv: converged\n",
        "damage repaired",
    )
}

/// Observations 5 and 6: two labs that both need forwarding share it (it stays on until
/// the last is destroyed, then returns to 0); NAT leaves traffic routed between the lab's
/// own networks alone (B sees A's own address).
pub fn shared_forwarding_and_routed_nat() -> Result<(), String> {
    let o = sandbox(
        r#"
echo 0 > /proc/sys/net/ipv4/ip_forward
cat > /tmp/x.toml <<'TOML'
name = "x"
[bridge.brx0]
addresses = ["10.1.0.1/24"]
[bridge.brx1]
addresses = ["10.2.0.1/24"]
[netns.XA]
routes = ["default via 10.1.0.1"]
[netns.XB]
routes = ["default via 10.2.0.1"]
[[veth]]
ends = [{ netns = "XA", name = "eth0", addresses = ["10.1.0.2/24"] }, { name = "vxa", bridge = "brx0" }]
[[veth]]
ends = [{ netns = "XB", name = "eth0", addresses = ["10.2.0.2/24"] }, { name = "vxb", bridge = "brx1" }]
[[nat]]
source = "10.1.0.0/24"
[[nat]]
source = "10.2.0.0/24"
TOML
sed -e 's/name = "x"/name = "y"/' -e 's/XA/YA/g; s/XB/YB/g; s/brx/bry/g; s/vx/vy/g' -e 's/10\.1\./10.3./g; s/10\.2\./10.4./g' /tmp/x.toml > /tmp/y.toml
$NSCTL apply /tmp/x.toml >/dev/null && $NSCTL apply /tmp/y.toml >/dev/null || exit 1
ip netns exec XB python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.2.0.2", 8080)); s.listen(1); s.settimeout(5)
c, peer = s.accept(); print("XB saw", peer[0], flush=True)
' > /tmp/peer & lp=$!
for i in $(seq 100); do ip netns exec XB ss -ltn | grep -q ":8080 " && break; sleep 0.02; done
$NSCTL exec XA bash -c 'echo hi > /dev/tcp/10.2.0.2/8080' || echo "TCP FAILED"
wait $lp; cat /tmp/peer
cat /proc/sys/net/ipv4/ip_forward
$NSCTL destroy /tmp/x.toml >/dev/null
cat /proc/sys/net/ipv4/ip_forward
$NSCTL status /tmp/y.toml | tail -1
$NSCTL destroy /tmp/y.toml >/dev/null
cat /proc/sys/net/ipv4/ip_forward
ls /run/nsctl
"#,
    );
    check(
        &o,
        "XB saw 10.1.0.2\n1\n1\nstatus y: converged\n0\nhost-sysctls.lock\nlabs\n",
        "shared forwarding",
    )
}

/// Observation 7: destroy with a process still running in a namespace says so, exits 1,
/// removes the host end anyway, and keeps the namespace in the journal; once the process
/// is gone, a second destroy ends the lab, and apply works again.
pub fn destroy_reports_a_held_namespace() -> Result<(), String> {
    let o = run(r#"
$NSCTL apply /tmp/c.toml >/dev/null || exit 1
$NSCTL exec A sleep 40 & sl=$!
for i in $(seq 100); do [ -n "$(ip netns pids A)" ] && break; sleep 0.02; done
$NSCTL destroy /tmp/c.toml > /tmp/out 2>/tmp/err; echo "rc=$?"
grep -o 'netns A: its name and veth pairs are removed, but the namespace lives on while process [0-9]* (sleep) still runs in it' /tmp/out
tail -1 /tmp/out | sed 's/ in .*//'
ip -br link show veth-a 2>&1 | head -1
ls /run/netns | wc -l
grep -c '"kind": "netns"' /run/nsctl/labs/cv.json
kill $sl; wait $sl 2>/dev/null
$NSCTL destroy /tmp/c.toml | sed 's/ in .*//'; echo "rc=$?"
ls /run/nsctl/labs
$NSCTL apply /tmp/c.toml >/dev/null && echo "applied again"
"#);
    check(
        &o,
        "rc=1\nnetns A: its name and veth pairs are removed, but the namespace lives on while process \
         PID (sleep) still runs in it\ndestroy cv: 5 removed, 1 failed\n\
         Device \"veth-a\" does not exist.\n0\n1\n\
         destroy cv: nothing to do (0 unchanged)\nrc=0\ncv.lock\napplied again\n"
            .replace("PID", &pid_of(&o.stdout))
            .as_str(),
        "held namespace",
    )
}

fn pid_of(s: &str) -> String {
    s.split("while process ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or("?")
        .to_string()
}

/// Observation 8: `ip netns del B; ip netns add B; nsctl apply --adopt` while the kernel is
/// still tearing the old B down never fails: the lingering end is deleted and the pair made
/// again. Ten rounds, no waiting between the steps.
pub fn remade_and_adopted_at_once() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/r.toml <<'TOML'
name = "rr"
[netns.A]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "a0", addresses = ["10.8.0.1/24"] }, { name = "hb" }]
[[veth]]
ends = [{ netns = "B", name = "b0", addresses = ["10.9.0.2/24"] }, { name = "hb2", addresses = ["10.9.0.1/24"] }]
TOML
ok=0
for i in $(seq 10); do
  $NSCTL apply /tmp/r.toml >/dev/null || { echo "apply $i failed"; continue; }
  ip netns del B; ip netns add B
  if $NSCTL apply --adopt /tmp/r.toml >/tmp/out 2>&1; then
    ip netns exec B ping -c1 -W2 10.9.0.1 >/dev/null && ok=$((ok + 1)) || echo "round $i: no ping"
  else
    echo "round $i:"; cat /tmp/out
  fi
  $NSCTL destroy /tmp/r.toml >/dev/null || echo "destroy $i failed"
  ip netns del B
done
echo "$ok of 10"
"#,
    );
    check(&o, "10 of 10\n", "remade and adopted")
}

/// Observation 9 (the review's case): the second end of a pair deleted and made again by
/// hand is foreign to status and apply alike, and destroy leaves it.
pub fn one_ownership_rule() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/t.toml <<'TOML'
name = "t"
[netns.A]
[[veth]]
ends = [{ name = "vh", addresses = ["10.9.0.1/24"] }, { netns = "A", name = "eth0", addresses = ["10.9.0.2/24"] }]
TOML
$NSCTL apply /tmp/t.toml >/dev/null || exit 1
ip link del vh; ip link add vh type veth peer name eth0 netns A
$NSCTL status /tmp/t.toml | grep vh; echo "status rc=${PIPESTATUS[0]}"
$NSCTL apply /tmp/t.toml >/dev/null 2>&1; echo "apply rc=$?"
$NSCTL destroy /tmp/t.toml | grep 'left alone'; echo "destroy rc=${PIPESTATUS[0]}"
ls /run/nsctl/labs
"#,
    );
    // (vh itself goes with A: its new peer was made inside A, which destroy deletes.)
    check(
        &o,
        "present, not created by nsctl: interface \"vh\" (host)\nstatus rc=1\napply rc=3\n\
         left alone (not created by nsctl): interface \"vh\" (host)\ndestroy rc=0\nt.lock\n",
        "one ownership rule",
    )
}

/// Observation 10: bad input anywhere is refused with FILE:LINE:COL and exit 2 before
/// anything is made (no journal, no namespace), never with a panic or "Success".
pub fn bad_input_changes_nothing() -> Result<(), String> {
    let o = sandbox(
        r#"
t() { printf '%b' "$1" > /tmp/b.toml; $NSCTL apply /tmp/b.toml >/dev/null 2>/tmp/e; rc=$?; echo "rc=$rc $(head -c 300 /tmp/e | tr '\n' '|')"; }
t '[netns."a\\u0000b"]\n'
t '[netns.A]\n[[veth]]\nends = [{ netns = "A", name = "e\\u0000" }, { name = "h" }]\n'
t '[[nat]]\nsource = "10.0.0.0/24"\nout = "e\\u0000th"\n'
t '[host]\nsysctl = { "net.ipv4.ip_\\u0000forward" = 1 }\n'
t '[host]\nsysctl = { "net.ix" = 1 }\n'
t 'name = "x y"\n[bridge.br0]\naddresses = ["10.0.0.1"]\nmtu = 10\n'
t '\xff\xfe[netns.A]\n'
t '[netns.B]\n[[veth]]\nends = [{ name = "x" }]\nbogus = 1\n[[nat]]\nsource = "fd00::/8"\n'
head -c 9000000 /dev/zero | tr '\0' '#' > /tmp/b.toml; $NSCTL apply /tmp/b.toml >/dev/null 2>/tmp/e; echo "rc=$? $(cat /tmp/e)"
ls /run/netns 2>/dev/null | wc -l; ls /run/nsctl/labs 2>/dev/null | grep -c json; true
"#,
    );
    check(
        &o,
        "rc=2 /tmp/b.toml:1:1: netns name \"a\\0b\" holds a control character; use plain text|\n\
         rc=2 /tmp/b.toml:3:31: interface name \"e\\0\" holds a control character; use plain text|\n\
         rc=2 /tmp/b.toml:3:7: nat out \"e\\0th\" holds a control character; use plain text|\n\
         rc=2 /tmp/b.toml:2:42: sysctl \"net.ipv4.ip_\\0forward\" holds a control character; use plain text|\n\
         rc=2 /tmp/b.toml:2:23: sysctl \"net.ix\" does not exist in this kernel (no /proc/sys/net/ix)|\n\
         rc=2 /tmp/b.toml:1:8: lab name \"x y\" must be 1-32 letters, digits, '-' or '_'|/tmp/b.toml:3:14: address \"10.0.0.1\" needs a prefix length, e.g. \"10.0.0.1/24\"|/tmp/b.toml:4:7: mtu 10 is outside 68..65535|\n\
         rc=2 /tmp/b.toml:1:1: the file is not UTF-8 text (byte 0xff); lab files are TOML, which is UTF-8|\n\
         rc=2 /tmp/b.toml:3:8: a veth has exactly 2 ends, not 1|/tmp/b.toml:4:1: unknown field `bogus`, expected one of `for`, `ends`|/tmp/b.toml:6:10: nat source \"fd00::/8\" is not an IPv4 prefix|\n\
         rc=2 /tmp/b.toml: cannot read the lab file: larger than 8 MiB; a lab file is text describing a lab\n\
         0\n0\n",
        "bad input",
    )
}

/// Observation 11: the journal's directories are root's alone whatever the umask, and
/// refused when others could write them; a symlink planted for the temp file is not
/// followed; a journal edited to name a non-net sysctl is refused, not acted on.
pub fn journal_cannot_be_tampered_with() -> Result<(), String> {
    let o = run(r#"
umask 000
$NSCTL apply /tmp/c.toml >/dev/null || exit 1
stat -c '%a %U' /run/nsctl /run/nsctl/labs /run/nsctl/labs/cv.json
chmod 777 /run/nsctl/labs
$NSCTL status /tmp/c.toml >/dev/null 2>/tmp/e; echo "rc=$? $(cut -c1-90 /tmp/e)"
chmod 700 /run/nsctl/labs
echo secret > /tmp/victim; ln -s /tmp/victim /run/nsctl/labs/cv.tmp
ip link set veth-a down
$NSCTL apply /tmp/c.toml >/dev/null; echo "rc=$?"; cat /tmp/victim
cp /run/nsctl/labs/cv.json /tmp/j
sed -i 's/net.ipv4.ip_forward/kernel.core_pattern/' /run/nsctl/labs/cv.json
$NSCTL destroy /tmp/c.toml >/dev/null 2>/tmp/e; echo "rc=$? $(cut -c1-110 /tmp/e)"
cat /proc/sys/kernel/core_pattern | head -c 1 | grep -c '|'
cp /tmp/j /run/nsctl/labs/cv.json
$NSCTL destroy /tmp/c.toml >/dev/null; echo "rc=$?"
"#);
    check(
        &o,
        "700 root\n700 root\n600 root\n\
         rc=1 cannot read the journal of lab cv in /run/nsctl/labs: /run/nsctl/labs is owned by uid 0 wi\n\
         rc=0\nsecret\n\
         rc=1 cannot read the journal of lab cv in /run/nsctl/labs: /run/nsctl/labs/cv.json is damaged (\"kernel.core_pattern\n\
         0\nrc=0\n",
        "journal",
    )
}

/// Observation 12: `nsctl status` without a file lists the applied labs, and
/// `nsctl destroy --lab NAME` removes one by its name alone.
pub fn labs_without_the_file() -> Result<(), String> {
    let o = run(r#"
$NSCTL status; echo "rc=$?"
$NSCTL apply /tmp/c.toml >/dev/null || exit 1
cat > /tmp/s.toml <<'TOML'
name = "small"
[netns.S]
TOML
$NSCTL apply /tmp/s.toml >/dev/null || exit 1
ip link set veth-a down
$NSCTL status | awk '{print $1, $2, $5, $6}'; echo "rc=${PIPESTATUS[0]}"
$NSCTL status -j | python3 -c 'import json, sys; print([(l["lab"], l["objects"], l["state"][:9]) for l in json.load(sys.stdin)])'
$NSCTL destroy --lab small | sed 's/ in .*//'
$NSCTL destroy --lab cv | sed 's/ in .*//'
$NSCTL destroy --lab 'no/such' 2>&1; echo "rc=$?"
$NSCTL status
ls /run/netns | wc -l
"#);
    check(
        &o,
        "no labs are applied\nrc=0\n\
         LAB OBJECTS STATE /\ncv 16 not converged\nsmall 3 converged /tmp/s.toml\nrc=1\n\
         [('cv', 16, 'not conve'), ('small', 3, 'converged')]\n\
         destroy small: 1 removed, 0 failed\ndestroy cv: 6 removed, 0 failed\n\
         destroy: \"no/such\" is not a lab name (1-32 letters, digits, '-' or '_'); nsctl status lists the applied labs\nrc=2\n\
         no labs are applied\n0\n",
        "labs without the file",
    )
}

/// Concurrent runs: two labs that share forwarding applied and destroyed at the same time,
/// and apply racing destroy on one lab. Each lab's lock serialises its own runs and the
/// shared register its host settings: every round ends converged, and the end is clean.
pub fn concurrent_runs() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"
echo 0 > /proc/sys/net/ipv4/ip_forward
python3 {root}/bench/gen.py 30 /tmp
sed -i 's/^name = .*/name = "p"/' /tmp/lab.toml && printf '[[nat]]\nsource = "10.100.0.0/16"\n' >> /tmp/lab.toml
sed -e 's/name = "p"/name = "q"/' -e 's/ns\([0-9]\)/qs\1/g; s/vs\([0-9]\)/vq\1/g; s/br-star/br-q/g; s/10\.100\./10.101./g' /tmp/lab.toml > /tmp/q.toml
before=$(ip -o link | wc -l; ls /run/netns 2>/dev/null | wc -l)
for r in 1 2 3; do
  $NSCTL apply /tmp/lab.toml >/dev/null 2>&1 & a=$!
  $NSCTL apply /tmp/q.toml >/dev/null 2>&1 & b=$!
  wait $a || echo "apply p failed"; wait $b || echo "apply q failed"
  $NSCTL status /tmp/lab.toml | tail -1; $NSCTL status /tmp/q.toml | tail -1
  $NSCTL destroy /tmp/lab.toml >/dev/null & a=$!
  $NSCTL destroy /tmp/q.toml >/dev/null & b=$!
  wait $a || echo "destroy p failed"; wait $b || echo "destroy q failed"
  cat /proc/sys/net/ipv4/ip_forward
done
for r in 1 2 3; do
  $NSCTL apply /tmp/lab.toml >/dev/null 2>&1 & a=$!
  sleep 0.0$r; $NSCTL destroy /tmp/lab.toml >/dev/null 2>&1 & b=$!
  wait $a; wait $b
  $NSCTL apply /tmp/lab.toml >/dev/null || echo "apply after race failed"
  $NSCTL status /tmp/lab.toml | tail -1
  $NSCTL destroy /tmp/lab.toml >/dev/null || echo "destroy after race failed"
done
[ "$before" = "$(ip -o link | wc -l; ls /run/netns 2>/dev/null | wc -l)" ] && echo clean
cat /proc/sys/net/ipv4/ip_forward; nft list ruleset | wc -l
"#,
        root = root.display()
    ));
    let round = "status p: converged\nstatus q: converged\n0\n";
    let race = "status p: converged\n";
    check(
        &o,
        &format!("{}{}clean\n0\n0\n", round.repeat(3), race.repeat(3)),
        "concurrent runs",
    )
}

/// kill -9 during destroy, at several moments: a second destroy finishes the job and the
/// sandbox is as before.
pub fn kill_during_destroy() -> Result<(), String> {
    let root = crate::support::root_dir();
    let o = sandbox(&format!(
        r#"
lab={root}/examples/star100.toml
before=$(ip -o link | wc -l; ls /run/netns 2>/dev/null | wc -l; ip route | wc -l)
for d in 0.01 0.03 0.06; do
  $NSCTL apply $lab >/dev/null || exit 1
  $NSCTL destroy $lab >/dev/null 2>&1 & p=$!
  sleep $d; kill -9 $p 2>/dev/null; wait $p; rc=$?
  [ $rc = 137 ] && echo "killed" || echo "finished"
  $NSCTL destroy $lab >/dev/null || echo "DESTROY FAILED"
  ls /run/nsctl/labs | grep -c json
  [ "$before" = "$(ip -o link | wc -l; ls /run/netns 2>/dev/null | wc -l; ip route | wc -l)" ] && echo clean
done
"#,
        root = root.display()
    ));
    o.expect_rc(0, "kill during destroy")?;
    let rounds: Vec<&str> = o.stdout.lines().collect();
    let killed = rounds.iter().filter(|l| **l == "killed").count();
    let ok = rounds
        .chunks(3)
        .all(|r| r.len() == 3 && r[1] == "0" && r[2] == "clean");
    if rounds.len() != 9 || !ok || killed < 2 {
        return Err(format!(
            "{killed} kills landed; got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}
