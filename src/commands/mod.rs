//! `ip netns`: the verb table and the checks that run before any verb.
//!
//! The verbs are declared in the command tree (src/tree.rs) in iproute2's order, and prefix
//! matching walks them in order: that is what makes `s` mean list, `se` set, `a` add, `at`
//! attach, `d` delete, `i` identify and `p` pids.

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

/// The usage text of `nsctl help` (stderr, exit 255): ip's, with `ip [-all] netns` → `nsctl [-all]`.
/// On a terminal (and outside a batch) `help` and an unknown verb add one line after ip's
/// words, [`crate::help::pointer`], since ip's text lists none of nsctl's own verbs.
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

/// Resolve an abbreviated verb to its full name, by ip's prefix walk over the netns verbs
/// of the command tree (declared in iproute2's order there).
pub fn lookup(word: &[u8]) -> Option<&'static str> {
    crate::tree::walk(crate::tree::get(), word, Some(crate::tree::Group::Netns))
        .map(|c| c.get_name())
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
    match lookup(verb_word).unwrap_or_default() {
        "list" => list::list(ctx),
        "list-id" => list_id::list_id(ctx, rest),
        "help" => {
            let r = usage();
            if !ctx.batch {
                crate::help::point(None);
            }
            r
        }
        "add" => add::add(ctx, rest),
        "set" => set::set(ctx, rest),
        "delete" => delete::delete(ctx, rest),
        "identify" => identify::identify(rest),
        "pids" => pids::pids(rest),
        "exec" => exec::exec(ctx, rest),
        "monitor" => monitor::monitor(),
        "attach" => add::attach(ctx, rest),
        _ => {
            err(&bytes(&[
                b"Command \"",
                verb_word,
                b"\" is unknown, try \"nsctl help\".\n",
            ]));
            if !ctx.batch {
                crate::help::point(crate::help::suggestion(verb_word));
            }
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
            ("l", "list"),
            ("ls", "list"),
            ("s", "list"),
            ("sh", "list"),
            ("lst", "list"),
            ("list-", "list-id"),
            ("list-i", "list-id"),
            ("h", "help"),
            ("a", "add"),
            ("se", "set"),
            ("d", "delete"),
            ("del", "delete"),
            ("i", "identify"),
            ("p", "pids"),
            ("e", "exec"),
            ("m", "monitor"),
            ("at", "attach"),
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
