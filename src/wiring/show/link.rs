//! `ip link show [[dev] NAME]`, and the link header `ip addr show` prints too.

use std::collections::HashMap;
use std::fmt::Write;

use netlink_packet_route::link::{LinkAttribute, LinkInfo as Info, Stats64};
use netlink_packet_route::AddressFamily;

use super::{selected, Text, View};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::json::{Array, Val, Writer};
use crate::output::{err, flush, out};

pub(super) const FLAG_NAMES: &[(u32, &str)] = &[
    (0x8, "LOOPBACK"),
    (0x2, "BROADCAST"),
    (0x10, "POINTOPOINT"),
    (0x1000, "MULTICAST"),
    (0x80, "NOARP"),
    (0x200, "ALLMULTI"),
    (0x100, "PROMISC"),
    (0x400, "MASTER"),
    (0x800, "SLAVE"),
    (0x4, "DEBUG"),
    (0x8000, "DYNAMIC"),
    (0x4000, "AUTOMEDIA"),
    (0x2000, "PORTSEL"),
    (0x20, "NOTRAILERS"),
    (0x1, "UP"),
    (0x10000, "LOWER_UP"),
    (0x20000, "DORMANT"),
    (0x40000, "ECHO"),
];
pub(super) const IFF_UP: u32 = 0x1;
pub(super) const IFF_RUNNING: u32 = 0x40;
pub(super) const OPER_STATES: &[&str] = &[
    "UNKNOWN",
    "NOTPRESENT",
    "DOWN",
    "LOWERLAYERDOWN",
    "TESTING",
    "DORMANT",
    "UP",
];

/// `print_link_flags`, as the list of names (NO-CARRIER, M-DOWN and a hex rest included).
pub(super) fn flag_list(flags: u32, mdown: bool) -> Vec<String> {
    let mut v = Vec::new();
    if flags & IFF_UP != 0 && flags & IFF_RUNNING == 0 {
        v.push("NO-CARRIER".to_string());
    }
    let mut rest = flags & !IFF_RUNNING;
    for (bit, name) in FLAG_NAMES {
        if rest & bit != 0 {
            rest &= !bit;
            v.push(name.to_string());
        }
    }
    if rest != 0 {
        v.push(format!("{rest:x}"));
    }
    if mdown {
        v.push("M-DOWN".to_string());
    }
    v
}

/// `<A,B,...> ` as ip writes it (`,M-DOWN` is glued on even after nothing).
pub(super) fn flags_text(flags: u32, mdown: bool) -> String {
    let mut names = flag_list(flags, false);
    let mut s = format!("<{}", names.join(","));
    names.clear();
    if mdown {
        s.push_str(",M-DOWN");
    }
    s.push_str("> ");
    s
}

pub(super) fn ll_type(t: u16) -> String {
    match t {
        1 => "ether".into(),
        772 => "loopback".into(),
        65534 => "none".into(),
        768 => "ipip".into(),
        776 => "sit".into(),
        778 => "gre".into(),
        823 => "ip6gre".into(),
        _ => format!("[{t}]"),
    }
}

pub(super) fn hex_addr(a: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(a.len() * 3);
    for (k, b) in a.iter().enumerate() {
        if k > 0 {
            s.push(':');
        }
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// What a link message says, pulled out once.
#[derive(Default, Clone)]
pub(super) struct LinkInfo {
    pub(super) index: u32,
    pub(super) name: Vec<u8>,
    pub(super) flags: u32,
    pub(super) ll_type: u16,
    pub(super) mtu: Option<u32>,
    pub(super) qdisc: Option<String>,
    pub(super) master: Option<u32>,
    pub(super) oper: Option<u8>,
    pub(super) mode: Option<u8>,
    pub(super) group: Option<u32>,
    pub(super) txqlen: Option<u32>,
    pub(super) address: Option<Vec<u8>>,
    pub(super) broadcast: Option<Vec<u8>>,
    pub(super) perm: Option<Vec<u8>>,
    pub(super) link: Option<u32>,
    pub(super) link_netnsid: Option<i32>,
    pub(super) alias: Option<Vec<u8>>,
    pub(super) altnames: Vec<Vec<u8>>,
    /// IFLA_INFO_KIND and IFLA_INFO_SLAVE_KIND, for `type KIND` filters.
    pub(super) kind: Option<String>,
    pub(super) slave_kind: Option<String>,
    pub(super) stats: Option<Stats64>,
    pub(super) carrier_changes: Option<u32>,
}

/// The fields `show` prints, read from one whole RTM_NEWLINK message (header included): the
/// attributes it needs are read, the rest (most of the bytes: per-family settings, VF and
/// XDP data) is skipped undecoded. Names are kept as the bytes they are. None when the
/// bytes are not a link message.
pub(crate) fn info_bytes(msg: &[u8]) -> Option<LinkInfo> {
    use netlink_packet_core::{NlasIterator, ParseableParametrized};
    let payload = msg.get(16..)?;
    let h = netlink_packet_route::link::LinkHeader::parse(payload).ok()?;
    let mut i = LinkInfo {
        index: h.index,
        flags: h.flags.bits(),
        ll_type: h.link_layer_type.into(),
        ..Default::default()
    };
    let u32_of = crate::nl::attr_u32;
    let name_of = |v: &[u8]| crate::nl::attr_cstr(v).to_vec();
    for nla in NlasIterator::new(payload.get(16..)?) {
        let nla = nla.ok()?;
        let v = nla.value();
        match nla.kind() & 0x3fff {
            1 => i.address = Some(v.to_vec()),
            2 => i.broadcast = Some(v.to_vec()),
            3 => i.name = name_of(v),
            4 => i.mtu = u32_of(v),
            5 => i.link = u32_of(v),
            6 => i.qdisc = Some(String::from_utf8_lossy(&name_of(v)).into_owned()),
            10 => i.master = u32_of(v),
            13 => i.txqlen = u32_of(v),
            16 => i.oper = v.first().copied(),
            17 => i.mode = v.first().copied(),
            18 => {
                // IFLA_LINKINFO: the kind and the port kind, for `type` filters.
                for inner in NlasIterator::new(v).flatten() {
                    let text = String::from_utf8_lossy(&name_of(inner.value())).into_owned();
                    match inner.kind() & 0x3fff {
                        1 => i.kind = Some(text),
                        4 => i.slave_kind = Some(text),
                        _ => {}
                    }
                }
            }
            20 => i.alias = Some(name_of(v)),
            23 => {
                if let Ok(LinkAttribute::Stats64(st)) =
                    LinkAttribute::parse_with_param(&nla, h.interface_family)
                {
                    i.stats = Some(st);
                }
            }
            27 => i.group = u32_of(v),
            35 => i.carrier_changes = u32_of(v),
            37 => i.link_netnsid = u32_of(v).map(|n| n as i32),
            52 => {
                for inner in NlasIterator::new(v).flatten() {
                    if inner.kind() & 0x3fff == 53 {
                        i.altnames.push(name_of(inner.value()));
                    }
                }
            }
            54 => i.perm = Some(v.to_vec()),
            _ => {}
        }
    }
    Some(i)
}

/// The state every printed link needs: names and flags by index, and nsid -> netns name.
pub(super) struct Links {
    pub(super) all: Vec<LinkInfo>,
    /// Every link by index, for the names and flags of peers and masters: `all` itself, or
    /// when the kernel filtered `all`, a second, whole dump (ip looks those up by index).
    every: Option<Vec<LinkInfo>>,
    pub(super) by_index: HashMap<u32, usize>,
    pub(super) nsid_names: Option<HashMap<i32, Vec<u8>>>,
}

impl Links {
    pub(super) fn load(ctx: &mut Ctx, family: Option<AddressFamily>) -> Result<Links, Exit> {
        Links::load_filtered(ctx, family, Vec::new())
    }

    /// Every link, or those the kernel keeps for the filters in `extra` (IFLA_MASTER,
    /// IFLA_LINKINFO{KIND}), with their counters when `-s` was given.
    pub(super) fn load_filtered(
        ctx: &mut Ctx,
        family: Option<AddressFamily>,
        extra: Vec<LinkAttribute>,
    ) -> Result<Links, Exit> {
        let stats = ctx.opts.stats > 0;
        let filtered = !extra.is_empty();
        let mut all = Vec::new();
        let dump = crate::nl::link::each_bytes(ctx.dumper()?, family, stats, extra, |m| {
            all.extend(info_bytes(m))
        });
        match dump {
            Ok(()) => {}
            Err(f) => {
                let _ = crate::wiring::refused(f);
                err(b"Dump terminated\n");
                return Err(Exit(1));
            }
        }
        let every = if !filtered {
            None
        } else {
            Some(Links::load(ctx, family)?.all)
        };
        let by_index = every
            .as_ref()
            .unwrap_or(&all)
            .iter()
            .enumerate()
            .map(|(k, l)| (l.index, k))
            .collect();
        Ok(Links {
            all,
            every,
            by_index,
            nsid_names: None,
        })
    }

    pub(super) fn get(&self, index: u32) -> Option<&LinkInfo> {
        let list = self.every.as_ref().unwrap_or(&self.all);
        self.by_index.get(&index).map(|&k| &list[k])
    }

    /// ip's `get_name_from_nsid`: the first /run/netns entry this netns knows by that nsid.
    pub(super) fn netns_name(&mut self, ctx: &mut Ctx, nsid: i32) -> Result<Option<Vec<u8>>, Exit> {
        if self.nsid_names.is_none() {
            let mut m = HashMap::new();
            for name in crate::commands::list::entries().unwrap_or_default() {
                if let Some(Ok(id)) = ctx.lookup(&name)? {
                    if id >= 0 {
                        m.entry(id).or_insert(name);
                    }
                }
            }
            self.nsid_names = Some(m);
        }
        Ok(self.nsid_names.as_ref().and_then(|m| m.get(&nsid).cloned()))
    }

    /// `print_name_and_link`: the shown name and the M-DOWN flag.
    pub(super) fn shown_name(&self, l: &LinkInfo) -> (Vec<u8>, bool) {
        let mut name = l.name.clone();
        let (peer, mdown) = match l.link {
            Some(0) => (b"@NONE".to_vec(), false),
            Some(n) if l.link_netnsid.is_some() => (format!("@if{n}").into_bytes(), false),
            Some(n) => match self.get(n) {
                Some(p) => ([b"@", &p.name[..]].concat(), p.flags & IFF_UP == 0),
                None => (format!("@if{n}").into_bytes(), false),
            },
            None => (Vec::new(), false),
        };
        name.extend_from_slice(&peer);
        (name, mdown)
    }

    /// A master's or peer's name by index, `ifN` when it is not in the dump.
    pub(super) fn name_of(&self, index: u32) -> Vec<u8> {
        self.get(index)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("if{index}").into_bytes())
    }
}

/// ip's fallback when a dump carries no IFLA_TXQLEN (the `-6` link dump): SIOCGIFTXQLEN.
pub(super) fn txqlen_ioctl(name: &[u8]) -> Option<u32> {
    if name.len() >= crate::wiring::IFNAMSIZ {
        return None;
    }
    // SAFETY: a plain datagram socket, closed below; ifreq is zeroed and the name copied in
    // with its NUL terminator within IFNAMSIZ; the ioctl writes only ifr_ifru.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return None;
        }
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(name) {
            *d = *s as libc::c_char;
        }
        let rc = libc::ioctl(fd, libc::SIOCGIFTXQLEN as _, &mut ifr);
        libc::close(fd);
        (rc == 0).then_some(ifr.ifr_ifru.ifru_ifindex as u32)
    }
}

pub(super) fn oper_text(o: u8, brief: bool) -> String {
    match OPER_STATES.get(o as usize) {
        Some(s) if brief => format!("{s:<14} "),
        Some(s) => format!("state {s} "),
        None => format!("state {o:#x}"),
    }
}

/// The plain header of one link (both lines and alias/altnames), as `ip link` or `ip addr`.
pub(super) fn link_text(
    ctx: &mut Ctx,
    links: &mut Links,
    l: &LinkInfo,
    view: View,
    filtered: bool,
) -> Result<Vec<u8>, Exit> {
    let (name, mdown) = links.shown_name(l);
    let mut s = Text::default();
    let _ = write!(s, "{}: ", l.index);
    s += &name;
    let _ = write!(s, ": {}", flags_text(l.flags, mdown));
    if let Some(m) = l.mtu {
        let _ = write!(s, "mtu {m} ");
    }
    if let Some(q) = &l.qdisc {
        let _ = write!(s, "qdisc {q} ");
    }
    if let Some(m) = l.master {
        s += "master ";
        s += &links.name_of(m);
        s += " ";
    }
    if let Some(o) = l.oper {
        s += &oper_text(o, false);
    }
    if view == View::Link {
        match l.mode {
            Some(0) => s += "mode DEFAULT ",
            Some(1) => s += "mode DORMANT ",
            Some(m) => s += &format!("mode {m} "),
            None => {}
        }
    }
    if let Some(g) = l.group {
        s += &if g == 0 {
            "group default ".to_string()
        } else {
            format!("group {g} ")
        };
    }
    if let Some(q) = l
        .txqlen
        .or_else(|| txqlen_ioctl(&l.name))
        .filter(|q| *q != 0)
    {
        let _ = write!(s, "qlen {q}");
    }
    // With a family filter (`-4`/`-6`) ip skips the link/ line; what follows it (link-netns)
    // then ends the first line.
    if !filtered {
        s += "\n";
        let _ = write!(s, "    link/{} ", ll_type(l.ll_type));
        if let Some(a) = &l.address {
            s += &hex_addr(a);
        }
        if let Some(b) = &l.broadcast {
            s += if l.flags & 0x10 != 0 {
                " peer "
            } else {
                " brd "
            };
            s += &hex_addr(b);
        }
        if let Some(p) = &l.perm {
            if l.address.as_ref() != Some(p) {
                let _ = write!(s, " permaddr {}", hex_addr(p));
            }
        }
    }
    if let Some(id) = l.link_netnsid {
        if id >= 0 {
            match links.netns_name(ctx, id)? {
                Some(n) => {
                    s += " link-netns ";
                    s += &n;
                }
                None => s += &format!(" link-netnsid {id}"),
            }
        } else {
            s += " link-netnsid unknown";
        }
    }
    if view == View::Link {
        if let Some(a) = &l.alias {
            s += "\n    alias ";
            s += a;
        }
        if let (Some(st), true) = (&l.stats, ctx.opts.stats > 0) {
            s += "\n";
            let style = super::stats::Style {
                level: ctx.opts.stats,
                human: ctx.opts.human,
                iec: ctx.opts.iec,
            };
            super::stats::text(&mut s, st, l.carrier_changes, style);
        }
    }
    for a in &l.altnames {
        s += "\n    altname ";
        s += a;
    }
    s += "\n";
    Ok(s.0)
}

/// The JSON keys of one link (the object stays open for `addr_info`).
pub(super) fn link_json(
    w: &mut Writer,
    links: &Links,
    l: &LinkInfo,
    view: View,
    brief: bool,
    filtered: bool,
    stats: u8,
) {
    w.start_object();
    if !brief {
        w.field("ifindex", Val::Int(l.index.into()));
    }
    let mut mdown = false;
    match l.link {
        Some(0) => w.field("link", Val::Null),
        Some(n) if l.link_netnsid.is_some() => w.field("link_index", Val::Int(n.into())),
        Some(n) => {
            if let Some(p) = links.get(n) {
                w.field("link", Val::Str(&p.name));
                mdown = p.flags & IFF_UP == 0;
            } else {
                w.field("link", Val::Str(format!("if{n}").as_bytes()));
            }
        }
        None => {}
    }
    w.field("ifname", Val::Str(&l.name));
    let flags = flag_list(l.flags, mdown);
    let refs: Vec<&str> = flags.iter().map(|s| s.as_str()).collect();
    if brief {
        if let Some(o) = l.oper {
            match OPER_STATES.get(o as usize) {
                Some(s) => w.field("operstate", Val::Str(s.as_bytes())),
                None => w.field("operstate_index", Val::Int(o.into())),
            }
        }
        if view == View::Link {
            if let Some(a) = &l.address {
                w.field("address", Val::Str(hex_addr(a).as_bytes()));
            }
            w.str_array("flags", &refs);
        }
        return;
    }
    w.str_array("flags", &refs);
    if let Some(m) = l.mtu {
        w.field("mtu", Val::Int(m.into()));
    }
    if let Some(q) = &l.qdisc {
        w.field("qdisc", Val::Str(q.as_bytes()));
    }
    if let Some(m) = l.master {
        w.field("master", Val::Str(&links.name_of(m)));
    }
    if let Some(o) = l.oper {
        match OPER_STATES.get(o as usize) {
            Some(s) => w.field("operstate", Val::Str(s.as_bytes())),
            None => w.field("operstate_index", Val::Int(o.into())),
        }
    }
    if view == View::Link {
        match l.mode {
            Some(0) => w.field("linkmode", Val::Str(b"DEFAULT")),
            Some(1) => w.field("linkmode", Val::Str(b"DORMANT")),
            Some(m) => w.field("linkmode_index", Val::Int(m.into())),
            None => {}
        }
    }
    if let Some(g) = l.group {
        let g = if g == 0 {
            "default".to_string()
        } else {
            g.to_string()
        };
        w.field("group", Val::Str(g.as_bytes()));
    }
    if let Some(q) = l
        .txqlen
        .or_else(|| txqlen_ioctl(&l.name))
        .filter(|q| *q != 0)
    {
        w.field("txqlen", Val::Int(q.into()));
    }
    if !filtered {
        w.field("link_type", Val::Str(ll_type(l.ll_type).as_bytes()));
        if let Some(a) = &l.address {
            w.field("address", Val::Str(hex_addr(a).as_bytes()));
        }
        if let Some(b) = &l.broadcast {
            if l.flags & 0x10 != 0 {
                w.field("link_pointtopoint", Val::Bool(true));
            }
            w.field("broadcast", Val::Str(hex_addr(b).as_bytes()));
        }
        if let Some(p) = &l.perm {
            if l.address.as_ref() != Some(p) {
                w.field("permaddr", Val::Str(hex_addr(p).as_bytes()));
            }
        }
    }
    if let Some(id) = l.link_netnsid {
        w.field("link_netnsid", Val::Int(id.into()));
    }
    if view == View::Link {
        if let Some(a) = &l.alias {
            w.field("ifalias", Val::Str(a));
        }
        if let (Some(st), true) = (&l.stats, stats > 0) {
            super::stats::json(w, st, l.carrier_changes, stats);
        }
    }
    if !l.altnames.is_empty() {
        w.str_array("altnames", &l.altnames);
    }
}

/// `ip link show`'s filters (ipaddr_list_flush_or_save with do_link): the device, `up`,
/// `master DEV` / `nomaster`, `type KIND` (or `KIND_slave`), `group G`.
#[derive(Default)]
struct Filter {
    dev: Option<Vec<u8>>,
    up: bool,
    /// An ifindex, or -1 for `nomaster`.
    master: Option<i64>,
    kind: Option<String>,
    slave_kind: Option<String>,
    group: Option<u32>,
}

impl Filter {
    fn parse(ctx: &mut Ctx, args: &[Vec<u8>]) -> Result<Filter, Exit> {
        let mut f = Filter::default();
        let mut i = 0;
        while i < args.len() {
            let w = args[i].as_slice();
            match w {
                b"up" => f.up = true,
                b"master" => {
                    let v = crate::wiring::next(args, &mut i)?;
                    match crate::wiring::ifindex(ctx, v)? {
                        Some(n) => f.master = Some(n.into()),
                        None => return Err(crate::wiring::invarg("Device does not exist\n", v)),
                    }
                }
                b"nomaster" => f.master = Some(-1),
                b"type" => {
                    let v = crate::wiring::next(args, &mut i)?;
                    let v = String::from_utf8_lossy(v).into_owned();
                    match v.strip_suffix("_slave") {
                        Some(k) => f.slave_kind = Some(k.to_string()),
                        None => f.kind = Some(v),
                    }
                }
                b"group" => {
                    let v = crate::wiring::next(args, &mut i)?;
                    match group_a2n(v) {
                        Some(g) => f.group = Some(g),
                        None => return Err(crate::wiring::invarg("Invalid \"group\" value\n", v)),
                    }
                }
                b"to" | b"scope" | b"label" | b"vrf" => {
                    return Err(crate::wiring::unsupported("link show", w, "."));
                }
                _ => {
                    if crate::parse::matches(w, "help") {
                        return Err(crate::wiring::usage("link").unwrap_err());
                    }
                    let v = if w == b"dev" {
                        crate::wiring::next(args, &mut i)?
                    } else {
                        w
                    };
                    if f.dev.is_some() {
                        return Err(crate::wiring::duparg2("dev", v));
                    }
                    f.dev = Some(v.to_vec());
                }
            }
            i += 1;
        }
        Ok(f)
    }

    /// What the kernel filters on in the dump (without a device, as ip sends them).
    fn request(&self) -> Vec<LinkAttribute> {
        let mut v = Vec::new();
        if self.dev.is_some() {
            return v;
        }
        if let Some(m) = self.master {
            v.push(LinkAttribute::Controller(m as u32));
        }
        if let Some(k) = &self.kind {
            let kind = netlink_packet_route::link::InfoKind::from(k.as_str());
            v.push(LinkAttribute::LinkInfo(vec![Info::Kind(kind)]));
        }
        v
    }

    /// `print_linkinfo`'s checks: whether this link is shown.
    fn keeps(&self, l: &LinkInfo) -> bool {
        if self.up && l.flags & IFF_UP == 0 {
            return false;
        }
        if self
            .group
            .is_some_and(|g| l.group.is_some() && l.group != Some(g))
        {
            return false;
        }
        if let Some(m) = self.master.filter(|&m| m > 0) {
            if l.master.map(i64::from) != Some(m) {
                return false;
            }
        }
        if self.kind.is_some() && l.kind != self.kind {
            return false;
        }
        if self.slave_kind.is_some() && l.slave_kind != self.slave_kind {
            return false;
        }
        true
    }
}

/// `rtnl_group_a2n`: `default` or a number (or a name in /etc/iproute2/group).
fn group_a2n(w: &[u8]) -> Option<u32> {
    if w == b"default" {
        return Some(0);
    }
    if let Ok(text) = std::fs::read_to_string("/etc/iproute2/group") {
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            let mut it = line.split_whitespace();
            if let (Some(n), Some(name)) = (it.next(), it.next()) {
                if name.as_bytes() == w {
                    return n.parse().ok();
                }
            }
        }
    }
    crate::parse::strtol0(w)
        .filter(|_| w.first() != Some(&b'-'))
        .and_then(|n| u32::try_from(n).ok())
}

/// `ip link show [[dev] NAME] [up] [master DEV | nomaster] [type KIND] [group G]`, with
/// `-s` counters.
pub fn links(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let f = Filter::parse(ctx, args)?;
    let mut links = Links::load_filtered(ctx, None, f.request())?;
    let chosen = match selected(&links, &f.dev) {
        Ok(c) => c,
        Err(Exit(1)) => return Ok(-1),
        Err(e) => return Err(e),
    };
    let (json, pretty, brief) = (ctx.opts.json, ctx.opts.pretty, ctx.opts.brief);
    let stats = if brief { 0 } else { ctx.opts.stats };
    if json {
        let mut a = Array::new(pretty);
        for l in &chosen {
            // ip opens each link's object before it filters: a link left out is `{}`.
            if f.keeps(l) {
                link_json(a.writer(), &links, l, View::Link, brief, false, stats);
            } else {
                a.writer().start_object();
            }
            a.writer().end_object();
        }
        out(&a.finish());
    } else if brief {
        for l in chosen.iter().filter(|l| f.keeps(l)) {
            let (name, mdown) = links.shown_name(l);
            let mut s = Text::default();
            s.padded(&name);
            s += " ";
            if let Some(o) = l.oper {
                s += &oper_text(o, true);
            }
            if let Some(a) = &l.address {
                let _ = write!(s, "{} ", hex_addr(a));
            }
            s += &flags_text(l.flags, mdown);
            s += "\n";
            out(&s.0);
        }
    } else {
        for l in chosen.iter().filter(|l| f.keeps(l)) {
            let s = link_text(ctx, &mut links, l, View::Link, false)?;
            out(&s);
        }
    }
    flush();
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_like_ip() {
        assert_eq!(
            flags_text(0x8 | 0x1 | 0x10000 | 0x40, false),
            "<LOOPBACK,UP,LOWER_UP> "
        );
        assert_eq!(
            flags_text(0x2 | 0x1000 | 0x1, true),
            "<NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> "
        );
        assert_eq!(
            flags_text(0x2 | 0x1000, true),
            "<BROADCAST,MULTICAST,M-DOWN> "
        );
        assert_eq!(flags_text(0, false), "<> ");
        assert_eq!(flags_text(0, true), "<,M-DOWN> ");
    }
}
