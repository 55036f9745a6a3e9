//! `link show`, `addr show` and `route show` (plain, -br, -j, -j -p, -4/-6, dev NAME, -n NS,
//! and their errors) compared byte for byte with the real `ip` on the same objects.

use crate::support::sandbox;

const SCRIPT: &str = r#"
set -e
ip netns add ns1
ip link add v0 type veth peer name v1
ip link add a0 type veth peer name a1 netns ns1
ip link add br0 type bridge
ip link set v0 master br0 up
ip link set br0 up
ip addr add 10.0.0.1/24 dev br0
ip addr add 10.5.0.1/24 brd + dev br0
ip addr add fd00::1/64 dev br0 nodad
ip addr add 10.7.0.1/24 dev a0
ip link set lo up
ip route add 10.9.0.0/16 via 10.0.0.7
ip route add 10.8.0.0/16 dev br0 proto static
ip route add 192.0.2.7 dev br0 metric 5
ip link set a0 up
ip link set v1 alias 'peer of v0'
ping -q -c 5 -s 60000 -i 0.2 127.0.0.1 > /dev/null
sleep 1.5
set +e
fail=0
n=0
for args in "link" "link show" "link show dev v0" "link show br0" "-br link" "-j link" "-j -p link" "-br -j link" "addr" "addr show dev br0" "-br addr" "-j addr" "-j -p addr" "-br -j addr" "-4 addr" "-6 addr" "route" "route show dev br0" "-j route" "-j -p route" "-6 route" "-n ns1 link" "-n ns1 addr" "-n ns1 -j link" "link show nosuch" "route show dev nosuch" \
  "link show up" "link show master br0" "link show nomaster" "link show type veth" "link show type bridge" \
  "link show type bogus" "-j link show type bogus" "-j link show up" "link show type bridge_slave" \
  "-j link show type bridge_slave" "link show master nosuch" "link show dev v0 up" "link show dev v0 master br0" \
  "-j link show dev v1 up" "-j -p link show dev v1 up" "link show group 0" "link show group default" "link show group bogus" \
  "-br link show master br0" "-br link show type bridge" "link show up type veth" "link show dev v1" \
  "-s link show dev lo" "-s -s link show lo" "-s -j link show dev lo" "-s -s -j link show dev lo" \
  "-s -h link show lo" "-s -h -iec link show lo" "-s -br link show lo" "-s -j -br link show lo" "-s link" \
  "-s -s link" "-s -j -p link show v1"; do
  # Twice at most: a state change between the two runs (carrier, DAD) is not a difference.
  for try in 1 2; do
    ip $args > /tmp/i.out 2>&1; echo "rc=$?" >> /tmp/i.out
    $NSCTL $args > /tmp/n.out 2>&1; echo "rc=$?" >> /tmp/n.out
    cmp -s /tmp/i.out /tmp/n.out && break
  done
  if cmp -s /tmp/i.out /tmp/n.out; then n=$((n + 1)); else echo "DIFF: $args"; diff /tmp/i.out /tmp/n.out | head -20; fail=1; fi
done
echo "compared $n forms, fail=$fail"
"#;

/// How many forms the script compares (each one in its `for args in ...` list).
const FORMS: usize = 59;

pub fn show_matches_ip() -> Result<(), String> {
    let o = sandbox(SCRIPT);
    o.expect_rc(0, "show")?;
    let last = o.stdout.lines().last().unwrap_or_default();
    if last != format!("compared {FORMS} forms, fail=0") {
        return Err(format!(
            "wanted {FORMS} forms compared and equal:\n{}{}",
            o.stdout, o.stderr
        ));
    }
    println!("  show: {}", o.stdout.trim());
    Ok(())
}
