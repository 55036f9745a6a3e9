//! `ip link`, `ip addr` and `ip route`: the wiring around namespaces, over netlink, in ip's
//! grammar and with ip's messages. `nsctl -n NS link ...` works on a socket opened inside NS.

pub mod addr;
pub mod kinds;
pub mod link;
pub mod neigh;
pub mod prefix;
pub mod route;
pub mod rtnames;
pub mod show;

use std::os::fd::OwnedFd;

use crate::ctx::{Ctx, Sock};
use crate::error::{Exit, Ret};
use crate::nl::{Failure, Netlink, Socket};
use crate::output::{bytes, err};

/// Linux IFNAMSIZ: names are at most 15 bytes.
pub const IFNAMSIZ: usize = 16;

/// Run `nsctl OBJECT ...`: `object` is the object's full name in the command tree. ip's
/// per-object dispatch: no verb means show; `help` means usage; an unknown verb is
/// `Command "X" is unknown, try "nsctl OBJECT help".` (exit 255).
pub fn run(ctx: &mut Ctx, object: &str, args: &[Vec<u8>]) -> Ret {
    if let Some(o) = ctx.opts.unimplemented {
        err(
            format!("nsctl: option \"{o}\" is not supported by nsctl {object}; leave it out.\n")
                .as_bytes(),
        );
        return Err(Exit(255));
    }
    let Some(verb) = args.first() else {
        return run_verb(ctx, object, "show", &[]);
    };
    let found = crate::tree::get()
        .find_subcommand(object)
        .and_then(|o| crate::tree::walk(o, verb, None));
    match found.map(|v| v.get_name()) {
        Some("help") => usage(object),
        Some(v) => run_verb(ctx, object, v, &args[1..]),
        None => {
            let word = match object {
                "address" => "addr",
                "neighbor" => "neigh",
                o => o,
            };
            err(&bytes(&[
                b"Command \"",
                verb,
                b"\" is unknown, try \"nsctl ",
                word.as_bytes(),
                b" help\".\n",
            ]));
            Err(Exit(255))
        }
    }
}

/// An object's usage (generated from the tree): stderr, exit 255.
pub fn usage(object: &str) -> Ret {
    err(crate::tree::object_usage(object).as_bytes());
    Err(Exit(255))
}

fn run_verb(ctx: &mut Ctx, object: &str, verb: &str, args: &[Vec<u8>]) -> Ret {
    match handler(object, verb) {
        Some(f) => f(ctx, args),
        None => {
            err(format!("nsctl: \"{object} {verb}\" is not supported by nsctl.\n").as_bytes());
            Err(Exit(255))
        }
    }
}

type Handler = fn(&mut Ctx, &[Vec<u8>]) -> Ret;

/// A verb's handler, by the full names the tree declares.
fn handler(object: &str, verb: &str) -> Option<Handler> {
    Some(match (object, verb) {
        ("link", "add") => link::add,
        ("link", "set") => link::set,
        ("link", "delete") => link::del,
        ("link", "show") => show::links,
        ("address", "add") => |c, a| addr::modify(c, a, true),
        ("address", "delete") => |c, a| addr::modify(c, a, false),
        ("address", "show") => show::addrs,
        ("address", "flush") => addr::flush,
        ("neighbor", "add") => |c, a| neigh::modify(c, a, crate::nl::neigh::Op::Add),
        ("neighbor", "change") => |c, a| neigh::modify(c, a, crate::nl::neigh::Op::Change),
        ("neighbor", "replace") => |c, a| neigh::modify(c, a, crate::nl::neigh::Op::Replace),
        ("neighbor", "delete") => |c, a| neigh::modify(c, a, crate::nl::neigh::Op::Delete),
        ("neighbor", "show") => show::neighbours,
        ("route", "add") => |c, a| route::modify(c, a, route::Op::Add),
        ("route", "change") => |c, a| route::modify(c, a, route::Op::Change),
        ("route", "replace") => |c, a| route::modify(c, a, route::Op::Replace),
        ("route", "prepend") => |c, a| route::modify(c, a, route::Op::Prepend),
        ("route", "append") => |c, a| route::modify(c, a, route::Op::Append),
        ("route", "test") => |c, a| route::modify(c, a, route::Op::Test),
        ("route", "delete") => |c, a| route::modify(c, a, route::Op::Delete),
        ("route", "show") => show::routes,
        ("route", "get") => show::route_get,
        // The tree and this table are tested against each other (tests below).
        _ => return None,
    })
}

/// A word ip takes that nsctl does not implement: `nsctl: "WORD" is not supported by nsctl
/// CMD` and `tail` (`.`, or a hint such as `; try "nsctl link help".`), exit 255, nothing sent.
pub fn unsupported(cmd: &str, word: &[u8], tail: &str) -> Exit {
    err(&bytes(&[
        b"nsctl: \"",
        word,
        format!("\" is not supported by nsctl {cmd}{tail}\n").as_bytes(),
    ]));
    Exit(255)
}

/// `invarg()`: `Error: argument "ARG" is wrong: MSG`, exit 255.
pub fn invarg(msg: &str, arg: &[u8]) -> Exit {
    err(&bytes(&[
        b"Error: argument \"",
        arg,
        b"\" is wrong: ",
        msg.as_bytes(),
        b"\n",
    ]));
    Exit(255)
}

/// `duparg()`.
pub fn duparg(key: &str, arg: &[u8]) -> Exit {
    err(&bytes(&[
        b"Error: duplicate \"",
        key.as_bytes(),
        b"\": \"",
        arg,
        b"\" is the second value.\n",
    ]));
    Exit(255)
}

/// `duparg2()`: an unknown word where a device name was already given.
pub fn duparg2(key: &str, arg: &[u8]) -> Exit {
    err(&bytes(&[
        b"Error: either \"",
        key.as_bytes(),
        b"\" is duplicate, or \"",
        arg,
        b"\" is a garbage.\n",
    ]));
    Exit(255)
}

/// `NEXT_ARG()` past the end.
pub fn incomplete() -> Exit {
    err(b"Command line is not complete. Try option \"help\"\n");
    Exit(255)
}

/// `Cannot find device "X"`, rc 1.
pub fn nodev(name: &[u8]) -> Ret {
    err(&bytes(&[b"Cannot find device \"", name, b"\"\n"]));
    Ok(-1)
}

/// The result of a change request: nothing printed on success, ip's words and rc 2 on a
/// kernel refusal.
pub fn done(res: Result<(), Failure>) -> Ret {
    res.map_or_else(refused, |()| Ok(0))
}

/// A kernel refusal of a change: its text, rc 2.
pub fn refused(f: Failure) -> Ret {
    match f {
        Failure::Kernel(e) => e.print(),
        Failure::Send => err(b"RTNETLINK answers: Communication error on send\n"),
    }
    Ok(-2)
}

/// iproute2's `check_ifname`: 1..15 bytes, no `/`, no white space.
pub fn valid_ifname(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() < IFNAMSIZ
        && !name.iter().any(|&c| c == b'/' || c.is_ascii_whitespace())
}

/// The next word, or ip's "Command line is not complete".
pub fn next<'a>(args: &'a [Vec<u8>], i: &mut usize) -> Result<&'a [u8], Exit> {
    *i += 1;
    args.get(*i).map(|v| v.as_slice()).ok_or_else(incomplete)
}

/// Text of a word for attributes that must be UTF-8 (a link kind, say).
pub fn text(word: &[u8]) -> String {
    String::from_utf8_lossy(word).into_owned()
}

/// The main socket (in the namespace `-n` chose).
pub fn main_sock(ctx: &mut Ctx) -> Result<(&Netlink, &Socket), Exit> {
    ctx.sock(Sock::Main)
}

/// The ifindex of a device name, or None.
pub fn ifindex(ctx: &mut Ctx, name: &[u8]) -> Result<Option<u32>, Exit> {
    if !valid_ifname(name) {
        return Ok(None);
    }
    match crate::nl::link::by_name_bytes(ctx.dumper()?, name) {
        Ok(l) => Ok(l.map(|l| l.header.index)),
        Err(_) => Ok(None),
    }
}

/// A namespace named in `netns NS`: a file under /run/netns (or a path), else a pid.
pub enum NetnsRef {
    Fd(OwnedFd),
    Pid(u32),
}

/// ip's `netns_get_fd` then the pid fallback; None when it is neither.
pub fn netns_ref(word: &[u8]) -> Option<NetnsRef> {
    let path = crate::netns::lookup_path(word);
    if let Ok(f) = crate::netns::open_ns_file(&path, false) {
        return Some(NetnsRef::Fd(f.into()));
    }
    crate::parse::get_integer(word).map(|p| NetnsRef::Pid(p as u32))
}

#[cfg(test)]
mod tests {
    /// Every verb the tree declares for an object has a handler here.
    #[test]
    fn every_tree_verb_has_a_handler() {
        let t = crate::tree::get();
        for o in t
            .get_subcommands()
            .filter(|c| crate::tree::group(c) == crate::tree::Group::Object && !c.is_hide_set())
        {
            for v in o.get_subcommands().filter(|v| v.get_name() != "help") {
                assert!(
                    super::handler(o.get_name(), v.get_name()).is_some(),
                    "{} {} has no handler",
                    o.get_name(),
                    v.get_name()
                );
            }
        }
    }
}
