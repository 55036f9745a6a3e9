//! `nsctl completions bash|zsh|fish`: a completion script generated from the command tree
//! by clap_complete (verbs, objects, options), plus the values only a running system knows:
//! namespace names from /run/netns and the applied labs for `destroy --lab` (the names of
//! /run/nsctl/labs/*.json; all three shells), and, for bash, interface names in the
//! namespace `-n NS` names, lab files (`*.toml`, and directories) for the lab verbs, and the
//! lab verbs' option values (`graph --format`'s, from the tree).
//!
//! Those names are anyone's (a lab file sets them, and the person pressing TAB is usually
//! root), so every script completes them literally: a name is compared and offered as a
//! string, never handed to anything that expands it.

use clap_complete::Shell;

use crate::tree::{self, Group};

/// Bash: the generated `_nsctl` completes the tree; this wrapper answers first where the
/// value is a namespace, a device, an object's verb or a lab file, and hands everything else
/// to it. It reads the words itself from COMP_LINE (COMP_WORDS splits `a:b` and `x=y` and
/// keeps quotes), completes names literally, and quotes what it offers for where the cursor
/// is. The `@...@` parts are filled from the tree: every spelling ip's prefix walk resolves
/// to a verb or object, so `nsctl lin <TAB>` and `nsctl d <TAB>` work as ip reads them.
const BASH_DYNAMIC: &str = r#"
# nsctl: values from the running system, completed literally.
#
# Namespace, device and file names come from the system (any lab file can set them), so a
# name is only ever compared with the typed word as a string and put in COMPREPLY already
# quoted for the line: nothing here evaluates a name. Not `compgen -W "$(list)"`, which
# expands $(...), `...` and $((...)) in its list and splits it on blanks; not
# `compopt -o filenames` either, for which bash expands a `$` in each candidate to look for
# a directory (and `$(( $(cmd) ))` runs cmd).

# _nsctl_split TEXT: the words of TEXT as the shell will read them, quotes and backslashes
# removed and nothing expanded, in _nsctl_w; _nsctl_q is the quote still open at its end
# (', " or nothing) and _nsctl_at where its last word starts.
_nsctl_split() {
    local s=$1 c i n=${#1} w="" inw=0
    _nsctl_w=() _nsctl_q="" _nsctl_at=$n
    for ((i = 0; i < n; i++)); do
        c=${s:i:1}
        if [[ -z $_nsctl_q && $c == [[:space:]] ]]; then
            ((inw)) && _nsctl_w+=("$w")
            w="" inw=0
            continue
        fi
        ((inw)) || _nsctl_at=$i inw=1
        if [[ $_nsctl_q == "'" ]]; then
            if [[ $c == "'" ]]; then _nsctl_q=""; else w+=$c; fi
        elif [[ $c == '\' ]]; then
            ((++i))
            if [[ $_nsctl_q == '"' && ${s:i:1} != [\$\`\"\\] ]]; then w+=$c; fi
            w+=${s:i:1}
        elif [[ $_nsctl_q == '"' ]]; then
            if [[ $c == '"' ]]; then _nsctl_q=""; else w+=$c; fi
        elif [[ $c == [\'\"] ]]; then
            _nsctl_q=$c
        else
            w+=$c
        fi
    done
    _nsctl_w+=("$w")
}
# _nsctl_context WORD: the line's words up to the cursor (_nsctl_w, the last being the word
# being completed), and _nsctl_pre, the part of that word before WORD (bash's $2), where
# readline starts replacing: after an opening quote or a character of COMP_WORDBREAKS.
# COMP_POINT counts bytes, hence LC_ALL=C for the slicing.
_nsctl_context() {
    local LC_ALL=C line=${COMP_LINE:0:COMP_POINT} start q at
    start=$((${#line} - ${#1}))
    _nsctl_split "$line"
    q=$_nsctl_q at=$_nsctl_at
    _nsctl_pre=""
    if ((start > at)) && [[ ${line:start} == "$1" ]]; then
        _nsctl_split "${line:at:start-at}"
        _nsctl_pre=${_nsctl_w[${#_nsctl_w[@]}-1]}
        _nsctl_split "$line"
    fi
}
# _nsctl_quote TEXT [open]: TEXT as it must be typed where the cursor is, in the quote
# open there, which it closes unless told to leave it open; in _nsctl_r.
_nsctl_quote() {
    local t=$1
    case $_nsctl_q in
        "'") t=${t//\'/\'\\\'\'} ;;
        '"') # `!` is typed as "'!'": history expansion works inside "..."
            t=${t//\\/\\\\}
            t=${t//\$/\\\$}
            t=${t//\`/\\\`}
            t=${t//\"/\\\"}
            t=${t//!/\"\'!\'\"} ;;
        *) [ -n "$t" ] && printf -v t %q "$t" ;;
    esac
    [ -n "${2-}" ] || t+=$_nsctl_q
    _nsctl_r=$t
}
# _nsctl_reply NAME...: each NAME that begins with the word being completed, quoted.
_nsctl_reply() {
    local n cur=${_nsctl_w[${#_nsctl_w[@]}-1]}
    for n; do
        [[ $n == "$cur"* ]] || continue
        _nsctl_quote "${n:${#_nsctl_pre}}"
        COMPREPLY+=("$_nsctl_r")
    done
}
# _nsctl_glob PREFIX: the paths that begin with PREFIX, taken literally, in _nsctl_g
# (dot files too when DOT is given), whatever the user's glob options.
_nsctl_glob() {
    local ng=0 fg=0 dg=0
    shopt -q nullglob && ng=1
    shopt -q failglob && fg=1
    shopt -q dotglob && dg=1
    shopt -s nullglob
    shopt -u failglob
    if [ -n "${2-}" ]; then shopt -s dotglob; else shopt -u dotglob; fi
    _nsctl_g=("$1"*)
    ((ng)) || shopt -u nullglob
    ((fg)) && shopt -s failglob
    if ((dg)); then shopt -s dotglob; else shopt -u dotglob; fi
}
# _nsctl_netns [PREFIX]: the names under /run/netns (each after PREFIX).
_nsctl_netns() {
    local f
    local -a names=()
    _nsctl_glob /run/netns/ dot
    for f in "${_nsctl_g[@]}"; do names+=("${1-}${f#/run/netns/}"); done
    _nsctl_reply "${names[@]}"
}
# _nsctl_labs [PREFIX]: the applied labs, the names of their journals
# /run/nsctl/labs/NAME.json (each after PREFIX).
_nsctl_labs() {
    local f
    local -a names=()
    _nsctl_glob /run/nsctl/labs/
    for f in "${_nsctl_g[@]}"; do
        [[ $f == *.json ]] || continue
        f=${f#/run/nsctl/labs/}
        names+=("${1-}${f%.json}")
    done
    _nsctl_reply "${names[@]}"
}
# _nsctl_devices NS: the devices in NS (here when empty). Their names have no blanks;
# `ip -brief` adds @PEER to a device with a link.
_nsctl_devices() {
    local name
    local -a names=()
    while read -r name _; do
        names+=("${name%@*}")
    done < <(if [ -n "$1" ]; then nsctl -n "$1" -brief link; else nsctl -brief link; fi 2>/dev/null)
    _nsctl_reply "${names[@]}"
}
# _nsctl_files [PATTERN]: the files that begin with the word being completed (those that
# match PATTERN, when given) and directories. A word starting with ~ is left to bash's own
# file completion (-o default), which expands it.
_nsctl_files() {
    local f cur=${_nsctl_w[${#_nsctl_w[@]}-1]} dot=""
    [[ $cur == \~* ]] && return
    [[ ${cur##*/} == .* ]] && dot=1
    _nsctl_glob "$cur" "$dot"
    for f in "${_nsctl_g[@]}"; do
        if [ -d "$f" ]; then
            _nsctl_quote "${f:${#_nsctl_pre}}/" open
            COMPREPLY+=("$_nsctl_r")
        elif [[ -z ${1-} || $f == $1 ]]; then
            _nsctl_quote "${f:${#_nsctl_pre}}"
            COMPREPLY+=("$_nsctl_r")
        fi
    done
    [[ ${#COMPREPLY[@]} -eq 1 && $COMPREPLY == */ ]] && compopt -o nospace 2>/dev/null
}
_nsctl_dynamic() {
    local ns="" i w obj="" verb="" cur prev
    local -a words=() v=()
    _nsctl_context "$2"
    local -a all=("${_nsctl_w[@]}")
    [ ${#all[@]} -ge 2 ] || { _nsctl "$@"; return; }
    cur=${all[${#all[@]}-1]} prev=${all[${#all[@]}-2]}
    for ((i = 1; i < ${#all[@]} - 1; i++)); do
        w=${all[i]}
        case $w in
            -n|-ne|-net|-netn|-netns|--netns) ns=${all[i+1]-}; ((i++)) ;;
            --netns=*) ns=${w#--netns=} ;;
            -b|-ba|-bat|-batc|-batch|--batch|-f|-family|-l|-loops|-rc|-rcvbuf) ((i++)) ;;
            @LABVALUE@) ((i++)) ;;
            -*) ;;
            *) words+=("$w") ;;
        esac
    done
    case $prev in
        -n|-ne|-net|-netn|-netns|--netns) _nsctl_netns; return ;;
        -b|-ba|-bat|-batc|-batch|--batch) _nsctl_files; return ;;
        dev|master) _nsctl_devices "$ns"; return ;;
        netns) [ ${#words[@]} -ge 2 ] && { _nsctl_netns; return; } ;;
    esac
    case $cur in
        --netns=*) _nsctl_netns --netns=; return ;;
    esac
    case ${words[0]-} in
        @NETNS@) words=("${words[@]:1}") ;;
    esac
    # A lab verb's option values: its listed values, the applied labs, or (a machine's name,
    # a number) nothing, rather than files.
    case ${words[0]-} in
        @LAB@)
            case $prev in
@LABPREV@            esac
            case $cur in
@LABCUR@            esac ;;
    esac
    case ${words[0]-} in
@OBJECTS@    esac
    if [ ${#words[@]} -eq 1 ]; then
        case ${words[0]-} in
            @NAMED@) _nsctl_netns; return ;;
            @LAB@) [[ $cur == -* ]] || { _nsctl_files '*.toml'; return; } ;;
        esac
        case $obj in
@OBJVERBS@        esac
        [ ${#v[@]} -gt 0 ] && { _nsctl_reply "${v[@]}"; return; }
    fi
    if [ ${#words[@]} -eq 2 ] && [ "$obj" = link ]; then
        case $obj:${words[1]} in
@VERBS@        esac
        case $verb in
            set|delete|show) _nsctl_devices "$ns"; return ;;
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

/// What a lab verb's option takes, for completion: its listed values (`--format`), an
/// applied lab's name (`--lab`), or something no list has (`--host NAME`, `--jobs N`).
enum LabValue {
    Values(Vec<String>),
    Lab,
    Other,
}

/// Every long option of the lab verbs that takes a value, once, in tree order. Listed
/// values go into the scripts' source as words, so only plain ones are taken.
fn lab_value_options() -> Vec<(String, LabValue)> {
    let plain = |v: &str| {
        !v.is_empty()
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    let mut out: Vec<(String, LabValue)> = Vec::new();
    let lab_verbs = tree::get()
        .get_subcommands()
        .filter(|c| tree::group(c) == Group::Lab);
    for a in lab_verbs.flat_map(|c| c.get_arguments()) {
        let Some(long) = a.get_long() else { continue };
        if !a.get_action().takes_values() || out.iter().any(|(l, _)| l == long) {
            continue;
        }
        let values: Vec<String> = a
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .filter(|v| plain(v))
            .collect();
        let what = if !values.is_empty() {
            LabValue::Values(values)
        } else if a.get_id() == "lab" {
            LabValue::Lab
        } else {
            LabValue::Other
        };
        out.push((long.to_string(), what));
    }
    out
}

/// The bash cases for the lab verbs' option values: after `--OPT` (prev) and in `--OPT=`
/// (cur).
fn bash_lab_values() -> (String, String, String) {
    let (mut names, mut prev, mut cur, mut other) =
        (Vec::new(), String::new(), String::new(), Vec::new());
    for (long, what) in lab_value_options() {
        names.push(format!("--{long}"));
        match what {
            LabValue::Values(v) => {
                prev += &format!(
                    "                --{long}) _nsctl_reply {}; return ;;\n",
                    v.join(" ")
                );
                let with: Vec<String> = v.iter().map(|x| format!("--{long}={x}")).collect();
                cur += &format!(
                    "                --{long}=*) _nsctl_reply {}; return ;;\n",
                    with.join(" ")
                );
            }
            LabValue::Lab => {
                prev += &format!("                --{long}) _nsctl_labs; return ;;\n");
                cur += &format!("                --{long}=*) _nsctl_labs --{long}=; return ;;\n");
            }
            LabValue::Other => other.push(format!("--{long}")),
        }
    }
    if !other.is_empty() {
        prev += &format!(
            "                {}) compopt +o default +o bashdefault 2>/dev/null; return ;;\n",
            other.join("|")
        );
    }
    (names.join("|"), prev, cur)
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
        verb_lists += &format!("            {name}) v=({}) ;;\n", verbs.join(" "));
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
    let (lab_value, lab_prev, lab_cur) = bash_lab_values();
    BASH_DYNAMIC
        .replace("@LABVALUE@", &lab_value)
        .replace("@LABPREV@", &lab_prev)
        .replace("@LABCUR@", &lab_cur)
        .replace("@NETNS@", &spellings(None, "netns"))
        .replace("@OBJECTS@", &obj_lines)
        .replace("@OBJVERBS@", &verb_lists)
        .replace("@VERBS@", &verb_lines)
        .replace("@NAMED@", &named.join("|"))
        .replace("@LAB@", &lab.join("|"))
}

/// Fish: namespace names after the verbs that take one, and after -n. `-a '(f)'` takes each
/// line f prints as one candidate, literally; a name with a newline or a tab (which starts a
/// candidate's description) cannot be one, so it is left out rather than offered cut.
const FISH_DYNAMIC: &str = r#"
# nsctl: values from the running system, completed literally.
function __nsctl_netns
    for f in /run/netns/* /run/netns/.*
        string match -qr '[\n\t]' -- $f; and continue
        string replace -r '^.*/' '' -- $f
    end
end
complete -c nsctl -n '__fish_seen_subcommand_from exec delete pids set' -f -a '(__nsctl_netns)'
complete -c nsctl -s n -l netns -x -a '(__nsctl_netns)'
function __nsctl_labs
    for f in /run/nsctl/labs/*.json
        string match -qr '[\n\t]' -- $f; and continue
        string replace -r '^.*/(.*)\.json$' '$1' -- $f
    end
end
complete -c nsctl -n '__fish_seen_subcommand_from apply destroy status test graph' -F -a '(__fish_complete_suffix .toml)'
"#;

/// Fish: the applied labs after each lab verb's lab-name option (`destroy --lab`).
fn fish_labs() -> String {
    let mut s = String::new();
    for c in tree::get()
        .get_subcommands()
        .filter(|c| tree::group(c) == Group::Lab)
    {
        for a in c.get_arguments().filter(|a| a.get_id() == "lab") {
            if let Some(l) = a.get_long() {
                s += &format!(
                    "complete -c nsctl -n '__fish_seen_subcommand_from {}' -l {l} -x -a '(__nsctl_labs)'\n",
                    c.get_name()
                );
            }
        }
    }
    s
}

/// Zsh: the namespace names, for each `NAME` under /run/netns and for -n, and the applied
/// labs (/run/nsctl/labs/NAME.json) for `--lab`. `compadd -a` adds each as one literal
/// candidate, which zsh quotes when it inserts it.
const ZSH_DYNAMIC: &str = r#"
# nsctl: values from the running system, completed literally.
_nsctl_netns() {
    local -a names
    names=(/run/netns/*(ND:t))
    compadd "$@" -a names
}
_nsctl_labs() {
    local -a names
    names=(/run/nsctl/labs/*.json(N:t:r))
    compadd "$@" -a names
}
"#;

/// The namespace arguments in clap's zsh script: their action `_default` becomes
/// `_nsctl_netns`.
const ZSH_NETNS_ARGS: [&str; 2] = [":NS:_default'", "a name under /run/netns:_default'"];

/// Clap's zsh script with [`ZSH_DYNAMIC`] after its first line (`#compdef nsctl`, which
/// must stay first) and the namespace arguments completed by it.
fn zsh(generated: &[u8]) -> Vec<u8> {
    let mut text = String::from_utf8_lossy(generated).into_owned();
    for spec in ZSH_NETNS_ARGS {
        text = text.replace(spec, &spec.replace("_default", "_nsctl_netns"));
    }
    // The lab-name options (`--lab=[...]:NAME:_default'`) complete the applied labs.
    let labs: Vec<String> = lab_value_options()
        .into_iter()
        .filter(|(_, w)| matches!(w, LabValue::Lab))
        .map(|(l, _)| format!("--{l}=["))
        .collect();
    text = text
        .lines()
        .map(|l| match l.strip_suffix(":_default' \\") {
            Some(head) if labs.iter().any(|o| l.contains(o.as_str())) => {
                format!("{head}:_nsctl_labs' \\\n")
            }
            _ => format!("{l}\n"),
        })
        .collect();
    let at = text.find('\n').map_or(text.len(), |i| i + 1);
    text.insert_str(at, ZSH_DYNAMIC);
    text.into_bytes()
}

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
        Shell::Fish => {
            out.extend_from_slice(FISH_DYNAMIC.as_bytes());
            out.extend_from_slice(fish_labs().as_bytes());
        }
        _ => out = zsh(&out),
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(shell: &str) -> String {
        String::from_utf8(script(shell).unwrap()).unwrap()
    }

    /// What the bash wrapper does with a name: compare and quote it, never hand it to
    /// something that expands it (compgen's word list, eval, `-o filenames`' directory test,
    /// a command substitution).
    #[test]
    fn bash_wrapper_evaluates_no_name() {
        let w = bash_dynamic();
        assert!(text("bash").ends_with(&w));
        let code: Vec<&str> = w
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect();
        let code = code.join("\n");
        for bad in [
            "compgen",
            "eval",
            "-o filenames",
            "@NETNS@",
            "@OBJECTS@",
            "@LAB@",
            "@LABVALUE@",
            "@LABPREV@",
            "@LABCUR@",
        ] {
            assert!(!code.contains(bad), "{bad} in the wrapper");
        }
        assert_eq!(code.matches("$(").count(), code.matches("$((").count());
    }

    /// Zsh completes namespace names (after each verb's NAME and -n/--netns) with its own
    /// literal function, defined after `#compdef`, which must stay the first line.
    #[test]
    fn zsh_completes_namespace_names() {
        let z = text("zsh");
        assert!(z.starts_with(&format!("#compdef nsctl\n{ZSH_DYNAMIC}")));
        for spec in ZSH_NETNS_ARGS {
            assert!(!z.contains(spec), "{spec} left");
        }
        assert_eq!(z.matches(":NS:_nsctl_netns'").count(), 2);
        assert!(z.matches("a name under /run/netns:_nsctl_netns'").count() >= 5);
        assert_eq!(z.matches(":NAME:_nsctl_labs' \\\n").count(), 1);
        assert_eq!(z.matches("_nsctl_labs").count(), 2);
    }

    /// The lab verbs' value options, from the tree: `--format`'s values, `--lab` the applied
    /// labs, `--host` and `--jobs` nothing (never files).
    #[test]
    fn lab_option_values_come_from_the_tree() {
        let (names, prev, cur) = bash_lab_values();
        assert_eq!(names, "--host|--lab|--jobs|--format");
        assert_eq!(
            prev,
            "                --lab) _nsctl_labs; return ;;\n\
             \x20               --format) _nsctl_reply dot mermaid svg; return ;;\n\
             \x20               --host|--jobs) compopt +o default +o bashdefault 2>/dev/null; \
             return ;;\n"
        );
        assert_eq!(
            cur,
            "                --lab=*) _nsctl_labs --lab=; return ;;\n\
             \x20               --format=*) _nsctl_reply --format=dot --format=mermaid \
             --format=svg; return ;;\n"
        );
        assert!(text("fish").ends_with(
            "complete -c nsctl -n '__fish_seen_subcommand_from destroy' -l lab -x -a \
             '(__nsctl_labs)'\n"
        ));
    }

    #[test]
    fn other_shells_get_none() {
        assert!(script("tcsh").is_none());
        assert!(text("fish").contains(FISH_DYNAMIC));
    }
}
