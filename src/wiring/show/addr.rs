//! `ip addr show [dev NAME]`: each link's header, then its addresses.

use std::fmt::Write;
use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::AddressFamily;

use super::link::{link_json, link_text, oper_text, Links};
use super::{scope_name, selected, show_filter, Text, View};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::json::{Array, Val, Writer};
use crate::nl::names::RawNames;
use crate::output::{err, flush, out};

/// What an address message says.
pub(super) struct AddrInfo {
    pub(super) index: u32,
    pub(super) family: AddressFamily,
    pub(super) local: Option<IpAddr>,
    pub(super) address: Option<IpAddr>,
    pub(super) prefix_len: u8,
    pub(super) scope: u8,
    pub(super) flags: u32,
    pub(super) label: Option<Vec<u8>>,
    pub(super) broadcast: Option<IpAddr>,
    pub(super) metric: Option<u32>,
    pub(super) valid: Option<u32>,
    pub(super) preferred: Option<u32>,
}

/// The fields of an address message; a label that was not UTF-8 comes from `raw`.
pub(super) fn addr_info(a: &AddressMessage, raw: RawNames) -> AddrInfo {
    let mut i = AddrInfo {
        index: a.header.index,
        family: a.header.family,
        local: None,
        address: None,
        prefix_len: a.header.prefix_len,
        scope: a.header.scope.into(),
        flags: a.header.flags.bits() as u32,
        label: None,
        broadcast: None,
        metric: None,
        valid: None,
        preferred: None,
    };
    for at in &a.attributes {
        match at {
            AddressAttribute::Local(x) => i.local = Some(*x),
            AddressAttribute::Address(x) => i.address = Some(*x),
            AddressAttribute::Label(l) => i.label = Some(l.as_bytes().to_vec()),
            AddressAttribute::Broadcast(b) => i.broadcast = Some(IpAddr::V4(*b)),
            AddressAttribute::Flags(f) => i.flags = f.bits(),
            AddressAttribute::RoutePriority(m) => i.metric = Some(*m),
            AddressAttribute::CacheInfo(c) => {
                i.valid = Some(c.ifa_valid);
                i.preferred = Some(c.ifa_preferred);
            }
            _ => {}
        }
    }
    if let Some(l) = raw.name {
        i.label = Some(l);
    }
    i
}

/// The address flag names ip prints, in its order (`dynamic` when not permanent).
pub(super) fn addr_flags(a: &AddrInfo) -> (Vec<&'static str>, u32) {
    let v6 = a.family == AddressFamily::Inet6;
    let table: &[(u32, &'static str)] = &[
        (0x01, if v6 { "temporary" } else { "secondary" }),
        (0x02, "nodad"),
        (0x04, "optimistic"),
        (0x08, "dadfailed"),
        (0x10, "home"),
        (0x20, "deprecated"),
        (0x40, "tentative"),
    ];
    let mut rest = a.flags;
    let mut v = Vec::new();
    for (bit, n) in table {
        if rest & bit != 0 {
            v.push(*n);
            rest &= !bit;
        }
    }
    if rest & 0x80 == 0 {
        v.push("dynamic");
    }
    rest &= !0x80;
    for (bit, n) in [
        (0x100, "mngtmpaddr"),
        (0x200, "noprefixroute"),
        (0x400, "autojoin"),
        (0x800, "stable-privacy"),
    ] {
        if rest & bit != 0 {
            v.push(n);
            rest &= !bit;
        }
    }
    (v, rest)
}

pub(super) fn lifetime(v: u32) -> String {
    if v == u32::MAX {
        "forever".into()
    } else {
        format!("{v}sec")
    }
}

pub(super) fn addr_text(a: &AddrInfo) -> Text {
    let fam = if a.family == AddressFamily::Inet {
        "inet"
    } else {
        "inet6"
    };
    let local = a.local.or(a.address);
    let mut s = Text::default();
    s += &format!(
        "    {fam} {}",
        local.map(|x| x.to_string()).unwrap_or_default()
    );
    if let (Some(l), Some(p)) = (a.local, a.address) {
        if l != p {
            let _ = write!(s, " peer {p}");
        }
    }
    let _ = write!(s, "/{} ", a.prefix_len);
    if let Some(m) = a.metric {
        let _ = write!(s, "metric {m} ");
    }
    if let Some(b) = a.broadcast {
        let _ = write!(s, "brd {b} ");
    }
    let _ = write!(s, "scope {} ", scope_name(a.scope));
    let (flags, rest) = addr_flags(a);
    for f in flags {
        s += f;
        s += " ";
    }
    if rest != 0 {
        let _ = write!(s, "flags {rest:02x} ");
    }
    if let Some(l) = &a.label {
        s += l;
    }
    if let (Some(v), Some(p)) = (a.valid, a.preferred) {
        s += &format!(
            "\n       valid_lft {} preferred_lft {}",
            lifetime(v),
            lifetime(p)
        );
    }
    s += "\n";
    s
}

pub(super) fn addr_json(w: &mut Writer, a: &AddrInfo, brief: bool) {
    w.start_object();
    let local = a.local.or(a.address);
    if !brief {
        let fam = if a.family == AddressFamily::Inet {
            "inet"
        } else {
            "inet6"
        };
        w.field("family", Val::Str(fam.as_bytes()));
    }
    if let Some(l) = local {
        w.field("local", Val::Str(l.to_string().as_bytes()));
    }
    if let (Some(l), Some(p)) = (a.local, a.address) {
        if l != p {
            w.field("address", Val::Str(p.to_string().as_bytes()));
        }
    }
    w.field("prefixlen", Val::Int(a.prefix_len.into()));
    if let Some(m) = a.metric {
        w.field("metric", Val::Int(m.into()));
    }
    if brief {
        w.end_object();
        return;
    }
    if let Some(b) = a.broadcast {
        w.field("broadcast", Val::Str(b.to_string().as_bytes()));
    }
    w.field("scope", Val::Str(scope_name(a.scope).as_bytes()));
    let (flags, rest) = addr_flags(a);
    for f in flags {
        w.field(f, Val::Bool(true));
    }
    if rest != 0 {
        w.field("ifa_flags", Val::Str(format!("{rest:02x}").as_bytes()));
    }
    if let Some(l) = &a.label {
        w.field("label", Val::Str(l));
    }
    if let (Some(v), Some(p)) = (a.valid, a.preferred) {
        w.field("valid_life_time", Val::Int(v.into()));
        w.field("preferred_life_time", Val::Int(p.into()));
    }
    w.end_object();
}

/// `ip addr show [dev NAME]`.
pub fn addrs(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let dev = show_filter(args)?;
    let family = ctx.opts.family;
    let filtered = family.is_some();
    let mut links = Links::load(ctx, family)?;
    let chosen = match selected(&links, &dev) {
        Ok(c) => c,
        Err(Exit(1)) => return Ok(-1),
        Err(e) => return Err(e),
    };
    let mut all: Vec<AddrInfo> = Vec::new();
    let dump = crate::nl::addr::each(ctx.dumper()?, |a, raw| {
        let a = addr_info(&a, raw);
        if family.is_none() || Some(a.family) == family {
            all.push(a);
        }
    });
    match dump {
        Ok(()) => {}
        Err(f) => {
            let _ = crate::wiring::refused(f);
            err(b"Dump terminated\n");
            return Err(Exit(1));
        }
    };
    let (json, pretty, brief) = (ctx.opts.json, ctx.opts.pretty, ctx.opts.brief);
    let mut a = Array::new(pretty);
    for l in &chosen {
        let mine: Vec<&AddrInfo> = all.iter().filter(|x| x.index == l.index).collect();
        // With a family filter, links without such an address are not listed.
        if filtered && mine.is_empty() {
            continue;
        }
        if json {
            let w = a.writer();
            link_json(w, &links, l, View::Addr, brief, filtered, 0);
            w.name("addr_info");
            w.start_array();
            for x in &mine {
                addr_json(w, x, brief);
            }
            w.end_array();
            w.end_object();
        } else if brief {
            let (name, _) = links.shown_name(l);
            let mut s = Text::default();
            s.padded(&name);
            s += " ";
            if let Some(o) = l.oper {
                s += &oper_text(o, true);
            }
            for x in &mine {
                s += &x
                    .local
                    .or(x.address)
                    .map(|v| v.to_string())
                    .unwrap_or_default();
                if let (Some(lo), Some(p)) = (x.local, x.address) {
                    if lo != p {
                        let _ = write!(s, " peer {p}");
                    }
                }
                let _ = write!(s, "/{} ", x.prefix_len);
                if let Some(m) = x.metric {
                    let _ = write!(s, "metric {m} ");
                }
            }
            s += "\n";
            out(&s.0);
        } else {
            let mut s = Text(link_text(ctx, &mut links, l, View::Addr, filtered)?);
            for x in &mine {
                s += addr_text(x).0;
            }
            out(&s.0);
        }
    }
    if json {
        out(&a.finish());
    }
    flush();
    Ok(0)
}
