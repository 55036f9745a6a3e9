//! `ip route show [table TABLE|all] [dev NAME]` and `ip route get ADDR [from A] [oif D]`:
//! iproute2 6.1's `print_route` for the attributes nsctl meets (type, destination, from,
//! gateway or via, device, table, protocol, scope, source, metric, flags, mark, uid, the
//! cache line of a lookup, preference), as text and as JSON.

use std::net::IpAddr;

use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteVia};
use netlink_packet_route::AddressFamily;

use super::link::Links;
use super::Text;
use crate::ctx::Ctx;
use crate::error::Ret;
use crate::json::{Array, Val, Writer};
use crate::output::{err, out};
use crate::parse::matches;
use crate::wiring::prefix::get_prefix_of;
use crate::wiring::rtnames::{proto_n2a, scope_n2a, table_a2n, table_n2a};
use crate::wiring::{ifindex, invarg, main_sock, next, nodev};

const RTM_F_CLONED: u32 = 0x200;

fn route_addr(a: &RouteAddress) -> String {
    match a {
        RouteAddress::Inet(v) => v.to_string(),
        RouteAddress::Inet6(v) => v.to_string(),
        other => format!("{other:?}"),
    }
}

/// `rtnl_rtntype_n2a`.
fn type_name(t: u8) -> String {
    const TYPES: &[&str] = &[
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
    TYPES
        .get(t as usize)
        .map_or_else(|| t.to_string(), |s| s.to_string())
}

/// What `print_route` leaves out because the command filtered on it.
#[derive(Clone, Copy)]
struct Filter {
    /// The table asked for (0: all); `table T` is printed only when it is 0.
    tb: u32,
    /// `dev` was given: the device is not printed.
    oif: bool,
}

/// One printed field: its JSON key and value, and its text (each ends in a space but
/// the preference, as in ip).
enum J {
    Str(Vec<u8>),
    Uint(u64),
    List(Vec<&'static str>),
    Via(&'static str, String),
}

struct Field {
    key: &'static str,
    text: Vec<u8>,
    json: J,
}

fn field(key: &'static str, text: String, json: J) -> Field {
    Field {
        key,
        text: text.into_bytes(),
        json,
    }
}

/// `print_route`'s fields for one route, in its order.
fn fields(r: &RouteMessage, links: &Links, f: Filter) -> Vec<Field> {
    let h = &r.header;
    let v6 = h.address_family == AddressFamily::Inet6;
    let host_len = if v6 { 128 } else { 32 };
    let mut table = u32::from(h.table);
    let (mut dst, mut src, mut gw, mut via, mut oif, mut iif) =
        (None, None, None, None, None, None);
    let (mut prefsrc, mut metric, mut pref, mut mark, mut uid, mut cache) =
        (None, None, None, None, None, None);
    for a in &r.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(d) => dst = Some(route_addr(d)),
            RouteAttribute::Source(s) => src = Some(route_addr(s)),
            RouteAttribute::Gateway(g) => gw = Some(route_addr(g)),
            RouteAttribute::Via(v) => via = Some(v.clone()),
            RouteAttribute::Oif(o) => oif = Some(*o),
            RouteAttribute::Iif(o) => iif = Some(*o),
            RouteAttribute::PrefSource(p) => prefsrc = Some(route_addr(p)),
            RouteAttribute::Priority(p) => metric = Some(*p),
            RouteAttribute::Preference(p) => pref = Some(u8::from(*p)),
            RouteAttribute::Mark(m) => mark = Some(*m),
            RouteAttribute::Uid(u) => uid = Some(*u),
            RouteAttribute::CacheInfo(c) => cache = Some(*c),
            _ => {}
        }
    }
    let mut v = Vec::new();
    let kind: u8 = h.kind.into();
    if kind != 1 {
        let t = type_name(kind);
        v.push(field("type", format!("{t} "), J::Str(t.into_bytes())));
    }
    let dst_s = match dst {
        Some(d) if h.destination_prefix_length != host_len => {
            format!("{d}/{}", h.destination_prefix_length)
        }
        Some(d) => d,
        // ip's own quirk: this form carries its space inside the value.
        None if h.destination_prefix_length != 0 => format!("0/{} ", h.destination_prefix_length),
        None => "default".into(),
    };
    v.push(field(
        "dst",
        format!("{dst_s} "),
        J::Str(dst_s.into_bytes()),
    ));
    match src {
        Some(s) => {
            let s = if h.source_prefix_length != host_len {
                format!("{s}/{}", h.source_prefix_length)
            } else {
                s
            };
            v.push(field("from", format!("from {s} "), J::Str(s.into_bytes())));
        }
        None if h.source_prefix_length != 0 => {
            let s = format!("0/{}", h.source_prefix_length);
            v.push(field("src", format!("from {s} "), J::Str(s.into_bytes())));
        }
        None => {}
    }
    if let Some(g) = gw {
        v.push(field(
            "gateway",
            format!("via {g} "),
            J::Str(g.into_bytes()),
        ));
    }
    if let Some(via) = via {
        let (fam, host) = match via {
            RouteVia::Inet(a) => ("inet", IpAddr::V4(a).to_string()),
            RouteVia::Inet6(a) => ("inet6", IpAddr::V6(a).to_string()),
            other => ("unknown", format!("{other:?}")),
        };
        v.push(field(
            "via",
            format!("via {fam} {host} "),
            J::Via(fam, host),
        ));
    }
    let name = |key: &'static str, index: u32| {
        let n = links.name_of(index);
        let mut t = format!("{key} ").into_bytes();
        t.extend_from_slice(&n);
        t.push(b' ');
        Field {
            key,
            text: t,
            json: J::Str(n),
        }
    };
    if let Some(o) = oif.filter(|_| !f.oif) {
        v.push(name("dev", o));
    }
    if table != 0 && table != 254 && f.tb == 0 {
        let t = table_n2a(table);
        v.push(field(
            "table",
            format!("table {t} "),
            J::Str(t.into_bytes()),
        ));
    }
    if h.flags.bits() & RTM_F_CLONED == 0 {
        let proto: u8 = h.protocol.into();
        if proto != 3 {
            let p = proto_n2a(proto);
            v.push(field(
                "protocol",
                format!("proto {p} "),
                J::Str(p.into_bytes()),
            ));
        }
        let scope: u8 = h.scope.into();
        if scope != 0 {
            let s = scope_n2a(scope);
            v.push(field(
                "scope",
                format!("scope {s} "),
                J::Str(s.into_bytes()),
            ));
        }
    }
    if let Some(p) = prefsrc {
        v.push(field(
            "prefsrc",
            format!("src {p} "),
            J::Str(p.into_bytes()),
        ));
    }
    if let Some(m) = metric {
        v.push(field("metric", format!("metric {m} "), J::Uint(m.into())));
    }
    let flags = h.flags.bits();
    let names: Vec<&'static str> = [
        (0x1, "dead"),
        (0x4, "onlink"),
        (0x2, "pervasive"),
        (0x8, "offload"),
        (0x40, "trap"),
        (0x100, "notify"),
        (0x10, "linkdown"),
        (0x20, "unresolved"),
        (0x4000, "rt_offload"),
        (0x8000, "rt_trap"),
        (0x2000_0000, "rt_offload_failed"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|&(_, n)| n)
    .collect();
    let text: String = names.iter().map(|n| format!("{n} ")).collect();
    v.push(field("flags", text, J::List(names)));
    if let Some(m) = mark.filter(|&m| m != 0) {
        let t = if m >= 16 {
            format!("mark 0x{m:x} ")
        } else {
            format!("mark {m} ")
        };
        v.push(field("mark", t, J::Uint(m.into())));
    }
    if let Some(u) = uid {
        v.push(field("uid", format!("uid {u} "), J::Uint(u.into())));
    }
    if !v6 && flags & RTM_F_CLONED != 0 {
        v.push(cache_flags(flags));
    }
    if let Some(c) = cache.filter(|_| h.address_family != AddressFamily::Unspec) {
        // print_rta_cacheinfo without -s: expiry, error, IP id (ts never set on Linux).
        if c.expires != 0 {
            let hz = 100;
            let e = c.expires as i32 / hz;
            v.push(field(
                "expires",
                format!("expires {e}sec "),
                J::Uint(e as u64),
            ));
        }
        if c.error != 0 {
            let e = c.error;
            v.push(field("error", format!("error {e} "), J::Uint(e.into())));
        }
        if c.id != 0 {
            let t = format!("0x{:04x}", c.id);
            v.push(field("ipid", format!("ipid {t} "), J::Str(t.into_bytes())));
        }
    }
    if let Some(i) = iif {
        v.push(name("iif", i));
    }
    if let Some(p) = pref {
        let t = match p {
            3 => "low".to_string(),
            0 => "medium".to_string(),
            1 => "high".to_string(),
            n => n.to_string(),
        };
        if p <= 1 || p == 3 {
            v.push(field("pref", format!("pref {t}"), J::Str(t.into_bytes())));
        } else {
            v.push(field("pref", t, J::Uint(p.into())));
        }
    }
    v
}

/// `print_cache_flags`: `\n    cache ` and the RTCF_* flags of a lookup's answer.
fn cache_flags(flags: u32) -> Field {
    const NAMES: &[(u32, &str)] = &[
        (0x8000_0000, "local"),
        (0x4000_0000, "reject"),
        (0x2000_0000, "mc"),
        (0x1000_0000, "brd"),
        (0x0800_0000, "dst-nat"),
        (0x0080_0000, "src-nat"),
        (0x0040_0000, "masq"),
        (0x0002_0000, "dst-direct"),
        (0x0400_0000, "src-direct"),
        (0x0004_0000, "redirected"),
        (0x0100_0000, "redirect"),
        (0x0020_0000, "fastroute"),
        (0x0001_0000, "notify"),
        (0x0008_0000, "proxy"),
    ];
    let mut rest = flags & !0xffff;
    let mut text = String::from("\n    cache ");
    let mut list = Vec::new();
    if rest != 0 {
        text.push('<');
        for &(bit, n) in NAMES {
            if rest & bit != 0 {
                rest &= !bit;
                list.push(n);
                text += n;
                text += if rest != 0 { "," } else { "> " };
            }
        }
        if rest != 0 {
            text += &format!("{rest:x}>");
        }
    }
    field("cache", text, J::List(list))
}

fn print(fs: Vec<Field>, json: Option<&mut Writer>, text: &mut Text) {
    match json {
        Some(w) => {
            w.start_object();
            for f in fs {
                match f.json {
                    J::Str(s) => w.field(f.key, Val::Str(&s)),
                    J::Uint(n) => w.field(f.key, Val::Int(n as i64)),
                    J::List(l) => w.str_array(f.key, &l),
                    J::Via(fam, host) => {
                        w.name("via");
                        w.start_object();
                        w.field("family", Val::Str(fam.as_bytes()));
                        w.field("host", Val::Str(host.as_bytes()));
                        w.end_object();
                    }
                }
            }
            w.end_object();
        }
        None => {
            for f in fs {
                *text += &f.text;
            }
            *text += "\n";
        }
    }
}

/// `ip route show` (the main table unless `table` says; IPv4 unless `-6` or `table all`).
pub fn routes(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let mut dev_filter = None;
    let mut tb = 254u32;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if matches(w, "table") {
            let v = next(args, &mut i)?;
            tb = match table_a2n(v) {
                Some(t) => t,
                None if v == b"all" => 0,
                None if v == b"help" => return super::super::usage("route"),
                None => return Err(invarg("table id value is invalid\n", v)),
            };
        } else if w == b"dev" || w == b"oif" {
            dev_filter = Some(next(args, &mut i)?.to_vec());
        } else if matches(w, "help") {
            return super::super::usage("route");
        } else {
            return Err(super::refuse(
                "route show",
                "only \"table TABLE\" and \"dev NAME\"",
                w,
            ));
        }
        i += 1;
    }
    let links = Links::load(ctx, None)?;
    let oif = match super::dev_index(&links, &dev_filter) {
        Ok(i) => i,
        Err(rc) => return Ok(rc),
    };
    let preferred = ctx.opts.family;
    let family = match preferred {
        Some(f) => f,
        None if tb != 0 => AddressFamily::Inet,
        None => AddressFamily::Unspec,
    };
    let (json, pretty) = (ctx.opts.json, ctx.opts.pretty);
    let dump = {
        let (nl, sock) = main_sock(ctx)?;
        crate::nl::route::dump_filtered(nl, sock, family, (tb != 0).then_some(tb), oif)
    };
    let routes = match dump {
        Ok(v) => v,
        Err(f) => {
            if json {
                // ip has opened its JSON array before the dump; it reaches stdout at exit.
                out(b"[");
            }
            let _ = crate::wiring::refused(f);
            err(b"Dump terminated\n");
            return Ok(-2);
        }
    };
    let filter = Filter {
        tb,
        oif: oif.is_some(),
    };
    let mut a = Array::new(pretty);
    let mut text = Text::default();
    let mut ip6_multiple_tables = false;
    for r in &routes {
        if !shown(r, preferred, tb, oif, &mut ip6_multiple_tables) {
            continue;
        }
        print(
            fields(r, &links, filter),
            json.then(|| a.writer()),
            &mut text,
        );
    }
    super::finish(json, a, text)
}

/// `filter_nlmsg` for the filters nsctl has: family, no cached entries, the table (with
/// ip's rule for IPv6 before any IPv6 route outside main was seen), the device.
fn shown(
    r: &RouteMessage,
    preferred: Option<AddressFamily>,
    tb: u32,
    oif: Option<u32>,
    ip6_multiple_tables: &mut bool,
) -> bool {
    let h = &r.header;
    let mut table = u32::from(h.table);
    let mut dev = None;
    for a in &r.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Oif(o) => dev = Some(*o),
            _ => {}
        }
    }
    let v6 = h.address_family == AddressFamily::Inet6;
    if preferred.is_some_and(|p| p != h.address_family) {
        return false;
    }
    if v6 && table != 254 {
        *ip6_multiple_tables = true;
    }
    if h.flags.bits() & RTM_F_CLONED != 0 {
        return false;
    }
    let local = u8::from(h.kind) == 2;
    if v6 && !*ip6_multiple_tables {
        if tb == 255 && !local || tb == 254 && local || tb != 0 && tb != 254 && tb != 255 {
            return false;
        }
    } else if tb > 0 && tb != table {
        return false;
    }
    oif.is_none() || dev == oif
}

/// `ip route get [to] ADDR [from ADDR] [iif NAME] [oif|dev NAME]`: one RTM_GETROUTE, and
/// the answer printed as `print_route` prints it.
pub fn get(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let mut m = RouteMessage::default();
    let mut family: Option<bool> = ctx.opts.family.map(|f| f == AddressFamily::Inet6);
    let (mut to, mut from, mut idev, mut odev) = (None, None, None, None);
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if matches(w, "from") {
            let p = get_prefix_of(next(args, &mut i)?, family)?;
            if let Some(a) = p.addr {
                family.get_or_insert(a.is_ipv6());
            }
            from = Some(p);
        } else if matches(w, "iif") {
            idev = Some(next(args, &mut i)?.to_vec());
        } else if matches(w, "oif") || w == b"dev" {
            odev = Some(next(args, &mut i)?.to_vec());
        } else if matches(w, "help") {
            return super::super::usage("route");
        } else if w == b"tos"
            || w == b"as"
            || [
                "dsfield",
                "mark",
                "notify",
                "connected",
                "vrf",
                "uid",
                "fibmatch",
                "sport",
                "dport",
                "ipproto",
            ]
            .iter()
            .any(|k| matches(w, k))
        {
            return Err(crate::wiring::unsupported("route get", w, "."));
        } else {
            let w = if w == b"to" { next(args, &mut i)? } else { w };
            let p = get_prefix_of(w, family)?;
            if let Some(a) = p.addr {
                family.get_or_insert(a.is_ipv6());
            }
            to = Some(p);
        }
        i += 1;
    }
    let Some(to) = to.filter(|p| p.addr.is_some()) else {
        err(b"need at least a destination address\n");
        return Ok(-1);
    };
    let v6 = family == Some(true);
    let full = if v6 { 128 } else { 32 };
    if to.len != full {
        err(format!(
            "Warning: /{} as prefix is invalid, only /{full} (or none) is supported.\n",
            to.len
        )
        .as_bytes());
    }
    m.header.destination_prefix_length = full;
    if let Some(a) = to.addr {
        m.attributes
            .push(RouteAttribute::Destination(RouteAddress::from(a)));
    }
    if let Some(p) = &from {
        m.header.source_prefix_length = p.len;
        if let Some(a) = p.addr {
            m.attributes
                .push(RouteAttribute::Source(RouteAddress::from(a)));
        }
    }
    for (dev, iif) in [(&idev, true), (&odev, false)] {
        if let Some(d) = dev {
            match ifindex(ctx, d)? {
                Some(n) if iif => m.attributes.push(RouteAttribute::Iif(n)),
                Some(n) => m.attributes.push(RouteAttribute::Oif(n)),
                None => return nodev(d),
            }
        }
    }
    m.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    if !v6 {
        // RTM_F_LOOKUP_TABLE: only IPv4 has it.
        m.header.flags = netlink_packet_route::route::RouteFlags::from_bits_retain(0x1000);
    }
    let answer = {
        let (nl, sock) = main_sock(ctx)?;
        crate::nl::route::get(nl, sock, m)
    };
    let r = match answer {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(0),
        Err(f) => return crate::wiring::refused(f),
    };
    let links = Links::load(ctx, None)?;
    let (json, pretty) = (ctx.opts.json, ctx.opts.pretty);
    let mut a = Array::new(pretty);
    let mut text = Text::default();
    let filter = Filter { tb: 0, oif: false };
    print(
        fields(&r, &links, filter),
        json.then(|| a.writer()),
        &mut text,
    );
    super::finish(json, a, text)
}
