//! `nsctl test` and `apply --test`: the lab's `[[check]]`s run against real namespaces in a
//! sandbox. They pass on a good lab, fail (exit 1) when a link is taken down or the NAT
//! table removed by hand, and an "unreachable" expectation fails when the lab is opened up.

use crate::support::{check, root_dir, sandbox};

pub fn reachability_checks() -> Result<(), String> {
    let o = sandbox(&format!(
        r#"
cd {root}
lab=examples/abc-nat.toml
# t: how many checks hold, which fail (their first words), and the exit code.
t() {{ $NSCTL test "$@" > /tmp/out 2>&1; rc=$?; echo "ok=$(grep -c '^ok ' /tmp/out) rc=$rc"; grep '^FAIL' /tmp/out | awk '{{print "  " $2, $3, $4, $5, $6}}'; }}
$NSCTL test $lab; echo "rc=$?"
$NSCTL apply --test $lab > /tmp/out; echo "apply --test rc=$?"
grep -c '^ok ' /tmp/out; tail -1 /tmp/out | sed 's/ in .*//'
# nsctl's own listener for B -> C:8080 is gone again.
ip netns exec C ss -ltnH | grep -c ':8080' 
$NSCTL -j test $lab | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(d["passed"], d["failed"], sorted(set(c["result"] for c in d["checks"])), d["checks"][1]["port"])'
echo "-- A's link down by hand"
ip -n A link set eth0 down
t $lab
ip -n A link set eth0 up
$NSCTL apply $lab > /dev/null
t $lab
echo "-- NAT table removed by hand"
nft delete table ip nsctl-abc
t $lab
$NSCTL apply $lab > /dev/null
echo "-- outside given a way back into the lab"
ip -n outside route add 10.0.0.0/24 via 198.51.100.1
t $lab
ip -n outside route del 10.0.0.0/24
echo "-- a listener already there answers the check"
ip netns exec C python3 -c '
import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.4", 8080)); s.listen(1); s.settimeout(10); print("python accepted", s.accept()[1][0] == "10.0.0.3", flush=True)' > /tmp/py & py=$!
for i in $(seq 100); do ip netns exec C ss -ltnH | grep -q ':8080' && break; sleep 0.02; done
t $lab
wait $py; cat /tmp/py
echo "-- timeouts, in parallel and one at a time"
cp $lab /tmp/slow.toml
for n in 99 100 101 102; do printf '[[check]]\nfrom = "A"\nto = "10.0.0.%s"\nping = true\nexpect = "unreachable"\ntimeout = 0.5\n' $n >> /tmp/slow.toml; done
for jobs in 4 1; do
  $NSCTL test -j --jobs $jobs /tmp/slow.toml | python3 -c '
import json, sys; d = json.load(sys.stdin); slow = [c for c in d["checks"] if c["address"].endswith((".99", ".100", ".101", ".102"))]
print(d["failed"], set(c["detail"] for c in slow), "overlapped" if d["seconds"] * 1000 < sum(c["ms"] for c in slow) * 0.75 else "one after another")'
done
$NSCTL test --jobs 0 $lab > /dev/null 2>&1; echo "jobs 0 rc=$?"
$NSCTL destroy $lab > /dev/null
echo "-- generated checks across the fabric's router"
$NSCTL apply --test examples/fabric.toml > /tmp/out; echo "rc=$?"; grep -c '^ok  ping ns1 -> ns' /tmp/out
$NSCTL destroy examples/fabric.toml > /dev/null
echo "-- bad checks"
cat > /tmp/bad.toml <<'T'
[netns.A]
[[check]]
from = "A"
to = "Z"
ping = true
[[check]]
for = "1..5"
from = "A"
to = "10.0.0.{{i}}"
tcp = 0
T
$NSCTL test /tmp/bad.toml; echo "rc=$?"
printf '[netns.A]\n' > /tmp/none.toml
$NSCTL test /tmp/none.toml; echo "rc=$?"
"#,
        root = root_dir().display()
    ));
    let want = r#"rc=1
apply --test rc=0
6
test abc: all 6 checks hold
0
6 0 ['reachable', 'unreachable'] 8080
-- A's link down by hand
ok=4 rc=1
  ping A -> B (10.0.0.3)
  ping A -> outside (198.51.100.2)
ok=6 rc=0
-- NAT table removed by hand
ok=4 rc=1
  ping A -> outside (198.51.100.2)
  tcp C -> outside:443 (198.51.100.2)
-- outside given a way back into the lab
ok=5 rc=1
  ping outside -> A (10.0.0.2)
-- a listener already there answers the check
ok=6 rc=0
python accepted True
-- timeouts, in parallel and one at a time
0 {'no answer in 0.5 s'} overlapped
0 {'no answer in 0.5 s'} one after another
jobs 0 rc=2
-- generated checks across the fabric's router
rc=0
31
-- bad checks
rc=2
rc=2
"#;
    check(&o, want, "checks")?;
    let err = &o.stderr;
    for line in [
        "test examples/abc-nat.toml: lab abc is not applied; run nsctl apply examples/abc-nat.toml first",
        "/tmp/bad.toml:4:6: \"Z\" is not a namespace of the lab, NS/IF or an address",
        "/tmp/bad.toml:10:7: check i=1: tcp port 0 is outside 1..65535",
        "/tmp/bad.toml:10:7: check i=3: tcp port 0 is outside 1..65535",
        "/tmp/bad.toml:10:7: ... and 2 more like these from the same template",
        "test /tmp/none.toml: the file has no [[check]]",
    ] {
        if !err.contains(line) {
            return Err(format!("checks: stderr lacks {line:?}:\n{err}"));
        }
    }
    println!("  checks hold on the lab, fail when it is broken by hand, run in parallel");
    Ok(())
}

/// Names that resolve: every lab namespace gets /etc/netns/NAME/hosts (the sandbox has an
/// overlay on /etc), so `nsctl exec A ping B` works by name; the files follow the file on
/// re-apply, edits by hand are put back, a file nsctl did not write stops apply and is never
/// touched, and destroy removes the files and the directories nsctl made.
pub fn hosts_files() -> Result<(), String> {
    let o = sandbox(&format!(
        r#"
cd {root}
lab=examples/abc-nat.toml
$NSCTL apply $lab > /dev/null || echo "APPLY FAILED"
$NSCTL exec A ping -c1 -W2 B | head -1
$NSCTL exec outside getent hosts C
ip netns exec B getent hosts outside
tail -n +4 /etc/netns/C/hosts | tr '\t' ' ' | paste -sd,
# A hosts file changed by hand is someone's now: apply refuses to write over it.
echo "10.9.9.9 intruder" >> /etc/netns/B/hosts
$NSCTL status $lab | head -1
$NSCTL apply $lab 2> /dev/null; echo "rc=$?"
grep -c intruder /etc/netns/B/hosts
rm /etc/netns/B/hosts
$NSCTL apply $lab | sed 's/ in .*//'
sed 's/10.0.0.4/10.0.0.44/' $lab > /tmp/abc.toml
$NSCTL apply /tmp/abc.toml > /dev/null
$NSCTL exec A getent hosts C
$NSCTL status /tmp/abc.toml | tail -1
# C leaves the file: its file and directory go, the others stop listing it.
cat > /tmp/ab.toml <<'T'
name = "abc"
[bridge.br0]
addresses = ["10.0.0.1/24"]
[netns.A]
routes = ["default via 10.0.0.1"]
[netns.B]
routes = ["default via 10.0.0.1"]
[netns.outside]
[[veth]]
ends = [{{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24"] }}, {{ name = "veth-a", bridge = "br0" }}]
[[veth]]
ends = [{{ netns = "B", name = "eth0", addresses = ["10.0.0.3/24"] }}, {{ name = "veth-b", bridge = "br0" }}]
[[veth]]
ends = [{{ netns = "outside", name = "eth0", addresses = ["198.51.100.2/24"] }}, {{ name = "veth-out", addresses = ["198.51.100.1/24"] }}]
[[nat]]
source = "10.0.0.0/24"
out = "veth-out"
T
$NSCTL apply /tmp/ab.toml > /dev/null || echo "APPLY FAILED"
ls /etc/netns | paste -sd' '; grep -c 'C$' /etc/netns/A/hosts
$NSCTL destroy /tmp/ab.toml > /dev/null
ls -d /etc/netns 2>&1 | sed 's/.*: //'
echo "-- someone's own hosts file"
mkdir -p /etc/netns/B/extra; echo "192.0.2.1 mine" > /etc/netns/B/hosts
$NSCTL apply $lab; echo "rc=$?"
ls /run/netns 2>/dev/null | wc -l
cat /etc/netns/B/hosts
printf 'etc_hosts = false\n' | cat - $lab > /tmp/nohosts.toml
$NSCTL apply /tmp/nohosts.toml > /dev/null; echo "etc_hosts = false rc=$?"
ls /etc/netns | paste -sd' '; cat /etc/netns/B/hosts
$NSCTL destroy /tmp/nohosts.toml > /dev/null
echo "-- a directory with someone's file in it stays"
rm /etc/netns/B/hosts
$NSCTL apply $lab > /dev/null; $NSCTL destroy $lab > /dev/null
find /etc/netns | sort | paste -sd' '
"#,
        root = root_dir().display()
    ));
    let want = "PING B (10.0.0.3) 56(84) bytes of data.\n\
10.0.0.4        C\n\
198.51.100.2    outside\n\
10.0.0.2 A,10.0.0.3 B,10.0.0.4 C,198.51.100.2 outside\n\
in the way: /etc/netns/B/hosts was changed since nsctl wrote it (nsctl exec would show it as /etc/hosts in B); remove it, or set etc_hosts = false in the lab file\n\
rc=3\n\
1\n\
apply abc: 1 created, 0 changed, 0 removed, 33 unchanged, 0 failed\n\
10.0.0.44       C\n\
status abc: converged\n\
A B outside\n\
0\n\
No such file or directory\n\
-- someone's own hosts file\n\
rc=3\n\
0\n\
192.0.2.1 mine\n\
etc_hosts = false rc=0\n\
B\n\
192.0.2.1 mine\n\
-- a directory with someone's file in it stays\n\
/etc/netns /etc/netns/B /etc/netns/B/extra\n";
    check(&o, want, "hosts")?;
    if !o
        .stderr
        .contains("refusing: /etc/netns/B/hosts exists and nsctl did not write it")
    {
        return Err(format!("hosts: no refusal on stderr:\n{}", o.stderr));
    }
    println!("  names resolve in the lab; foreign hosts files are never touched");
    Ok(())
}
