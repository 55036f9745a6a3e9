//! `ip link show`, `ip addr show` and `ip route show`: plain, `-br` and `-j`, with iproute2
//! 6.1's bytes for every field nsctl prints (the default view: no -details, no -stats).

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkMessage, Prop};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::AddressFamily;

use super::main_sock;
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::json::{Array, Val, Writer};
use crate::output::{bytes, err, flush, out};
use crate::parse::matches;

/// The view a link is printed for: `ip link` prints the link mode and alias, `ip addr` not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Link,
    Addr,
}

const FLAG_NAMES: &[(u32, &str)] = &[
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
const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;
const OPER_STATES: &[&str] = &[
    "UNKNOWN",
    "NOTPRESENT",
    "DOWN",
    "LOWERLAYERDOWN",
    "TESTING",
    "DORMANT",
    "UP",
];

/// `print_link_flags`, as the list of names (NO-CARRIER, M-DOWN and a hex rest included).
fn flag_list(flags: u32, mdown: bool) -> Vec<String> {
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
fn flags_text(flags: u32, mdown: bool) -> String {
    let mut names = flag_list(flags, false);
    let mut s = format!("<{}", names.join(","));
    names.clear();
    if mdown {
        s.push_str(",M-DOWN");
    }
    s.push_str("> ");
    s
}

fn ll_type(t: u16) -> String {
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

fn hex_addr(a: &[u8]) -> String {
    a.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// What a link message says, pulled out once.
#[derive(Default, Clone)]
struct LinkInfo {
    index: u32,
    name: String,
    flags: u32,
    ll_type: u16,
    mtu: Option<u32>,
    qdisc: Option<String>,
    master: Option<u32>,
    oper: Option<u8>,
    mode: Option<u8>,
    group: Option<u32>,
    txqlen: Option<u32>,
    address: Option<Vec<u8>>,
    broadcast: Option<Vec<u8>>,
    perm: Option<Vec<u8>>,
    link: Option<u32>,
    link_netnsid: Option<i32>,
    alias: Option<String>,
    altnames: Vec<String>,
}

fn info(l: &LinkMessage) -> LinkInfo {
    let mut i = LinkInfo {
        index: l.header.index,
        flags: l.header.flags.bits(),
        ll_type: l.header.link_layer_type.into(),
        ..Default::default()
    };
    for a in &l.attributes {
        match a {
            LinkAttribute::IfName(n) => i.name = n.clone(),
            LinkAttribute::Mtu(m) => i.mtu = Some(*m),
            LinkAttribute::Qdisc(q) => i.qdisc = Some(q.clone()),
            LinkAttribute::Controller(m) => i.master = Some(*m),
            LinkAttribute::OperState(s) => i.oper = Some((*s).into()),
            LinkAttribute::Mode(m) => i.mode = Some((*m).into()),
            LinkAttribute::Group(g) => i.group = Some(*g),
            LinkAttribute::TxQueueLen(q) => i.txqlen = Some(*q),
            LinkAttribute::Address(a) => i.address = Some(a.clone()),
            LinkAttribute::Broadcast(a) => i.broadcast = Some(a.clone()),
            LinkAttribute::PermAddress(a) => i.perm = Some(a.clone()),
            LinkAttribute::Link(n) => i.link = Some(*n),
            LinkAttribute::LinkNetNsId(n) => i.link_netnsid = Some(*n),
            LinkAttribute::IfAlias(s) => i.alias = Some(s.clone()),
            LinkAttribute::PropList(props) => {
                for p in props {
                    if let Prop::AltIfName(n) = p {
                        i.altnames.push(n.clone());
                    }
                }
            }
            _ => {}
        }
    }
    i
}

/// The state every printed link needs: names and flags by index, and nsid -> netns name.
struct Links {
    all: Vec<LinkInfo>,
    by_index: HashMap<u32, usize>,
    nsid_names: Option<HashMap<i32, Vec<u8>>>,
}

impl Links {
    fn load(ctx: &mut Ctx, family: Option<AddressFamily>) -> Result<Links, Exit> {
        let dump = {
            let (nl, sock) = main_sock(ctx)?;
            crate::nl::link::dump(nl, sock, family)
        };
        let all: Vec<LinkInfo> = match dump {
            Ok(v) => v.iter().map(info).collect(),
            Err(f) => {
                let _ = super::refused(f);
                err(b"Dump terminated\n");
                return Err(Exit(1));
            }
        };
        let by_index = all.iter().enumerate().map(|(k, l)| (l.index, k)).collect();
        Ok(Links {
            all,
            by_index,
            nsid_names: None,
        })
    }

    fn get(&self, index: u32) -> Option<&LinkInfo> {
        self.by_index.get(&index).map(|&k| &self.all[k])
    }

    /// ip's `get_name_from_nsid`: the first /run/netns entry this netns knows by that nsid.
    fn netns_name(&mut self, ctx: &mut Ctx, nsid: i32) -> Result<Option<Vec<u8>>, Exit> {
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
    fn shown_name(&self, l: &LinkInfo) -> (String, bool) {
        match l.link {
            Some(0) => (format!("{}@NONE", l.name), false),
            Some(n) if l.link_netnsid.is_some() => (format!("{}@if{n}", l.name), false),
            Some(n) => match self.get(n) {
                Some(p) => (format!("{}@{}", l.name, p.name), p.flags & IFF_UP == 0),
                None => (format!("{}@if{n}", l.name), false),
            },
            None => (l.name.clone(), false),
        }
    }
}

/// ip's fallback when a dump carries no IFLA_TXQLEN (the `-6` link dump): SIOCGIFTXQLEN.
fn txqlen_ioctl(name: &str) -> Option<u32> {
    if name.len() >= super::IFNAMSIZ {
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
        for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        let rc = libc::ioctl(fd, libc::SIOCGIFTXQLEN as _, &mut ifr);
        libc::close(fd);
        (rc == 0).then_some(ifr.ifr_ifru.ifru_ifindex as u32)
    }
}

fn oper_text(o: u8, brief: bool) -> String {
    match OPER_STATES.get(o as usize) {
        Some(s) if brief => format!("{s:<14} "),
        Some(s) => format!("state {s} "),
        None => format!("state {o:#x}"),
    }
}

/// The plain header of one link (both lines and alias/altnames), as `ip link` or `ip addr`.
fn link_text(
    ctx: &mut Ctx,
    links: &mut Links,
    l: &LinkInfo,
    view: View,
    filtered: bool,
) -> Result<String, Exit> {
    let (name, mdown) = links.shown_name(l);
    let mut s = format!("{}: {}: {}", l.index, name, flags_text(l.flags, mdown));
    if let Some(m) = l.mtu {
        s += &format!("mtu {m} ");
    }
    if let Some(q) = &l.qdisc {
        s += &format!("qdisc {q} ");
    }
    if let Some(m) = l.master {
        let n = links
            .get(m)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("if{m}"));
        s += &format!("master {n} ");
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
        s += &format!("qlen {q}");
    }
    // With a family filter (`-4`/`-6`) ip skips the link/ line; what follows it (link-netns)
    // then ends the first line.
    if !filtered {
        s += "\n";
        s += &format!("    link/{} ", ll_type(l.ll_type));
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
                s += &format!(" permaddr {}", hex_addr(p));
            }
        }
    }
    if let Some(id) = l.link_netnsid {
        if id >= 0 {
            match links.netns_name(ctx, id)? {
                Some(n) => s += &format!(" link-netns {}", String::from_utf8_lossy(&n)),
                None => s += &format!(" link-netnsid {id}"),
            }
        } else {
            s += " link-netnsid unknown";
        }
    }
    if view == View::Link {
        if let Some(a) = &l.alias {
            s += &format!("\n    alias {a}");
        }
    }
    for a in &l.altnames {
        s += &format!("\n    altname {a}");
    }
    s += "\n";
    Ok(s)
}

/// The JSON keys of one link (the object stays open for `addr_info`).
fn link_json(w: &mut Writer, links: &Links, l: &LinkInfo, view: View, brief: bool, filtered: bool) {
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
                w.field("link", Val::Str(p.name.as_bytes()));
                mdown = p.flags & IFF_UP == 0;
            } else {
                w.field("link", Val::Str(format!("if{n}").as_bytes()));
            }
        }
        None => {}
    }
    w.field("ifname", Val::Str(l.name.as_bytes()));
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
        let n = links
            .get(m)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| format!("if{m}"));
        w.field("master", Val::Str(n.as_bytes()));
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
            w.field("ifalias", Val::Str(a.as_bytes()));
        }
    }
    if !l.altnames.is_empty() {
        let refs: Vec<&str> = l.altnames.iter().map(|s| s.as_str()).collect();
        w.str_array("altnames", &refs);
    }
}

/// `[dev] NAME` of a show command; anything else is refused with ip's duparg2 wording.
fn show_filter(args: &[Vec<u8>]) -> Result<Option<Vec<u8>>, Exit> {
    let mut dev = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        let v = if w == b"dev" {
            super::next(args, &mut i)?
        } else {
            w
        };
        if dev.is_some() {
            return Err(super::duparg2("dev", v));
        }
        dev = Some(v.to_vec());
        i += 1;
    }
    Ok(dev)
}

fn selected(links: &Links, dev: &Option<Vec<u8>>) -> Result<Vec<LinkInfo>, Exit> {
    match dev {
        None => Ok(links.all.clone()),
        Some(d) => match links.all.iter().find(|l| {
            l.name.as_bytes() == d.as_slice()
                || l.altnames.iter().any(|a| a.as_bytes() == d.as_slice())
        }) {
            Some(l) => Ok(vec![l.clone()]),
            None => {
                err(&bytes(&[b"Device \"", d, b"\" does not exist.\n"]));
                Err(Exit(1))
            }
        },
    }
}

/// `ip link show [[dev] NAME]`.
pub fn links(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let dev = show_filter(args)?;
    let mut links = Links::load(ctx, None)?;
    let chosen = match selected(&links, &dev) {
        Ok(c) => c,
        Err(Exit(1)) => return Ok(-1),
        Err(e) => return Err(e),
    };
    let (json, pretty, brief) = (ctx.opts.json, ctx.opts.pretty, ctx.opts.brief);
    if json {
        let mut a = Array::new(pretty);
        for l in &chosen {
            link_json(a.writer(), &links, l, View::Link, brief, false);
            a.writer().end_object();
        }
        out(&a.finish());
    } else if brief {
        for l in &chosen {
            let (name, mdown) = links.shown_name(l);
            let mut s = format!("{name:<16} ");
            if let Some(o) = l.oper {
                s += &oper_text(o, true);
            }
            if let Some(a) = &l.address {
                s += &format!("{} ", hex_addr(a));
            }
            s += &flags_text(l.flags, mdown);
            s += "\n";
            out(s.as_bytes());
        }
    } else {
        for l in &chosen {
            let s = link_text(ctx, &mut links, l, View::Link, false)?;
            out(s.as_bytes());
        }
    }
    flush();
    Ok(0)
}

/// What an address message says.
struct AddrInfo {
    index: u32,
    family: AddressFamily,
    local: Option<IpAddr>,
    address: Option<IpAddr>,
    prefix_len: u8,
    scope: u8,
    flags: u32,
    label: Option<String>,
    broadcast: Option<IpAddr>,
    metric: Option<u32>,
    valid: Option<u32>,
    preferred: Option<u32>,
}

fn addr_info(a: &AddressMessage) -> AddrInfo {
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
            AddressAttribute::Label(l) => i.label = Some(l.clone()),
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
    i
}

fn scope_name(s: u8) -> String {
    match s {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}

/// The address flag names ip prints, in its order (`dynamic` when not permanent).
fn addr_flags(a: &AddrInfo) -> (Vec<&'static str>, u32) {
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

fn lifetime(v: u32) -> String {
    if v == u32::MAX {
        "forever".into()
    } else {
        format!("{v}sec")
    }
}

fn addr_text(a: &AddrInfo) -> String {
    let fam = if a.family == AddressFamily::Inet {
        "inet"
    } else {
        "inet6"
    };
    let local = a.local.or(a.address);
    let mut s = format!(
        "    {fam} {}",
        local.map(|x| x.to_string()).unwrap_or_default()
    );
    if let (Some(l), Some(p)) = (a.local, a.address) {
        if l != p {
            s += &format!(" peer {p}");
        }
    }
    s += &format!("/{} ", a.prefix_len);
    if let Some(m) = a.metric {
        s += &format!("metric {m} ");
    }
    if let Some(b) = a.broadcast {
        s += &format!("brd {b} ");
    }
    s += &format!("scope {} ", scope_name(a.scope));
    let (flags, rest) = addr_flags(a);
    for f in flags {
        s += f;
        s.push(' ');
    }
    if rest != 0 {
        s += &format!("flags {rest:02x} ");
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

fn addr_json(w: &mut Writer, a: &AddrInfo, brief: bool) {
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
        w.field("label", Val::Str(l.as_bytes()));
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
    let dump = {
        let (nl, sock) = main_sock(ctx)?;
        crate::nl::addr::dump(nl, sock)
    };
    let all: Vec<AddrInfo> = match dump {
        Ok(v) => v
            .iter()
            .map(addr_info)
            .filter(|a| family.is_none() || Some(a.family) == family)
            .collect(),
        Err(f) => {
            let _ = super::refused(f);
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
            link_json(w, &links, l, View::Addr, brief, filtered);
            w.name("addr_info");
            w.start_array();
            for x in &mine {
                addr_json(w, x, brief);
            }
            w.end_array();
            w.end_object();
        } else if brief {
            let (name, _) = links.shown_name(l);
            let mut s = format!("{name:<16} ");
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
                        s += &format!(" peer {p}");
                    }
                }
                s += &format!("/{} ", x.prefix_len);
                if let Some(m) = x.metric {
                    s += &format!("metric {m} ");
                }
            }
            s += "\n";
            out(s.as_bytes());
        } else {
            let mut s = link_text(ctx, &mut links, l, View::Addr, filtered)?;
            for x in &mine {
                s += &addr_text(x);
            }
            out(s.as_bytes());
        }
    }
    if json {
        out(&a.finish());
    }
    flush();
    Ok(0)
}

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
            dev_filter = Some(super::next(args, &mut i)?.to_vec());
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
        Some(d) => match links.all.iter().find(|l| l.name.as_bytes() == d.as_slice()) {
            Some(l) => Some(l.index),
            None => return super::nodev(d),
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
            let _ = super::refused(f);
            err(b"Dump terminated\n");
            return Err(Exit(1));
        }
    };
    let (json, pretty) = (ctx.opts.json, ctx.opts.pretty);
    let mut a = Array::new(pretty);
    let mut text = String::new();
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
        let dev_name = oif.map(|o| {
            links
                .get(o)
                .map(|l| l.name.clone())
                .unwrap_or_else(|| format!("if{o}"))
        });
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
                w.field("dev", Val::Str(d.as_bytes()));
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
                text += &format!("dev {d} ");
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
        out(text.as_bytes());
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
