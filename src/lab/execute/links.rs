//! The link, address and route actions of a plan: one netlink request each, on the socket
//! of the action's place; "already gone" answers (ENODEV, ESRCH, EADDRNOTAVAIL) count as done.

use std::os::fd::AsRawFd;

use netlink_packet_route::link::{
    InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::{nl_fail, Exec};
use crate::lab::journal::{link_key, Owned};
use crate::lab::places::{open_netns, Fail};
use crate::lab::plan::{Action, End};
use crate::lab::spec::{place_name, RouteSpec, Where};
use crate::nl::{Failure, Socket};
use crate::wiring::prefix::Prefix;

/// RTM_NEWLINK for link `index`: up (or down), master, MTU.
fn link_message(
    index: u32,
    up: Option<bool>,
    master: Option<u32>,
    mtu: Option<u32>,
) -> LinkMessage {
    let mut m = LinkMessage::default();
    m.header.index = index;
    if let Some(up) = up {
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
    }
    if let Some(x) = master {
        m.attributes.push(LinkAttribute::Controller(x));
    }
    if let Some(x) = mtu {
        m.attributes.push(LinkAttribute::Mtu(x));
    }
    m
}

/// A bridge's multicast snooping, on or off, as link info.
fn snooping_info(on: bool) -> LinkAttribute {
    LinkAttribute::LinkInfo(vec![
        LinkInfo::Kind(InfoKind::Bridge),
        LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(on)])),
    ])
}

impl Exec<'_> {
    pub(super) fn set_link(
        &self,
        s: &Socket,
        index: u32,
        up: Option<bool>,
        master: Option<u32>,
        mtu: Option<u32>,
    ) -> Result<(), Failure> {
        crate::nl::link::change(&self.pl.nl, s, link_message(index, up, master, mtu))
    }

    pub(super) fn del_route(
        &mut self,
        a: &Action,
        at: &Where,
        route: &RouteSpec,
        text: &str,
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let oif = match &route.dev {
            Some(d) => self.links(at)?.links.get(d).map(|l| l.index),
            None => None,
        };
        // A route through a device that is gone went with it.
        if route.dev.is_none() || oif.is_some() {
            let mut m = crate::wiring::route::message(
                &crate::wiring::route::Spec {
                    dst: route.dst,
                    via: route.via,
                    oif,
                },
                false,
            );
            // Only the route nsctl made (proto boot, as set_route makes it): the kernel
            // matches the protocol on delete, so a route of the same destination made by
            // the kernel or a routing daemon is never taken for the lab's.
            m.header.protocol = netlink_packet_route::route::RouteProtocol::Boot;
            match crate::nl::route::delete(&self.pl.nl, &s, m) {
                Ok(()) => {}
                Err(Failure::Kernel(e)) if e.errno == libc::ESRCH => {}
                Err(f) => return Err(nl_fail(a.text.clone())(f)),
            }
        }
        self.j.forget(&Owned::Route {
            netns: at.clone(),
            route: text.to_string(),
        });
        Ok(())
    }

    pub(super) fn del_addr(
        &mut self,
        a: &Action,
        at: &Where,
        dev: &str,
        addr: &Prefix,
        adopted: bool,
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        if let Some(ix) = self.links(at)?.links.get(dev).map(|l| l.index) {
            let m = crate::wiring::addr::message(*addr, ix, false);
            match crate::nl::addr::delete(&self.pl.nl, &s, m) {
                Ok(()) => {}
                Err(Failure::Kernel(e)) if e.errno == libc::EADDRNOTAVAIL => {}
                Err(f) => return Err(nl_fail(a.text.clone())(f)),
            }
        }
        if adopted {
            self.j.forget(&Owned::Addr {
                netns: at.clone(),
                dev: dev.to_string(),
                addr: addr.to_string(),
            });
        }
        Ok(())
    }

    /// Put an adopted interface's admin state, MTU and bridge back, and forget it. A bridge
    /// it was in that is gone now is not waited for: the interface stays where it is.
    pub(super) fn restore_link(
        &mut self,
        a: &Action,
        at: &Where,
        name: &str,
        up: bool,
        mtu: Option<u32>,
        master: &Option<Option<String>>,
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let links = &self.links(at)?.links;
        let master = match master {
            Some(Some(b)) => links.get(b).map(|l| l.index),
            Some(None) => Some(0),
            None => None,
        };
        if let Some(ix) = links.get(name).map(|l| l.index) {
            self.set_link(&s, ix, Some(up), master, mtu)
                .map_err(nl_fail(a.text.clone()))?;
        }
        let entries: Vec<Owned> = self
            .j
            .objects
            .iter()
            .filter(
                |o| matches!(o, Owned::Adopted { netns, name: n, .. } if netns == at && n == name),
            )
            .cloned()
            .collect();
        self.j.forget_all(&entries);
        Ok(())
    }

    pub(super) fn del_link(
        &mut self,
        a: &Action,
        at: &Where,
        name: &str,
        index: u32,
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        match crate::nl::link::delete(&self.pl.nl, &s, index) {
            Ok(()) => {}
            Err(Failure::Kernel(e)) if e.errno == libc::ENODEV => {}
            Err(f) => return Err(nl_fail(a.text.clone())(f)),
        }
        self.dirty.insert(at.clone());
        self.j.forget(&Owned::Link {
            netns: at.clone(),
            name: name.to_string(),
        });
        self.j.link_index.remove(&link_key(at, name));
        Ok(())
    }

    pub(super) fn create_bridge(
        &mut self,
        at: &Where,
        name: &str,
        mtu: Option<u32>,
        mac: &[u8; 6],
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        // A MAC set when the bridge is made is kept (the kernel marks it set): it no longer
        // follows the lowest MAC among the ports.
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        if let Some(mtu) = mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        // Born with multicast snooping off, and switched on once its ports are in (a
        // Snooping action): with snooping on, every port that joins re-arms the multicast
        // query timers of every port already there, which is O(ports²) over a star (about 9%
        // of a 1,000-namespace apply).
        m.attributes.push(snooping_info(false));
        let r = crate::nl::link::create(&self.pl.nl, &s, m);
        self.dirty.insert(at.clone());
        r.map_err(|f| {
            self.unintend(&Owned::Link {
                netns: at.clone(),
                name: name.to_string(),
            });
            nl_fail(format!("creating bridge {name} ({})", place_name(at)))(f)
        })
    }

    pub(super) fn create_veth(&mut self, maker: &End, peer: &End) -> Result<(), Fail> {
        let s = self.sock(&maker.at)?;
        let peer_fd = match &peer.at {
            Some(n) if peer.at != maker.at => Some(open_netns(n)?),
            _ => None,
        };
        let master: Option<u32> = None;
        // Each end is born with the MAC the file derives for it (VETH_INFO_PEER carries the
        // peer's own IFLA_ADDRESS): made again, it answers to the address its neighbours hold.
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.name.clone()));
        p.attributes.push(LinkAttribute::Address(peer.mac.to_vec()));
        if let Some(mtu) = peer.mtu {
            p.attributes.push(LinkAttribute::Mtu(mtu));
        }
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
        let mut m = LinkMessage::default();
        if maker.bridge.is_none() {
            m.header.flags = LinkFlags::Up;
            m.header.change_mask = LinkFlags::Up;
        }
        m.attributes.push(LinkAttribute::IfName(maker.name.clone()));
        m.attributes
            .push(LinkAttribute::Address(maker.mac.to_vec()));
        if let Some(mtu) = maker.mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(x) = master {
            m.attributes.push(LinkAttribute::Controller(x));
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
        let r = crate::nl::link::create(&self.pl.nl, &s, m);
        self.dirty.insert(maker.at.clone());
        self.dirty.insert(peer.at.clone());
        r.map_err(nl_fail(format!(
            "creating veth {} ({}) <-> {} ({})",
            maker.name,
            place_name(&maker.at),
            peer.name,
            place_name(&peer.at)
        )))
    }

    /// A vxlan link for a veth end whose peer is on another machine. It is made over the
    /// host's socket, so its UDP socket lives in the host namespace (on the underlay link,
    /// which the lab's namespace needs no route to), and is born in its own place.
    pub(super) fn create_vxlan(
        &mut self,
        at: &Where,
        name: &str,
        mtu: Option<u32>,
        mac: &[u8; 6],
        t: &crate::lab::machines::Tunnel,
    ) -> Result<(), Fail> {
        use netlink_packet_route::link::InfoVxlan;
        use std::net::IpAddr;
        let what = || format!("creating vxlan {name} ({})", place_name(at));
        let underlay = self
            .obs
            .places
            .get(&None)
            .and_then(|p| {
                p.addrs
                    .iter()
                    .find(|(_, v)| v.iter().any(|(a, _)| *a == t.local))
            })
            .map(|(ix, _)| *ix)
            .ok_or_else(|| {
                format!(
                    "{}: the underlay address {} is not configured on this machine",
                    what(),
                    t.local
                )
            })?;
        let fd = match at {
            Some(n) => Some(open_netns(n)?),
            None => None,
        };
        let mut m = LinkMessage::default();
        m.attributes.push(LinkAttribute::IfName(name.to_string()));
        // Derived from the file: when one machine makes its end again (after a destroy, or a
        // crash), the other's neighbour entries still hold.
        m.attributes.push(LinkAttribute::Address(mac.to_vec()));
        if let Some(mtu) = mtu {
            m.attributes.push(LinkAttribute::Mtu(mtu));
        }
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
        let host = self.pl.host().clone();
        let r = crate::nl::link::create(&self.pl.nl, &host, m);
        self.dirty.insert(at.clone());
        r.map_err(|f| {
            self.unintend(&Owned::Link {
                netns: at.clone(),
                name: name.to_string(),
            });
            nl_fail(what())(f)
        })
    }

    pub(super) fn lo_up(&mut self, a: &Action, at: &Where) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let ix = self.index(at, "lo")?;
        self.set_link(&s, ix, Some(true), None, None)
            .map_err(nl_fail(a.text.clone()))
    }

    /// Up, into (or out of) a bridge, MTU: one RTM_NEWLINK.
    pub(super) fn configure_link(
        &mut self,
        at: &Where,
        name: &str,
        up: bool,
        master: &Option<Option<String>>,
        mtu: Option<u32>,
        quiet: bool,
    ) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let ix = self.index(at, name)?;
        let m = match master {
            Some(Some(b)) => Some(self.index(at, b)?),
            Some(None) => Some(0),
            None => None,
        };
        let what = || format!("configuring {name} ({})", place_name(at));
        if quiet {
            // IPv6 off while the link is still down (a sysctl: rtnetlink cannot set it). The
            // kernel then gives the port no link-local address, no DAD or MLD, and no
            // fe80::/64 or ff00::/8 route: thousands of ports' routes of one prefix share the
            // host's table, and adding each walks the others.
            let key = format!("net.ipv6.conf.{name}.disable_ipv6");
            self.pl.sysctl_set(at, &key, "1")?;
        }
        let msg = link_message(ix, up.then_some(true), m, mtu);
        crate::nl::link::change(&self.pl.nl, &s, msg).map_err(nl_fail(what()))
    }

    pub(super) fn add_addr(&mut self, at: &Where, dev: &str, addr: &Prefix) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let ix = self.index(at, dev)?;
        let m = crate::wiring::addr::message(*addr, ix, true);
        crate::nl::addr::replace(&self.pl.nl, &s, m).map_err(nl_fail(format!(
            "adding {addr} to {dev} ({})",
            place_name(at)
        )))
    }

    pub(super) fn set_route(&mut self, at: &Where, route: &RouteSpec) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let oif = match &route.dev {
            Some(d) => Some(self.index(at, d)?),
            None => None,
        };
        let m = crate::wiring::route::message(
            &crate::wiring::route::Spec {
                dst: route.dst,
                via: route.via,
                oif,
            },
            true,
        );
        // Replace, never add exclusively: a route changed by hand is put right.
        crate::nl::route::replace(&self.pl.nl, &s, m).map_err(nl_fail(format!(
            "setting route {route} ({})",
            place_name(at)
        )))
    }

    pub(super) fn snooping(&mut self, a: &Action, at: &Where, name: &str) -> Result<(), Fail> {
        let s = self.sock(at)?;
        let ix = self.index(at, name)?;
        let mut m = LinkMessage::default();
        m.header.index = ix;
        m.attributes.push(snooping_info(true));
        crate::nl::link::change(&self.pl.nl, &s, m).map_err(nl_fail(a.text.clone()))
    }
}

impl Exec<'_> {
    /// Set `q` as the root qdisc of `dev` in `at`, or (None) delete the one nsctl set. The
    /// request goes over a blocking socket opened in the place (rtnetlink's typed messages
    /// have no tbf or netem).
    pub(super) fn set_qdisc(
        &mut self,
        at: &Where,
        dev: &str,
        q: Option<&crate::nl::qdisc::Qdisc>,
    ) -> Result<(), Fail> {
        use crate::nl::qdisc;
        let index = self.index(at, dev)?;
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
        match q {
            Some(q) => qdisc::replace_root(&d, index, q).map_err(|f| {
                format!(
                    "shaping {dev} ({}) with {} ({}) failed: {}",
                    place_name(at),
                    crate::lab::shape::describe(q),
                    q.kind(),
                    crate::lab::error::why(f)
                )
            }),
            None => {
                match qdisc::delete_root(&d, index) {
                    // Nothing to delete: the default qdisc is back already.
                    Ok(())
                    | Err(crate::nl::Failure::Kernel(crate::nl::NlError {
                        errno: libc::ENOENT | libc::EINVAL,
                        ..
                    })) => {}
                    Err(f) => {
                        return Err(format!(
                            "removing the shaping of {dev} ({}) failed: {}",
                            place_name(at),
                            crate::lab::error::why(f)
                        ))
                    }
                }
                self.j.forget(&Owned::Shaped {
                    netns: at.clone(),
                    dev: dev.to_string(),
                });
                Ok(())
            }
        }
    }
}
