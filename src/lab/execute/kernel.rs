//! Everything the executor does to the machine, behind one trait: netlink requests in a
//! place, sysctls, namespaces made and deleted, the shared register of host sysctls, the NAT
//! table, hosts files, and the journal's saves. [`Real`] does it; the recording fake
//! (`fake.rs`) logs each effect as one line, so the executor's ordering, its stop or
//! carry-on after a failure, and its journaling are unit-tested without root (as
//! `netns/sys.rs` does for the namespace verbs).
//!
//! The executor keeps every decision (what to do, in which order, what an answer means, what
//! to journal and when); the trait only carries requests out. Messages are built here, from
//! the executor's words, so the fake sees what was asked rather than bytes.

use std::collections::HashMap;
use std::os::fd::AsRawFd;

use netlink_packet_route::link::{
    InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use crate::lab::hosts::{self, Seen};
use crate::lab::journal::Journal;
use crate::lab::observe::LinkObs;
use crate::lab::places::{open_netns, Fail, Places};
use crate::lab::plan::End;
use crate::lab::shares::{self, Shares};
use crate::lab::spec::{place_name, Lab, RouteSpec, Tunnel, Where};
use crate::nl::qdisc::Qdisc;
use crate::nl::{Failure, Socket};
use crate::wiring::prefix::Prefix;

/// What making a namespace came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Made {
    Yes,
    /// Nothing was made (add rolls itself back, and printed why).
    No,
    /// add could not return to the original namespace: nothing after may run.
    Stranded,
}

/// A link to make: its name, MTU (None: the kernel's) and MAC.
#[derive(Debug, Clone, Copy)]
pub struct NewLink<'a> {
    pub name: &'a str,
    pub mtu: Option<u32>,
    pub mac: &'a [u8; 6],
}

/// What one RTM_NEWLINK changes of a link (None: left as it is): up or down, its master (0:
/// none), its MTU.
#[derive(Debug, Clone, Copy, Default)]
pub struct LinkChange {
    pub up: Option<bool>,
    pub master: Option<u32>,
    pub mtu: Option<u32>,
}

/// A request that first reaches a place: the outer Err says why the place could not be
/// reached, the inner result is the kernel's answer.
pub type Reached = Result<Result<(), Failure>, Fail>;

/// The executor's effects. Methods that reach a place first (`open`, a namespace fd) say
/// why they could not as a [`Fail`]; the kernel's own answer to a request is a [`Failure`],
/// which the executor judges (an "already gone" answer counts as done).
pub trait Kernel {
    /// Whether this thread is stranded in another namespace (every later step would act on
    /// the wrong one).
    fn lost(&self) -> bool;
    /// Make sure the netlink socket of `at` is open (opened once, reused until closed).
    fn open(&mut self, at: &Where) -> Result<(), Fail>;
    /// Close the socket of `at`: its turn is over.
    fn close(&mut self, at: &Where);
    fn close_all(&mut self);
    /// The links of `at` as they are now.
    fn links(&mut self, at: &Where) -> Result<HashMap<String, LinkObs>, Fail>;

    fn create_bridge(&mut self, at: &Where, link: NewLink) -> Result<(), Failure>;
    /// A veth pair, made from `maker`'s place (outer Err: the peer's place cannot be opened).
    fn create_veth(&mut self, maker: &End, peer: &End) -> Reached;
    /// A vxlan link made over the host's socket and born in `at`, over link `underlay`.
    fn create_vxlan(&mut self, at: &Where, link: NewLink, t: &Tunnel, underlay: u32) -> Reached;
    /// RTM_NEWLINK for link `index`.
    fn set_link(&mut self, at: &Where, index: u32, ch: LinkChange) -> Result<(), Failure>;
    /// A bridge's multicast snooping on.
    fn snooping_on(&mut self, at: &Where, index: u32) -> Result<(), Failure>;
    fn del_link(&mut self, at: &Where, index: u32) -> Result<(), Failure>;
    fn add_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure>;
    fn del_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure>;
    /// Replace (never add exclusively) `route`, through `oif` when it names a device.
    fn set_route(&mut self, at: &Where, route: &RouteSpec, oif: Option<u32>)
        -> Result<(), Failure>;
    /// Delete the route nsctl made (proto boot) to `route`'s destination.
    fn del_route(&mut self, at: &Where, route: &RouteSpec, oif: Option<u32>)
        -> Result<(), Failure>;
    /// Set `q` as the root qdisc of link `index`, or (None) delete it (outer Err: no socket).
    fn qdisc(&mut self, at: &Where, index: u32, q: Option<&Qdisc>) -> Reached;

    fn sysctl_get(&mut self, at: &Where, key: &str) -> Result<String, Fail>;
    fn sysctl_set(&mut self, at: &Where, key: &str, value: &str) -> Result<(), Fail>;

    /// `ip netns delete NAME` (or the removal of an empty /run/netns/NAME); whether it went.
    fn netns_remove(&mut self, name: &str) -> bool;
    /// `ip netns add NAME`.
    fn netns_add(&mut self, name: &str) -> Made;
    /// The cookie of netns `name` (None: the kernel has none).
    fn netns_cookie(&mut self, name: &str) -> Result<Option<u64>, Fail>;
    /// The processes (but this one) that run in netns `name`.
    fn netns_holders(&mut self, name: &str) -> Vec<u32>;
    /// A process's command name, for messages.
    fn comm(&mut self, pid: u32) -> String;

    /// The shared register of host sysctls: its lock (held while the guard lives), read, write.
    fn shares_lock(&mut self) -> std::io::Result<Option<std::fs::File>>;
    fn shares_load(&mut self) -> std::io::Result<Shares>;
    fn shares_save(&mut self, s: &Shares) -> std::io::Result<()>;

    fn nat_install(&mut self, lab: &Lab) -> Result<(), Fail>;
    fn nat_remove(&mut self, lab: &str) -> Result<(), Fail>;

    /// /etc/netns (None) or /etc/netns/NAME exists.
    fn hosts_dir_exists(&mut self, netns: Option<&str>) -> bool;
    fn hosts_make_dir(&mut self, netns: Option<&str>, ours: bool) -> Result<(), Fail>;
    fn hosts_seen(&mut self, lab: &str, netns: &str) -> Result<Seen, Fail>;
    fn hosts_write(&mut self, netns: &str, text: &str) -> Result<(), Fail>;
    fn hosts_remove(&mut self, netns: &str) -> Result<(), Fail>;
    fn hosts_remove_dir(&mut self, netns: Option<&str>) -> Result<bool, Fail>;

    /// Persist the journal (fsync'd; removed when empty).
    fn journal_save(&mut self, j: &Journal) -> std::io::Result<()>;
}

/// RTM_NEWLINK for link `index`: what `ch` changes.
fn link_message(index: u32, ch: LinkChange) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    if let Some(up) = ch.up {
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
    }
    if let Some(x) = ch.master {
        m.attributes.push(LinkAttribute::Controller(x));
    }
    if let Some(x) = ch.mtu {
        m.attributes.push(LinkAttribute::Mtu(x));
    }
    m
}

/// RTM_NEWLINK making `link`: its name, MAC and MTU. The MAC is the one the file derives, set
/// at birth: made again (after a destroy, or a crash), a link answers to the address its
/// neighbours hold, and a bridge's MAC is kept (the kernel marks it set) rather than follow
/// the lowest MAC among its ports.
fn new_link(link: NewLink) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.attributes
        .push(LinkAttribute::IfName(link.name.to_string()));
    m.attributes.push(LinkAttribute::Address(link.mac.to_vec()));
    if let Some(mtu) = link.mtu {
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    m
}

/// The end `e` of a veth pair, to make.
fn veth_end(e: &End) -> LinkMessage {
    new_link(NewLink {
        name: &e.name,
        mtu: e.mtu,
        mac: &e.mac,
    })
}

/// A bridge's multicast snooping, on or off, as link info.
fn snooping_info(on: bool) -> LinkAttribute {
    LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Bridge),
        LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(on)])),
    ])
}

fn route_message(
    route: &RouteSpec,
    oif: Option<u32>,
    add: bool,
) -> netlink_packet_route::route::RouteMessage {
    crate::wiring::route::message(
        &crate::wiring::route::Spec {
            dst: route.dst,
            via: route.via,
            oif,
        },
        add,
    )
}

/// The machine: netlink sockets that live in their places, /proc, /run/netns, /etc/netns,
/// nft, and the journal directory.
pub struct Real<'a> {
    pl: &'a Places,
    socks: HashMap<Where, Socket>,
    /// Namespaces by inode -> processes in them, read once when first needed.
    holders: Option<HashMap<u64, Vec<u32>>>,
}

impl<'a> Real<'a> {
    pub fn new(pl: &'a Places) -> Real<'a> {
        Real {
            pl,
            socks: HashMap::new(),
            holders: None,
        }
    }

    /// The socket of `at`, opened if it is not yet.
    fn sock(&mut self, at: &Where) -> Result<Socket, Fail> {
        if at.is_none() {
            return Ok(self.pl.host().clone());
        }
        if let Some(s) = self.socks.get(at) {
            return Ok(s.clone());
        }
        let s = self.pl.socket(at)?;
        self.socks.insert(at.clone(), s.clone());
        Ok(s)
    }

    /// The socket of `at` for a request; the executor opened it first, so a failure to open
    /// it here is a failure to send.
    fn req(&mut self, at: &Where) -> Result<Socket, Failure> {
        self.sock(at).map_err(|_| Failure::Send)
    }

    /// The processes whose network namespace has inode `ino`.
    fn held_by(&mut self, ino: u64) -> Vec<u32> {
        let map = self.holders.get_or_insert_with(|| {
            let mut m: HashMap<u64, Vec<u32>> = HashMap::new();
            if let Ok(rd) = std::fs::read_dir("/proc") {
                for e in rd.flatten() {
                    let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    if let Ok(md) = std::fs::metadata(format!("/proc/{pid}/ns/net")) {
                        m.entry(std::os::unix::fs::MetadataExt::ino(&md))
                            .or_default()
                            .push(pid);
                    }
                }
            }
            m
        });
        let mut v = map.get(&ino).cloned().unwrap_or_default();
        v.retain(|&p| p != std::process::id());
        v
    }
}

impl Kernel for Real<'_> {
    fn lost(&self) -> bool {
        self.pl.lost()
    }

    fn open(&mut self, at: &Where) -> Result<(), Fail> {
        self.sock(at).map(drop)
    }

    fn close(&mut self, at: &Where) {
        self.socks.remove(at);
    }

    fn close_all(&mut self) {
        self.socks.clear();
    }

    fn links(&mut self, at: &Where) -> Result<HashMap<String, LinkObs>, Fail> {
        crate::lab::observe::links(self.pl, at)
    }

    fn create_bridge(&mut self, at: &Where, link: NewLink) -> Result<(), Failure> {
        let s = self.req(at)?;
        let mut m = new_link(link);
        // Born with multicast snooping off, and switched on once its ports are in (a
        // Snooping action): with snooping on, every port that joins re-arms the multicast
        // query timers of every port already there, which is O(ports²) over a star (about 9%
        // of a 1,000-namespace apply).
        m.attributes.push(snooping_info(false));
        crate::nl::link::create(&self.pl.nl, &s, m)
    }

    fn create_veth(&mut self, maker: &End, peer: &End) -> Reached {
        let s = self.sock(&maker.at)?;
        let peer_fd = match &peer.at {
            Some(n) if peer.at != maker.at => Some(open_netns(n)?),
            _ => None,
        };
        // Each end is born with the MAC the file derives for it (VETH_INFO_PEER carries the
        // peer's own IFLA_ADDRESS).
        let mut p = veth_end(peer);
        if let Some(fd) = &peer_fd {
            p.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        p.attributes.push(LinkAttribute::NumTxQueues(1));
        p.attributes.push(LinkAttribute::NumRxQueues(1));
        // The maker end is born up, with its MTU: one request instead of two. (The peer cannot
        // be born up: the kernel opens it before the pair is linked and answers ENOTCONN.) A
        // bridge port is born down and comes up as it joins its bridge, in its place's turn:
        // its peer then has no carrier until the namespaces are configured, so their IPv6
        // start (DAD, MLD, router solicitations, flooded to the bridge's other ports) does
        // not compete with the rest of the apply for the kernel's locks.
        let mut m = veth_end(maker);
        if maker.bridge.is_none() {
            m.header.flags = LinkFlags::Up;
            m.header.change_mask = LinkFlags::Up;
        }
        // One queue each way, asked for explicitly. A veth gets as many queues as the machine
        // has CPUs and the kernel then drops it to one real queue, which costs an expedited
        // RCU grace period per end (netif_set_real_num_tx_queues): a third of the veth phase.
        m.attributes.push(LinkAttribute::NumTxQueues(1));
        m.attributes.push(LinkAttribute::NumRxQueues(1));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(p))),
        ]));
        Ok(crate::nl::link::create(&self.pl.nl, &s, m))
    }

    fn create_vxlan(&mut self, at: &Where, link: NewLink, t: &Tunnel, underlay: u32) -> Reached {
        use netlink_packet_route::link::InfoVxlan;
        use std::net::IpAddr;
        let fd = match at {
            Some(n) => Some(open_netns(n)?),
            None => None,
        };
        // Its MAC derived from the file: when one machine makes its end again, the other's
        // neighbour entries still hold.
        let mut m = new_link(link);
        if let Some(fd) = &fd {
            m.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        let mut data = vec![InfoVxlan::Id(t.vni)];
        data.push(match t.remote {
            IpAddr::V4(a) => InfoVxlan::Group(a),
            IpAddr::V6(a) => InfoVxlan::Group6(a),
        });
        data.push(match t.local {
            IpAddr::V4(a) => InfoVxlan::Local(a),
            IpAddr::V6(a) => InfoVxlan::Local6(a),
        });
        // The underlay link: the kernel sends from it and sizes the link's MTU to leave room
        // for the encapsulation (50 bytes over IPv4, 70 over IPv6).
        data.push(InfoVxlan::Link(underlay));
        data.push(InfoVxlan::Port(crate::lab::machines::VXLAN_PORT));
        m.attributes.push(LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(data)),
        ]));
        // Over the host's socket: the link's UDP socket lives in the host namespace, on the
        // underlay link, which the lab's namespace needs no route to.
        let host = self.pl.host().clone();
        Ok(crate::nl::link::create(&self.pl.nl, &host, m))
    }

    fn set_link(&mut self, at: &Where, index: u32, ch: LinkChange) -> Result<(), Failure> {
        let s = self.req(at)?;
        crate::nl::link::change(&self.pl.nl, &s, link_message(index, ch))
    }

    fn snooping_on(&mut self, at: &Where, index: u32) -> Result<(), Failure> {
        let s = self.req(at)?;
        let mut m = LinkMessage::default();
        m.header.index = index;
        m.attributes.push(snooping_info(true));
        crate::nl::link::change(&self.pl.nl, &s, m)
    }

    fn del_link(&mut self, at: &Where, index: u32) -> Result<(), Failure> {
        let s = self.req(at)?;
        crate::nl::link::delete(&self.pl.nl, &s, index)
    }

    fn add_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure> {
        let s = self.req(at)?;
        let m = crate::wiring::addr::message(*addr, index, true);
        crate::nl::addr::replace(&self.pl.nl, &s, m)
    }

    fn del_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure> {
        let s = self.req(at)?;
        let m = crate::wiring::addr::message(*addr, index, false);
        crate::nl::addr::delete(&self.pl.nl, &s, m)
    }

    fn set_route(
        &mut self,
        at: &Where,
        route: &RouteSpec,
        oif: Option<u32>,
    ) -> Result<(), Failure> {
        let s = self.req(at)?;
        crate::nl::route::replace(&self.pl.nl, &s, route_message(route, oif, true))
    }

    fn del_route(
        &mut self,
        at: &Where,
        route: &RouteSpec,
        oif: Option<u32>,
    ) -> Result<(), Failure> {
        let s = self.req(at)?;
        let mut m = route_message(route, oif, false);
        // Only the route nsctl made (proto boot, as set_route makes it): the kernel matches
        // the protocol on delete, so a route of the same destination made by the kernel or a
        // routing daemon is never taken for the lab's.
        m.header.protocol = netlink_packet_route::route::RouteProtocol::Boot;
        crate::nl::route::delete(&self.pl.nl, &s, m)
    }

    fn qdisc(&mut self, at: &Where, index: u32, q: Option<&Qdisc>) -> Reached {
        use crate::nl::qdisc;
        // A blocking socket opened in the place: rtnetlink's typed messages have no tbf or
        // netem.
        let open = crate::nl::sync::Dumper::open;
        let d = match at {
            None => open(),
            Some(n) => self.pl.inside(n, open)?,
        }
        .map_err(|e| {
            format!(
                "cannot open a netlink socket ({}): {}",
                place_name(at),
                crate::error::io_errstr(&e)
            )
        })?;
        Ok(match q {
            Some(q) => qdisc::replace_root(&d, index, q),
            None => qdisc::delete_root(&d, index),
        })
    }

    fn sysctl_get(&mut self, at: &Where, key: &str) -> Result<String, Fail> {
        self.pl.sysctl_get(at, key)
    }

    fn sysctl_set(&mut self, at: &Where, key: &str, value: &str) -> Result<(), Fail> {
        self.pl.sysctl_set(at, key, value)
    }

    fn netns_remove(&mut self, name: &str) -> bool {
        let path = crate::netns::run_path(name.as_bytes());
        crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) == 0
    }

    fn netns_add(&mut self, name: &str) -> Made {
        let rc = crate::netns::lifecycle::create(
            &mut crate::netns::sys::Real,
            name.as_bytes(),
            crate::netns::lifecycle::Source::New,
        );
        match rc {
            Ok(0) => Made::Yes,
            Ok(_) => Made::No,
            Err(crate::error::Exit(_)) => Made::Stranded,
        }
    }

    fn netns_cookie(&mut self, name: &str) -> Result<Option<u64>, Fail> {
        self.pl
            .inside(name, crate::lab::places::netns_cookie_here)?
            .map_err(|e| {
                format!(
                    "cannot read the cookie of netns \"{name}\": {}",
                    crate::error::errstr(e)
                )
            })
    }

    fn netns_holders(&mut self, name: &str) -> Vec<u32> {
        match crate::netns::ns_inode(name.as_bytes()) {
            Ok(Some(ino)) => self.held_by(ino),
            _ => Vec::new(),
        }
    }

    fn comm(&mut self, pid: u32) -> String {
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    fn shares_lock(&mut self) -> std::io::Result<Option<std::fs::File>> {
        shares::lock().map(Some)
    }

    fn shares_load(&mut self) -> std::io::Result<Shares> {
        shares::load()
    }

    fn shares_save(&mut self, s: &Shares) -> std::io::Result<()> {
        shares::save(s)
    }

    fn nat_install(&mut self, lab: &Lab) -> Result<(), Fail> {
        crate::lab::nat::install(&lab.name, &lab.nat, &lab.nets_v4())
    }

    fn nat_remove(&mut self, lab: &str) -> Result<(), Fail> {
        crate::lab::nat::remove(lab).map(drop)
    }

    fn hosts_dir_exists(&mut self, netns: Option<&str>) -> bool {
        hosts::dir_exists(netns)
    }

    fn hosts_make_dir(&mut self, netns: Option<&str>, ours: bool) -> Result<(), Fail> {
        hosts::make_dir(netns, ours)
    }

    fn hosts_seen(&mut self, lab: &str, netns: &str) -> Result<Seen, Fail> {
        hosts::seen(lab, netns, None)
    }

    fn hosts_write(&mut self, netns: &str, text: &str) -> Result<(), Fail> {
        hosts::write(netns, text)
    }

    fn hosts_remove(&mut self, netns: &str) -> Result<(), Fail> {
        hosts::remove(netns)
    }

    fn hosts_remove_dir(&mut self, netns: Option<&str>) -> Result<bool, Fail> {
        hosts::remove_dir(netns)
    }

    fn journal_save(&mut self, j: &Journal) -> std::io::Result<()> {
        j.save()
    }
}
