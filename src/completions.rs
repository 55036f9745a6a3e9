//! `nsctl completions bash|zsh|fish`: a completion script generated from the command tree
//! by clap_complete (verbs, objects, options), plus, for bash and fish, the values only a
//! running system knows: namespace names from /run/netns, interface names in the namespace
//! `-n NS` names, and lab files (`*.toml`) for the lab verbs.

use clap_complete::Shell;

use crate::tree::{self, Group};

/// Bash: the generated `_nsctl` completes the tree; this wrapper answers first where the
/// value is a namespace, a device, an object's verb or a lab file, and hands everything else
/// to it. The `@...@` parts are filled from the tree: every spelling ip's prefix walk
/// resolves to a verb or object, so `nsctl lin <TAB>` and `nsctl d <TAB>` work as ip reads
/// them.
const BASH_DYNAMIC: &str = r#"
# nsctl: values from the running system.
_nsctl_netns() {
    local f
    for f in /run/netns/*; do [ -e "$f" ] && printf '%s\n' "${f##*/}"; done
}
_nsctl_devices() {
    if [ -n "$1" ]; then nsctl -n "$1" -brief link 2>/dev/null; else nsctl -brief link 2>/dev/null; fi |
        while read -r name _; do printf '%s\n' "${name%%@*}"; done
}
_nsctl_dynamic() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} ns="" i w obj="" verb="" v=""
    local -a words=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        case $w in
            -n|-ne|-net|-netn|-netns|--netns) ns=${COMP_WORDS[i+1]}; ((i++)) ;;
            -b|-ba|-bat|-batc|-batch|--batch|-f|-family|-l|-loops|-rc|-rcvbuf) ((i++)) ;;
            -*) ;;
            *) words+=("$w") ;;
        esac
    done
    case $prev in
        -n|-ne|-net|-netn|-netns|--netns)
            mapfile -t COMPREPLY < <(compgen -W "$(_nsctl_netns)" -- "$cur"); return ;;
        dev|master)
            mapfile -t COMPREPLY < <(compgen -W "$(_nsctl_devices "$ns")" -- "$cur"); return ;;
        netns)
            [ ${#words[@]} -ge 2 ] && { mapfile -t COMPREPLY < <(compgen -W "$(_nsctl_netns)" -- "$cur"); return; } ;;
    esac
    case ${words[0]} in
        @NETNS@) words=("${words[@]:1}") ;;
    esac
    case ${words[0]} in
@OBJECTS@    esac
    if [ ${#words[@]} -eq 1 ]; then
        case ${words[0]} in
            @NAMED@)
                mapfile -t COMPREPLY < <(compgen -W "$(_nsctl_netns)" -- "$cur"); return ;;
            @LAB@)
                [[ $cur == -* ]] || { mapfile -t COMPREPLY < <(compgen -f -X '!*.toml' -- "$cur"; compgen -d -- "$cur"); return; } ;;
        esac
        case $obj in
@OBJVERBS@        esac
        [ -n "$v" ] && { mapfile -t COMPREPLY < <(compgen -W "$v" -- "$cur"); return; }
    fi
    if [ ${#words[@]} -eq 2 ] && [ "$obj" = link ]; then
        case $obj:${words[1]} in
@VERBS@        esac
        case $verb in
            set|delete|show) mapfile -t COMPREPLY < <(compgen -W "$(_nsctl_devices "$ns")" -- "$cur"); return ;;
        esac
    fi
    _nsctl "$@"
}
complete -F _nsctl_dynamic -o bashdefault -o default nsctl
"#;

/// Every word ip's prefix walk resolves to `name` among `parent`'s subcommands (at the top
/// level: [`tree::top`]), as a bash case pattern (`d|de|del|...`).
fn spellings(parent: Option<&clap::Command>, name: &str) -> String {
    let t = tree::get();
    let resolve = |w: &str| match parent {
        Some(p) => tree::walk(p, w.as_bytes(), None).map(|c| c.get_name()),
        None => tree::top(w.as_bytes()).map(|c| c.get_name()),
    };
    let c = parent.unwrap_or(t).find_subcommand(name);
    let mut words: Vec<String> = Vec::new();
    for full in std::iter::once(name).chain(c.into_iter().flat_map(|c| c.get_all_aliases())) {
        for k in 1..=full.len() {
            let w = &full[..k];
            if resolve(w) == Some(name) && !words.iter().any(|x| x == w) {
                words.push(w.to_string());
            }
        }
    }
    words.join("|")
}

/// The bash wrapper with its tree-made parts filled in.
fn bash_dynamic() -> String {
    let t = tree::get();
    let objects: Vec<&clap::Command> = t
        .get_subcommands()
        .filter(|c| tree::group(c) == Group::Object && !c.is_hide_set())
        .collect();
    let mut obj_lines = String::new();
    let mut verb_lists = String::new();
    let mut verb_lines = String::new();
    for o in &objects {
        let name = o.get_name();
        obj_lines += &format!("        {}) obj={name} ;;\n", spellings(None, name));
        let verbs: Vec<&str> = o.get_subcommands().map(|v| v.get_name()).collect();
        verb_lists += &format!("            {name}) v=\"{}\" ;;\n", verbs.join(" "));
        for v in &verbs {
            let pats: Vec<String> = spellings(Some(o), v)
                .split('|')
                .map(|w| format!("{name}:{w}"))
                .collect();
            verb_lines += &format!("            {}) verb={v} ;;\n", pats.join("|"));
        }
    }
    let named: Vec<String> = ["delete", "exec", "pids", "set"]
        .iter()
        .map(|v| spellings(None, v))
        .collect();
    let lab: Vec<&str> = t
        .get_subcommands()
        .filter(|c| tree::group(c) == Group::Lab)
        .map(|c| c.get_name())
        .collect();
    BASH_DYNAMIC
        .replace("@NETNS@", &spellings(None, "netns"))
        .replace("@OBJECTS@", &obj_lines)
        .replace("@OBJVERBS@", &verb_lists)
        .replace("@VERBS@", &verb_lines)
        .replace("@NAMED@", &named.join("|"))
        .replace("@LAB@", &lab.join("|"))
}

/// Fish: namespace names after the verbs that take one, and after -n.
const FISH_DYNAMIC: &str = r#"
# nsctl: values from the running system.
function __nsctl_netns
    for f in /run/netns/*
        basename $f
    end
end
complete -c nsctl -n '__fish_seen_subcommand_from exec delete pids set' -f -a '(__nsctl_netns)'
complete -c nsctl -s n -l netns -x -a '(__nsctl_netns)'
complete -c nsctl -n '__fish_seen_subcommand_from apply destroy status test graph' -F -a '(__fish_complete_suffix .toml)'
"#;

/// The script for `shell` ("bash", "zsh" or "fish"), or None for another shell.
pub fn script(shell: &str) -> Option<Vec<u8>> {
    let sh = match shell {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => return None,
    };
    let mut cmd = crate::tree::get().clone();
    let mut out = Vec::new();
    clap_complete::generate(sh, &mut cmd, "nsctl", &mut out);
    match sh {
        Shell::Bash => out.extend_from_slice(bash_dynamic().as_bytes()),
        Shell::Fish => out.extend_from_slice(FISH_DYNAMIC.as_bytes()),
        _ => {}
    }
    Some(out)
}
