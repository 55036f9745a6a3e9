//! `nsctl man`: the manual page nsctl(8), as roff, generated from the command tree; and
//! `nsctl man lab`: the lab file's page nsctl-lab(5), from the table in `manual/lab.rs`.
//! clap_mangen writes the title, name, synopsis, description and options; the commands are
//! written here, grouped as `nsctl --help` groups them (clap_mangen would point each at a
//! page of its own that does not exist), each lab and meta verb with its options as clap
//! parses them, followed by examples and the exit codes.

use clap::{Arg, Command};
use clap_mangen::roff::{bold, italic, roman, Roff};

use crate::tree::{self, Group};

mod lab;

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
        if *g == Group::Lab {
            roff.text([
                roman("The lab file's format is in "),
                bold("nsctl-lab"),
                roman("(5) ("),
                bold("nsctl man lab"),
                roman(")."),
            ]);
        }
        for c in t
            .get_subcommands()
            .filter(|c| tree::group(c) == *g && !c.is_hide_set())
        {
            match g {
                Group::Object => object(roff, c),
                Group::Netns => verb(roff, c),
                Group::Lab | Group::Meta => {
                    verb(roff, c);
                    options(roff, c);
                }
            }
        }
    }
}

/// What an argument is called on a command line: its value name (`FILE`, `NAME`), or its id.
fn arg_name(a: &Arg) -> String {
    a.get_value_names()
        .and_then(|n| n.first())
        .map(|s| s.to_string())
        .unwrap_or_else(|| a.get_id().to_string())
}

/// A verb's entry: `nsctl VERB [OPTIONS] ARGS`, and its help.
fn verb(roff: &mut Roff, c: &Command) {
    roff.control("TP", []);
    let mut head = vec![bold(format!("nsctl {}", c.get_name()))];
    if options_of(c).next().is_some() {
        head.push(roman(" [OPTIONS]"));
    }
    for a in c.get_positionals() {
        let n = arg_name(a);
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

/// A verb's options (clap's own --help and --version aside), in declared order.
fn options_of(c: &Command) -> impl Iterator<Item = &Arg> {
    c.get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
        .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
}

/// The options and arguments of a lab or meta verb, indented under its entry: each with its
/// help, its values and its default, as clap parses them.
fn options(roff: &mut Roff, c: &Command) {
    let args: Vec<&Arg> = options_of(c)
        .chain(c.get_positionals().filter(|a| a.get_help().is_some()))
        .collect();
    if args.is_empty() {
        return;
    }
    roff.control("RS", []);
    for a in args {
        let mut head = Vec::new();
        if a.is_positional() {
            head.push(italic(arg_name(a)));
        }
        if let Some(s) = a.get_short() {
            head.push(bold(format!("-{s}")));
        }
        if let Some(l) = a.get_long() {
            if !head.is_empty() {
                head.push(roman(", "));
            }
            head.push(bold(format!("--{l}")));
        }
        if !a.is_positional() && a.get_action().takes_values() {
            head.push(roman(" "));
            head.push(italic(arg_name(a)));
        }
        let mut help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        if !help.is_empty() && !help.ends_with('.') {
            help.push('.');
        }
        let takes = a.get_action().takes_values();
        let values: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|_| takes)
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            help += &format!(" Values: {}.", values.join(", "));
        }
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && takes {
            help += &format!(" Default: {}.", defaults.join(" "));
        }
        roff.control("TP", []).text(head).text([roman(help)]);
    }
    roff.control("RE", []);
}

/// An object's entries: one per usage line (its grammar), with the help of each verb the
/// line covers (`{ add | del }` covers two).
fn object(roff: &mut Roff, o: &Command) {
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

/// The page `nsctl man PAGE` prints: `lab` is nsctl-lab(5), anything else nsctl(8).
pub fn page(name: &str) -> Vec<u8> {
    match name {
        "lab" => lab::render(),
        _ => render(),
    }
}

/// The page nsctl(8), as roff.
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
        "nsctl-lab(5), ip(8), ip-netns(8), ip-link(8), ip-address(8), ip-route(8)",
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

    /// Each option of each lab verb, as clap parses it, is under that verb in nsctl(8).
    #[test]
    fn page_lists_every_lab_option() {
        let page = String::from_utf8(super::render()).unwrap();
        let t = crate::tree::get();
        let labs = t
            .get_subcommands()
            .filter(|c| crate::tree::group(c) == crate::tree::Group::Lab);
        let mut n = 0;
        for c in labs {
            let at = page
                .find(&format!("\\fBnsctl {}\\fR", c.get_name()))
                .unwrap();
            let entry = &page[at..];
            let entry = &entry[..entry[1..]
                .find(".TP\n\\fBnsctl ")
                .map_or(entry.len(), |i| i + 1)];
            for long in c.get_arguments().filter_map(|a| a.get_long()) {
                let roff = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
                assert!(entry.contains(&roff), "{} --{long} missing", c.get_name());
                n += 1;
            }
        }
        assert!(n >= 20, "only {n} lab options");
        let lab = String::from_utf8(super::page("lab")).unwrap();
        assert!(lab.contains("\n.TH nsctl-lab 5 "), "{lab}");
        assert_eq!(super::page("nsctl"), super::render());
    }
}
