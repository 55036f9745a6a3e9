//! What one place holds, read from the kernel: its links, addresses, main-table routes,
//! sysctls and namespace cookie, with whole-table dumps over one blocking socket per place
//! (`nl::sync`), opened on the same visit that reads the cookie and sysctls. The types here
//! are what the plan compares the lab with.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoBridge, InfoData, LinkAttribute, LinkExtentMask, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::error::why;
use super::places::{Fail, Places};
use super::shares::Shares;
use super::spec::Where;
use crate::nl::sync::Dumper;
use crate::nl::Failure;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkObs {
    pub index: u32,
    pub up: bool,
    pub master: Option<u32>,
    pub mtu: Option<u32>,
    /// A bridge's multicast snooping (None: not a bridge).
    pub snooping: Option<bool>,
    /// A vxlan link's settings (None: not a vxlan link); boxed, as few links are.
    pub vxlan: Option<Box<VxlanObs>>,
}

/// What a lab checks of a vxlan link (machines.rs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VxlanObs {
    pub vni: Option<u32>,
    pub local: Option<IpAddr>,
    pub remote: Option<IpAddr>,
    pub port: Option<u16>,
}

/// IFLA_VXLAN_* of a vxlan link's info.
fn vxlan(info: &[LinkInfo]) -> Option<Box<VxlanObs>> {
    use netlink_packet_route::link::{InfoKind, InfoVxlan};
    if !info
        .iter()
        .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Vxlan)))
    {
        return None;
    }
    let mut v = VxlanObs::default();
    for i in info {
        if let LinkInfo::Data(InfoData::Vxlan(x)) = i {
            for a in x {
                match a {
                    InfoVxlan::Id(n) => v.vni = Some(*n),
                    InfoVxlan::Group(a) => v.remote = Some(IpAddr::V4(*a)),
                    InfoVxlan::Group6(a) => v.remote = Some(IpAddr::V6(*a)),
                    InfoVxlan::Local(a) => v.local = Some(IpAddr::V4(*a)),
                    InfoVxlan::Local6(a) => v.local = Some(IpAddr::V6(*a)),
                    InfoVxlan::Port(p) => v.port = Some(*p),
                    _ => {}
                }
            }
        }
    }
    Some(Box::new(v))
}

/// The addresses configured in the calling thread's namespace (to find which of a lab's
/// machines this is).
pub fn local_addresses() -> Result<Vec<IpAddr>, String> {
    let d = Dumper::open().map_err(|e| {
        format!(
            "cannot open a netlink socket: {}",
            crate::error::io_errstr(&e)
        )
    })?;
    let mut seen = PlaceObs::default();
    read_addrs(&d, &mut seen)?;
    Ok(seen.addrs.into_values().flatten().map(|(a, _)| a).collect())
}

/// Every address of the dumper's namespace into `seen`, each message read as it arrives: no
/// place's whole dump is ever held decoded.
fn read_addrs(d: &Dumper, seen: &mut PlaceObs) -> Result<(), Fail> {
    d.each(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        |m, _| {
            if let RouteNetlinkMessage::NewAddress(a) = m {
                parse_addr(a, seen);
            }
        },
    )
    .map_err(why)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObs {
    pub dst: Option<IpAddr>,
    pub len: u8,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
    /// Made by the kernel for an address of the place (`proto kernel`): never the lab's.
    pub kernel: bool,
}

/// One place: links by name, addresses by ifindex, main-table routes, and sysctls.
#[derive(Debug, Default, Clone)]
pub struct PlaceObs {
    pub links: HashMap<String, LinkObs>,
    pub addrs: HashMap<u32, Vec<(IpAddr, u8)>>,
    pub routes: Vec<RouteObs>,
    pub sysctls: HashMap<String, String>,
    /// Root qdiscs by ifindex (read only where the lab shapes a link).
    pub qdiscs: HashMap<u32, crate::nl::qdisc::Seen>,
}

impl PlaceObs {
    pub fn has_addr(&self, index: u32, a: IpAddr, len: u8) -> bool {
        self.addrs
            .get(&index)
            .is_some_and(|v| v.contains(&(a, len)))
    }
}

/// What is behind a name in /run/netns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsObs {
    /// A namespace, with its cookie (None on kernels without SO_NETNS_COOKIE).
    Bound { cookie: Option<u64> },
    /// An empty file: an add was killed between making the file and binding it.
    Unbound,
}

#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// The names the lab or its journal uses that exist in /run/netns.
    pub names: HashMap<String, NsObs>,
    /// The host (None) and every bound namespace among `names`.
    pub places: HashMap<Where, PlaceObs>,
    /// The rule comments of the lab's nft table; None when there is no table.
    pub nat: Option<Vec<String>>,
    /// Host sysctls held by labs (all of them).
    pub shares: Shares,
    /// /etc/netns/NAME/hosts of each namespace the lab wants or journaled one for: what it
    /// is to the lab (judged as it is read: no file's text is held).
    pub hosts: HashMap<String, super::hostsfile::Seen>,
    /// The directories for hosts files (/etc/netns: None, /etc/netns/NAME) that the journal
    /// says nsctl made and that exist now.
    pub etc_dirs: std::collections::HashSet<Option<String>>,
}

fn ip(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v) => Some(IpAddr::V4(*v)),
        RouteAddress::Inet6(v) => Some(IpAddr::V6(*v)),
        _ => None,
    }
}

/// IFLA_BR_MCAST_SNOOPING of a bridge's link info.
fn snooping(info: &[LinkInfo]) -> Option<bool> {
    info.iter().find_map(|i| match i {
        LinkInfo::Data(InfoData::Bridge(b)) => b.iter().find_map(|x| match x {
            InfoBridge::MulticastSnooping(on) => Some(*on),
            _ => None,
        }),
        _ => None,
    })
}

/// One link of a dump, read from its message bytes (header included): its name and what a
/// lab checks of it. Only those attributes are read; the rest of the message (most of its
/// bytes) is skipped, so observing a host with ten thousand links costs little memory. A
/// name that is not UTF-8 gets a `/` stand-in, which no lab name can equal.
pub(crate) fn link_obs(msg: &[u8]) -> Option<(String, LinkObs)> {
    use netlink_packet_core::{NlasIterator, ParseableParametrized};
    let payload = msg.get(16..)?;
    let h = netlink_packet_route::link::LinkHeader::parse(payload).ok()?;
    let mut st = LinkObs {
        index: h.index,
        up: h.flags.contains(LinkFlags::Up),
        ..Default::default()
    };
    let u32_of = crate::nl::attr_u32;
    let mut name = None;
    for nla in NlasIterator::new(payload.get(16..)?) {
        let nla = nla.ok()?;
        let v = nla.value();
        match nla.kind() & 0x3fff {
            3 => name = Some(crate::nl::names::stand_in(crate::nl::attr_cstr(v))),
            4 => st.mtu = u32_of(v),
            10 => st.master = u32_of(v),
            18 => {
                if let Ok(LinkAttribute::LinkInfo(info)) =
                    LinkAttribute::parse_with_param(&nla, h.interface_family)
                {
                    st.snooping = snooping(&info);
                    st.vxlan = vxlan(&info);
                }
            }
            _ => {}
        }
    }
    Some((name?, st))
}

/// Every link of the dumper's namespace by name, without statistics (filling them is a
/// good part of the kernel's work).
pub fn read_links(d: &Dumper) -> Result<HashMap<String, LinkObs>, Failure> {
    let mut req = LinkMessage::default();
    req.attributes
        .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    let mut out = HashMap::new();
    d.each_bytes(RouteNetlinkMessage::GetLink(req), |m| {
        if m.get(4..6) == Some(&16u16.to_ne_bytes()[..]) {
            out.extend(link_obs(m));
        }
        Ok(())
    })?;
    Ok(out)
}

pub(crate) fn parse_addrs(msgs: Vec<AddressMessage>, seen: &mut PlaceObs) {
    for a in msgs {
        parse_addr(a, seen);
    }
}

fn parse_addr(a: AddressMessage, seen: &mut PlaceObs) {
    {
        let mut local = None;
        let mut addr = None;
        for x in &a.attributes {
            match x {
                AddressAttribute::Local(v) => local = Some(*v),
                AddressAttribute::Address(v) => addr = Some(*v),
                _ => {}
            }
        }
        if let Some(v) = local.or(addr) {
            seen.addrs
                .entry(a.header.index)
                .or_default()
                .push((v, a.header.prefix_len));
        }
    }
}

pub(crate) fn parse_routes(msgs: Vec<RouteMessage>, seen: &mut PlaceObs) {
    for r in msgs {
        parse_route(r, seen);
    }
}

fn parse_route(r: RouteMessage, seen: &mut PlaceObs) {
    {
        let mut table = r.header.table as u32;
        let mut st = RouteObs {
            dst: None,
            len: r.header.destination_prefix_length,
            via: None,
            oif: None,
            kernel: r.header.protocol == netlink_packet_route::route::RouteProtocol::Kernel,
        };
        for a in &r.attributes {
            match a {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(d) => st.dst = ip(d),
                RouteAttribute::Gateway(g) => st.via = ip(g),
                RouteAttribute::Oif(o) => st.oif = Some(*o),
                _ => {}
            }
        }
        if table == 254 {
            seen.routes.push(st);
        }
    }
}

/// The links of a place as they are now (the executor's view, after a change).
pub fn links(pl: &Places, at: &Where) -> Result<HashMap<String, LinkObs>, Fail> {
    let d = match at {
        None => Dumper::open(),
        Some(ns) => pl.inside(ns, Dumper::open)?,
    }
    .map_err(|e| format!("cannot open rtnetlink: {}", crate::error::io_errstr(&e)))?;
    read_links(&d).map_err(why)
}

/// Which route families a place needs read: those of the routes the lab sets there or
/// journaled there (a place without any needs no route dump at all).
#[derive(Debug, Clone, Copy, Default)]
pub struct Families {
    pub v4: bool,
    pub v6: bool,
    /// Root qdiscs too: the place has a shaped end, in the file or the journal.
    pub tc: bool,
}

/// Links, addresses and the main table's routes of `fam` of the place `d` lives in.
pub fn read_place(d: &Dumper, fam: Families) -> Result<PlaceObs, Fail> {
    let mut seen = PlaceObs {
        links: read_links(d).map_err(why)?,
        ..Default::default()
    };
    read_addrs(d, &mut seen)?;
    for (want, family) in [
        (fam.v4, AddressFamily::Inet),
        (fam.v6, AddressFamily::Inet6),
    ] {
        if !want {
            continue;
        }
        // With strict checking the kernel walks only the main table of this family.
        let mut req = RouteMessage::default();
        req.header.address_family = family;
        req.header.table = 254;
        let got = d.each(RouteNetlinkMessage::GetRoute(req), |m, _| {
            if let RouteNetlinkMessage::NewRoute(r) = m {
                parse_route(r, &mut seen);
            }
        });
        match got {
            // ENOENT: the namespace has no main table yet (it is made with its first route).
            Err(Failure::Kernel(e)) if e.errno == libc::ENOENT => {}
            r => r.map_err(why)?,
        }
    }
    if fam.tc {
        seen.qdiscs = crate::nl::qdisc::roots(d)
            .map_err(why)?
            .into_iter()
            .collect();
    }
    Ok(seen)
}
