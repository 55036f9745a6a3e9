//! Running scripts inside a private sandbox, and the host snapshot the suite ends with.

use std::path::PathBuf;
use std::process::Command;

/// A lab across two hosts, h1 and h2 (underlays 192.0.2.1 and 192.0.2.2), as a script that
/// writes it to /tmp/multi.toml: a point-to-point tunnel A (h1) <-> B (h2), a bridge lan on
/// h1 with A2 and (through a tunnel) B2 as ports, and two checks across the hosts.
pub const MULTI: &str = r#"
cat > /tmp/multi.toml <<'TOML'
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

[[check]]
from = "A"
to = "B"
ping = true

[[check]]
from = "B2"
to = "10.1.0.1"
ping = true
TOML
"#;

pub fn root_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn nsctl() -> &'static str {
    env!("CARGO_BIN_EXE_nsctl")
}

/// What a sandboxed script printed.
pub struct Out {
    pub stdout: String,
    pub stderr: String,
    pub rc: i32,
}

impl Out {
    /// Fail with everything the script printed.
    pub fn expect_rc(&self, rc: i32, what: &str) -> Result<&Out, String> {
        if self.rc == rc {
            Ok(self)
        } else {
            Err(format!(
                "{what}: rc {} (wanted {rc})\n--- stdout\n{}--- stderr\n{}",
                self.rc, self.stdout, self.stderr
            ))
        }
    }
}

/// Run `script` with bash inside a fresh sandbox (tests/sandbox/run.sh): new mount, net and
/// pid namespaces, tmpfs on /run and /tmp, overlay on /etc. `$NSCTL` is the binary under test.
pub fn sandbox(script: &str) -> Out {
    sandbox_env(script, &[])
}

pub fn sandbox_env(script: &str, env: &[(&str, &str)]) -> Out {
    let run = root_dir().join("tests/sandbox/run.sh");
    let mut cmd = Command::new(run);
    cmd.arg("bash").arg("-c").arg(script).env("NSCTL", nsctl());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().expect("run tests/sandbox/run.sh");
    Out {
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        rc: o.status.code().unwrap_or(-1),
    }
}

fn sh(cmd: &str) -> String {
    let o = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .output()
        .expect("bash");
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// The parts of the host the suite must leave alone: /run/netns, /run/nsctl, /etc/netns, the
/// host's links, addresses (without their lifetimes, which count down), routes, the sysctls
/// labs touch, the nft ruleset, and its mount table (mount point, fs type, source).
pub fn host_state() -> String {
    let mut s = String::new();
    s += &sh("ls -la --time-style=+ /run/netns 2>&1 | sed 1d");
    s += &sh("ls -laR --time-style=+ /run/nsctl 2>&1 | grep -v '^total'");
    s += &sh("ls -la --time-style=+ /etc/netns 2>&1 | sed 1d");
    s += &sh("ip -o addr show | awk '{print $2, $3, $4}'");
    s += &sh("ip route show table all | sed 's/ expires [0-9]*sec//'");
    s += &sh(
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/forwarding \
              /proc/sys/net/ipv4/conf/all/rp_filter /proc/sys/net/ipv6/conf/all/forwarding",
    );
    s += &sh("nft list ruleset 2>&1");
    s += &sh("ip -o link show | awk -F': ' '{print $2}' | sort");
    s += &sh("awk '{for (i = 7; $i != \"-\"; i++); print $5, $(i + 1), $(i + 2)}' /proc/self/mountinfo | sort");
    s += &sh("readlink /proc/self/ns/net /proc/self/ns/mnt");
    s
}

/// The script must exit 0 and print exactly `want`.
pub fn check(o: &Out, want: &str, what: &str) -> Result<(), String> {
    o.expect_rc(0, what)?;
    if o.stdout != want {
        return Err(format!(
            "{what}: wanted:\n{want}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}
