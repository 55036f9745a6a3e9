//! `ip route add|del {default|PREFIX} [via GW] [dev NAME]` and `ip route show`.

use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteMessage, RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::AddressFamily;

use super::prefix::{get_addr_of, get_prefix_of, Prefix};
use super::{duparg2, ifindex, invarg, main_sock, next, nodev, rtnames};
use crate::ctx::Ctx;
use crate::error::Ret;
use crate::parse::{get_unsigned, matches};

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

/// ip's route verbs that change the table, and the NLM flags each sends (with REQUEST|ACK).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Add,
    Change,
    Replace,
    Prepend,
    Append,
    Test,
    Delete,
}

impl Op {
    fn flags(self) -> u16 {
        use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE};
        match self {
            Op::Add => NLM_F_CREATE | NLM_F_EXCL,
            Op::Change => NLM_F_REPLACE,
            Op::Replace => NLM_F_CREATE | NLM_F_REPLACE,
            Op::Prepend => NLM_F_CREATE,
            Op::Append => NLM_F_CREATE | NLM_F_APPEND,
            Op::Test => NLM_F_EXCL,
            Op::Delete => 0,
        }
    }
}

/// What a keyword of `iproute_modify` is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kw {
    Src,
    Via,
    Metric,
    Scope,
    Protocol,
    Table,
    Dev,
    /// One of ip's keywords nsctl does not implement.
    Other,
}

/// `iproute_modify`'s keywords in its order; `true`: any prefix, `false`: the whole word.
/// The order decides what a prefix means (`p` is priority, so metric; `pro` protocol; `t`
/// table; `d` dsfield, though `dev` is dev).
const KEYWORDS: &[(&str, bool, Kw)] = &[
    ("src", false, Kw::Src),
    ("as", false, Kw::Other),
    ("via", false, Kw::Via),
    ("from", false, Kw::Other),
    ("tos", false, Kw::Other),
    ("dsfield", true, Kw::Other),
    ("expires", false, Kw::Other),
    ("metric", true, Kw::Metric),
    ("priority", true, Kw::Metric),
    ("preference", false, Kw::Metric),
    ("scope", false, Kw::Scope),
    ("mtu", false, Kw::Other),
    ("hoplimit", false, Kw::Other),
    ("advmss", false, Kw::Other),
    ("reordering", true, Kw::Other),
    ("rtt", false, Kw::Other),
    ("rto_min", false, Kw::Other),
    ("window", true, Kw::Other),
    ("cwnd", true, Kw::Other),
    ("initcwnd", true, Kw::Other),
    ("initrwnd", true, Kw::Other),
    ("features", true, Kw::Other),
    ("quickack", true, Kw::Other),
    ("congctl", true, Kw::Other),
    ("rttvar", true, Kw::Other),
    ("ssthresh", true, Kw::Other),
    ("realms", true, Kw::Other),
    ("onlink", false, Kw::Other),
    ("nexthop", false, Kw::Other),
    ("nhid", false, Kw::Other),
    ("protocol", true, Kw::Protocol),
    ("table", true, Kw::Table),
    ("vrf", true, Kw::Other),
    ("dev", false, Kw::Dev),
    ("oif", false, Kw::Dev),
    ("pref", true, Kw::Other),
    ("encap", false, Kw::Other),
    ("ttl-propagate", false, Kw::Other),
    ("fastopen_no_cookie", true, Kw::Other),
];

fn keyword(w: &[u8]) -> Option<(&'static str, Kw)> {
    KEYWORDS
        .iter()
        .find(|(k, prefix, _)| {
            if *prefix {
                matches(w, k)
            } else {
                w == k.as_bytes()
            }
        })
        .map(|&(k, _, kw)| (k, kw))
}

/// `rtnl_rtntype_a2n` for the route types (a word that does not start with a digit).
fn route_type(w: &[u8]) -> Option<RouteType> {
    Some(match w {
        b"local" => RouteType::Local,
        b"nat" => RouteType::Nat,
        b"brd" => RouteType::Broadcast,
        b"throw" => RouteType::Throw,
        _ if matches(w, "broadcast") => RouteType::Broadcast,
        _ if matches(w, "anycast") => RouteType::Anycast,
        _ if matches(w, "multicast") => RouteType::Multicast,
        _ if matches(w, "prohibit") => RouteType::Prohibit,
        _ if matches(w, "unreachable") => RouteType::Unreachable,
        _ if matches(w, "blackhole") => RouteType::BlackHole,
        _ if matches(w, "xresolve") => RouteType::ExternalResolve,
        _ if matches(w, "unicast") => RouteType::Unicast,
        _ => return None,
    })
}

/// `ip route add|change|replace|prepend|append|test|del`: ip's keywords, its defaults and
/// its attribute order (each as its word comes, the device last).
pub(super) fn modify(ctx: &mut Ctx, args: &[Vec<u8>], op: Op) -> Ret {
    let mut m = RouteMessage::default();
    // The request's family (Some(true): IPv6): -4/-6, else whichever address comes first.
    let mut family: Option<bool> = ctx.opts.family.map(|f| f == AddressFamily::Inet6);
    m.header.table = 254; // RT_TABLE_MAIN
    m.header.scope = RouteScope::NoWhere;
    if op != Op::Delete {
        m.header.protocol = RouteProtocol::Boot;
        m.header.scope = RouteScope::Universe;
        m.header.kind = RouteType::Unicast;
    }
    let (mut dst, mut gw_ok, mut scope_ok, mut table_ok) = (false, false, false, false);
    let mut dev = None::<Vec<u8>>;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        match keyword(w) {
            Some((_, Kw::Src)) => {
                let a = get_addr_of(next(args, &mut i)?, family)?;
                family.get_or_insert(a.is_ipv6());
                m.attributes
                    .push(RouteAttribute::PrefSource(RouteAddress::from(a)));
            }
            Some((_, Kw::Via)) => {
                if gw_ok {
                    return Err(invarg(
                        "use nexthop syntax to specify multiple via\n",
                        b"via",
                    ));
                }
                let v = next(args, &mut i)?;
                // `via inet6 ADDR` names the gateway's family: one other than the route's
                // is a gateway of another family (RTA_VIA), as ip sends it.
                let (v, fam) = match v {
                    b"inet" => (next(args, &mut i)?, Some(false)),
                    b"inet6" => (next(args, &mut i)?, Some(true)),
                    _ => (v, family),
                };
                let a = get_addr_of(v, fam)?;
                let route_v6 = *family.get_or_insert(a.is_ipv6());
                m.attributes.push(match a {
                    a if a.is_ipv6() == route_v6 => RouteAttribute::Gateway(RouteAddress::from(a)),
                    IpAddr::V6(g) => RouteAttribute::Via(RouteVia::Inet6(g)),
                    IpAddr::V4(g) => RouteAttribute::Via(RouteVia::Inet(g)),
                });
                gw_ok = true;
            }
            Some((_, Kw::Metric)) => {
                let v = next(args, &mut i)?;
                match get_unsigned(v) {
                    Some(n) => m.attributes.push(RouteAttribute::Priority(n)),
                    None => return Err(invarg("\"metric\" value is invalid\n", v)),
                }
            }
            Some((_, Kw::Scope)) => {
                let v = next(args, &mut i)?;
                match rtnames::scope_a2n(v) {
                    Some(n) => m.header.scope = RouteScope::from(n),
                    None => return Err(invarg("invalid \"scope\" value\n", v)),
                }
                scope_ok = true;
            }
            Some((_, Kw::Protocol)) => {
                let v = next(args, &mut i)?;
                match rtnames::proto_a2n(v) {
                    Some(n) => m.header.protocol = RouteProtocol::from(n),
                    None => return Err(invarg("\"protocol\" value is invalid\n", v)),
                }
            }
            Some((_, Kw::Table)) => {
                let v = next(args, &mut i)?;
                match rtnames::table_a2n(v) {
                    Some(n) if n < 256 => m.header.table = n as u8,
                    Some(n) => {
                        m.header.table = 0; // RT_TABLE_UNSPEC: the attribute says
                        m.attributes.push(RouteAttribute::Table(n));
                    }
                    None => return Err(invarg("\"table\" value is invalid\n", v)),
                }
                table_ok = true;
            }
            Some((_, Kw::Dev)) => dev = Some(next(args, &mut i)?.to_vec()),
            Some((k, Kw::Other)) => {
                let hint = "; try \"nsctl route help\".";
                return Err(super::unsupported("route", k.as_bytes(), hint));
            }
            None => {
                let mut w = if w == b"to" { next(args, &mut i)? } else { w };
                if !w.first().is_some_and(u8::is_ascii_digit) {
                    if let Some(t) = route_type(w) {
                        m.header.kind = t;
                        w = next(args, &mut i)?;
                    }
                }
                if matches(w, "help") {
                    return super::usage("route");
                }
                if dst {
                    return Err(duparg2("to", w));
                }
                let p = get_prefix_of(w, family)?;
                m.header.destination_prefix_length = p.len;
                if let Some(a) = p.addr {
                    family.get_or_insert(a.is_ipv6());
                    m.attributes
                        .push(RouteAttribute::Destination(RouteAddress::from(a)));
                }
                dst = true;
            }
        }
        i += 1;
    }
    if !dst {
        return super::usage("route");
    }
    if let Some(d) = &dev {
        match ifindex(ctx, d)? {
            Some(i) => m.attributes.push(RouteAttribute::Oif(i)),
            None => return nodev(d),
        }
    }
    let v6 = family == Some(true);
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    let kind = m.header.kind;
    if !table_ok
        && matches!(
            kind,
            RouteType::Local | RouteType::Broadcast | RouteType::Nat | RouteType::Anycast
        )
    {
        m.header.table = 255; // RT_TABLE_LOCAL
    }
    if !scope_ok {
        m.header.scope = match kind {
            _ if v6 => RouteScope::Universe,
            RouteType::Local | RouteType::Nat => RouteScope::Host,
            RouteType::Broadcast | RouteType::Multicast | RouteType::Anycast => RouteScope::Link,
            RouteType::Unicast | RouteType::Unspec if op == Op::Delete => RouteScope::NoWhere,
            RouteType::Unicast | RouteType::Unspec if !gw_ok => RouteScope::Link,
            _ => m.header.scope,
        };
    }
    let (nl, sock) = main_sock(ctx)?;
    super::done(crate::nl::route::send(
        nl,
        sock,
        m,
        op == Op::Delete,
        op.flags(),
    ))
}
