//! Lab files shared by src/lab's unit tests, so that a lab several modules test against is
//! written once.

use super::spec::Lab;

/// `text` parsed and validated (as lab "t" when it names none); panics, as a test should,
/// when it does not.
pub(crate) fn lab(text: &str) -> Lab {
    let f = super::file::parse(text).expect("parses");
    super::validate::build(f, "t", false).expect("valid")
}

/// Lab "multi" across two machines: A and bridge lan on h1, B and bridge lan2 on h2; A and B
/// joined by a tunnel, and each by a veth to a port "v" of its machine's bridge (one name in
/// two host namespaces).
pub(crate) const MULTI: &str = r#"
name = "multi"
[hosts.h1]
underlay = "192.0.2.1"
[hosts.h2]
underlay = "192.0.2.2"
[netns.A]
host = "h1"
[netns.B]
host = "h2"
[bridge.lan]
host = "h1"
[bridge.lan2]
host = "h2"
[[veth]]
ends = [{ netns = "A", name = "eth0" }, { netns = "B", name = "eth0" }]
[[veth]]
ends = [{ netns = "A", name = "eth1" }, { name = "v", host = "h1", bridge = "lan" }]
[[veth]]
ends = [{ netns = "B", name = "eth1" }, { name = "v", host = "h2", bridge = "lan2" }]
"#;
