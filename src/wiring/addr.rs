//! `ip addr add|del ADDR[/PLEN] dev NAME` and `ip addr show [dev NAME]`, IPv4 and IPv6.

use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, AddressScope};
use netlink_packet_route::AddressFamily;

use super::prefix::{get_prefix, Prefix};
use super::{duparg2, ifindex, main_sock, next, nodev};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::output::{bytes, err};
use crate::parse::matches;

/// The address flags ip accepts on `addr add` (IFA_F_*), sent as IFA_FLAGS.
const FLAGS: &[(&str, u32)] = &[
    ("home", 0x10),
    ("nodad", 0x02),
    ("mngtmpaddr", 0x100),
    ("noprefixroute", 0x200),
    ("autojoin", 0x400),
];

/// ip's `default_scope`: 127/8 and ::1 are host-scoped, everything else global.
fn default_scope(a: &IpAddr) -> AddressScope {
    match a {
        IpAddr::V4(v) if v.octets()[0] == 127 => AddressScope::Host,
        IpAddr::V6(v) if v.is_loopback() => AddressScope::Host,
        _ => AddressScope::Universe,
    }
}

/// Build the RTM_NEWADDR/RTM_DELADDR message for `local` on `index`.
pub fn message(local: Prefix, index: u32, add: bool) -> AddressMessage {
    let mut m = AddressMessage::default();
    let addr = local.addr.expect("callers pass a real address");
    m.header.family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.prefix_len = local.len;
    m.header.index = index;
    if add {
        m.header.scope = default_scope(&addr);
    }
    m.attributes.push(AddressAttribute::Local(addr));
    m.attributes.push(AddressAttribute::Address(addr));
    m
}

pub(super) fn modify(ctx: &mut Ctx, args: &[Vec<u8>], add: bool) -> Ret {
    let (mut local, mut dev) = (None::<Prefix>, None::<Vec<u8>>);
    let mut flags = 0u32;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"dev" {
            dev = Some(next(args, &mut i)?.to_vec());
        } else if let Some(&(_, bit)) = FLAGS.iter().find(|(n, _)| w == n.as_bytes()) {
            flags |= bit;
        } else {
            let w = if w == b"local" {
                next(args, &mut i)?
            } else {
                w
            };
            if matches(w, "help") {
                return super::usage("address");
            }
            if local.is_some() {
                return Err(duparg2("local", w));
            }
            let p = get_prefix(w)?;
            if p.addr.is_none() {
                err(&bytes(&[
                    b"Error: an address is expected rather than \"",
                    w,
                    b"\".\n",
                ]));
                return Err(Exit(1));
            }
            local = Some(p);
        }
        i += 1;
    }
    let Some(dev) = dev else {
        err(b"Not enough information: \"dev\" argument is required.\n");
        return Ok(-1);
    };
    let Some(local) = local else {
        err(b"Not enough information: an address is required.\n");
        return Ok(-1);
    };
    let Some(index) = ifindex(ctx, &dev)? else {
        return nodev(&dev);
    };
    let mut m = message(local, index, add);
    if flags != 0 {
        m.attributes
            .push(AddressAttribute::Flags(AddressFlags::from_bits_retain(
                flags,
            )));
    }
    let (nl, sock) = main_sock(ctx)?;
    let res = if add {
        crate::nl::addr::add(nl, sock, m)
    } else {
        crate::nl::addr::delete(nl, sock, m)
    };
    super::done(res)
}

/// `ip addr flush [dev] NAME` (with `-4`/`-6`): the device's addresses are dumped and each
/// is sent back as RTM_DELADDR, round after round until a dump finds none, at most ten
/// rounds, as ip does. Silent on success; `-s` reports the rounds.
pub(super) fn flush(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    if args.is_empty() {
        err(b"Flush requires arguments.\n");
        return Ok(-1);
    }
    if ctx.opts.stats > 1 {
        err(b"nsctl: \"-s -s\" is not supported by nsctl addr flush; use -s.\n");
        return Err(Exit(255));
    }
    let mut dev = None::<&[u8]>;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if matches(w, "help") {
            return super::usage("address");
        }
        if [
            &b"to"[..],
            b"scope",
            b"up",
            b"label",
            b"group",
            b"master",
            b"vrf",
            b"nomaster",
            b"type",
        ]
        .contains(&w)
        {
            return Err(super::unsupported("addr flush", w, "; name the device."));
        }
        let v = if w == b"dev" { next(args, &mut i)? } else { w };
        if dev.is_some() {
            return Err(duparg2("dev", v));
        }
        dev = Some(v);
        i += 1;
    }
    let Some(dev) = dev else {
        err(b"Flush requires arguments.\n");
        return Ok(-1);
    };
    let Some(index) = ifindex(ctx, dev)? else {
        err(&bytes(&[b"Device \"", dev, b"\" does not exist.\n"]));
        return Ok(-1);
    };
    let family = ctx.opts.family;
    let stats = ctx.opts.stats > 0;
    for round in 0..10 {
        let mut found = Vec::new();
        let dump = crate::nl::addr::each(ctx.dumper()?, |a, _| {
            if a.header.index == index && family.is_none_or(|f| a.header.family == f) {
                found.push(a);
            }
        });
        if let Err(f) = dump {
            let _ = super::refused(f);
            err(b"Flush terminated\n");
            return Err(Exit(1));
        }
        if found.is_empty() {
            if stats {
                crate::output::out(
                    if round == 0 {
                        b"Nothing to flush.\n".to_vec()
                    } else {
                        format!(
                            "*** Flush is complete after {round} round{} ***\n",
                            if round > 1 { "s" } else { "" }
                        )
                        .into_bytes()
                    }
                    .as_slice(),
                );
            }
            return Ok(0);
        }
        let n = found.len();
        let (nl, sock) = main_sock(ctx)?;
        for a in found {
            match crate::nl::addr::delete(nl, sock, a) {
                Ok(()) => {}
                // Gone since the dump: what ip's flush ignores too.
                Err(crate::nl::Failure::Kernel(e)) if e.errno == libc::EADDRNOTAVAIL => {}
                Err(f) => {
                    let why = match f {
                        crate::nl::Failure::Kernel(e) => crate::error::strerror(e.errno),
                        crate::nl::Failure::Send => "Communication error on send".into(),
                    };
                    err(format!("Failed to send flush request: {why}\n").as_bytes());
                    return Err(Exit(255));
                }
            }
        }
        if stats {
            crate::output::out(
                format!("\n*** Round {}, deleting {n} addresses ***\n", round + 1).as_bytes(),
            );
        }
    }
    err(b"*** Flush remains incomplete after 10 rounds. ***\n");
    Ok(-1)
}
