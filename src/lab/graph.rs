//! `nsctl graph FILE [--format dot|mermaid|svg] [--live]`: a picture of a lab's topology.
//!
//! The nodes are the lab's namespaces, its bridges, the host (when something of the lab is
//! in it) and its NAT rules; each veth pair is an edge between the places (or bridges) of
//! its two ends, labelled with the interface names and addresses. DOT is for Graphviz,
//! Mermaid for READMEs and issues, and SVG is drawn here with a simple layered layout (no
//! external program). With `--live` each object carries the lab's current state: present,
//! missing or different, from the same plan `status` reports.

use std::collections::HashMap;
use std::fmt::Write;

use super::plan::{Op, Plan};
use super::spec::{IfSpec, Lab, Where};

/// An object's state against the system (`--live`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Present,
    Missing,
    Different,
}

impl State {
    fn word(self) -> &'static str {
        match self {
            State::Present => "present",
            State::Missing => "missing",
            State::Different => "different",
        }
    }

    fn colour(self) -> &'static str {
        match self {
            State::Present => "#2e7d32",
            State::Missing => "#c62828",
            State::Different => "#ef6c00",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Host,
    Netns,
    Bridge,
    Nat,
}

#[derive(Debug, Clone)]
struct Node {
    id: String,
    label: Vec<String>,
    shape: Shape,
    state: Option<State>,
    /// The machine it is on, in a lab across hosts: nodes are grouped by it.
    group: Option<u16>,
}

#[derive(Debug, Clone)]
struct Edge {
    a: String,
    b: String,
    label: String,
    state: Option<State>,
}

/// The picture, before it is written in one format or another.
#[derive(Debug, Default)]
pub struct Graph {
    name: String,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
    /// The groups' titles, by machine: `h1 (192.0.2.1)`.
    groups: Vec<String>,
}

/// A place's node: a namespace, or the host namespace (of machine `host` in a lab across
/// hosts, where each machine has its own).
fn place_id(at: &Where, host: Option<u16>) -> String {
    match (at, host) {
        (Some(ns), _) => format!("netns:{ns}"),
        (None, Some(h)) => format!("host:{h}"),
        (None, None) => "host".into(),
    }
}

/// A bridge's node. Ids must not meet: a namespace's name may hold ':' (and an interface's
/// too), but neither holds '/'; each machine of a lab across hosts has its own host bridges.
fn bridge_id(at: &Where, host: Option<u16>, name: &str) -> String {
    match (at, host) {
        (Some(ns), _) => format!("bridge:{ns}/{name}"),
        (None, Some(h)) => format!("bridge:host:{h}:{name}"),
        (None, None) => format!("bridge::{name}"),
    }
}

fn end_id(e: &IfSpec) -> String {
    match &e.bridge {
        Some(b) => bridge_id(&e.at, e.host, b),
        None => place_id(&e.at, e.host),
    }
}

fn end_label(e: &IfSpec) -> String {
    let mut s = e.name.clone();
    for a in &e.addrs {
        let _ = write!(s, " {a}");
    }
    s
}

/// What `--live` says of each object, from the plan `status` reports.
#[derive(Default)]
struct Live {
    netns: HashMap<String, State>,
    links: HashMap<(Where, String), State>,
    host: Option<State>,
    nat: Option<State>,
}

impl Live {
    fn of(p: &Plan) -> Live {
        let mut l = Live::default();
        let mark = |m: &mut HashMap<(Where, String), State>, at: &Where, n: &str, s| {
            let e = m.entry((at.clone(), n.to_string())).or_insert(s);
            if s == State::Missing {
                *e = s;
            }
        };
        for a in &p.actions {
            match &a.op {
                Op::CreateNetns { name, .. } | Op::AdoptNetns { name } => {
                    l.netns.insert(name.clone(), State::Missing);
                }
                Op::CreateBridge { at, name, .. } => {
                    mark(&mut l.links, at, name, State::Missing);
                }
                Op::CreateVeth { maker, peer, .. } => {
                    mark(&mut l.links, &maker.at, &maker.name, State::Missing);
                    mark(&mut l.links, &peer.at, &peer.name, State::Missing);
                }
                Op::SetLink { at, name, .. }
                | Op::Snooping { at, name }
                | Op::AdoptLink { at, name, .. } => {
                    mark(&mut l.links, at, name, State::Different);
                }
                Op::AddAddr { at, dev, .. } | Op::DelAddr { at, dev, .. } => {
                    mark(&mut l.links, at, dev, State::Different);
                }
                Op::InstallNat | Op::RemoveNat => l.nat = Some(State::Missing),
                op => {
                    let at = op.place().cloned().or(match op {
                        Op::DelRoute { at, .. } | Op::RestoreSysctl { at, .. } => Some(at.clone()),
                        _ => None,
                    });
                    match at {
                        Some(Some(ns)) => {
                            l.netns.entry(ns).or_insert(State::Different);
                        }
                        Some(None) => l.host = Some(State::Different),
                        None => {}
                    }
                }
            }
        }
        l
    }

    fn link(&self, at: &Where, name: &str) -> State {
        self.links
            .get(&(at.clone(), name.to_string()))
            .copied()
            .unwrap_or(State::Present)
    }
}

/// The picture of `lab`; with a plan, marked by each object's state.
pub fn build(lab: &Lab, plan: Option<&Plan>) -> Graph {
    let live = plan.map(Live::of);
    let live = live.as_ref();
    let mut g = Graph {
        name: lab.name.clone(),
        groups: lab
            .machines
            .iter()
            .map(|m| format!("{} ({})", m.name, m.underlay))
            .collect(),
        ..Default::default()
    };
    let hosts = host_places(lab);
    g.hosts(lab, &hosts, live);
    g.namespaces(lab, live);
    g.bridges(lab, live);
    g.veths(lab, live);
    g.nat(lab, &hosts, live);
    g
}

/// The host namespaces drawn: every machine's across hosts, else the host's if the lab uses it.
fn host_places(lab: &Lab) -> Vec<Option<u16>> {
    let in_host = !lab.host_routes.is_empty()
        || !lab.host_sysctls.is_empty()
        || !lab.nat.is_empty()
        || lab.veths.iter().flatten().any(|e| e.at.is_none())
        || lab.bridges.iter().any(|b| b.at.is_none());
    // In a lab across hosts every machine has its host namespace (and its underlay).
    if !lab.machines.is_empty() {
        (0..lab.machines.len() as u16).map(Some).collect()
    } else if in_host {
        vec![None]
    } else {
        Vec::new()
    }
}

/// A veth's state from its two ends': missing if either is, else different if either is.
fn veth_state(l: &Live, x: &IfSpec, y: &IfSpec) -> State {
    let (s1, s2) = (l.link(&x.at, &x.name), l.link(&y.at, &y.name));
    if s1 == State::Missing || s2 == State::Missing {
        State::Missing
    } else if s1 == State::Different || s2 == State::Different {
        State::Different
    } else {
        State::Present
    }
}

impl Graph {
    /// A node for each host namespace in `hosts`, labelled with the host's routes.
    fn hosts(&mut self, lab: &Lab, hosts: &[Option<u16>], live: Option<&Live>) {
        for &h in hosts {
            let mut label = vec!["host".to_string()];
            for r in &lab.host_routes {
                label.push(format!("route {r}"));
            }
            self.nodes.push(Node {
                id: place_id(&None, h),
                label,
                shape: Shape::Host,
                state: live.map(|l| l.host.unwrap_or(State::Present)),
                group: h,
            });
        }
    }

    /// A node for each namespace, labelled with its routes.
    fn namespaces(&mut self, lab: &Lab, live: Option<&Live>) {
        for ns in &lab.namespaces {
            let mut label = vec![ns.name.clone()];
            for r in &ns.routes {
                label.push(format!("route {r}"));
            }
            self.nodes.push(Node {
                id: format!("netns:{}", ns.name),
                label,
                shape: Shape::Netns,
                state: live.map(|l| l.netns.get(&ns.name).copied().unwrap_or(State::Present)),
                group: ns.host,
            });
        }
    }

    /// A node for each bridge, with an edge from the place it lives in.
    fn bridges(&mut self, lab: &Lab, live: Option<&Live>) {
        for b in &lab.bridges {
            let mut label = vec![b.name.clone()];
            label.extend(b.addrs.iter().map(|a| a.to_string()));
            let id = bridge_id(&b.at, b.host, &b.name);
            let state = live.map(|l| l.link(&b.at, &b.name));
            self.nodes.push(Node {
                id: id.clone(),
                label,
                shape: Shape::Bridge,
                state,
                group: b.host,
            });
            // A bridge lives in a place: the place is on it (with the bridge's addresses).
            self.edges.push(Edge {
                a: place_id(&b.at, b.host),
                b: id,
                label: String::new(),
                state,
            });
        }
    }

    /// An edge for each veth between its ends' places or bridges, labelled with both ends.
    fn veths(&mut self, lab: &Lab, live: Option<&Live>) {
        for [x, y] in &lab.veths {
            let state = live.map(|l| veth_state(l, x, y));
            // A veth whose ends are on two machines is a VXLAN link between them (ends have a
            // machine only in a file that names machines).
            let vxlan = if x.host != y.host { " (vxlan)" } else { "" };
            self.edges.push(Edge {
                a: end_id(x),
                b: end_id(y),
                label: format!("{} — {}{vxlan}", end_label(x), end_label(y)),
                state,
            });
        }
    }

    /// A node for each NAT rule, with an edge from each host namespace in `hosts`.
    fn nat(&mut self, lab: &Lab, hosts: &[Option<u16>], live: Option<&Live>) {
        for (k, (src, out)) in lab.nat.iter().enumerate() {
            let id = format!("nat:{k}");
            let mut label = vec![format!("NAT {src}")];
            if let Some(o) = out {
                label.push(format!("out {o}"));
            }
            self.nodes.push(Node {
                id: id.clone(),
                label,
                shape: Shape::Nat,
                state: live.map(|l| l.nat.unwrap_or(State::Present)),
                group: None,
            });
            // NAT is set on every machine's host namespace.
            for &h in hosts {
                self.edges.push(Edge {
                    a: place_id(&None, h),
                    b: id.clone(),
                    label: String::new(),
                    state: None,
                });
            }
        }
    }
}

/// A DOT quoted string. Graphviz reads `\` escapes in it (`\N` is the node's name) and
/// then HTML entities in labels (`&lt;` shows as `<`), so `\`, `"` and `&` are escaped.
fn dot_quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            '&' => o.push_str("&amp;"),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn with_state(label: &[String], state: Option<State>) -> Vec<String> {
    let mut l = label.to_vec();
    if let Some(s) = state {
        l.push(format!("[{}]", s.word()));
    }
    l
}

/// Graphviz DOT.
pub fn dot(g: &Graph) -> String {
    let mut s = format!("graph {} {{\n", dot_quote(&g.name));
    s += "  graph [rankdir=LR, fontname=\"sans-serif\"];\n";
    s += "  node [fontname=\"sans-serif\"];\n  edge [fontname=\"sans-serif\", fontsize=10];\n";
    for (k, title) in g.groups.iter().enumerate() {
        let _ = writeln!(
            s,
            "  subgraph {} {{\n    label={};\n    style=rounded;",
            dot_quote(&format!("cluster_{k}")),
            dot_quote(title)
        );
        for n in g.nodes.iter().filter(|n| n.group == Some(k as u16)) {
            let _ = writeln!(s, "    {};", dot_quote(&n.id));
        }
        s += "  }\n";
    }
    for n in &g.nodes {
        let shape = match n.shape {
            Shape::Host => "house",
            Shape::Netns => "box",
            Shape::Bridge => "ellipse",
            Shape::Nat => "note",
        };
        let label = with_state(&n.label, n.state).join("\n");
        let _ = write!(
            s,
            "  {} [label={}, shape={shape}",
            dot_quote(&n.id),
            dot_quote(&label)
        );
        if let Some(st) = n.state {
            let _ = write!(s, ", color={}", dot_quote(st.colour()));
        }
        s += "];\n";
    }
    for e in &g.edges {
        let _ = write!(s, "  {} -- {}", dot_quote(&e.a), dot_quote(&e.b));
        let mut attrs = Vec::new();
        if !e.label.is_empty() {
            attrs.push(format!("label={}", dot_quote(&e.label)));
        }
        if let Some(st) = e.state {
            attrs.push(format!("color={}", dot_quote(st.colour())));
            if st == State::Missing {
                attrs.push("style=dashed".into());
            }
        }
        if !attrs.is_empty() {
            let _ = write!(s, " [{}]", attrs.join(", "));
        }
        s += ";\n";
    }
    s += "}\n";
    s
}

/// Text for a quoted Mermaid label. Its renderers turn labels into HTML, and Mermaid reads
/// `#name;` as an entity, a backtick as the start of Markdown, `"` as the label's end and
/// `:::` as a class (its preprocessor also edits lines holding `style`, ':' and '#'), so
/// everything but letters, digits and a few plain signs goes as a numeric entity code
/// (`#60;` for `<`, `#58;` for ':'), which shows as the character itself and is never
/// read as markup.
fn mermaid_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || " .,/-_()".contains(c) {
            o.push(c);
        } else {
            let _ = write!(o, "#{};", u32::from(c));
        }
    }
    o
}

/// Mermaid (`graph LR`): node ids are `nK` and groups `mK` (never a name), labels quoted
/// and escaped by [`mermaid_text`].
pub fn mermaid(g: &Graph) -> String {
    let ids: HashMap<&str, String> = g
        .nodes
        .iter()
        .enumerate()
        .map(|(k, n)| (n.id.as_str(), format!("n{k}")))
        .collect();
    let lines = |l: &[String]| {
        l.iter()
            .map(|x| mermaid_text(x))
            .collect::<Vec<_>>()
            .join("<br/>")
    };
    let mut s = String::from("graph LR\n");
    for n in &g.nodes {
        let label = lines(&with_state(&n.label, n.state));
        let (open, close) = match n.shape {
            Shape::Host => ("[/", "\\]"),
            Shape::Netns => ("[", "]"),
            Shape::Bridge => ("((", "))"),
            Shape::Nat => ("{{", "}}"),
        };
        let _ = writeln!(s, "  {}{open}\"{label}\"{close}", ids[n.id.as_str()]);
    }
    for (k, title) in g.groups.iter().enumerate() {
        let _ = writeln!(s, "  subgraph m{k} [\"{}\"]", mermaid_text(title));
        for n in g.nodes.iter().filter(|n| n.group == Some(k as u16)) {
            let _ = writeln!(s, "    {}", ids[n.id.as_str()]);
        }
        s += "  end\n";
    }
    // linkStyle counts the links drawn, in order.
    let mut drawn = 0usize;
    for e in &g.edges {
        let (Some(a), Some(b)) = (ids.get(e.a.as_str()), ids.get(e.b.as_str())) else {
            continue;
        };
        let link = if e.state == Some(State::Missing) {
            "-.-"
        } else {
            "---"
        };
        if e.label.is_empty() {
            let _ = writeln!(s, "  {a} {link} {b}");
        } else {
            let _ = writeln!(s, "  {a} {link}|\"{}\"| {b}", mermaid_text(&e.label));
        }
        if let Some(st) = e.state {
            let _ = writeln!(s, "  linkStyle {drawn} stroke:{}", st.colour());
        }
        drawn += 1;
    }
    for n in &g.nodes {
        if let Some(st) = n.state {
            let _ = writeln!(s, "  style {} stroke:{}", ids[n.id.as_str()], st.colour());
        }
    }
    s
}

/// Text for SVG, in an element or a `"`-quoted attribute. XML has no way to write most
/// control characters at all: they show as U+FFFD (the lab file's checks refuse them in
/// names already).
fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\t' | '\n' => o.push(c),
            c if c.is_control() => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// SVG with a layered layout: the host, then bridges, then namespaces, in columns; each node
/// a box with its label lines; edges straight, labelled at their middle.
pub fn svg(g: &Graph) -> String {
    const COL: f64 = 330.0;
    const ROW: f64 = 24.0;
    const GAP: f64 = 30.0;
    const WIDTH: f64 = 220.0;
    let column = |s: Shape| match s {
        Shape::Nat => 0,
        Shape::Host => 1,
        Shape::Bridge => 2,
        Shape::Netns => 3,
    };
    let mut y = [GAP; 4];
    let mut pos: HashMap<&str, (f64, f64, f64)> = HashMap::new();
    let mut boxes = String::new();
    for n in &g.nodes {
        let c = column(n.shape);
        let lines = with_state(&n.label, n.state);
        let h = ROW * lines.len() as f64 + 10.0;
        let (x, top) = (GAP + COL * c as f64, y[c]);
        y[c] += h + GAP;
        pos.insert(n.id.as_str(), (x, top, h));
        let stroke = n.state.map_or("#37474f", State::colour);
        // Machines are told apart by the fill (and named in each node's title).
        const FILLS: [&str; 6] = [
            "#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5", "#fffde7", "#e0f7fa",
        ];
        let fill = n
            .group
            .map_or("#fafafa", |k| FILLS[k as usize % FILLS.len()]);
        let lines: Vec<String> = match n.group.and_then(|k| g.groups.get(k as usize)) {
            Some(t) => std::iter::once(format!("{} @ {}", lines[0], t))
                .chain(lines[1..].iter().cloned())
                .collect(),
            None => lines,
        };
        let rx = match n.shape {
            Shape::Bridge => 20,
            _ => 4,
        };
        let _ = writeln!(
            boxes,
            "  <g class=\"node\" id=\"{}\">\n    <rect x=\"{x}\" y=\"{top}\" width=\"{WIDTH}\" \
             height=\"{h}\" rx=\"{rx}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"2\"/>",
            xml(&n.id)
        );
        for (k, line) in lines.iter().enumerate() {
            let weight = if k == 0 { " font-weight=\"bold\"" } else { "" };
            let _ = writeln!(
                boxes,
                "    <text x=\"{}\" y=\"{}\"{weight}>{}</text>",
                x + 10.0,
                top + ROW * (k as f64 + 1.0),
                xml(line)
            );
        }
        boxes += "  </g>\n";
    }
    let mut lines = String::new();
    for e in &g.edges {
        let (Some(&(ax, at, ah)), Some(&(bx, bt, bh))) =
            (pos.get(e.a.as_str()), pos.get(e.b.as_str()))
        else {
            continue;
        };
        let (x1, y1) = (ax + WIDTH / 2.0, at + ah / 2.0);
        let (x2, y2) = (bx + WIDTH / 2.0, bt + bh / 2.0);
        let stroke = e.state.map_or("#78909c", State::colour);
        let dash = if e.state == Some(State::Missing) {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            lines,
            "  <line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{stroke}\" \
             stroke-width=\"2\"{dash}/>"
        );
        if !e.label.is_empty() {
            let _ = writeln!(
                lines,
                "  <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                (x1 + x2) / 2.0,
                (y1 + y2) / 2.0 - 4.0,
                xml(&e.label)
            );
        }
    }
    let w = GAP * 2.0 + COL * 3.0 + WIDTH;
    let h = y.iter().copied().fold(0.0, f64::max) + GAP;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" \
         font-size=\"13\">\n  <title>{}</title>\n{lines}{boxes}</svg>\n",
        xml(&g.name)
    )
}

/// `nsctl graph`: the lab file's topology (and with `--live`, its state) as a picture.
pub fn run(a: &super::args::GraphArgs) -> Result<i32, super::error::LabError> {
    let lab = super::session::load(&a.file)?;
    let plan = if a.live {
        let j = super::session::journal(&lab.name)?;
        let obs = super::observe::observe(&lab, &j, false)?;
        Some(super::plan::plan(
            &lab,
            &obs,
            &j,
            super::plan::Opts { adopt: false },
        ))
    } else {
        None
    };
    let g = build(&lab, plan.as_ref());
    let text = match a.format {
        super::args::Format::Dot => dot(&g),
        super::args::Format::Mermaid => mermaid(&g),
        super::args::Format::Svg => svg(&g),
    };
    crate::output::out(text.as_bytes());
    Ok(super::error::exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::fixtures::{lab as lab_of, MULTI};

    fn lab() -> Lab {
        let text = r#"
name = "t"
[netns.A]
routes = ["default via 10.0.0.1"]
[netns.B]
[bridge.br0]
addresses = ["10.0.0.1/24"]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.2/24"] }, { name = "va", bridge = "br0" }]
[[veth]]
ends = [{ netns = "A", name = "x0" }, { netns = "B", name = "x1" }]
[[nat]]
source = "10.0.0.0/24"
"#;
        lab_of(text)
    }

    #[test]
    fn every_object_is_drawn() {
        let g = build(&lab(), None);
        let d = dot(&g);
        for s in [
            "\"netns:A\"",
            "\"netns:B\"",
            "\"bridge::br0\"",
            "\"host\"",
            "NAT 10.0.0.0/24",
            "\"netns:A\" -- \"bridge::br0\" [label=\"eth0 10.0.0.2/24 — va\"]",
            "\"netns:A\" -- \"netns:B\"",
        ] {
            assert!(d.contains(s), "{s} not in\n{d}");
        }
        let m = mermaid(&g);
        assert!(m.starts_with("graph LR\n") && m.contains("eth0 10.0.0.2/24"));
        let s = svg(&g);
        assert!(s.contains("<g class=\"node\" id=\"netns:B\">"));
    }

    #[test]
    fn machines_are_groups() {
        let g = build(&lab_of(MULTI), None);
        let d = dot(&g);
        for s in [
            "subgraph \"cluster_0\" {\n    label=\"h1 (192.0.2.1)\";\n    style=rounded;\n    \"host:0\";\n    \"netns:A\";\n    \"bridge:host:0:lan\";\n  }",
            "subgraph \"cluster_1\" {\n    label=\"h2 (192.0.2.2)\";\n    style=rounded;\n    \"host:1\";\n    \"netns:B\";\n    \"bridge:host:1:lan2\";\n  }",
            "\"netns:A\" -- \"netns:B\" [label=\"eth0 — eth0 (vxlan)\"]",
            "\"host:0\" -- \"bridge:host:0:lan\"",
            "\"netns:B\" -- \"bridge:host:1:lan2\" [label=\"eth1 — v\"]",
        ] {
            assert!(d.contains(s), "{s} not in\n{d}");
        }
        let m = mermaid(&g);
        assert!(m.contains("subgraph m1 [\"h2 (192.0.2.2)\"]"), "{m}");
        let s = svg(&g);
        assert!(
            s.contains("A @ h1 (192.0.2.1)") && s.contains("#fff3e0"),
            "{s}"
        );
    }

    /// Names a lab file allows that mean something to a renderer: HTML, quotes,
    /// backslashes, entities (Mermaid's `#lt;` and HTML's `&lt;`), Markdown, brackets.
    const HOSTILE: [&str; 6] = [
        "<img src=x onerror=alert(1)>",
        "a\"b\\c\\",
        "x]y}z)",
        "#lt;&lt;&amp",
        "`**m**`",
        "s:::c style:#1;",
    ];

    /// A bridge name (an interface name: no spaces or '/') of the same kind.
    const BRIDGE: &str = "b\\<&'>\"]}";

    /// A lab of the hostile names: each namespace on the hostile bridge, its end named
    /// hostilely too.
    fn hostile() -> Graph {
        let q = |n: &str| n.replace('\\', "\\\\").replace('"', "\\\"");
        let b = q(BRIDGE);
        let mut text = format!("name = \"h\"\n[bridge.\"{b}\"]\naddresses = [\"10.0.0.1/24\"]\n");
        for (k, n) in HOSTILE.iter().enumerate() {
            let n = q(n);
            text += &format!(
                "[netns.\"{n}\"]\n[[veth]]\nends = [{{ netns = \"{n}\", name = \"e<{k}>\\\"&\", addresses = [\"10.0.0.{}/24\"] }}, {{ name = \"v{k}\", bridge = \"{b}\" }}]\n",
                k + 2
            );
        }
        build(&lab_of(&text), None)
    }

    /// Mermaid's `#N;` entity codes, read back.
    fn unmermaid(s: &str) -> String {
        let mut o = String::new();
        let mut rest = s;
        while let Some(k) = rest.find('#') {
            o += &rest[..k];
            let end = rest[k..].find(';').unwrap() + k;
            let n: u32 = rest[k + 1..end].parse().unwrap();
            o.push(char::from_u32(n).unwrap());
            rest = &rest[end + 1..];
        }
        o + rest
    }

    #[test]
    fn mermaid_labels_hold_no_markup() {
        let m = mermaid(&hostile());
        let mut labels = Vec::new();
        for line in m.lines().skip(1) {
            let t = line.trim_start();
            // Ids are ours: nK, mK.
            let id: String = t.chars().take_while(|c| !" [({/".contains(*c)).collect();
            assert!(
                ["n", "m", "end", "linkStyle", "style", "subgraph"]
                    .iter()
                    .any(|p| id.starts_with(p))
                    && id.chars().all(|c| c.is_ascii_alphanumeric()),
                "{line}"
            );
            // Exactly the two quotes around a label; inside, no markup but our line breaks.
            assert!(matches!(t.matches('"').count(), 0 | 2), "{line}");
            if let (Some(a), Some(b)) = (t.find('"'), t.rfind('"')) {
                let inner = &t[a + 1..b];
                let plain = inner.replace("<br/>", "");
                for bad in ['<', '>', '&', '`', '"', ':', '\\', '[', ']', '{', '}', '|'] {
                    assert!(!plain.contains(bad), "{bad} in {line}");
                }
                labels.extend(inner.split("<br/>").map(unmermaid));
            }
        }
        // What the entity codes stand for is the names themselves.
        for n in HOSTILE {
            assert!(labels.iter().any(|l| l == n), "{n} not in {labels:?}");
        }
        assert!(labels.iter().any(|l| l == BRIDGE), "{labels:?}");
        assert!(
            labels.iter().any(|l| l == "e<0>\"& 10.0.0.2/24 — v0"),
            "{labels:?}"
        );
        assert!(!m.contains("<img"));
    }

    #[test]
    fn dot_and_svg_escape_hostile_names() {
        let g = hostile();
        let d = dot(&g);
        for s in [
            "\"netns:<img src=x onerror=alert(1)>\" [label=\"<img src=x onerror=alert(1)>\", shape=box]",
            "[label=\"a\\\"b\\\\c\\\\\", shape=box]",
            "[label=\"#lt;&amp;lt;&amp;amp\", shape=box]",
            "\"bridge::b\\\\<&amp;'>\\\"]}\" [label=\"b\\\\<&amp;'>\\\"]}\\n10.0.0.1/24\", shape=ellipse]",
            "-- \"bridge::b\\\\<&amp;'>\\\"]}\" [label=\"e<0>\\\"&amp; 10.0.0.2/24 — v0\"]",
        ] {
            assert!(d.contains(s), "{s} not in\n{d}");
        }
        // Every quote inside a DOT string is escaped: outside them, only DOT's syntax.
        for line in d.lines() {
            let mut outside = String::new();
            let (mut inq, mut esc) = (false, false);
            for c in line.chars() {
                match (inq, esc, c) {
                    (true, true, _) => esc = false,
                    (true, false, '\\') => esc = true,
                    (_, false, '"') => inq = !inq,
                    (false, _, c) => outside.push(c),
                    _ => {}
                }
            }
            assert!(!inq, "unclosed string: {line}");
            assert!(
                outside
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " []{}=,;-_\t".contains(c)),
                "{outside:?} in {line}"
            );
        }
        let s = svg(&g);
        assert!(
            s.contains(">&lt;img src=x onerror=alert(1)&gt;</text>"),
            "{s}"
        );
        assert!(s.contains("id=\"netns:a&quot;b\\c\\\""), "{s}");
        assert!(s.contains(">#lt;&amp;lt;&amp;amp</text>"), "{s}");
        assert!(s.contains(">b\\&lt;&amp;&apos;&gt;&quot;]}</text>"), "{s}");
        assert!(!s.contains("<img") && !s.contains("b\\<"), "{s}");
        // Every '<' opens one of the picture's own elements.
        for part in s.split('<').skip(1) {
            let tag: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "?/".contains(*c))
                .collect();
            assert!(
                [
                    "?xml", "svg", "/svg", "title", "/title", "g", "/g", "rect", "text", "/text",
                    "line"
                ]
                .contains(&tag.as_str()),
                "<{part}"
            );
        }
    }

    #[test]
    fn bridges_of_places_and_machines_are_told_apart() {
        // netns "a:b" with bridge "c", and netns "a" with bridge "b:c": once the same id.
        let text = "[netns.\"a:b\"]\n[netns.a]\n[bridge.c]\nnetns = \"a:b\"\n[bridge.\"b:c\"]\nnetns = \"a\"\n";
        let g = build(&lab_of(text), None);
        let ids: std::collections::HashSet<&str> = g.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids.len(), g.nodes.len(), "{ids:?}");
    }
}
