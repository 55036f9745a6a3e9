//! `nsctl man`: the manual page nsctl(8), as roff, generated from the command tree.
//! clap_mangen writes the title, name, synopsis, description and options; the commands are
//! written here, grouped as `nsctl --help` groups them (clap_mangen would point each at a
//! page of its own that does not exist), followed by examples and the exit codes.

use clap_mangen::roff::{bold, italic, roman, Roff};

use crate::tree::{self, Group};

/// The examples: the README's first steps, a bridge, and a lab.
const EXAMPLES: &[(&str, &[&str])] = &[
    (
        "Two namespaces, listed, entered and removed:",
        &[
            "nsctl add mario",
            "nsctl add luigi",
            "nsctl list",
            "nsctl exec mario ip -br link",
            "nsctl delete mario",
        ],
    ),
    (
        "mario and luigi joined by a veth pair, the peer born in luigi:",
        &[
            "nsctl link add m0 type veth peer name l0 netns luigi",
            "nsctl link set m0 netns mario",
            "nsctl -n mario addr add 10.0.0.1/24 dev m0",
            "nsctl -n luigi addr add 10.0.0.2/24 dev l0",
            "nsctl -n mario link set m0 up",
            "nsctl -n luigi link set l0 up",
            "nsctl exec mario ping -c1 10.0.0.2",
        ],
    ),
    (
        "A bridge in the host with one port per namespace:",
        &[
            "nsctl link add br0 type bridge",
            "nsctl link set br0 up",
            "nsctl link add vm type veth peer name eth0 netns mario",
            "nsctl link set vm master br0 up",
        ],
    ),
    (
        "A whole lab from a file: build, check, tear down:",
        &[
            "nsctl apply examples/abc-nat.toml",
            "nsctl status examples/abc-nat.toml",
            "nsctl test examples/abc-nat.toml",
            "nsctl exec A ping -c1 B",
            "nsctl destroy examples/abc-nat.toml",
        ],
    ),
];

/// The exit codes, by surface.
const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "success; for status: the lab is converged"),
    (
        "1",
        "ip verbs: the operation failed (as ip); lab verbs: a change failed, status found \
         differences, or a check of nsctl test did not hold",
    ),
    ("2", "ip verbs: the kernel refused a link, address or route change (as ip); lab verbs: a bad command line or lab file, nothing changed"),
    ("3", "lab verbs: refused, objects nsctl did not create are in the way; nothing changed"),
    ("4", "lab verbs: a required tool or kernel feature is missing; nothing changed"),
    ("255", "ip verbs: bad usage, as ip (Command line is not complete, unknown command, ...)"),
];

/// The section heading and group of each command section.
const SECTIONS: &[(&str, Group)] = &[
    ("NAMESPACES", Group::Netns),
    ("WIRING", Group::Object),
    ("LABS", Group::Lab),
    ("OTHER COMMANDS", Group::Meta),
];

fn commands(roff: &mut Roff) {
    let t = tree::get();
    for (heading, g) in SECTIONS {
        roff.control("SH", [*heading]);
        for c in t
            .get_subcommands()
            .filter(|c| tree::group(c) == *g && !c.is_hide_set())
        {
            if *g == Group::Object {
                object(roff, c);
                continue;
            }
            roff.control("TP", []);
            let mut head = vec![bold(format!("nsctl {}", c.get_name()))];
            for a in c.get_positionals() {
                let n = a
                    .get_value_names()
                    .and_then(|n| n.first())
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                let shown = if a.is_required_set() || n.starts_with('[') {
                    n
                } else {
                    format!("[{n}]")
                };
                head.push(roman(" "));
                head.push(italic(shown));
            }
            roff.text(head);
            let mut about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
            let aliases: Vec<&str> = c.get_all_aliases().collect();
            if !aliases.is_empty() {
                about += &format!(" (also: {})", aliases.join(", "));
            }
            roff.text([roman(about)]);
        }
    }
}

/// An object's entries: one per usage line (its grammar), with the help of each verb the
/// line covers (`{ add | del }` covers two).
fn object(roff: &mut Roff, o: &clap::Command) {
    let mut entries: Vec<(String, Vec<String>)> = Vec::new();
    for v in o.get_subcommands().filter(|v| v.get_name() != "help") {
        let about = format!(
            "{}: {}",
            v.get_name(),
            v.get_about().map(|a| a.to_string()).unwrap_or_default()
        );
        match v.get_overridden_usage() {
            Some(u) => {
                let grammar = u
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                entries.push((format!("nsctl {grammar}"), vec![about]));
            }
            None => match entries.last_mut() {
                Some(e) => e.1.push(about),
                None => entries.push((format!("nsctl {}", o.get_name()), vec![about])),
            },
        }
    }
    for (head, abouts) in entries {
        roff.control("TP", []).text([bold(head)]);
        for (k, a) in abouts.into_iter().enumerate() {
            if k > 0 {
                roff.control("br", []);
            }
            roff.text([roman(a)]);
        }
    }
}

/// The page, as roff.
pub fn render() -> Vec<u8> {
    let cmd = tree::get().clone().long_about(
        "nsctl does what `ip netns` does, byte for byte (the Debian iproute2 6.1 build, run \
         directory /run/netns): replace `ip netns X` by `nsctl X` and `ip [-all] netns` by \
         `nsctl [-all]`. It also wires namespaces over netlink (veth pairs, bridges, \
         addresses, routes, in ip's grammar) and builds whole labs from one TOML file.",
    );
    let man = clap_mangen::Man::new(cmd)
        .section("8")
        .manual("System Administration");
    let mut out = Vec::new();
    let _ = man.render_title(&mut out);
    let _ = man.render_name_section(&mut out);
    let _ = man.render_synopsis_section(&mut out);
    let _ = man.render_description_section(&mut out);
    let _ = man.render_options_section(&mut out);
    let mut roff = Roff::new();
    commands(&mut roff);
    roff.control("SH", ["EXAMPLES"]);
    for (what, lines) in EXAMPLES {
        roff.control("PP", []).text([roman(*what)]);
        roff.control("PP", [])
            .control("nf", [])
            .control("RS", ["4"]);
        for l in *lines {
            roff.text([roman(format!("# {l}"))]);
        }
        roff.control("RE", []).control("fi", []);
    }
    roff.control("SH", ["EXIT STATUS"]);
    for (code, what) in EXIT_STATUS {
        roff.control("TP", [])
            .text([bold(*code)])
            .text([roman(*what)]);
    }
    roff.control("SH", ["FILES"]);
    roff.control("TP", [])
        .text([bold("/run/netns")])
        .text([roman(
            "the namespace names (bind mounts of nsfs files), as ip",
        )]);
    roff.control("TP", [])
        .text([bold("/etc/netns/NAME")])
        .text([roman("files exec binds over /etc inside NAME, as ip")]);
    roff.control("TP", [])
        .text([bold("/run/nsctl")])
        .text([roman("the lab journals: what each lab created")]);
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman(
        "ip(8), ip-netns(8), ip-link(8), ip-address(8), ip-route(8)",
    )]);
    let _ = roff.to_writer(&mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_has_every_section_and_verb() {
        let page = String::from_utf8(super::render()).unwrap();
        for s in [
            ".TH nsctl 8",
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH OPTIONS",
            ".SH NAMESPACES",
            ".SH WIRING",
            ".SH LABS",
            ".SH EXAMPLES",
            "EXIT STATUS",
            "nsctl add mario",
            "nsctl link add",
            "nsctl apply",
        ] {
            assert!(page.contains(s), "{s} missing");
        }
    }
}
