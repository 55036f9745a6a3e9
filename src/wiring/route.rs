//! `ip route add|del {default|PREFIX} [via GW] [dev NAME]` and `ip route show`.

use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::AddressFamily;

use super::prefix::{get_addr, get_prefix, Prefix};
use super::{duparg2, ifindex, main_sock, next, nodev};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::output::err;
use crate::parse::matches;

const USAGE: &str =
    "Usage: nsctl route { add | del } { default | PREFIX } [ via ADDRESS ] [ dev NAME ]\n\
       nsctl route show\n";

fn usage() -> Ret {
    err(USAGE.as_bytes());
    Err(Exit(255))
}

/// What `route add/del` was asked.
pub struct Spec {
    pub dst: Prefix,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
}

/// Build the message as ip does: main table; for add, protocol boot, unicast, and link scope
/// when there is no gateway; for del, scope nowhere so any scope matches.
pub fn message(s: &Spec, add: bool) -> RouteMessage {
    let mut m = RouteMessage::default();
    let v6 = s
        .dst
        .addr
        .map(|a| a.is_ipv6())
        .or(s.via.map(|g| g.is_ipv6()))
        .unwrap_or(false);
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    m.header.destination_prefix_length = s.dst.len;
    m.header.table = 254; // RT_TABLE_MAIN
    if add {
        m.header.protocol = RouteProtocol::Boot;
        m.header.kind = RouteType::Unicast;
        m.header.scope = if v6 || s.via.is_some() {
            RouteScope::Universe
        } else {
            RouteScope::Link
        };
    } else {
        m.header.scope = RouteScope::NoWhere;
    }
    if let Some(a) = s.dst.addr {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(a)));
    }
    if let Some(g) = s.via {
        m.attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(g)));
    }
    if let Some(o) = s.oif {
        m.attributes.push(RouteAttribute::Oif(o));
    }
    m
}

fn modify(ctx: &mut Ctx, args: &[Vec<u8>], add: bool) -> Ret {
    let (mut dst, mut via, mut dev) = (None::<Prefix>, None, None::<Vec<u8>>);
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"via" {
            let v = next(args, &mut i)?;
            let v = if v == b"inet" || v == b"inet6" {
                next(args, &mut i)?
            } else {
                v
            };
            via = Some(get_addr(v)?);
        } else if w == b"dev" || w == b"oif" {
            dev = Some(next(args, &mut i)?.to_vec());
        } else {
            let w = if w == b"to" { next(args, &mut i)? } else { w };
            if matches(w, "help") {
                return usage();
            }
            if dst.is_some() {
                return Err(duparg2("to", w));
            }
            dst = Some(get_prefix(w)?);
        }
        i += 1;
    }
    let Some(dst) = dst else {
        return usage();
    };
    let oif = match &dev {
        Some(d) => match ifindex(ctx, d)? {
            Some(i) => Some(i),
            None => return nodev(d),
        },
        None => None,
    };
    let m = message(&Spec { dst, via, oif }, add);
    let (nl, sock) = main_sock(ctx)?;
    let res = if add {
        crate::nl::route::add(nl, sock, m)
    } else {
        crate::nl::route::delete(nl, sock, m)
    };
    super::done(res)
}

pub fn run(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    super::dispatch(
        ctx,
        args,
        "route",
        &[
            (&["add"], |c, a| modify(c, a, true)),
            (&["delete"], |c, a| modify(c, a, false)),
            (&["show", "list"], super::show::routes),
        ],
        usage,
    )
}
