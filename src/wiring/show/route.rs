//! `ip route show [dev NAME]`: the main table, IPv4 (or IPv6 with `-6`).

use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::AddressFamily;

use super::link::Links;
use super::{scope_name, Text};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::json::{Array, Val};
use crate::output::{bytes, err, flush, out};
use crate::parse::matches;
use crate::wiring::main_sock;

fn route_addr(a: &RouteAddress) -> String {
    match a {
        RouteAddress::Inet(v) => v.to_string(),
        RouteAddress::Inet6(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

fn proto_name(p: u8) -> String {
    match p {
        0 => "unspec".into(),
        1 => "redirect".into(),
        2 => "kernel".into(),
        3 => "boot".into(),
        4 => "static".into(),
        8 => "gated".into(),
        9 => "ra".into(),
        10 => "mrt".into(),
        11 => "zebra".into(),
        12 => "bird".into(),
        13 => "dnrouted".into(),
        14 => "xorp".into(),
        15 => "ntk".into(),
        16 => "dhcp".into(),
        18 => "keepalived".into(),
        42 => "babel".into(),
        99 => "openr".into(),
        186 => "bgp".into(),
        187 => "isis".into(),
        188 => "ospf".into(),
        189 => "rip".into(),
        192 => "eigrp".into(),
        n => n.to_string(),
    }
}

const ROUTE_TYPES: &[&str] = &[
    "none",
    "unicast",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
    "xresolve",
];

/// `ip route show` (the main table; `-6` for IPv6).
pub fn routes(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let mut dev_filter = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"dev" {
            dev_filter = Some(crate::wiring::next(args, &mut i)?.to_vec());
        } else if matches(w, "help") {
            err(b"Usage: nsctl route show [ dev NAME ]\n");
            return Err(Exit(255));
        } else {
            err(&bytes(&[
                b"nsctl: route show takes only \"dev NAME\", not \"",
                w,
                b"\"\n",
            ]));
            return Err(Exit(255));
        }
        i += 1;
    }
    let v6 = ctx.opts.family == Some(AddressFamily::Inet6);
    let links = Links::load(ctx, None)?;
    let oif_filter = match &dev_filter {
        Some(d) => match links.all.iter().find(|l| l.name == *d) {
            Some(l) => Some(l.index),
            None => return crate::wiring::nodev(d),
        },
        None => None,
    };
    let dump = {
        let (nl, sock) = main_sock(ctx)?;
        crate::nl::route::dump(
            nl,
            sock,
            if v6 {
                AddressFamily::Inet6
            } else {
                AddressFamily::Inet
            },
        )
    };
    let routes: Vec<RouteMessage> = match dump {
        Ok(v) => v,
        Err(f) => {
            let _ = crate::wiring::refused(f);
            err(b"Dump terminated\n");
            return Err(Exit(1));
        }
    };
    let (json, pretty) = (ctx.opts.json, ctx.opts.pretty);
    let mut a = Array::new(pretty);
    let mut text = Text::default();
    for r in &routes {
        let mut table = r.header.table as u32;
        let (mut dst, mut gw, mut oif, mut prefsrc, mut metric, mut pref) =
            (None, None, None, None, None, None);
        for at in &r.attributes {
            match at {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(d) => dst = Some(route_addr(d)),
                RouteAttribute::Gateway(g) => gw = Some(route_addr(g)),
                RouteAttribute::Oif(o) => oif = Some(*o),
                RouteAttribute::PrefSource(p) => prefsrc = Some(route_addr(p)),
                RouteAttribute::Priority(p) => metric = Some(*p),
                RouteAttribute::Preference(p) => pref = Some(u8::from(*p)),
                _ => {}
            }
        }
        // RTM_F_CLONED (0x200) entries are caches, not routes.
        if table != 254 || r.header.flags.bits() & 0x200 != 0 {
            continue;
        }
        if oif_filter.is_some() && oif != oif_filter {
            continue;
        }
        let kind: u8 = r.header.kind.into();
        let plen = r.header.destination_prefix_length;
        let full = if v6 { 128 } else { 32 };
        let dst_s = match dst {
            None if plen == 0 => "default".to_string(),
            None => format!("0/{plen}"),
            Some(d) if plen == full => d,
            Some(d) => format!("{d}/{plen}"),
        };
        let proto: u8 = r.header.protocol.into();
        let scope: u8 = r.header.scope.into();
        let rflags = r.header.flags.bits();
        let mut flag_names = Vec::new();
        for (bit, n) in [
            (1u32, "dead"),
            (4, "onlink"),
            (2, "pervasive"),
            (8, "offload"),
            (64, "trap"),
            (0x100, "notify"),
            (16, "linkdown"),
            (32, "unresolved"),
        ] {
            if rflags & bit != 0 {
                flag_names.push(n);
            }
        }
        let dev_name = oif.map(|o| links.name_of(o));
        let pref_name = pref.map(|p| match p {
            0 => "medium".to_string(),
            1 => "high".to_string(),
            3 => "low".to_string(),
            n => n.to_string(),
        });
        if json {
            let w = a.writer();
            w.start_object();
            if kind != 1 {
                w.field(
                    "type",
                    Val::Str(
                        ROUTE_TYPES
                            .get(kind as usize)
                            .copied()
                            .unwrap_or("unknown")
                            .as_bytes(),
                    ),
                );
            }
            w.field("dst", Val::Str(dst_s.as_bytes()));
            if let Some(g) = &gw {
                w.field("gateway", Val::Str(g.as_bytes()));
            }
            if let (Some(d), None) = (&dev_name, oif_filter) {
                w.field("dev", Val::Str(d));
            }
            if proto != 3 {
                w.field("protocol", Val::Str(proto_name(proto).as_bytes()));
            }
            if scope != 0 {
                w.field("scope", Val::Str(scope_name(scope).as_bytes()));
            }
            if let Some(p) = &prefsrc {
                w.field("prefsrc", Val::Str(p.as_bytes()));
            }
            if let Some(m) = metric {
                w.field("metric", Val::Int(m.into()));
            }
            w.str_array("flags", &flag_names);
            if let Some(p) = &pref_name {
                w.field("pref", Val::Str(p.as_bytes()));
            }
            w.end_object();
        } else {
            if kind != 1 {
                text += &format!(
                    "{} ",
                    ROUTE_TYPES
                        .get(kind as usize)
                        .map(|s| s.to_string())
                        .unwrap_or(kind.to_string())
                );
            }
            text += &format!("{dst_s} ");
            if let Some(g) = &gw {
                text += &format!("via {g} ");
            }
            if let (Some(d), None) = (&dev_name, oif_filter) {
                text += "dev ";
                text += d;
                text += " ";
            }
            if proto != 3 {
                text += &format!("proto {} ", proto_name(proto));
            }
            if scope != 0 {
                text += &format!("scope {} ", scope_name(scope));
            }
            if let Some(p) = &prefsrc {
                text += &format!("src {p} ");
            }
            if let Some(m) = metric {
                text += &format!("metric {m} ");
            }
            for f in &flag_names {
                text += &format!("{f} ");
            }
            if let Some(p) = &pref_name {
                text += &format!("pref {p}");
            }
            text += "\n";
        }
    }
    if json {
        out(&a.finish());
    } else {
        out(&text.0);
    }
    flush();
    Ok(0)
}
