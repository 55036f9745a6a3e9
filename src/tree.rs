//! nsctl's command tree, in clap: the one definition of every verb and object nsctl has, with
//! its aliases, arguments and help. Dispatch resolves words against it (ip's prefix walk,
//! below); `nsctl --help`, `nsctl man`, the shell completions and each object's usage text
//! are generated from it, so they cannot drift apart.
//!
//! ip's own rules stay a thin layer around the tree (docs/architecture.md, "Front end"):
//! argv is never handed to clap's parser for the `ip` surface, because clap would read
//! `nsctl add --help` as a help request where ip names a namespace `--help`, and would
//! refuse the bytes of names that are not UTF-8. The lab and meta verbs, which are nsctl's
//! own, are parsed by clap from their subcommands here.
//!
//! Groups are carried by display order: 1xx the `ip netns` verbs, 2xx ip's objects, 3xx the
//! lab verbs, 4xx the rest. Declaration order inside a group is ip's table order.

use std::sync::OnceLock;

use clap::{Arg, ArgAction, Command};

use crate::parse::matches;

/// Which part of nsctl a top-level word belongs to; each has its own way of matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `ip netns` verbs: any prefix of the name or an alias, first match in ip's order.
    Netns,
    /// ip's objects: a prefix of the name at least as long as one of its aliases (the
    /// shortest abbreviation that cannot be read as a netns verb).
    Object,
    /// nsctl's lab verbs: the whole word only, so they never shadow an abbreviation.
    Lab,
    /// `man`, `completions`, `schema`: the whole word only.
    Meta,
}

const NETNS: usize = 100;
const OBJECT: usize = 200;
const LAB: usize = 300;
const META: usize = 400;

/// The group of a top-level subcommand.
pub fn group(c: &Command) -> Group {
    match c.get_display_order() / 100 {
        1 => Group::Netns,
        2 => Group::Object,
        3 => Group::Lab,
        _ => Group::Meta,
    }
}

/// The tree, built once per process (a single command builds it at most once).
pub fn get() -> &'static Command {
    static TREE: OnceLock<Command> = OnceLock::new();
    TREE.get_or_init(build)
}

/// Raw words an ip grammar reads (never parsed by clap; shown in help and the man page).
fn words(name: &'static str, grammar: &'static str) -> Arg {
    Arg::new(name)
        .value_name(grammar)
        .num_args(0..)
        .trailing_var_arg(true)
        .allow_hyphen_values(true)
        .action(ArgAction::Append)
}

fn positional(name: &'static str, required: bool, help: &'static str) -> Arg {
    Arg::new(name)
        .value_name(name)
        .required(required)
        .help(help)
}

/// One `ip netns` verb.
fn netns_verb(order: usize, name: &'static str, about: &'static str) -> Command {
    Command::new(name)
        .about(about)
        .display_order(NETNS + order)
        .disable_help_flag(true)
}

/// The `ip netns` verbs in iproute2's table order (`s` is list, `d` delete, `at` attach).
fn netns_verbs() -> Vec<Command> {
    let ns = |req| positional("NAME", req, "a name under /run/netns");
    vec![
        netns_verb(
            0,
            "list",
            "List the named network namespaces (with -j: as JSON)",
        )
        .aliases(["show", "lst"]),
        netns_verb(
            1,
            "list-id",
            "List the nsids this namespace has assigned to others",
        )
        .arg(words("ARGS", "[target-nsid N] [nsid N]")),
        netns_verb(
            2,
            "help",
            "Print the `ip netns` usage (stderr, exit 255, as ip)",
        ),
        netns_verb(3, "add", "Create a network namespace and name it").arg(ns(true)),
        netns_verb(4, "set", "Give a namespace an nsid in this one")
            .arg(ns(true))
            .arg(positional("NETNSID", true, "auto or a number")),
        netns_verb(
            5,
            "delete",
            "Remove a namespace's name (with -all: every name)",
        )
        .arg(ns(false)),
        netns_verb(
            6,
            "identify",
            "Print the names of a process's network namespace",
        )
        .arg(positional("PID", false, "default: nsctl's own")),
        netns_verb(7, "pids", "Print the processes in a namespace").arg(ns(true)),
        netns_verb(
            8,
            "exec",
            "Run a command in a namespace (with -all: in each)",
        )
        .arg(ns(false))
        .arg(words("CMD", "CMD...")),
        netns_verb(9, "monitor", "Print names as they are added and deleted"),
        netns_verb(10, "attach", "Name the network namespace of a process")
            .arg(ns(true))
            .arg(positional("PID", true, "the process")),
    ]
}

/// A verb of an object: its aliases, help, and the grammar its usage line shows (None for
/// a verb that shares another's line, like `del` in `{ add | del }`).
fn object_verb(
    name: &'static str,
    aliases: &[&'static str],
    about: &'static str,
    usage: Option<&'static str>,
) -> Command {
    let mut c = Command::new(name)
        .about(about)
        .aliases(aliases.iter().copied())
        .disable_help_flag(true)
        .arg(words("ARGS", usage.unwrap_or("...")));
    if let Some(u) = usage {
        c = c.override_usage(u);
    }
    c
}

fn help_verb() -> Command {
    Command::new("help")
        .about("Print this object's usage (stderr, exit 255, as ip)")
        .disable_help_flag(true)
}

/// One of ip's objects; `shortest` is its shortest abbreviation.
fn object(
    order: usize,
    name: &'static str,
    shortest: &'static str,
    about: &'static str,
) -> Command {
    Command::new(name)
        .about(about)
        .alias(shortest)
        .display_order(OBJECT + order)
        .disable_help_flag(true)
        .disable_help_subcommand(true)
}

/// ip's objects, in ip's table order (`address` before `route` before `link`).
fn objects() -> Vec<Command> {
    vec![
        object(
            0,
            "address",
            "addr",
            "Add, remove and show addresses (as ip addr)",
        )
        .subcommands([
            object_verb(
                "add",
                &[],
                "Add an address to a device",
                Some(
                    "addr { add | del } ADDR[/PLEN] dev NAME [ nodad | noprefixroute | home | \
                     mngtmpaddr | autojoin ]",
                ),
            ),
            object_verb("delete", &[], "Remove an address from a device", None),
            object_verb(
                "show",
                &["list", "lst"],
                "Show addresses (plain, -br, -j, -4, -6)",
                Some("addr show [ dev NAME ]"),
            ),
            object_verb(
                "flush",
                &[],
                "Remove every address of a device (-4, -6: of one family)",
                Some("addr flush [ dev ] NAME"),
            ),
            help_verb(),
        ]),
        object(
            1,
            "route",
            "r",
            "Add, change, remove and show routes (as ip route)",
        )
        .subcommands([
            object_verb(
                "add",
                &[],
                "Add a route",
                Some(
                    "route { add | del | change | append | replace | prepend | test } \
                     [ TYPE ] { default | PREFIX }\n\
                     \x20                  [ via ADDRESS ] [ dev NAME ] [ src ADDRESS ] \
                     [ metric N ]\n\
                     \x20                  [ table TABLE ] [ proto PROTO ] [ scope SCOPE ]",
                ),
            ),
            object_verb("change", &["chg"], "Change a route that exists", None),
            object_verb(
                "replace",
                &[],
                "Add a route, or replace the one there",
                None,
            ),
            object_verb(
                "prepend",
                &[],
                "Add a route before others of its prefix",
                None,
            ),
            object_verb(
                "append",
                &[],
                "Add a route after others of its prefix",
                None,
            ),
            object_verb(
                "test",
                &[],
                "Check a route could be added (EXCL, no CREATE)",
                None,
            ),
            object_verb("delete", &[], "Remove a route", None),
            object_verb(
                "show",
                &["list", "lst"],
                "Show a table (main; plain, -j, -4, -6)",
                Some("route show [ table TABLE | all ] [ dev NAME ]"),
            ),
            object_verb(
                "get",
                &[],
                "Ask the kernel which route a destination takes",
                Some("route get ADDRESS [ from ADDRESS ] [ oif NAME ]"),
            ),
            help_verb(),
        ]),
        object(
            2,
            "neighbor",
            "neigh",
            "Add, change, remove and show ARP/NDP entries (as ip neigh)",
        )
        .alias("neighbour")
        .subcommands([
            object_verb(
                "add",
                &[],
                "Add a neighbour entry (state permanent unless nud says)",
                Some(
                    "neigh { add | del | change | replace } { ADDR [ lladdr LLADDR ] [ nud STATE ] \
                     | proxy ADDR }\n\
                     \x20                  [ dev DEV ] [ router ] [ protocol PROTO ]",
                ),
            ),
            object_verb("change", &["chg"], "Change an entry that exists", None),
            object_verb("replace", &[], "Add an entry, or replace the one there", None),
            object_verb("delete", &[], "Remove an entry", None),
            object_verb(
                "show",
                &["lst", "list"],
                "Show the table (plain, -j, -4, -6)",
                Some("neigh show [ dev DEV ] [ nud STATE ] [ proxy ]"),
            ),
            help_verb(),
        ]),
        object(
            3,
            "link",
            "lin",
            "Create, change, remove and show devices (as ip link)",
        )
        .subcommands([
            object_verb(
                "add",
                &[],
                "Create a device: a veth pair (peer born in its namespace), a bridge, ...",
                Some(
                    "link add [ name ] NAME type { veth peer [ name ] PEER [ netns NS ] | bridge \
                         | KIND }",
                ),
            ),
            object_verb(
                "set",
                &["change"],
                "Change a device: up/down, namespace, master, name, MTU, address",
                Some(
                    "link set [ dev ] NAME [ up | down ] [ netns { NS | PID } ] [ master BRIDGE \
                         | nomaster ]\n\
                         \x20                             [ name NEWNAME ] [ mtu MTU ] [ address \
                         LLADDR ]",
                ),
            ),
            object_verb(
                "delete",
                &[],
                "Remove a device",
                Some("link del [ dev ] NAME"),
            ),
            object_verb(
                "show",
                &["list", "lst"],
                "Show devices (plain, -br, -j)",
                Some("link show [ [ dev ] NAME ]"),
            ),
            help_verb(),
        ]),
        // The object word of `nsctl netns VERB` (`ip netns VERB`): at least `net`, since ip
        // reads `n` and `ne` as `neighbor`.
        object(
            4,
            "netns",
            "net",
            "The `ip netns` verbs, after the object word",
        )
        .hide(true),
    ]
}

/// A lab or meta verb; clap parses its arguments (it has no ip meaning to keep).
fn own(order: usize, c: Command, about: &'static str) -> Command {
    let name = c.get_name().to_string();
    c.about(about)
        .bin_name(format!("nsctl {name}"))
        .display_order(order)
}

/// The global options, as nsctl reads them (ip's single-dash forms and prefixes; clap only
/// describes them, for help, the man page and completions).
fn options() -> Vec<Arg> {
    let flag = |name: &'static str, short: char, long: &'static str, help: &'static str| {
        Arg::new(name)
            .short(short)
            .long(long)
            .action(ArgAction::SetTrue)
            .help(help)
    };
    vec![
        flag(
            "json",
            'j',
            "json",
            "Print JSON (list, list-id, show, lab summaries)",
        ),
        flag("pretty", 'p', "pretty", "Indent JSON"),
        Arg::new("netns")
            .short('n')
            .long("netns")
            .value_name("NS")
            .help("Run the command in namespace NS (before the verb, as ip -n)"),
        flag("all", 'a', "all", "delete/exec: every named namespace"),
        Arg::new("batch")
            .short('b')
            .long("batch")
            .value_name("FILE")
            .help("Read commands from FILE (- for stdin), one per line")
            .value_hint(clap::ValueHint::FilePath),
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .help("With -batch: go on after a failed line"),
        Arg::new("brief")
            .long("brief")
            .action(ArgAction::SetTrue)
            .help("show: one line per device (-br)"),
        Arg::new("inet")
            .short('4')
            .action(ArgAction::SetTrue)
            .help("show: IPv4 only"),
        Arg::new("inet6")
            .short('6')
            .action(ArgAction::SetTrue)
            .help("show: IPv6 only"),
        flag("version", 'V', "version", "Print nsctl's version"),
        Arg::new("help")
            .long("help")
            .action(ArgAction::SetTrue)
            .help("Print this help (exit 0; -help prints the ip-style usage)"),
    ]
}

/// Build the whole tree.
pub fn build() -> Command {
    let lab = |order, c, about| own(LAB + order, c, about);
    Command::new("nsctl")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Network namespaces as ip netns does them, the wiring around them, and whole labs")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args(options())
        .subcommands(netns_verbs())
        .subcommands(objects())
        .subcommand(lab(
            0,
            crate::lab::args::apply_command(),
            "Build the lab a TOML file describes, or converge it to the file",
        ))
        .subcommand(lab(
            1,
            crate::lab::args::destroy_command(),
            "Remove everything nsctl created for a lab, and nothing else",
        ))
        .subcommand(lab(
            2,
            crate::lab::args::status_command(),
            "Say what differs from the file (exit 0: converged); no file: list the labs",
        ))
        .subcommand(lab(
            3,
            crate::lab::args::test_command(),
            "Run a lab's reachability checks (exit 0: every expectation holds)",
        ))
        .subcommand(lab(
            4,
            crate::lab::args::graph_command(),
            "Draw a lab's topology: Graphviz DOT, Mermaid or SVG (--live: its state now)",
        ))
        .subcommand(own(
            META,
            Command::new("man").arg(
                Arg::new("PAGE")
                    .value_parser(["nsctl", "lab"])
                    .default_value("nsctl")
                    .help("nsctl: the commands, nsctl(8); lab: the lab file, nsctl-lab(5)"),
            ),
            "Print a manual page as roff: nsctl(8), or nsctl-lab(5) with `lab` (nsctl man | man -l -)",
        ))
        .subcommand(own(
            META + 1,
            Command::new("completions").arg(
                Arg::new("SHELL")
                    .required(true)
                    .value_parser(["bash", "zsh", "fish"])
                    .help("The shell to complete for"),
            ),
            "Print a shell completion script (bash, zsh or fish)",
        ))
        .subcommand(own(
            META + 2,
            Command::new("schema"),
            "Print the lab file's JSON Schema, which editors check lab files with",
        ))
}

/// ip's prefix walk over `cmd`'s subcommands: the first one (in declared order) that `word`
/// names by its name or an alias. `group` picks the rule (see [`Group`]); for an object's
/// verbs pass [`Group::Netns`] (plain prefixes, as ip's per-object tables).
pub fn walk<'a>(cmd: &'a Command, word: &[u8], only: Option<Group>) -> Option<&'a Command> {
    cmd.get_subcommands()
        .filter(|c| only.is_none_or(|g| group(c) == g))
        .find(|c| names(c, word, only.unwrap_or(Group::Netns)))
}

/// Whether `word` names `c` under the rule of `rule`.
fn names(c: &Command, word: &[u8], rule: Group) -> bool {
    let name = c.get_name();
    match rule {
        Group::Netns => matches(word, name) || c.get_all_aliases().any(|a| matches(word, a)),
        // A prefix of the name (or of a longer spelling, `neighbour`) that extends the
        // shortest abbreviation.
        Group::Object => {
            (matches(word, name) || c.get_all_aliases().any(|a| matches(word, a)))
                && c.get_all_aliases().any(|a| word.starts_with(a.as_bytes()))
        }
        Group::Lab | Group::Meta => word == name.as_bytes(),
    }
}

/// Resolve the first word of a command line: whole-word verbs first (lab, meta), then the
/// netns verbs, then the objects, as nsctl has always read them.
pub fn top(word: &[u8]) -> Option<&'static Command> {
    let t = get();
    [Group::Lab, Group::Meta, Group::Netns, Group::Object]
        .into_iter()
        .find_map(|g| walk(t, word, Some(g)))
}

/// An object's usage text (`nsctl link help`): each verb's usage line, ip-style.
pub fn object_usage(object: &str) -> String {
    let mut s = String::new();
    let verbs = get()
        .find_subcommand(object)
        .into_iter()
        .flat_map(|o| o.get_subcommands());
    for u in verbs.filter_map(|v| v.get_overridden_usage()) {
        s += if s.is_empty() {
            "Usage: nsctl "
        } else {
            "       nsctl "
        };
        s += &format!("{u}\n");
    }
    s
}

/// A subcommand's words parsed with its definition in the tree (`nsctl VERB` in messages).
pub fn parse_verb(verb: &str, args: &[Vec<u8>]) -> Result<clap::ArgMatches, clap::Error> {
    use std::os::unix::ffi::OsStringExt;
    let cmd = get()
        .find_subcommand(verb)
        .cloned()
        .unwrap_or_else(|| clap::Command::new("nsctl"));
    let words = std::iter::once(std::ffi::OsString::from(format!("nsctl {verb}")))
        .chain(args.iter().map(|a| std::ffi::OsString::from_vec(a.clone())));
    cmd.try_get_matches_from(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_is_consistent() {
        build().debug_assert();
    }

    fn top_name(w: &str) -> Option<&'static str> {
        top(w.as_bytes()).map(|c| c.get_name())
    }

    #[test]
    fn top_words_resolve_as_before() {
        for (w, want) in [
            ("l", Some("list")),
            ("li", Some("list")),
            ("lin", Some("link")),
            ("link", Some("link")),
            ("s", Some("list")),
            ("se", Some("set")),
            ("a", Some("add")),
            ("add", Some("add")),
            ("addr", Some("address")),
            ("address", Some("address")),
            ("addresses", None),
            ("r", Some("route")),
            ("d", Some("delete")),
            ("at", Some("attach")),
            ("list-", Some("list-id")),
            ("n", None),
            ("ne", None),
            ("nei", None),
            ("neigh", Some("neighbor")),
            ("neighbour", Some("neighbor")),
            ("neighbor", Some("neighbor")),
            ("net", Some("netns")),
            ("netns", Some("netns")),
            ("apply", Some("apply")),
            ("app", None),
            ("st", None),
            ("status", Some("status")),
            ("man", Some("man")),
            ("m", Some("monitor")),
            ("", None),
        ] {
            assert_eq!(top_name(w), want, "{w:?}");
        }
    }

    #[test]
    fn object_verbs_walk_in_ips_order() {
        let link = get().find_subcommand("link").unwrap();
        let v = |w: &str| walk(link, w.as_bytes(), None).map(|c| c.get_name());
        assert_eq!(v("s"), Some("set"));
        assert_eq!(v("sh"), Some("show"));
        assert_eq!(v("l"), Some("show"));
        assert_eq!(v("change"), Some("set"));
        assert_eq!(v("d"), Some("delete"));
        assert_eq!(v("h"), Some("help"));
        assert_eq!(v("x"), None);
    }

    #[test]
    fn object_usage_is_ips_shape() {
        assert_eq!(
            object_usage("route").lines().last(),
            Some("       nsctl route get ADDRESS [ from ADDRESS ] [ oif NAME ]")
        );
        assert!(object_usage("address").starts_with("Usage: nsctl addr { add | del } ADDR"));
        assert!(object_usage("link").contains(
            "\n                              [ name NEWNAME ] [ mtu MTU ] [ address LLADDR ]\n"
        ));
    }
}
