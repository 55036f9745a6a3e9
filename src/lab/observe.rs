//! What exists right now in one place (host or namespace): links, addresses, routes.

use std::collections::HashMap;
use std::net::IpAddr;

use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{InfoBridge, InfoData, LinkAttribute, LinkFlags, LinkInfo};
use netlink_packet_route::route::{RouteAddress, RouteAttribute};
use netlink_packet_route::AddressFamily;

use super::places::{Fail, Places};
use crate::nl::{Failure, Socket};

#[derive(Debug, Clone, Default)]
pub struct LinkState {
    pub index: u32,
    pub up: bool,
    pub master: Option<u32>,
    pub mtu: Option<u32>,
    /// A bridge's multicast snooping (None: not a bridge).
    pub snooping: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteState {
    pub dst: Option<IpAddr>,
    pub len: u8,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
}

/// One place's links (by name), addresses (by ifindex) and main-table routes.
#[derive(Debug, Default)]
pub struct Seen {
    pub links: HashMap<String, LinkState>,
    pub addrs: HashMap<u32, Vec<(IpAddr, u8)>>,
    pub routes: Vec<RouteState>,
}

pub fn why(f: Failure) -> String {
    match f {
        Failure::Kernel(e) => e.text().trim_end().to_string(),
        Failure::Send => "the netlink request could not be sent".into(),
    }
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

impl Seen {
    /// Links only.
    pub fn links(pl: &Places, sock: &Socket) -> Result<Seen, Fail> {
        Self::read_parts(pl, sock, false, false)
    }

    /// Links, addresses and routes.
    pub fn all(pl: &Places, sock: &Socket) -> Result<Seen, Fail> {
        Self::read_parts(pl, sock, true, true)
    }

    /// Links, and (when `all`) addresses and routes too.
    pub fn read_with(pl: &Places, sock: &Socket, all: bool) -> Result<Seen, Fail> {
        Self::read_parts(pl, sock, all, all)
    }

    fn read_parts(
        pl: &Places,
        sock: &Socket,
        with_addrs: bool,
        with_routes: bool,
    ) -> Result<Seen, Fail> {
        let mut seen = Seen::default();
        for l in crate::nl::link::dump(&pl.nl, sock, None).map_err(why)? {
            let mut st = LinkState {
                index: l.header.index,
                up: l.header.flags.contains(LinkFlags::Up),
                ..Default::default()
            };
            let mut name = None;
            for a in &l.attributes {
                match a {
                    LinkAttribute::IfName(n) => name = Some(n.clone()),
                    LinkAttribute::Controller(m) => st.master = Some(*m),
                    LinkAttribute::Mtu(m) => st.mtu = Some(*m),
                    LinkAttribute::LinkInfo(info) => st.snooping = snooping(info),
                    _ => {}
                }
            }
            if let Some(n) = name {
                seen.links.insert(n, st);
            }
        }
        let addrs = if with_addrs {
            crate::nl::addr::dump(&pl.nl, sock).map_err(why)?
        } else {
            Vec::new()
        };
        for a in addrs {
            let local = a.attributes.iter().find_map(|x| match x {
                AddressAttribute::Local(v) => Some(*v),
                _ => None,
            });
            let addr = local.or_else(|| {
                a.attributes.iter().find_map(|x| match x {
                    AddressAttribute::Address(v) => Some(*v),
                    _ => None,
                })
            });
            if let Some(v) = addr {
                seen.addrs
                    .entry(a.header.index)
                    .or_default()
                    .push((v, a.header.prefix_len));
            }
        }
        if with_routes {
            for fam in [AddressFamily::Inet, AddressFamily::Inet6] {
                for r in crate::nl::route::dump(&pl.nl, sock, fam).map_err(why)? {
                    let mut table = r.header.table as u32;
                    let mut st = RouteState {
                        dst: None,
                        len: r.header.destination_prefix_length,
                        via: None,
                        oif: None,
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
        }
        Ok(seen)
    }

    pub fn has_addr(&self, index: u32, a: IpAddr, len: u8) -> bool {
        self.addrs
            .get(&index)
            .map(|v| v.contains(&(a, len)))
            .unwrap_or(false)
    }
}
