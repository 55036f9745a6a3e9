//! `ip netns`: the verb table and the checks that run before any verb.
//!
//! The table order is iproute2's, and prefix matching walks it in order: that is what makes
//! `s` mean list, `se` set, `a` add, `at` attach, `d` delete, `i` identify and `p` pids.

pub mod add;
pub mod delete;
pub mod exec;
pub mod identify;
pub mod list;
pub mod list_id;
pub mod monitor;
pub mod pids;
pub mod set;

use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::output::{bytes, err};
use crate::parse::matches;

/// The usage text of `nsctl help` (stderr, exit 255): ip's, with `ip [-all] netns` → `nsctl [-all]`.
pub const USAGE: &str = "Usage:\tnsctl list\n\
\tnsctl add NAME\n\
\tnsctl attach NAME PID\n\
\tnsctl set NAME NETNSID\n\
\tnsctl [-all] delete [NAME]\n\
\tnsctl identify [PID]\n\
\tnsctl pids NAME\n\
\tnsctl [-all] exec [NAME] cmd ...\n\
\tnsctl monitor\n\
\tnsctl list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]\n\
NETNSID := auto | POSITIVE-INT\n";

/// A netns verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    List,
    ListId,
    Help,
    Add,
    Set,
    Delete,
    Identify,
    Pids,
    Exec,
    Monitor,
    Attach,
}

/// iproute2's order; the first entry the word is a prefix of wins.
const TABLE: &[(&str, Verb)] = &[
    ("list", Verb::List),
    ("show", Verb::List),
    ("lst", Verb::List),
    ("list-id", Verb::ListId),
    ("help", Verb::Help),
    ("add", Verb::Add),
    ("set", Verb::Set),
    ("delete", Verb::Delete),
    ("identify", Verb::Identify),
    ("pids", Verb::Pids),
    ("exec", Verb::Exec),
    ("monitor", Verb::Monitor),
    ("attach", Verb::Attach),
];

/// Resolve an abbreviated verb.
pub fn lookup(word: &[u8]) -> Option<Verb> {
    TABLE
        .iter()
        .find(|(full, _)| matches(word, full))
        .map(|&(_, v)| v)
}

/// `ip netns` usage: to stderr, exit 255.
pub fn usage() -> Ret {
    err(USAGE.as_bytes());
    Err(Exit(255))
}

/// Print `Invalid netns name "X"` and exit 255.
pub fn invalid_name(name: &[u8]) -> Ret {
    err(&bytes(&[b"Invalid netns name \"", name, b"\"\n"]));
    Err(Exit(255))
}

/// `do_netns`: dispatch one netns command line (without the object word).
pub fn run(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let Some(verb_word) = args.first() else {
        return list::list(ctx);
    };
    // The word after the verb is name-checked before the verb is even looked up, unless
    // -all was given (then it is a command, or ignored).
    if !ctx.opts.all && args.len() >= 2 && !crate::netns::is_valid_name(&args[1]) {
        return invalid_name(&args[1]);
    }
    let rest = &args[1..];
    match lookup(verb_word) {
        Some(Verb::List) => list::list(ctx),
        Some(Verb::ListId) => list_id::list_id(ctx, rest),
        Some(Verb::Help) => usage(),
        Some(Verb::Add) => add::add(ctx, rest),
        Some(Verb::Set) => set::set(ctx, rest),
        Some(Verb::Delete) => delete::delete(ctx, rest),
        Some(Verb::Identify) => identify::identify(rest),
        Some(Verb::Pids) => pids::pids(rest),
        Some(Verb::Exec) => exec::exec(ctx, rest),
        Some(Verb::Monitor) => monitor::monitor(),
        Some(Verb::Attach) => add::attach(ctx, rest),
        None => {
            err(&bytes(&[
                b"Command \"",
                verb_word,
                b"\" is unknown, try \"nsctl help\".\n",
            ]));
            Err(Exit(255))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_follow_ip_order() {
        for (w, v) in [
            ("l", Verb::List),
            ("ls", Verb::List),
            ("s", Verb::List),
            ("sh", Verb::List),
            ("lst", Verb::List),
            ("list-", Verb::ListId),
            ("list-i", Verb::ListId),
            ("h", Verb::Help),
            ("a", Verb::Add),
            ("se", Verb::Set),
            ("d", Verb::Delete),
            ("del", Verb::Delete),
            ("i", Verb::Identify),
            ("p", Verb::Pids),
            ("e", Verb::Exec),
            ("m", Verb::Monitor),
            ("at", Verb::Attach),
        ] {
            assert_eq!(lookup(w.as_bytes()), Some(v), "{w}");
        }
        assert_eq!(lookup(b""), None);
        assert_eq!(lookup(b"frobnicate"), None);
        assert_eq!(lookup(b"lists"), None);
    }

    #[test]
    fn usage_is_ips_with_the_name_mapped() {
        // ip's text is 320 bytes; each of its 10 "ip [-all] netns " / "ip netns " loses 3.
        assert_eq!(USAGE.len(), 320 - 10 * 3);
        assert!(USAGE.starts_with("Usage:\tnsctl list\n\tnsctl add NAME\n"));
        assert!(USAGE.contains("\tnsctl [-all] delete [NAME]\n"));
    }
}
