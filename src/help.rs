//! `nsctl --help`: everything nsctl can do, grouped as the command tree groups it. Written
//! from the tree (src/tree.rs), so a verb added there appears here, in the man page and in
//! the completions at once. (`nsctl help` and `-help` keep ip's usage texts.)

use clap::Command;

use crate::tree::{self, Group};

/// One subcommand's line: name, its arguments' shape (not for an object's verbs, whose
/// grammar `nsctl OBJECT help` prints), and its help.
fn line(out: &mut String, c: &Command, prefix: &str) {
    let mut head = format!("{prefix}{}", c.get_name());
    for a in c.get_positionals().filter(|_| prefix.is_empty()) {
        let name = a
            .get_value_names()
            .and_then(|v| v.first())
            .map(|s| s.to_string())
            .unwrap_or_else(|| a.get_id().to_string());
        head += &if a.is_required_set() || name.starts_with('[') {
            format!(" {name}")
        } else {
            format!(" [{name}]")
        };
    }
    let about = c.get_about().map(|s| s.to_string()).unwrap_or_default();
    if head.len() < 26 {
        *out += &format!("  {head:<26}{about}\n");
    } else {
        *out += &format!("  {head}\n  {:<26}{about}\n", "");
    }
}

/// The whole help text.
pub fn render() -> String {
    let t = tree::get();
    let mut s = format!(
        "nsctl {}: {}\n\n\
         Usage: nsctl [OPTIONS] [netns] VERB [ARGS]...      the `ip netns` verbs\n\
         \x20      nsctl [OPTIONS] OBJECT VERB [ARGS]...      link, address, route\n\
         \x20      nsctl LAB-VERB [ARGS]...                   whole labs from a TOML file\n\
         \x20      nsctl [-force] -batch FILE\n",
        env!("CARGO_PKG_VERSION"),
        t.get_about().map(|a| a.to_string()).unwrap_or_default()
    );
    let visible = |g: Group| {
        t.get_subcommands()
            .filter(move |c| tree::group(c) == g && !c.is_hide_set())
    };
    s += "\nNamespaces (as `ip netns`; verbs abbreviate as in ip: s = list, d = delete):\n";
    for c in visible(Group::Netns) {
        line(&mut s, c, "");
    }
    s += "\nWiring (as `ip link|addr|route`, in ip's grammar; `nsctl OBJECT help` for it):\n";
    for o in visible(Group::Object) {
        for v in o.get_subcommands().filter(|v| v.get_name() != "help") {
            line(&mut s, v, &format!("{} ", o.get_name()));
        }
    }
    s += "\nLabs (docs/topology.md; `nsctl VERB --help` for options):\n";
    for c in visible(Group::Lab) {
        line(&mut s, c, "");
    }
    s += "\nOther:\n";
    for c in visible(Group::Meta) {
        line(&mut s, c, "");
    }
    s += "\nOptions (ip's: one dash, any unambiguous prefix, --x = -x):\n";
    for a in t.get_arguments() {
        let mut names = Vec::new();
        if let Some(c) = a.get_short() {
            names.push(format!("-{c}"));
        }
        if let Some(l) = a.get_long() {
            names.push(if l == "help" || l == "version" {
                format!("--{l}")
            } else {
                format!("-{l}")
            });
        }
        let mut head = names.join(", ");
        if let Some(v) = a.get_value_names().and_then(|v| v.first()) {
            head += &format!(" {v}");
        }
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        s += &format!("  {head:<26}{help}\n");
    }
    s += "\nExit status: ip's for the ip verbs (0, 1, 2, 255); for the lab verbs 0 done, 1 \
          failed,\n2 bad input, 3 refused (objects nsctl did not make), 4 a missing tool. \
          `nsctl man` has more.\n";
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_names_every_verb_and_object() {
        let h = render();
        for w in [
            "list",
            "add",
            "attach",
            "set",
            "delete",
            "identify",
            "pids",
            "exec",
            "monitor",
            "list-id",
            "link add",
            "link set",
            "link delete",
            "link show",
            "address add",
            "route show",
            "apply",
            "destroy",
            "status",
            "man",
            "completions",
            "-netns NS",
            "--version",
            "--help",
        ] {
            let at_start = format!("  {w}");
            assert!(
                h.contains(&at_start) || h.contains(&format!(" {w} ")),
                "{w} missing:\n{h}"
            );
        }
        assert!(!h.contains("  netns "), "the hidden object word is listed");
    }
}
