//! `nsctl status --nodes FILE [-j]`: an applied lab node by node (containerlab's `inspect`):
//! each place the lab uses (the host when it holds lab interfaces, then every namespace in
//! file order) with its interfaces, what each one's peer is (the other end of its veth, the
//! far end of a tunnel, the bridge it is a port of), its addresses as the kernel has them and
//! its state. Built from the model (spec.rs) and one observation (observe.rs): no kernel
//! reading of its own. status.rs loads and observes the lab and prints what this makes (exit
//! 0 when every node is [`Node::ok`]); fanout.rs merges every machine's JSON answer into one
//! table for `--all-hosts` ([`from_json`]). Nothing here reads the system or the journal.

use std::collections::HashMap;

use super::observe::{LinkObs, NsObs, Observed, PlaceObs};
use super::spec::{place_name, IfSpec, Lab, Where};
use crate::json::{Array, Val};

/// One interface's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfRow {
    pub name: String,
    /// bridge, veth or vxlan (the end of a veth that crosses to another machine).
    pub kind: &'static str,
    /// The other end (`eth0 (netns A)`, `eth0 (netns B) on h2`); None for a bridge.
    pub peer: Option<String>,
    /// The bridge it is a port of, in the lab.
    pub bridge: Option<String>,
    /// A bridge's ports in the lab.
    pub ports: usize,
    /// Its addresses now (`ADDR/LEN`, without IPv6 link-local ones); the lab's when missing.
    pub addresses: Vec<String>,
    /// up, down or missing.
    pub state: &'static str,
    /// What differs from the lab besides that: `without ADDR/LEN`, `not in br0`.
    pub notes: Vec<String>,
}

/// One place's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// None: the host.
    pub netns: Where,
    /// The machine it is on (a lab across hosts).
    pub machine: Option<String>,
    /// present or missing.
    pub state: &'static str,
    pub interfaces: Vec<IfRow>,
}

impl Node {
    /// Whether the place and all its interfaces are as the lab wants them.
    pub fn ok(&self) -> bool {
        self.state == "present"
            && self
                .interfaces
                .iter()
                .all(|i| i.state == "up" && i.notes.is_empty())
    }
}

/// The other end of every veth end, as messages name it, by (place, name).
fn peers(lab: &Lab) -> HashMap<(&Where, &str), String> {
    let mut m = HashMap::new();
    for [a, b] in &lab.veths {
        m.insert((&a.at, a.name.as_str()), end_name(lab, b));
        m.insert((&b.at, b.name.as_str()), end_name(lab, a));
    }
    for t in &lab.tunnels {
        if let Some(x) = &t.tunnel {
            m.insert((&t.at, t.name.as_str()), x.peer.clone());
        }
    }
    m
}

/// `eth0 (netns A)`, with ` on h2` in a lab across hosts (as machines.rs names a far end).
fn end_name(lab: &Lab, e: &IfSpec) -> String {
    let on = machine(lab, e.host).map_or(String::new(), |m| format!(" on {m}"));
    format!("{} ({}){on}", e.name, place_name(&e.at))
}

fn machine(lab: &Lab, h: Option<u16>) -> Option<String> {
    h.and_then(|h| lab.machines.get(h as usize))
        .map(|m| m.name.clone())
}

/// An address as ip prints it; IPv6 link-local ones (every link has one) are left out.
fn shown(a: &std::net::IpAddr, len: u8) -> Option<String> {
    match a {
        std::net::IpAddr::V6(v) if v.segments()[0] & 0xffc0 == 0xfe80 => None,
        _ => Some(format!("{a}/{len}")),
    }
}

/// One interface's row, from the lab and what its place holds (None: the place is missing).
fn row(lab: &Lab, i: &IfSpec, peer: Option<&String>, place: Option<&PlaceObs>) -> IfRow {
    let is_bridge = lab.index.bridges.contains(&(i.at.clone(), i.name.clone()));
    let kind = if is_bridge {
        "bridge"
    } else if i.tunnel.is_some() {
        "vxlan"
    } else {
        "veth"
    };
    let ports = if is_bridge {
        lab.interfaces(&i.at)
            .filter(|p| p.bridge.as_deref() == Some(i.name.as_str()))
            .count()
    } else {
        0
    };
    let mut r = IfRow {
        name: i.name.clone(),
        kind,
        peer: peer.cloned(),
        bridge: i.bridge.clone(),
        ports,
        addresses: i.addrs.iter().map(|p| p.to_string()).collect(),
        state: "missing",
        notes: Vec::new(),
    };
    let Some((place, link)) = place.and_then(|p| p.links.get(&i.name).map(|l| (p, l))) else {
        return r;
    };
    r.state = if link.up { "up" } else { "down" };
    let mut now: Vec<&(std::net::IpAddr, u8)> =
        place.addrs.get(&link.index).into_iter().flatten().collect();
    now.sort_by_key(|(a, _)| (a.is_ipv6(), *a));
    r.addresses = now.iter().filter_map(|(a, l)| shown(a, *l)).collect();
    for p in &i.addrs {
        if let Some(a) = p.addr {
            if !place.has_addr(link.index, a, p.len) {
                r.notes.push(format!("without {p}"));
            }
        }
    }
    if let Some(b) = &i.bridge {
        if !in_bridge(place, link, b) {
            r.notes.push(format!("not in {b}"));
        }
    }
    r
}

/// Whether `link` is a port of the bridge named `b` in its place.
fn in_bridge(place: &PlaceObs, link: &LinkObs, b: &str) -> bool {
    let master = place.links.get(b).map(|l| l.index);
    master.is_some() && link.master == master
}

/// The table of `lab` as `obs` found it: the host first (when the lab puts interfaces
/// there), then each namespace in file order.
pub fn nodes(lab: &Lab, obs: &Observed) -> Vec<Node> {
    let peers = peers(lab);
    let mut out = Vec::new();
    for at in lab.places() {
        let ns = at.as_deref().and_then(|n| lab.netns(n));
        if at.is_none() && lab.interfaces(&None).next().is_none() {
            continue;
        }
        let present = match &at {
            None => true,
            Some(n) => matches!(obs.names.get(n), Some(NsObs::Bound { .. })),
        };
        let place = if present { obs.places.get(&at) } else { None };
        let interfaces = lab
            .interfaces(&at)
            .map(|i| row(lab, i, peers.get(&(&i.at, i.name.as_str())), place))
            .collect();
        let machine = match ns {
            Some(n) => machine(lab, n.host),
            None => lab.share_name().map(str::to_string),
        };
        out.push(Node {
            netns: at,
            machine,
            state: if present { "present" } else { "missing" },
            interfaces,
        });
    }
    out
}

/// What the PEER column says: the other end, the bridge it is a port of, or a bridge's ports.
fn peer_text(i: &IfRow) -> String {
    match (&i.peer, &i.bridge) {
        _ if i.kind == "bridge" && i.ports == 1 => "bridge of 1 port".into(),
        _ if i.kind == "bridge" => format!("bridge of {} ports", i.ports),
        (Some(p), Some(b)) => format!("{p}, port of {b}"),
        (Some(p), None) => p.clone(),
        (None, Some(b)) => format!("port of {b}"),
        (None, None) => "-".into(),
    }
}

fn state_text(i: &IfRow) -> String {
    let mut s = i.state.to_string();
    for n in &i.notes {
        s += ", ";
        s += n;
    }
    s
}

/// The table as text: one line per interface (a place without any gets one line of its
/// own); `(host)` stands for the host, which no namespace name can be confused with.
pub fn table(nodes: &[Node]) -> String {
    let across = nodes.iter().any(|n| n.machine.is_some());
    let mut rows: Vec<[String; 6]> = vec![[
        "NAMESPACE".into(),
        "MACHINE".into(),
        "INTERFACE".into(),
        "PEER".into(),
        "ADDRESSES".into(),
        "STATE".into(),
    ]];
    for n in nodes {
        let ns = n.netns.clone().unwrap_or_else(|| "(host)".into());
        let m = n.machine.clone().unwrap_or_else(|| "-".into());
        if n.interfaces.is_empty() {
            let st = n.state.to_string();
            rows.push([
                ns.clone(),
                m.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                st,
            ]);
        }
        for i in &n.interfaces {
            let addrs = if i.addresses.is_empty() {
                "-".to_string()
            } else {
                i.addresses.join(" ")
            };
            let st = if n.state == "missing" {
                "missing (no namespace)".to_string()
            } else {
                state_text(i)
            };
            rows.push([
                ns.clone(),
                m.clone(),
                i.name.clone(),
                peer_text(i),
                addrs,
                st,
            ]);
        }
    }
    let mut w = [0usize; 6];
    for r in &rows {
        for (k, c) in r.iter().enumerate() {
            w[k] = w[k].max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in &rows {
        let mut line = String::new();
        for (k, c) in r.iter().enumerate() {
            if k == 1 && !across {
                continue;
            }
            if k == 5 {
                line += c;
            } else {
                line += &format!("{c:<width$}  ", width = w[k]);
            }
        }
        s += line.trim_end();
        s.push('\n');
    }
    s
}

/// The table as one JSON object: `{"lab", "machine", "ok", "nodes": [...]}`.
pub fn json(lab: &Lab, nodes: &[Node], ok: bool) -> Vec<u8> {
    let opt = |s: &Option<String>| -> Vec<u8> { s.clone().unwrap_or_default().into_bytes() };
    let mut a = Array::new(false);
    let w = a.writer();
    w.start_object();
    w.field("lab", Val::Str(lab.name.as_bytes()));
    match lab.share_name() {
        Some(m) => w.field("machine", Val::Str(m.as_bytes())),
        None => w.field("machine", Val::Null),
    }
    w.field("ok", Val::Bool(ok));
    w.name("nodes");
    w.start_array();
    for n in nodes {
        w.start_object();
        match &n.netns {
            Some(ns) => w.field("netns", Val::Str(ns.as_bytes())),
            None => w.field("netns", Val::Null),
        }
        match &n.machine {
            Some(m) => w.field("machine", Val::Str(m.as_bytes())),
            None => w.field("machine", Val::Null),
        }
        w.field("state", Val::Str(n.state.as_bytes()));
        w.name("interfaces");
        w.start_array();
        for i in &n.interfaces {
            w.start_object();
            w.field("name", Val::Str(i.name.as_bytes()));
            w.field("kind", Val::Str(i.kind.as_bytes()));
            let (peer, bridge) = (opt(&i.peer), opt(&i.bridge));
            w.field(
                "peer",
                if i.peer.is_some() {
                    Val::Str(&peer)
                } else {
                    Val::Null
                },
            );
            w.field(
                "bridge",
                if i.bridge.is_some() {
                    Val::Str(&bridge)
                } else {
                    Val::Null
                },
            );
            w.str_array("addresses", &i.addresses);
            w.field(
                "ports",
                Val::Int(i64::try_from(i.ports).unwrap_or(i64::MAX)),
            );
            w.field("state", Val::Str(i.state.as_bytes()));
            w.str_array("notes", &i.notes);
            w.end_object();
        }
        w.end_array();
        w.end_object();
    }
    w.end_array();
    w.end_object();
    let s = a.finish();
    // The array's `[` and `]\n` around the one object.
    let mut v = s[1..s.len() - 2].to_vec();
    v.push(b'\n');
    v
}

/// `s` if it is one of `known`, else the first of them: a machine's answer is read back
/// into the words this file uses, whatever it holds.
fn word(s: Option<&str>, known: &[&'static str]) -> &'static str {
    known
        .iter()
        .find(|k| Some(**k) == s)
        .or(known.first())
        .copied()
        .unwrap_or_default()
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// The nodes of one machine's `status --nodes -j` answer (for `--all-hosts`); None when the
/// answer is not one (an older nsctl there, or an error).
pub fn from_json(v: &serde_json::Value) -> Option<Vec<Node>> {
    let text =
        |x: &serde_json::Value, k: &str| x.get(k).and_then(|s| s.as_str()).map(str::to_string);
    let mut out = Vec::new();
    for n in v.get("nodes")?.as_array()? {
        let mut interfaces = Vec::new();
        for i in n
            .get("interfaces")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
        {
            interfaces.push(IfRow {
                name: text(i, "name").unwrap_or_default(),
                kind: word(
                    i.get("kind").and_then(|x| x.as_str()),
                    &["veth", "bridge", "vxlan"],
                ),
                peer: text(i, "peer"),
                bridge: text(i, "bridge"),
                ports: i
                    .get("ports")
                    .and_then(|x| x.as_u64())
                    .and_then(|p| usize::try_from(p).ok())
                    .unwrap_or(0),
                addresses: strings(i.get("addresses").unwrap_or(&serde_json::Value::Null)),
                state: word(
                    i.get("state").and_then(|x| x.as_str()),
                    &["missing", "up", "down"],
                ),
                notes: strings(i.get("notes").unwrap_or(&serde_json::Value::Null)),
            });
        }
        out.push(Node {
            netns: text(n, "netns"),
            machine: text(n, "machine"),
            state: word(
                n.get("state").and_then(|x| x.as_str()),
                &["missing", "present"],
            ),
            interfaces,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::lab as lab_of;

    fn lab() -> Lab {
        let text = r#"
name = "t"
[netns.A]
[netns.B]
[netns.C]
[bridge.br0]
addresses = ["10.0.0.1/24"]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24", "2001:db8::2/64"] }, { name = "va", bridge = "br0" }]
[[veth]]
ends = [{ netns = "B", name = "x1" }, { netns = "C", name = "x2" }]
"#;
        lab_of(text)
    }

    fn link(index: u32, up: bool, master: Option<u32>) -> LinkObs {
        LinkObs {
            index,
            up,
            master,
            ..Default::default()
        }
    }

    /// The host and A as applied, but A's IPv6 address is missing and only a link-local one
    /// is there; B is bound but its link is gone; C is not there at all.
    fn observed() -> Observed {
        let ip = |s: &str| s.parse::<std::net::IpAddr>().expect("an address");
        let mut o = Observed::default();
        let mut host = PlaceObs::default();
        host.links.insert("br0".into(), link(5, true, None));
        host.links.insert("va".into(), link(6, true, Some(5)));
        host.addrs.insert(5, vec![(ip("10.0.0.1"), 24)]);
        o.places.insert(None, host);
        let mut a = PlaceObs::default();
        a.links.insert("eth0".into(), link(2, false, None));
        a.addrs
            .insert(2, vec![(ip("fe80::1"), 64), (ip("10.0.0.2"), 24)]);
        o.places.insert(Some("A".into()), a);
        o.places.insert(Some("B".into()), PlaceObs::default());
        for n in ["A", "B"] {
            o.names.insert(n.into(), NsObs::Bound { cookie: None });
        }
        o
    }

    #[test]
    fn table_of_model_and_observation() {
        let l = lab();
        let n = nodes(&l, &observed());
        assert_eq!(
            table(&n),
            "\
NAMESPACE  INTERFACE  PEER                         ADDRESSES    STATE
(host)     br0        bridge of 1 port             10.0.0.1/24  up
(host)     va         eth0 (netns A), port of br0  -            up
A          eth0       va (host)                    10.0.0.2/24  down, without 2001:db8::2/64
B          x1         x2 (netns C)                 -            missing
C          x2         x1 (netns B)                 -            missing (no namespace)
"
        );
        assert!(!n.iter().all(Node::ok));
        let j = String::from_utf8(json(&l, &n, false)).expect("utf-8");
        assert!(j.starts_with(r#"{"lab":"t","machine":null,"ok":false,"nodes":[{"netns":null,"#));
        assert!(j.ends_with("}]}]}\n"), "{j}");
        let v: serde_json::Value = serde_json::from_str(&j).expect("JSON");
        assert_eq!(from_json(&v), Some(n));
    }

    #[test]
    fn a_namespace_without_interfaces_has_a_row() {
        let l = lab_of("name = \"e\"\n[netns.E]\n");
        let n = nodes(&l, &Observed::default());
        assert_eq!(
            table(&n),
            "NAMESPACE  INTERFACE  PEER  ADDRESSES  STATE\nE          -          -     -          missing\n"
        );
    }
}
