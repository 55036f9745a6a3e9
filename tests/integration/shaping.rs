//! Shaped links: `rate` on a veth end sets a tbf root qdisc (checked with `tc`), a real TCP
//! transfer runs within 20% of the rate, status sees the shaping changed by hand, apply
//! puts it back or changes it, and it goes when it leaves the file. netem (delay, jitter,
//! loss) is missing from this kernel: apply refuses with exit 4 before changing anything.

use crate::support::{check, sandbox};

const LAB: &str = r#"
cat > /tmp/sh.toml <<'T'
name = "shaped"
[netns.A]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"], rate = "20mbit" }, { netns = "B", name = "eth0", addresses = ["10.0.0.2/24"] }]
T
# measure: bits per second B receives from A over 3 s of a TCP transfer (after 0.5 s).
measure() {
ip netns exec B python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", 5001)); s.listen(1); s.settimeout(10); c, _ = s.accept(); c.settimeout(10)
t0 = start = None; n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    now = time.monotonic()
    t0 = t0 or now
    if now - t0 >= 0.5:
        if start is None: start, n = now, 0
        n += len(b)
        if now - start >= 3: break
print(int(n * 8 / (now - start)))' > /tmp/rate & srv=$!
for i in $(seq 100); do ip netns exec B ss -ltnH | grep -q ':5001' && break; sleep 0.02; done
ip netns exec A python3 -c '
import socket, time
s = socket.create_connection(("10.0.0.2", 5001)); b = b"x" * (1 << 16); end = time.monotonic() + 6
try:
    while time.monotonic() < end: s.sendall(b)
except OSError: pass'
wait $srv; cat /tmp/rate; }
"#;

pub fn shaped_links() -> Result<(), String> {
    let o = sandbox(&format!(
        r#"{LAB}
$NSCTL apply /tmp/sh.toml | sed 's/ in .*//'
tc -n A qdisc show dev eth0 | awk '{{print $2, $4, $7, $8}}'
r=$(measure)
python3 -c "import sys; r = $r; print('rate within 20% of 20mbit' if abs(r - 20e6) <= 4e6 else 'rate off: %d' % r)"
echo "-- changed by hand, then in the file"
tc -n A qdisc replace dev eth0 root tbf rate 5mbit burst 10kb latency 50ms
$NSCTL status /tmp/sh.toml | head -1
$NSCTL apply /tmp/sh.toml > /dev/null; tc -n A qdisc show dev eth0 | awk '{{print $2, $8}}'
sed 's/20mbit/1gbit/' /tmp/sh.toml > /tmp/fast.toml
$NSCTL apply /tmp/fast.toml | sed 's/ in .*//'
tc -n A qdisc show dev eth0 | awk '{{print $2, $8}}'
echo "-- out of the file"
sed 's/, rate = "20mbit"//' /tmp/sh.toml > /tmp/plain.toml
$NSCTL apply --dry-run /tmp/plain.toml | head -1
$NSCTL apply /tmp/plain.toml > /dev/null; tc -n A qdisc show dev eth0 | awk '{{print $2}}'
r=$(measure)
python3 -c "print('unshaped: more than twice as fast' if $r > 40e6 else 'unshaped: only %d' % $r)"
$NSCTL status /tmp/plain.toml | tail -1
$NSCTL destroy /tmp/plain.toml > /dev/null; ls /run/netns | wc -l
echo "-- netem is refused before anything changes"
sed 's/rate = "20mbit"/delay = "10ms", jitter = "2ms", loss = "0.5%"/' /tmp/sh.toml > /tmp/netem.toml
$NSCTL apply /tmp/netem.toml; echo "rc=$?"
$NSCTL apply --dry-run /tmp/netem.toml > /dev/null 2>&1; echo "rc=$?"
ls /run/netns 2>/dev/null | wc -l; ls /run/nsctl/labs 2>/dev/null | grep -c json
echo "-- bad settings"
sed 's/rate = "20mbit"/rate = "20", jitter = "1ms", loss = "200%"/' /tmp/sh.toml > /tmp/bad.toml
$NSCTL apply /tmp/bad.toml; echo "rc=$?"
"#
    ));
    let want = "apply shaped: 3 created, 0 changed, 0 removed, 0 unchanged, 0 failed\n\
tbf root rate 20Mbit\n\
rate within 20% of 20mbit\n\
-- changed by hand, then in the file\n\
shape eth0 rate 20mbit (netns A): tbf with other settings now\n\
tbf 20Mbit\n\
apply shaped: 0 created, 1 changed, 0 removed, 9 unchanged, 0 failed\n\
tbf 1Gbit\n\
-- out of the file\n\
unshape eth0 (netns A): no longer in the file\n\
noqueue\n\
unshaped: more than twice as fast\n\
status shaped: converged\n\
0\n\
-- netem is refused before anything changes\n\
rc=4\n\
rc=4\n\
0\n\
0\n\
-- bad settings\n\
rc=2\n";
    check(&o, want, "shaping")?;
    for line in [
        "apply /tmp/netem.toml: eth0 (netns A) asks for delay, jitter or loss, which needs the kernel's netem queueing discipline (kernel module sch_netem), and this kernel has none; load it (modprobe sch_netem) or take delay, jitter and loss out of the file. Nothing was changed.",
        "/tmp/bad.toml:5:75: rate \"20\" is not a rate from 1kbit to 1tbit; write it like 10mbit, 1.5gbit or 500kbit",
        "/tmp/bad.toml:5:90: jitter varies a delay: give delay too",
        "/tmp/bad.toml:5:104: loss \"200%\" is not a percentage above 0 and at most 100",
    ] {
        if !o.stderr.contains(line) {
            return Err(format!("shaping: stderr lacks {line:?}:\n{}", o.stderr));
        }
    }
    println!("  a 20mbit tbf measured within 20%; netem refused with exit 4");
    Ok(())
}
