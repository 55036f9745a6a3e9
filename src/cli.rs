//! The front end: ip's global options (prefix-matched, in ip's order, `--x` = `-x`), the object
//! word, and the exit status. `nsctl [OPTIONS] [netns] VERB ...` is `ip [OPTIONS] netns VERB ...`.

use crate::ctx::{Ctx, Opts};
use crate::error::{status_of, Exit, Ret};
use crate::output::{bytes, err, out};
use crate::parse::{get_unsigned, matches};

/// nsctl's own top-level usage (ip's lists objects nsctl does not have).
pub const USAGE: &str = "Usage: nsctl [ OPTIONS ] [ netns ] COMMAND\n\
\x20      nsctl [ -force ] -batch filename\n\
where  COMMAND := { list | add | attach | set | delete | identify | pids |\n\
\x20                   exec | monitor | list-id | help }\n\
\x20      OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -a[ll] | -n[etns] name |\n\
\x20                   -b[atch] [filename] | -force }\n";

/// Everything the option parser decided.
#[derive(Debug, Default)]
pub struct Parsed {
    pub opts: Opts,
    pub batch: Option<Vec<u8>>,
    /// The words after the options.
    pub rest: Vec<Vec<u8>>,
}

/// What `-V`, `-Version` and `--version` print (ip's shape: `ip utility, iproute2-6.1.0`).
fn version() -> String {
    format!("nsctl utility, nsctl-{}\n", env!("CARGO_PKG_VERSION"))
}

fn usage() -> Exit {
    err(USAGE.as_bytes());
    Exit(255)
}

/// ip's `-color[=always|auto|never]`.
fn is_color(opt: &[u8]) -> bool {
    let (key, val) = match opt.iter().position(|&b| b == b'=') {
        Some(i) => (&opt[..i], Some(&opt[i + 1..])),
        None => (opt, None),
    };
    matches(key, "-color") && matches!(val, None | Some(b"always" | b"auto" | b"never"))
}

/// What a global option does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Act {
    /// Accepted for compatibility; takes no value and changes nothing netns prints.
    Ignore,
    /// Changes what ip's link, addr and route print, and nsctl does not do it: the netns
    /// verbs ignore it as ip's do; wiring refuses it (see `wiring::run`).
    Unimplemented(&'static str),
    /// `-s`, `-stats`: once for statistics, twice for the error details.
    Stats,
    /// `-h`: statistics with k/M/G units.
    Human,
    /// `-iec`: those units in powers of 1024.
    Iec,
    /// Accepted; takes one value that must be present.
    IgnoreValue,
    Family,
    Version,
    Force,
    Batch,
    Brief,
    Inet,
    Inet6,
    Json,
    Pretty,
    Rcvbuf,
    Help,
    Netns,
    All,
}

/// ip's options in ip's order: the first one the word is a prefix of wins, so `-b` is batch,
/// `-f` family, `-h` human, `-r` resolve and `-n` netns.
const OPTIONS: &[(&str, Act)] = &[
    ("-loops", Act::IgnoreValue),
    ("-family", Act::Family),
    ("-human", Act::Human),
    ("-human-readable", Act::Human),
    ("-iec", Act::Iec),
    ("-stats", Act::Stats),
    ("-statistics", Act::Stats),
    ("-details", Act::Unimplemented("-details")),
    ("-resolve", Act::Unimplemented("-resolve")),
    ("-oneline", Act::Unimplemented("-oneline")),
    ("-timestamp", Act::Ignore),
    ("-tshort", Act::Ignore),
    ("-Version", Act::Version),
    ("-force", Act::Force),
    ("-batch", Act::Batch),
    ("-brief", Act::Brief),
    ("-json", Act::Json),
    ("-pretty", Act::Pretty),
    ("-rcvbuf", Act::Rcvbuf),
];

/// Checked after the color option, which has its own syntax.
const LATE_OPTIONS: &[(&str, Act)] = &[
    ("-help", Act::Help),
    ("-netns", Act::Netns),
    ("-Numeric", Act::Unimplemented("-Numeric")),
    ("-all", Act::All),
    ("-echo", Act::Unimplemented("-echo")),
];

fn action(opt: &[u8]) -> Option<Act> {
    let find = |t: &[(&str, Act)]| t.iter().find(|(n, _)| matches(opt, n)).map(|&(_, a)| a);
    if let Some(a) = find(&OPTIONS[..2]) {
        return Some(a);
    }
    match opt {
        b"-4" => return Some(Act::Inet),
        b"-6" => return Some(Act::Inet6),
        b"-0" | b"-M" | b"-B" => return Some(Act::Ignore),
        _ => {}
    }
    if let Some(a) = find(&OPTIONS[2..]) {
        return Some(a);
    }
    if is_color(opt) {
        // `-color=never` changes nothing; any other spelling colours ip's show output.
        return Some(if opt.ends_with(b"=never") {
            Act::Ignore
        } else {
            Act::Unimplemented("-color")
        });
    }
    find(LATE_OPTIONS)
}

/// Parse ip's global options, stopping at the first word that is not an option, or at `--`.
pub fn parse(args: &[Vec<u8>]) -> Result<Parsed, Exit> {
    let mut p = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let word = &args[i];
        if word == b"--" {
            i += 1;
            break;
        }
        if word.first() != Some(&b'-') {
            break;
        }
        // nsctl's own spellings, whole words only (ip has neither: it reads `--help` as
        // `-help` and knows only `-V`/`-Version`): the full help on stdout, and the version.
        if word == b"--help" {
            out(crate::help::render().as_bytes());
            return Err(Exit(0));
        }
        if word == b"--version" || word == b"-version" {
            out(version().as_bytes());
            return Err(Exit(0));
        }
        let opt: &[u8] = if word.get(1) == Some(&b'-') {
            &word[1..]
        } else {
            word
        };
        let Some(act) = action(opt) else {
            err(&bytes(&[
                b"Option \"",
                opt,
                b"\" is unknown, try \"nsctl -help\".\n",
            ]));
            crate::help::point(None);
            return Err(Exit(255));
        };
        let next = args.get(i + 1);
        match act {
            Act::Ignore => {}
            Act::Unimplemented(name) => {
                p.opts.unimplemented.get_or_insert(name);
            }
            Act::Stats => p.opts.stats = p.opts.stats.saturating_add(1),
            Act::Human => p.opts.human = true,
            Act::Iec => p.opts.iec = true,
            Act::IgnoreValue => {
                next.ok_or_else(usage)?;
                i += 1;
            }
            Act::Family => {
                let v = next.ok_or_else(usage)?;
                i += 1;
                match v.as_slice() {
                    b"inet" => p.opts.family = Some(netlink_packet_route::AddressFamily::Inet),
                    b"inet6" => p.opts.family = Some(netlink_packet_route::AddressFamily::Inet6),
                    b"link" | b"mpls" | b"bridge" => {}
                    b"help" => return Err(usage()),
                    _ => {
                        err(&bytes(&[
                            b"Error: argument \"",
                            v,
                            b"\" is wrong: invalid protocol family\n",
                        ]));
                        return Err(Exit(255));
                    }
                }
            }
            Act::Version => {
                out(version().as_bytes());
                return Err(Exit(0));
            }
            Act::Force => p.opts.force = true,
            Act::Batch => {
                // 6.1 prints the whole usage here; upstream now names the missing argument.
                let Some(v) = next else {
                    err(b"Error: argument \"batch file\" is required\n");
                    return Err(Exit(255));
                };
                p.batch = Some(v.clone());
                i += 1;
            }
            Act::Json => p.opts.json = true,
            Act::Brief => p.opts.brief = true,
            Act::Inet => p.opts.family = Some(netlink_packet_route::AddressFamily::Inet),
            Act::Inet6 => p.opts.family = Some(netlink_packet_route::AddressFamily::Inet6),
            Act::Pretty => p.opts.pretty = true,
            Act::Rcvbuf => {
                let v = next.ok_or_else(usage)?;
                i += 1;
                if get_unsigned(v).is_none() {
                    err(&bytes(&[b"Invalid rcvbuf size '", v, b"'\n"]));
                    return Err(Exit(255));
                }
            }
            Act::Help => {
                let e = usage();
                crate::help::point(None);
                return Err(e);
            }
            Act::Netns => {
                // 6.1 passes NULL on and prints "(null)"; nsctl says the value is missing.
                let Some(v) = next else {
                    err(b"Command line is not complete. Try option \"help\"\n");
                    return Err(Exit(255));
                };
                // Enter the namespace now, as ip does, so every socket opened later lives
                // there. Only the network namespace changes: nsctl's mount namespace stays
                // the caller's, so `nsctl -n X add Y` makes a real, visible Y.
                if crate::netns::switch::enter_netns(v).is_err() {
                    return Err(Exit(255));
                }
                i += 1;
            }
            Act::All => p.opts.all = true,
        }
        i += 1;
    }
    p.rest = args[i..].to_vec();
    Ok(p)
}

/// Run one command line (the words after the options) in `ctx`: the first word is resolved
/// against the command tree (src/tree.rs) and the line goes to that group's handler.
pub fn run_line(ctx: &mut Ctx, words: &[Vec<u8>]) -> Ret {
    use crate::tree::Group;
    let Some(first) = words.first() else {
        return crate::commands::run(ctx, words);
    };
    let rest = &words[1..];
    match crate::tree::top(first).map(|c| (crate::tree::group(c), c.get_name())) {
        Some((Group::Lab, verb)) => {
            let m = crate::tree::parse_verb(verb, rest);
            crate::lab::run(verb.as_bytes(), m, ctx.opts.json)
        }
        Some((Group::Meta, verb)) => crate::meta::run(verb, rest),
        Some((Group::Object, "netns")) => crate::commands::run(ctx, rest),
        Some((Group::Object, object)) => crate::wiring::run(ctx, object, rest),
        Some((Group::Netns, _)) => crate::commands::run(ctx, words),
        // In a batch, a first word that is no object and no netns verb is what ip calls an
        // unknown object (an ip batch line for `neigh`, `rule`, ...): a failed line, which
        // `-force` goes past, not the end of the batch.
        None if ctx.batch => {
            err(&bytes(&[
                b"Object \"",
                first,
                b"\" is unknown, try \"ip help\".\n",
            ]));
            Ok(-1)
        }
        None => crate::commands::run(ctx, words),
    }
}

/// The whole program: parse, dispatch, and turn the result into an exit status.
pub fn main(args: Vec<Vec<u8>>) -> i32 {
    let code = match run(args) {
        Ok(ret) => status_of(ret),
        Err(Exit(code)) => code & 0xff,
    };
    crate::output::flush();
    code
}

fn run(args: Vec<Vec<u8>>) -> Ret {
    let p = parse(&args)?;
    let mut ctx = Ctx::new(p.opts);
    if let Some(file) = p.batch {
        return crate::batch::run(&mut ctx, &file);
    }
    run_line(&mut ctx, &p.rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_keeps_its_indentation() {
        let lines: Vec<&str> = USAGE.lines().collect();
        assert!(
            lines[1].starts_with("       nsctl [ -force ]"),
            "{:?}",
            lines[1]
        );
        assert!(
            lines[3].starts_with("                    exec"),
            "{:?}",
            lines[3]
        );
    }

    fn w(s: &[&str]) -> Vec<Vec<u8>> {
        s.iter().map(|x| x.as_bytes().to_vec()).collect()
    }

    #[test]
    fn options_are_ip_prefixes() {
        let p = parse(&w(&["-j", "-p", "-a", "list"])).unwrap();
        assert!(p.opts.json && p.opts.pretty && p.opts.all);
        assert_eq!(p.rest, w(&["list"]));
        let p = parse(&w(&["--json", "--pretty", "--all", "x"])).unwrap();
        assert!(p.opts.json && p.opts.pretty && p.opts.all);
        let p = parse(&w(&["-fo", "-b", "f"])).unwrap();
        assert!(p.opts.force);
        assert_eq!(p.batch.as_deref(), Some(&b"f"[..]));
        let p = parse(&w(&["-force", "-batch", "-"])).unwrap();
        assert_eq!(p.batch.as_deref(), Some(&b"-"[..]));
        let p = parse(&w(&["--", "-j"])).unwrap();
        assert!(!p.opts.json);
        assert_eq!(p.rest, w(&["-j"]));
    }

    #[test]
    fn f_is_family_and_bad_options_exit_255() {
        assert_eq!(parse(&w(&["-f", "-batch", "x"])).unwrap_err(), Exit(255));
        assert_eq!(parse(&w(&["-bogus"])).unwrap_err(), Exit(255));
        assert_eq!(parse(&w(&["-b"])).unwrap_err(), Exit(255));
        assert_eq!(parse(&w(&["-help"])).unwrap_err(), Exit(255));
        assert_eq!(parse(&w(&["-rcvbuf", "x"])).unwrap_err(), Exit(255));
        assert!(parse(&w(&["-color=never", "-c", "-br", "-d", "-s", "-N", "-4"])).is_ok());
    }
}
