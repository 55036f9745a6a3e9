//! `ip route add|del {default|PREFIX} [via GW] [dev NAME]` and `ip route show`.

use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::AddressFamily;

use super::prefix::{get_addr_of, get_prefix_of, Prefix};
use super::{duparg2, ifindex, main_sock, next, nodev};
use crate::ctx::Ctx;
use crate::error::Ret;
use crate::parse::matches;

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
    match s.via {
        // A gateway of the route's own family.
        Some(g) if g.is_ipv6() == v6 => m
            .attributes
            .push(RouteAttribute::Gateway(RouteAddress::from(g))),
        // An IPv6 next hop for an IPv4 route (RFC 5549): RTA_VIA, as ip sends `via inet6`.
        Some(IpAddr::V6(g)) => m.attributes.push(RouteAttribute::Via(RouteVia::Inet6(g))),
        Some(IpAddr::V4(g)) => m.attributes.push(RouteAttribute::Via(RouteVia::Inet(g))),
        None => {}
    }
    if let Some(o) = s.oif {
        m.attributes.push(RouteAttribute::Oif(o));
    }
    m
}

pub(super) fn modify(ctx: &mut Ctx, args: &[Vec<u8>], add: bool) -> Ret {
    let (mut dst, mut via, mut dev) = (None::<Prefix>, None, None::<Vec<u8>>);
    // The request's family (Some(true): IPv6), set by whichever of the destination and the
    // gateway comes first, as ip's rtm_family is; the other must agree.
    let mut family: Option<bool> = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"via" {
            let v = next(args, &mut i)?;
            // `via inet6 ADDR` names the gateway's family: one other than the route's is a
            // gateway of another family (RTA_VIA), as ip sends it.
            let (v, fam) = match v {
                b"inet" => (next(args, &mut i)?, Some(false)),
                b"inet6" => (next(args, &mut i)?, Some(true)),
                _ => (v, family),
            };
            let a = get_addr_of(v, fam)?;
            family.get_or_insert(a.is_ipv6());
            via = Some(a);
        } else if w == b"dev" || w == b"oif" {
            dev = Some(next(args, &mut i)?.to_vec());
        } else {
            let w = if w == b"to" { next(args, &mut i)? } else { w };
            if matches(w, "help") {
                return super::usage("route");
            }
            if dst.is_some() {
                return Err(duparg2("to", w));
            }
            let p = get_prefix_of(w, family)?;
            if let Some(a) = p.addr {
                family.get_or_insert(a.is_ipv6());
            }
            dst = Some(p);
        }
        i += 1;
    }
    let Some(dst) = dst else {
        return super::usage("route");
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
