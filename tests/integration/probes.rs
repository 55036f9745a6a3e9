//! `nsctl test`'s TCP checks at scale (issue 22, items 4 and 11): the listener nsctl opens
//! at a target accepts while the checks run, so 2,000 checks to one port all hold (its
//! queue of 128 once filled and the rest went unanswered); a listener is opened in the
//! namespace `to` names even when another holds the same address; the limit on open files
//! is raised for many listeners, and named when it is too low (fewer checks then run at
//! once); an IPv6 target's port is written `[::]:1`.

use crate::support::{check, sandbox};

/// Two namespaces on one veth; `CHECKS` TCP checks from A to B's port 80.
const MANY: &str = r#"
cat > /tmp/many.toml <<'EOF'
name = "many"
[netns.A]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24"] }, { netns = "B", name = "eth0", addresses = ["10.0.0.3/24"] }]
[[check]]
for = "1..2000"
from = "A"
to = "B"
tcp = 80
timeout = 1
[[check]]
from = "A"
to = "::"
tcp = 1
expect = "unreachable"
EOF
"#;

pub fn tcp_checks_at_scale() -> Result<(), String> {
    let o = sandbox(&format!(
        "{MANY}{}",
        r#"
$NSCTL apply /tmp/many.toml > /dev/null || echo "APPLY FAILED"
$NSCTL test /tmp/many.toml > /tmp/out; echo "rc=$?"
grep -cE '^ok +tcp A -> B:80 \(10\.0\.0\.3\) +reachable +reachable ' /tmp/out
grep '^FAIL' /tmp/out | head -3
grep -o 'tcp A -> [^ ]*:1 ' /tmp/out
tail -1 /tmp/out | sed 's/ in .*//'
$NSCTL -j test /tmp/many.toml | python3 -c '
import json, sys; d = json.load(sys.stdin)
print(d["passed"], d["failed"], d["checks"][-1]["check"], d["checks"][-1]["address"], d["checks"][-1]["port"])'
# As many checks at once as the limit on open files leaves room for.
(ulimit -n 1024; $NSCTL test --jobs 1024 /tmp/many.toml | tail -1 | sed 's/ in .*//')
# nsctl's listener is gone with the run that opened it.
ip netns exec B ss -ltnH | wc -l
"#
    ));
    let want = "rc=0\n2000\ntcp A -> [::]:1 \ntest many: all 2001 checks hold\n\
2001 0 tcp A -> [::]:1 :: 1\ntest many: all 2001 checks hold\n0\n";
    check(&o, want, "tcp checks at scale")?;
    println!("  2,000 TCP checks to one listener all hold; [::]:1 is written with brackets");
    Ok(())
}

/// 300 namespaces, each checked from itself, and two that hold the same address, each
/// checked by name: each needs its own listener (once only the first holder of an address
/// got one). 302 listeners need more descriptors than a soft limit of 128 gives: nsctl
/// raises it to the hard limit, and when the hard limit itself is too low the checks it
/// leaves out say so.
pub fn tcp_listeners_per_namespace() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/spots.toml <<'T'
name = "spots"
[netns."n{1..300}"]
[netns.same1]
[netns.same2]
[[veth]]
for = "1..300"
ends = [{ netns = "n{i}", name = "a", addresses = ["10.1.{i / 200}.{i % 200 + 1}/16"] }, { netns = "n{i}", name = "b" }]
[[veth]]
for = "1..2"
ends = [{ netns = "same{i}", name = "a", addresses = ["10.0.0.1/24"] }, { netns = "same{i}", name = "b" }]
[[check]]
for = "1..300"
from = "n{i}"
to = "n{i}"
tcp = 80
timeout = 1
[[check]]
for = "1..2"
from = "same{i}"
to = "same{i}"
tcp = 80
timeout = 1
T
$NSCTL apply /tmp/spots.toml > /dev/null || echo "APPLY FAILED"
# t: how many hold, the first failure and its reason, and the exit code.
t() { "$@" > /tmp/out; rc=$?; echo "ok=$(grep -c '^ok ' /tmp/out) rc=$rc"; grep -m1 '^FAIL' /tmp/out | sed 's/  */ /g; s/ [0-9.]* ms$//'; }
t $NSCTL test /tmp/spots.toml
(ulimit -Sn 128; t $NSCTL test /tmp/spots.toml)
(ulimit -n 300; t $NSCTL test /tmp/spots.toml)
"#,
    );
    let want = "ok=302 rc=0\nok=302 rc=0\nok=233 rc=1\n\
FAIL tcp n234 -> n234:80 (10.1.1.35) reachable error (no listener at the target: the limit on open files (ulimit -n) leaves room for 233 listeners and the checks have 302 targets; raise it)\n";
    check(&o, want, "tcp listeners per namespace")?;
    println!("  each namespace gets its own listener; the open-file limit is raised or named");
    Ok(())
}
