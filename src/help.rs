//! `nsctl --help`: everything nsctl can do, grouped as the command tree groups it. Written
//! from the tree (src/tree.rs), so a verb added there appears here, in the man page and in
//! the completions at once. (`nsctl help` and `-help` keep ip's usage texts; on a terminal,
//! [`point`] adds one line after them that leads here.)

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

/// The line a person at a terminal gets after ip's own words (`nsctl help`, `-help`, an
/// unknown command or option): ip's texts list only the `ip netns` verbs, so this says where
/// the rest is. `suggest` is a verb the unknown word is probably a misspelling of.
pub fn pointer(suggest: Option<&str>) -> String {
    let labs: Vec<&str> = tree::get()
        .get_subcommands()
        .filter(|c| tree::group(c) == Group::Lab && !c.is_hide_set())
        .map(|c| c.get_name())
        .collect();
    let mut s = String::new();
    if let Some(v) = suggest {
        s += &format!("Did you mean \"nsctl {v}\"? ");
    }
    s += &format!(
        "\"nsctl --help\" lists every verb, the lab verbs ({}) too.\n",
        labs.join(", ")
    );
    s
}

/// Print [`pointer`] on stderr after ip's words, only when stderr is a terminal: scripts, and
/// the differential test against ip, see ip's bytes and nothing more.
pub fn point(suggest: Option<&str>) {
    use std::io::IsTerminal;
    if std::io::stderr().is_terminal() {
        crate::output::err(pointer(suggest).as_bytes());
    }
}

/// The visible top-level verb or object that `word` is most likely a misspelling of: at most
/// one edit away (two for words of five bytes or more), an adjacent swap counting as one.
pub fn suggestion(word: &[u8]) -> Option<&'static str> {
    let limit = if word.len() >= 5 { 2 } else { 1 };
    // A long word is no misspelling of a verb (and would only cost time).
    if word.is_empty() || word.len() > 32 {
        return None;
    }
    tree::get()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| (edits(word, c.get_name().as_bytes()), c.get_name()))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, name)| name)
}

/// The optimal string alignment distance: insertions, deletions, substitutions and swaps of
/// adjacent bytes. Both words are short (the caller bounds them), so the table is small.
fn edits(a: &[u8], b: &[u8]) -> usize {
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            d[i * w + j] = if i == 0 || j == 0 {
                i.max(j)
            } else {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut v = (d[(i - 1) * w + j] + 1)
                    .min(d[i * w + j - 1] + 1)
                    .min(d[(i - 1) * w + j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    v = v.min(d[(i - 2) * w + j - 2] + 1);
                }
                v
            };
        }
    }
    d[a.len() * w + b.len()]
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

    #[test]
    fn pointer_names_the_lab_verbs() {
        assert_eq!(
            pointer(None),
            "\"nsctl --help\" lists every verb, the lab verbs (apply, destroy, status, test, \
             graph) too.\n"
        );
        assert!(
            pointer(Some("apply")).starts_with("Did you mean \"nsctl apply\"? \"nsctl --help\"")
        );
    }

    #[test]
    fn misspellings_suggest_the_verb() {
        for (typo, want) in [
            ("aply", Some("apply")),
            ("appyl", Some("apply")),
            ("destory", Some("destroy")),
            ("stauts", Some("status")),
            ("grpah", Some("graph")),
            ("lnik", Some("link")),
            ("exce", Some("exec")),
            ("completion", Some("completions")),
            ("frobnicate", None),
            ("x", None),
            ("", None),
            ("netn", None),
        ] {
            assert_eq!(suggestion(typo.as_bytes()), want, "{typo}");
        }
        assert_eq!(suggestion(&[b'a'; 100_000]), None);
        assert_eq!(edits(b"", b"abc"), 3);
        assert_eq!(edits(b"ab", b"ba"), 1);
    }
}
