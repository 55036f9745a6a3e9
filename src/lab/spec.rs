//! The validated lab: what nsctl will build, with names resolved and addresses parsed. Every
//! rule is checked here, with positions, before anything touches the system; `build` returns
//! every problem it finds, not only the first.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;

use crate::wiring::prefix::{self, Prefix};

/// Where an interface or setting lives: None is the host (the namespace nsctl runs in).
pub type Where = Option<String>;

/// "host" or "netns NAME", as messages say it.
pub fn place_name(at: &Where) -> String {
    at.as_ref()
        .map(|n| format!("netns {n}"))
        .unwrap_or_else(|| "host".into())
}

#[derive(Debug, Clone)]
pub struct NsSpec {
    pub name: String,
    /// The machine that runs it (an index into [`Lab::machines`]; None: no `[hosts]`).
    pub host: Option<u16>,
    pub lo: bool,
    pub sysctls: Vec<(String, String)>,
    pub routes: Vec<RouteSpec>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfSpec {
    pub at: Where,
    pub name: String,
    pub bridge: Option<String>,
    pub addrs: Vec<Prefix>,
    pub mtu: Option<u32>,
    /// The root qdisc of a shaped veth end (shape.rs); boxed, as few ends have one.
    pub shape: Option<Box<crate::nl::qdisc::Qdisc>>,
    /// The machine it is on (an index into [`Lab::machines`]; None: no `[hosts]`).
    pub host: Option<u16>,
    /// Set on an end of a veth that crosses to another machine, in that machine's share:
    /// the end is a vxlan link (machines.rs).
    pub tunnel: Option<Box<Tunnel>>,
    /// Its MAC address, derived from the file (machines::derive_macs): a link made again
    /// comes back with the MAC it had.
    pub mac: [u8; 6],
    /// Where the file writes its addresses (the byte offset of its first one; without any,
    /// of the interface itself): [`Lab::addresses`] lists a place's addresses in this order.
    /// An interface's addresses are one list in the file, so this one number per interface
    /// orders them all. The instances of a template share its position.
    pub pos: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Lab {
    pub name: String,
    pub namespaces: Vec<NsSpec>,
    pub host_sysctls: Vec<(String, String)>,
    pub host_routes: Vec<RouteSpec>,
    pub bridges: Vec<IfSpec>,
    pub veths: Vec<[IfSpec; 2]>,
    /// The ends this machine holds of veths that cross to another (a share's only).
    pub tunnels: Vec<IfSpec>,
    pub nat: Vec<(Prefix, Option<String>)>,
    /// Reachability checks (`nsctl test`).
    pub checks: Vec<CheckSpec>,
    /// Whether each namespace gets /etc/netns/NAME/hosts (hosts.rs).
    pub hosts: bool,
    /// `[hosts.NAME]`: the machines of a lab across hosts (machines.rs); empty for a lab of
    /// one machine.
    pub machines: Vec<Machine>,
    /// (veth position, VNI) of each veth whose ends are on two machines.
    pub vnis: Vec<(u32, u32)>,
    /// The machine whose share this is (machines.rs).
    pub share: Option<u16>,
    /// A share's hosts files list the namespaces of every machine (hosts.rs): their body,
    /// made from the whole lab.
    pub hosts_body: Option<String>,
    /// Look-ups by name, so a 1,000-namespace lab is planned in linear time.
    pub index: Index,
}

/// The lab's objects by name and place.
#[derive(Debug, Clone, Default)]
pub struct Index {
    ns: HashMap<String, usize>,
    /// Each place's interfaces, as positions in [`Lab::interface_at`]'s numbering.
    ifs: HashMap<Where, Vec<u32>>,
    /// (place, name) of each veth end that makes its pair (the host end, else the first).
    pub makers: HashSet<(Where, String)>,
    /// The journal key of each pair's first end -> its second end's.
    pub firsts: HashMap<String, String>,
    pub bridges: HashSet<(Where, String)>,
    /// (place, name) of each vxlan link that stands for a crossing veth's end.
    pub tunnels: HashSet<(Where, String)>,
}

/// The end of a pair that makes it: the host end when there is one (one socket serves a
/// whole star), else the end whose place holds more of the lab's interfaces (a switch
/// namespace with a hundred ports makes its hundred pairs over one socket, instead of each
/// pair opening a socket in its other namespace), else the first.
pub fn maker(v: &[IfSpec; 2], ifs_in: impl Fn(&Where) -> usize) -> (&IfSpec, &IfSpec) {
    let second = match (&v[0].at, &v[1].at) {
        (Some(_), None) => true,
        (None, _) => false,
        (a, b) => ifs_in(b) > ifs_in(a),
    };
    if second {
        (&v[1], &v[0])
    } else {
        (&v[0], &v[1])
    }
}

/// A route as the lab understands it: `default|PREFIX [via GW] [dev NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: Prefix,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
}

impl RouteSpec {
    pub fn parse(text: &str) -> Result<RouteSpec, String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err("empty route".into());
        };
        let dst = prefix::parse(first.as_bytes())
            .ok_or_else(|| format!("\"{first}\" is not a prefix or \"default\""))?;
        let (mut via, mut dev) = (None, None);
        let mut i = 1;
        while i < words.len() {
            let val = words
                .get(i + 1)
                .ok_or_else(|| format!("\"{}\" needs a value", words[i]))?;
            match words[i] {
                "via" => {
                    via = Some(
                        val.parse::<IpAddr>()
                            .map_err(|_| format!("\"{val}\" is not an address"))?,
                    )
                }
                "dev" => dev = Some(val.to_string()),
                w => {
                    return Err(format!(
                        "unknown word \"{w}\" (routes are: default|PREFIX [via GW] [dev NAME])"
                    ))
                }
            }
            i += 2;
        }
        if via.is_none() && dev.is_none() {
            return Err("a route needs \"via GW\" or \"dev NAME\"".into());
        }
        if let (Some(a), Some(g)) = (dst.addr, via) {
            if a.is_ipv4() != g.is_ipv4() {
                return Err("the gateway is not of the prefix's family".into());
            }
        }
        Ok(RouteSpec { dst, via, dev })
    }

    pub fn is_v6(&self) -> bool {
        self.dst
            .addr
            .map(|a| a.is_ipv6())
            .or(self.via.map(|g| g.is_ipv6()))
            .unwrap_or(false)
    }
}

impl std::fmt::Display for RouteSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.dst)?;
        if let Some(v) = self.via {
            write!(f, " via {v}")?;
        }
        if let Some(d) = &self.dev {
            write!(f, " dev {d}")?;
        }
        Ok(())
    }
}

impl Lab {
    /// Build the look-ups (after the lab is complete).
    pub fn indexed(mut self) -> Lab {
        let mut ix = Index::default();
        for (k, n) in self.namespaces.iter().enumerate() {
            ix.ns.insert(n.name.clone(), k);
        }
        for (k, i) in self.all_interfaces().enumerate() {
            ix.ifs.entry(i.at.clone()).or_default().push(k as u32);
        }
        for b in &self.bridges {
            ix.bridges.insert((b.at.clone(), b.name.clone()));
        }
        for t in &self.tunnels {
            ix.tunnels.insert((t.at.clone(), t.name.clone()));
        }
        for v in &self.veths {
            let (m, _) = maker(v, |at| ix.ifs.get(at).map_or(0, Vec::len));
            ix.makers.insert((m.at.clone(), m.name.clone()));
            ix.firsts.insert(
                link_key(&v[0].at, &v[0].name),
                link_key(&v[1].at, &v[1].name),
            );
        }
        self.index = ix;
        self
    }

    /// The name of the machine whose share this is.
    pub fn share_name(&self) -> Option<&str> {
        self.share
            .and_then(|m| self.machines.get(m as usize))
            .map(|m| m.name.as_str())
    }

    /// All places of the lab: the host, then each namespace in file order.
    pub fn places(&self) -> Vec<Where> {
        std::iter::once(None)
            .chain(self.namespaces.iter().map(|n| Some(n.name.clone())))
            .collect()
    }

    /// The end of veth pair `v` that makes it (see [`maker`]).
    pub fn maker_of<'a>(&self, v: &'a [IfSpec; 2]) -> (&'a IfSpec, &'a IfSpec) {
        maker(v, |at| self.index.ifs.get(at).map_or(0, Vec::len))
    }

    /// Every interface the lab puts in `at`: bridges first, then veth ends (the order they
    /// are made and configured in; for file order see [`Lab::addresses`]).
    pub fn interfaces(&self, at: &Where) -> impl Iterator<Item = &IfSpec> {
        self.index
            .ifs
            .get(at)
            .into_iter()
            .flatten()
            .filter_map(|&k| self.interface_at(k as usize))
    }

    /// The addresses the lab gives the interfaces in `at`, in the order the file writes them
    /// (a template's instances in the order they are made). The one answer to "a place's
    /// addresses in file order": its first address (a check's target), the hosts files
    /// ([`Lab::names`]) and whatever else picks among them use it, never
    /// [`Lab::interfaces`], which lists bridges first (the order they are made in).
    pub fn addresses(&self, at: &Where) -> impl Iterator<Item = &Prefix> {
        let mut ifs: Vec<&IfSpec> = self
            .interfaces(at)
            .filter(|i| !i.addrs.is_empty())
            .collect();
        // Stable: the instances of one template keep the order they were made in.
        ifs.sort_by_key(|i| i.pos);
        ifs.into_iter().flat_map(|i| i.addrs.iter())
    }

    /// The namespaces that get a hosts file.
    pub fn hosts_namespaces(&self) -> Vec<&str> {
        if !self.hosts {
            return Vec::new();
        }
        self.namespaces.iter().map(|n| n.name.as_str()).collect()
    }

    /// What every namespace's hosts file lists after its header: localhost, then each lab
    /// namespace's addresses as [`Lab::names`] gives them (IPv4 first, each family in file
    /// order); in a machine's share of a lab across hosts, the namespaces of every machine.
    /// Made once per run: a lab of N namespaces writes N files of N lines.
    pub fn hosts_body(&self) -> String {
        use super::hostsfile::{host_name, LOCALHOST};
        if let Some(b) = &self.hosts_body {
            return b.clone();
        }
        let mut s = String::from(LOCALHOST);
        for n in &self.namespaces {
            if !host_name(&n.name) {
                continue;
            }
            for a in self.names(&Some(n.name.clone())) {
                s.push_str(&format!("{a}\t{}\n", n.name));
            }
        }
        s
    }

    /// The text of `netns`'s hosts file: its header, then the shared body.
    #[cfg(test)]
    pub fn hosts_content(&self, netns: &str) -> String {
        let b = self.hosts_body();
        super::hostsfile::header(&self.name, netns, b.as_bytes()) + &b
    }

    /// The addresses a name stands for in `at`: [`Lab::addresses`], IPv4 ones first (hosts
    /// files list them so, and a check to a namespace targets the first of them of the
    /// family it sends).
    pub fn names(&self, at: &Where) -> Vec<IpAddr> {
        ipv4_first(self.addresses(at).filter_map(|p| p.addr))
    }

    /// The interface that holds address `a`, the first in the file when several do
    /// (isolated namespaces may reuse addresses).
    pub fn holder(&self, a: IpAddr) -> Option<&IfSpec> {
        self.all_interfaces()
            .filter(|i| i.addrs.iter().any(|p| p.addr == Some(a)))
            .min_by_key(|i| i.pos)
    }

    /// Every interface of the lab, in the order [`Lab::interface_at`] numbers them: the
    /// bridges, both ends of each veth in order, then the tunnels.
    pub fn all_interfaces(&self) -> impl Iterator<Item = &IfSpec> {
        self.bridges
            .iter()
            .chain(self.veths.iter().flatten())
            .chain(self.tunnels.iter())
    }

    /// Interface `k` of the lab: the bridges, both ends of each veth in order, the tunnels.
    fn interface_at(&self, k: usize) -> Option<&IfSpec> {
        let Some(v) = k.checked_sub(self.bridges.len()) else {
            return self.bridges.get(k);
        };
        match v.checked_sub(2 * self.veths.len()) {
            None => self.veths.get(v / 2).map(|p| &p[v % 2]),
            Some(t) => self.tunnels.get(t),
        }
    }

    pub fn netns(&self, name: &str) -> Option<&NsSpec> {
        self.index
            .ns
            .get(name)
            .and_then(|&k| self.namespaces.get(k))
    }

    /// Whether the file turns IPv6 off for the links made in `at` (it sets
    /// `net.ipv6.conf.default.disable_ipv6 = 1` there, which is set before they are made).
    pub fn ipv6_off_by_default(&self, at: &Where) -> bool {
        at.as_ref().and_then(|n| self.netns(n)).is_some_and(|ns| {
            ns.sysctls
                .iter()
                .any(|(k, v)| k == IPV6_OFF_DEFAULT && v.trim() == "1")
        })
    }

    pub fn routes(&self, at: &Where) -> &[RouteSpec] {
        match at {
            None => &self.host_routes,
            Some(n) => self.netns(n).map(|s| s.routes.as_slice()).unwrap_or(&[]),
        }
    }

    /// The sysctls the lab sets in `at`. In the host that includes the forwarding NAT needs.
    pub fn sysctls(&self, at: &Where) -> Vec<(String, String)> {
        match at {
            Some(n) => self.netns(n).map(|s| s.sysctls.clone()).unwrap_or_default(),
            None => {
                let mut v = self.host_sysctls.clone();
                if !self.nat.is_empty() && !v.iter().any(|(k, _)| k == FORWARD) {
                    v.push((FORWARD.into(), "1".into()));
                }
                v
            }
        }
    }

    /// The IPv4 networks of every address the lab gives an interface: traffic between them
    /// stays in the lab and is never masqueraded. A host interface a `[[nat]]` names as its
    /// `out` is the outside by the file's own word, so its networks are not among them.
    pub fn nets_v4(&self) -> Vec<Prefix> {
        let net = |a: &Prefix| network(a).filter(|n| n.addr.is_some_and(|x| x.is_ipv4()));
        let outside: Vec<Prefix> = self
            .all_interfaces()
            .filter(|i| i.at.is_none() && self.nat.iter().any(|(_, o)| o.as_ref() == Some(&i.name)))
            .flat_map(|i| i.addrs.iter().filter_map(net))
            .collect();
        let mut v: Vec<Prefix> = Vec::new();
        for p in self
            .all_interfaces()
            .flat_map(|i| i.addrs.iter().filter_map(net))
        {
            if !v.contains(&p) && !outside.contains(&p) {
                v.push(p);
            }
        }
        v
    }
}

/// A reachability check as validated (check.rs resolves its endpoints).
/// What a check sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Ping,
    Tcp(u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// The endpoints as written.
    pub from: String,
    pub to: String,
    /// Where the probe starts, the interface it is bound to, and its source address.
    pub at: Where,
    pub dev: Option<String>,
    pub src: Option<IpAddr>,
    pub dst: IpAddr,
    /// The lab place that holds `dst`, where a TCP check opens a listener if none is there.
    pub owner: Option<Where>,
    pub probe: Probe,
    /// Whether `to` must be reachable (else it must not be).
    pub reach: bool,
    pub timeout: Duration,
}

impl CheckSpec {
    /// `ping A -> B (10.0.0.3)`, `tcp A -> 10.0.0.3:80`, `tcp A -> [fd00::3]:80`.
    pub fn title(&self) -> String {
        let literal = self.to.parse::<IpAddr>().ok();
        let shown = match literal {
            Some(_) => String::new(),
            None => format!(" ({})", self.dst),
        };
        match (self.probe, literal) {
            (Probe::Ping, _) => format!("ping {} -> {}{shown}", self.from, self.to),
            // An IPv6 address (as written) takes brackets before its port, as in a URL.
            (Probe::Tcp(p), Some(IpAddr::V6(_))) => {
                format!("tcp {} -> [{}]:{p}", self.from, self.to)
            }
            (Probe::Tcp(p), _) => format!("tcp {} -> {}:{p}{shown}", self.from, self.to),
        }
    }
}

/// One machine of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    /// The address the other machines reach this one at.
    pub underlay: IpAddr,
    /// How `--all-hosts` reaches it (`root@UNDERLAY` unless the file says).
    pub ssh: String,
}

/// A veth end whose other end is on another machine: a vxlan link in the end's place, its
/// UDP socket in the machine's host namespace, sending to the other machine's underlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    pub vni: u32,
    /// This machine's underlay address, and the other's.
    pub local: IpAddr,
    pub remote: IpAddr,
    /// The other end, as messages name it: `eth0 (netns B) on h2`.
    pub peer: String,
}

/// The key of a link: NAME in the host, NETNS/NAME elsewhere (neither name can hold a `/`).
pub fn link_key(netns: &Option<String>, name: &str) -> String {
    match netns {
        None => name.to_string(),
        Some(n) => format!("{n}/{name}"),
    }
}

/// The place and name of a [`link_key`].
pub fn split_key(key: &str) -> (Option<String>, String) {
    match key.split_once('/') {
        Some((n, l)) => (Some(n.to_string()), l.to_string()),
        None => (None, key.to_string()),
    }
}

/// The sysctl NAT needs in the host.
pub const FORWARD: &str = "net.ipv4.ip_forward";
const IPV6_OFF_DEFAULT: &str = "net.ipv6.conf.default.disable_ipv6";

/// A namespace-wide default that links copy when they are made (`net.ipv4.conf.default.*`,
/// `net.ipv6.conf.default.*`, `net.ipv4.neigh.default.*`, ...): the file means it for its own
/// links, so it is set before they are made.
pub fn is_link_default(key: &str) -> bool {
    let mut parts = key.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (
            Some("net"),
            Some("ipv4" | "ipv6"),
            Some("conf" | "neigh"),
            Some("default")
        )
    )
}

pub fn valid_lab_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 32
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

/// A `net.*` key made of plain words: no control characters, spaces, `/` or empty parts.
pub fn valid_sysctl_key(k: &str) -> bool {
    k.starts_with("net.")
        && k.len() <= 256
        && k.split('.').all(|p| {
            !p.is_empty()
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_graphic() && c != '/' && c != '\\')
        })
}

/// `addrs` with the IPv4 ones first, each family in the order given.
pub fn ipv4_first(addrs: impl Iterator<Item = IpAddr>) -> Vec<IpAddr> {
    let (mut v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = addrs.partition(IpAddr::is_ipv4);
    v4.extend(v6);
    v4
}

/// The network of `p` (its address with the host bits cleared), None for `default`.
pub fn network(p: &Prefix) -> Option<Prefix> {
    let addr = match p.addr? {
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(p.len.min(32)))
                .unwrap_or(0);
            IpAddr::V4((u32::from(a) & mask).into())
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(p.len.min(128)))
                .unwrap_or(0);
            IpAddr::V6((u128::from(a) & mask).into())
        }
    };
    Some(Prefix {
        addr: Some(addr),
        len: p.len,
        explicit_len: true,
    })
}

/// The route the kernel itself makes in the main table for address `a` once its link is up
/// (`proto kernel`): the network of an IPv4 address, unless it is a /32 or in 0.0.0.0/8;
/// the network of every IPv6 address, a /128 included.
pub fn connected(a: &Prefix) -> Option<Prefix> {
    match a.addr? {
        IpAddr::V4(x) if a.len >= 32 || x.octets()[0] == 0 => None,
        _ => network(a),
    }
}

/// Is `gw` inside the subnet of `p`?
pub fn same_subnet(p: &Prefix, gw: &IpAddr) -> bool {
    match (p.addr, gw) {
        (Some(IpAddr::V4(a)), IpAddr::V4(g)) => {
            let mask = if p.len == 0 {
                0
            } else {
                u32::MAX << (32 - p.len as u32)
            };
            (u32::from(a) & mask) == (u32::from(*g) & mask)
        }
        (Some(IpAddr::V6(a)), IpAddr::V6(g)) => {
            let mask = if p.len == 0 {
                0
            } else {
                u128::MAX << (128 - p.len as u32)
            };
            (u128::from(a) & mask) == (u128::from(*g) & mask)
        }
        _ => false,
    }
}
