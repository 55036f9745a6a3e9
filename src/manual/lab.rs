//! `nsctl man lab`: the lab file's page, nsctl-lab(5), as roff. Every key of the file is in
//! [`TABLES`], the one list the page is written from; a test holds it to the file-format
//! section of docs/topology.md in both directions (each key here is named there, each key
//! there is here), so the page and the docs cannot drift apart.

use clap_mangen::roff::{bold, italic, roman, Roff};

/// One key of a table: its name, the shape of its value, and what it does.
pub struct Key {
    pub name: &'static str,
    pub value: &'static str,
    pub help: &'static str,
}

/// One table of the file. `id` is how the test names it: `top`, `host`, `netns`, `bridge`,
/// `veth`, `veth.ends` (an end in `ends = [...]`), `nat`, `check`, `hosts`.
pub struct Table {
    /// Read only by the test against the docs.
    #[cfg_attr(not(test), allow(dead_code))]
    pub id: &'static str,
    pub header: &'static str,
    pub about: &'static str,
    pub keys: &'static [Key],
}

const fn key(name: &'static str, value: &'static str, help: &'static str) -> Key {
    Key { name, value, help }
}

const SYSCTL: Key = key(
    "sysctl",
    "{ \"KEY\" = VALUE, ... }",
    "Sysctls to set there, e.g. { \"net.ipv4.ip_forward\" = 1 }.",
);
const ROUTES: Key = key(
    "routes",
    "[\"ROUTE\", ...]",
    "Routes to add there (see ROUTES).",
);
const FOR: Key = key(
    "for",
    "\"A..B\"",
    "One entry per whole number i from A to B (see GENERATED ENTRIES).",
);
const ADDRESSES: Key = key(
    "addresses",
    "[\"ADDR/PLEN\", ...]",
    "Addresses, IPv4 or IPv6.",
);
const MTU: Key = key("mtu", "N", "The MTU (default: the kernel's).");

/// Every table of the lab file and its keys, in the order docs/topology.md shows them.
pub const TABLES: &[Table] = &[
    Table {
        id: "top",
        header: "Top level",
        about: "Keys before the first table.",
        keys: &[
            key(
                "name",
                "\"NAME\"",
                "The lab's name (1 to 32 of A-Z a-z 0-9 - _): it names the lab's journal and \
                 its nft table. Default: the file's name without .toml; needed when the file \
                 is read from - or a pipe.",
            ),
            key(
                "etc_hosts",
                "true | false",
                "Write /etc/netns/NS/hosts for each namespace, listing every lab \
                 namespace's addresses, so that names resolve inside the lab (nsctl exec A \
                 ping B). Default: true for labs of up to 1,000 namespaces; at most 2,000 can \
                 have them.",
            ),
            key(
                "vni",
                "\"A..B\"",
                "The VXLAN ids the links between hosts are given (a lab across hosts). \
                 Default: 4096..16777215.",
            ),
        ],
    },
    Table {
        id: "host",
        header: "[host]",
        about: "Settings of the namespace nsctl runs in (optional).",
        keys: &[SYSCTL, ROUTES],
    },
    Table {
        id: "netns",
        header: "[netns.NAME]",
        about: "A network namespace, created by nsctl.",
        keys: &[
            key(
                "host",
                "\"MACHINE\"",
                "The machine of [hosts.MACHINE] that runs it (default: the only host, if \
                 there is one).",
            ),
            key("lo", "true | false", "Bring loopback up (default true)."),
            SYSCTL,
            ROUTES,
        ],
    },
    Table {
        id: "bridge",
        header: "[bridge.NAME]",
        about: "A bridge, in the host unless netns says otherwise.",
        keys: &[
            key("netns", "\"NS\"", "The lab namespace the bridge is in."),
            key(
                "host",
                "\"MACHINE\"",
                "The machine of a bridge in the host namespace (a lab across hosts).",
            ),
            ADDRESSES,
            MTU,
        ],
    },
    Table {
        id: "veth",
        header: "[[veth]]",
        about: "A veth pair. Its ends on two machines make a VXLAN link instead.",
        keys: &[
            FOR,
            key(
                "ends",
                "[ { END }, { END } ]",
                "Exactly two ends, each an inline table of the keys below.",
            ),
        ],
    },
    Table {
        id: "veth.ends",
        header: "An end, in ends = [...]",
        about: "One end of a veth pair: its name, where it is, and how it is shaped.",
        keys: &[
            key(
                "netns",
                "\"NS\"",
                "The lab namespace the end is in; omitted: the host (or its bridge's place).",
            ),
            key(
                "host",
                "\"MACHINE\"",
                "The machine of an end in a host namespace with no bridge.",
            ),
            key("name", "\"IF\"", "The interface's name (required)."),
            key(
                "bridge",
                "\"BR\"",
                "Make the end a port of bridge BR, which must be in the same place.",
            ),
            ADDRESSES,
            MTU,
            key(
                "rate",
                "\"RATE\"",
                "Limit what the end sends: tc's units (10mbit, 1gbit, 500kbps), 1kbit to \
                 1tbit. Alone, a token bucket filter (tbf).",
            ),
            key(
                "delay",
                "\"TIME\"",
                "Delay what the end sends (10ms, 250us, 1s; up to 60 s): a network emulator \
                 (netem), with the rate as its own.",
            ),
            key(
                "jitter",
                "\"TIME\"",
                "Vary the delay by up to TIME; needs a delay.",
            ),
            key(
                "loss",
                "\"PERCENT\"",
                "Drop this share of what the end sends (0.5%; above 0, at most 100).",
            ),
        ],
    },
    Table {
        id: "nat",
        header: "[[nat]]",
        about: "Masquerade a source leaving the host (turns on net.ipv4.ip_forward; needs nft).",
        keys: &[
            FOR,
            key("source", "\"PREFIX\"", "The IPv4 prefix to masquerade."),
            key(
                "out",
                "\"IF\"",
                "Only traffic leaving through this interface (default: any).",
            ),
        ],
    },
    Table {
        id: "check",
        header: "[[check]]",
        about: "A reachability check, run by nsctl test and nsctl apply --test.",
        keys: &[
            FOR,
            key(
                "from",
                "\"NS\" | \"NS/IF\" | \"ADDRESS\"",
                "Where the probe starts: a lab namespace, one of its interfaces, or an \
                 address of the lab.",
            ),
            key(
                "to",
                "\"NS\" | \"NS/IF\" | \"ADDRESS\"",
                "Its target: a lab namespace (its first address), an interface, or any \
                 address.",
            ),
            key(
                "ping",
                "true",
                "Send an ICMP echo each second until a reply or the timeout.",
            ),
            key(
                "tcp",
                "PORT",
                "Connect to PORT (1..65535); nsctl listens there for the check when nothing \
                 does on a lab address. Exactly one of ping and tcp.",
            ),
            key(
                "expect",
                "\"reachable\" | \"unreachable\"",
                "What must hold (default reachable).",
            ),
            key(
                "timeout",
                "SECONDS",
                "How long the probe may take: 0.1 to 60 (default 2).",
            ),
        ],
    },
    Table {
        id: "hosts",
        header: "[hosts.NAME]",
        about: "A machine of a lab across hosts; each applies its own share of the file.",
        keys: &[
            key(
                "underlay",
                "\"ADDRESS\"",
                "The address the other hosts reach this one at (IPv4 or IPv6).",
            ),
            key(
                "ssh",
                "\"USER@HOST\"",
                "How --all-hosts reaches it (default root@UNDERLAY).",
            ),
        ],
    },
];

/// The rest of the page, after the tables: (heading, paragraphs).
const NOTES: &[(&str, &[&str])] = &[
    (
        "ROUTES",
        &[
            "A route is default|PREFIX [via GATEWAY] [dev NAME], with at least one of via and \
             dev. In a namespace, the gateway must be in the subnet of an address the lab gives \
             an interface there. A route the kernel makes itself (the network of an address in \
             the same place, fe80::/64, ff00::/8) is refused.",
        ],
    ),
    (
        "GENERATED ENTRIES",
        &[
            "A [netns] or [bridge] name holding one range {A..B} (whole numbers, A <= B), such \
             as [netns.\"h{1..100}\"], is one entry per number; [[veth]], [[nat]] and \
             [[check]] take for = \"A..B\". At most 100,000 entries.",
            "In a generated entry, {EXPR} in any string value is the value of EXPR: whole \
             numbers, i, + - * / % (integer division) and parentheses. A value below 0 is an \
             error.",
        ],
    ),
    (
        "CHECKS BEFORE ANY CHANGE",
        &[
            "The whole file is checked first: unknown keys, bad names, addresses, routes and \
             references are each printed as FILE:LINE:COLUMN: message, and nsctl exits 2 \
             without changing anything.",
        ],
    ),
];

/// The page's example, short enough for 80 columns; the integration test front.rs applies
/// it as the page shows it.
const EXAMPLE: &str = r#"name = "demo"

[bridge.br0]
addresses = ["10.0.0.1/24"]

[netns."h{1..3}"]
routes = ["default via 10.0.0.1"]

[[veth]]
for = "1..3"
ends = [
  { netns = "h{i}", name = "eth0", addresses = ["10.0.0.{i+1}/24"] },
  { name = "v{i}", bridge = "br0" },
]

[[nat]]
source = "10.0.0.0/24"

[[check]]
from = "h1"
to = "h3"
ping = true
"#;

/// A table's section: its header, what it is, and each key as `KEY = VALUE` with its help.
fn table(roff: &mut Roff, t: &Table) {
    roff.control("SS", [t.header]);
    roff.text([roman(t.about)]);
    for k in t.keys {
        roff.control("TP", [])
            .text([bold(k.name), roman(" = "), italic(k.value)]);
        roff.text([roman(k.help)]);
    }
}

/// The page, as roff.
pub fn render() -> Vec<u8> {
    let mut roff = Roff::new();
    roff.control(
        "TH",
        [
            "nsctl-lab",
            "5",
            "",
            &format!("nsctl {}", env!("CARGO_PKG_VERSION")),
            "File Formats",
        ],
    );
    roff.control("SH", ["NAME"]);
    roff.text([roman(
        "nsctl-lab - the lab file of nsctl apply, destroy, status, test and graph",
    )]);
    roff.control("SH", ["SYNOPSIS"]);
    roff.text([bold("nsctl apply"), roman(" "), italic("FILE")]);
    roff.control("SH", ["DESCRIPTION"]);
    roff.text([roman(
        "A lab file is TOML. It describes network namespaces, bridges, veth pairs, routes, \
         sysctls, NAT and reachability checks. nsctl apply builds it in one process, \
         converges it to the file on every run (what left the file is removed), and nsctl \
         destroy removes exactly what nsctl built. FILE may be - (standard input). Every \
         table is optional; a key not listed here is an error.",
    )]);
    roff.control("SH", ["FILE FORMAT"]);
    for t in TABLES {
        table(&mut roff, t);
    }
    for (heading, paragraphs) in NOTES {
        roff.control("SH", [*heading]);
        for p in *paragraphs {
            roff.control("PP", []).text([roman(*p)]);
        }
    }
    roff.control("SH", ["EXAMPLE"]);
    roff.text([roman(
        "Three namespaces on a bridge in the host, which is their gateway and masquerades \
         them, and one check:",
    )]);
    roff.control("PP", [])
        .control("nf", [])
        .control("RS", ["2"]);
    for l in EXAMPLE.lines() {
        roff.text([roman(l)]);
    }
    roff.control("RE", []).control("fi", []);
    roff.control("PP", []).text([roman(
        "nsctl's sources have more in examples/ (abc-nat.toml, router.toml, wan.toml, \
         fabric.toml, ...).",
    )]);
    roff.control("SH", ["FILES"]);
    roff.control("TP", [])
        .text([bold("/run/nsctl/labs/NAME.json")])
        .text([roman(
            "the journal of the applied lab NAME: what nsctl created for it",
        )]);
    roff.control("TP", [])
        .text([bold("/etc/netns/NS/hosts")])
        .text([roman("the hosts file of lab namespace NS (etc_hosts)")]);
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "nsctl(8); docs/topology.md in nsctl's sources, which explains each part at length.",
    )]);
    let mut out = Vec::new();
    let _ = roff.to_writer(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// docs/topology.md's file-format section: from `## The file` to the next `## `.
    fn section() -> &'static str {
        let doc = include_str!("../../docs/topology.md");
        let start = doc
            .find("\n## The file\n")
            .expect("docs/topology.md has ## The file");
        let rest = &doc[start + 1..];
        let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
        &rest[..end]
    }

    /// The table id of a TOML header line (`[netns."h{1..100}"]` is netns, `[[veth]]` veth).
    fn header_id(line: &str) -> String {
        let inner = line.trim_start_matches('[');
        inner.split(['.', ']']).next().unwrap_or("").to_string()
    }

    /// Each bare `KEY =` in `line`, outside quotes, with whether it is inside `{ ... }`.
    fn keys_in(line: &str) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        let (mut quoted, mut depth, mut word) = (false, 0usize, String::new());
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted => break,
                '{' if !quoted => depth += 1,
                '}' if !quoted => depth = depth.saturating_sub(1),
                _ => {}
            }
            if !quoted && (c.is_ascii_lowercase() || c == '_') {
                word.push(c);
                continue;
            }
            if !quoted && c == '=' && !word.is_empty() {
                out.push((word.clone(), depth > 0));
            }
            if c != ' ' || chars.peek() != Some(&'=') {
                word.clear();
            }
        }
        out
    }

    /// Every (table id, key) the TOML blocks of the docs' section write.
    fn documented() -> BTreeSet<(String, String)> {
        let mut found = BTreeSet::new();
        let (mut in_toml, mut table, mut in_ends) = (false, "top".to_string(), false);
        for line in section().lines() {
            let l = line.trim();
            if l.starts_with("```") {
                in_toml = l == "```toml";
                table = "top".into();
                continue;
            }
            if !in_toml {
                continue;
            }
            if l.starts_with('[') {
                table = header_id(l);
                in_ends = false;
                continue;
            }
            if l.starts_with("ends") {
                in_ends = true;
            }
            for (k, inline) in keys_in(l) {
                let t = if table == "veth" && (inline || in_ends) && k != "ends" {
                    "veth.ends".to_string()
                } else {
                    table.clone()
                };
                if !(inline && t != "veth.ends") {
                    found.insert((t, k));
                }
            }
            if l.starts_with(']') {
                in_ends = false;
            }
        }
        found
    }

    /// Each key the docs write in their TOML examples is on the page, in its table.
    #[test]
    fn every_documented_key_is_on_the_page() {
        let docs = documented();
        assert!(docs.len() > 25, "the docs parse found only {docs:?}");
        for (t, k) in &docs {
            let on_page = TABLES
                .iter()
                .any(|tb| tb.id == t && tb.keys.iter().any(|x| x.name == k));
            assert!(
                on_page,
                "docs/topology.md writes {k} in {t}; the page does not"
            );
        }
    }

    /// Each key on the page is named in the docs' section: in its table in a TOML example,
    /// or elsewhere in it (prose, a comment) as `KEY = ...` or `KEY`.
    #[test]
    fn every_key_on_the_page_is_documented() {
        let docs = documented();
        let text = section();
        for t in TABLES {
            for k in t.keys {
                let named = docs.contains(&(t.id.to_string(), k.name.to_string()))
                    || text.contains(&format!("{} = ", k.name))
                    || text.contains(&format!("`{}`", k.name));
                assert!(named, "{} ({}) is not in docs/topology.md", k.name, t.id);
            }
        }
    }

    #[test]
    fn the_doc_parse_finds_what_it_should() {
        let docs = documented();
        for (t, k) in [
            ("top", "name"),
            ("netns", "lo"),
            ("veth.ends", "bridge"),
            ("veth.ends", "loss"),
            ("veth", "for"),
            ("hosts", "underlay"),
            ("check", "timeout"),
            ("bridge", "mtu"),
        ] {
            assert!(docs.contains(&(t.to_string(), k.to_string())), "{t} {k}");
        }
        assert!(!docs.iter().any(|(_, k)| k == "ip_forward" || k == "net"));
    }
}
