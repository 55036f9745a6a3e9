//! Observed state: what exists now in every place a lab touches (the host and each of its
//! namespaces, named by the file or the journal), read with whole-table dumps over one
//! socket per place: links, addresses, main-table routes, the sysctls the lab sets or
//! journaled, namespace cookies, the lab's nft table and the shared host settings.
//! The sockets are handed on, so apply reuses them instead of entering each namespace again.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{InfoBridge, InfoData, LinkAttribute, LinkFlags, LinkInfo};
use netlink_packet_route::route::{RouteAddress, RouteAttribute};
use netlink_packet_route::AddressFamily;

use super::journal::{place, Journal, Owned};
use super::places::{Fail, Places};
use super::shares::Shares;
use super::spec::{Lab, Where};
use crate::nl::{Failure, Socket};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkObs {
    pub index: u32,
    pub up: bool,
    pub master: Option<u32>,
    pub mtu: Option<u32>,
    /// A bridge's multicast snooping (None: not a bridge).
    pub snooping: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteObs {
    pub dst: Option<IpAddr>,
    pub len: u8,
    pub via: Option<IpAddr>,
    pub oif: Option<u32>,
}

/// One place: links by name, addresses by ifindex, main-table routes, and sysctls.
#[derive(Debug, Default, Clone)]
pub struct PlaceObs {
    pub links: HashMap<String, LinkObs>,
    pub addrs: HashMap<u32, Vec<(IpAddr, u8)>>,
    pub routes: Vec<RouteObs>,
    pub sysctls: HashMap<String, String>,
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

/// The links of the place `sock` lives in.
pub fn links(pl: &Places, sock: &Socket) -> Result<HashMap<String, LinkObs>, Fail> {
    let mut out = HashMap::new();
    for l in crate::nl::link::dump(&pl.nl, sock, None).map_err(why)? {
        let mut st = LinkObs {
            index: l.header.index,
            up: l.header.flags.contains(LinkFlags::Up),
            ..Default::default()
        };
        let mut name = None;
        for a in l.attributes {
            match a {
                LinkAttribute::IfName(n) => name = Some(n),
                LinkAttribute::Controller(m) => st.master = Some(m),
                LinkAttribute::Mtu(m) => st.mtu = Some(m),
                LinkAttribute::LinkInfo(info) => st.snooping = snooping(&info),
                _ => {}
            }
        }
        if let Some(n) = name {
            out.insert(n, st);
        }
    }
    Ok(out)
}

/// Links, addresses and main-table routes of the place `sock` lives in (three dumps).
pub fn read_place(pl: &Places, sock: &Socket) -> Result<PlaceObs, Fail> {
    let mut seen = PlaceObs {
        links: links(pl, sock)?,
        ..Default::default()
    };
    for a in crate::nl::addr::dump(&pl.nl, sock).map_err(why)? {
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
    for r in crate::nl::route::dump(&pl.nl, sock, AddressFamily::Unspec).map_err(why)? {
        let mut table = r.header.table as u32;
        let mut st = RouteObs {
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
    Ok(seen)
}

/// The sysctl keys to read in each place: what the lab sets there and what is journaled.
fn keys(lab: &Lab, j: &Journal) -> HashMap<Where, BTreeSet<String>> {
    let mut k: HashMap<Where, BTreeSet<String>> = HashMap::new();
    for at in lab.places() {
        for (key, _) in lab.sysctls(&at) {
            k.entry(at.clone()).or_default().insert(key);
        }
    }
    for o in &j.objects {
        if let Owned::Sysctl { netns, key, .. } = o {
            k.entry(netns.clone()).or_default().insert(key.clone());
        }
    }
    k
}

/// Every namespace name the lab or its journal mentions.
pub fn names(lab: &Lab, j: &Journal) -> BTreeSet<String> {
    let mut n: BTreeSet<String> = lab.namespaces.iter().map(|s| s.name.clone()).collect();
    for o in &j.objects {
        match o {
            Owned::Netns { name } | Owned::AdoptedNetns { name } => {
                n.insert(name.clone());
            }
            o => {
                if let Some(Some(p)) = place(o) {
                    n.insert(p.clone());
                }
            }
        }
    }
    n
}

/// Observe everything `lab` and its journal `j` involve. Returns the sockets opened, one per
/// bound namespace, for the caller to reuse.
pub fn observe(
    pl: &Places,
    lab: &Lab,
    j: &Journal,
) -> Result<(Observed, HashMap<Where, Socket>), Fail> {
    let mut obs = Observed::default();
    let mut socks = HashMap::new();
    let keys = keys(lab, j);
    for n in names(lab, j) {
        match crate::netns::ns_inode(n.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(format!(
                    "cannot open netns \"{n}\": {}",
                    crate::error::io_errstr(&e)
                ))
            }
            Ok(None) => {
                obs.names.insert(n, NsObs::Unbound);
                continue;
            }
            Ok(Some(_)) => {}
        }
        let at = Some(n.clone());
        let want: Vec<&str> = keys
            .get(&at)
            .map(|s| s.iter().map(|k| k.as_str()).collect())
            .unwrap_or_default();
        let v = pl.visit(&n, &want)?;
        let mut p = read_place(pl, &v.socket).map_err(|m| format!("netns {n}: {m}"))?;
        p.sysctls = v.sysctls.into_iter().collect();
        obs.names.insert(n, NsObs::Bound { cookie: v.cookie });
        obs.places.insert(at.clone(), p);
        socks.insert(at, v.socket);
    }
    let mut host = read_place(pl, pl.host())?;
    for k in keys.get(&None).into_iter().flatten() {
        if let Ok(v) = super::places::read_sysctl(k) {
            host.sysctls.insert(k.clone(), v);
        }
    }
    obs.places.insert(None, host);
    let table = Owned::NftTable {
        family: "ip".into(),
        name: super::nat::table_name(&lab.name),
    };
    if !lab.nat.is_empty() || j.owns(&table) {
        obs.nat = super::nat::current(&lab.name)?;
    }
    obs.shares = super::shares::load().map_err(|e| {
        format!(
            "cannot read the shared host settings in {}: {}",
            super::shares::PATH,
            super::describe(&e)
        )
    })?;
    Ok((obs, socks))
}
