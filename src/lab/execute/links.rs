//! The link, address and route actions of a plan: one netlink request each, on the socket
//! of the action's place; "already gone" answers (ENODEV, ESRCH, EADDRNOTAVAIL) count as done.

use super::kernel::{LinkChange, NewLink};
use super::{nl_fail, Exec};
use crate::lab::journal::{link_key, Owned};
use crate::lab::places::Fail;
use crate::lab::plan::{Action, End};
use crate::lab::spec::{place_name, RouteSpec, Where};
use crate::nl::Failure;
use crate::wiring::prefix::Prefix;

impl Exec<'_> {
    pub(super) fn del_route(
        &mut self,
        a: &Action,
        at: &Where,
        route: &RouteSpec,
        text: &str,
    ) -> Result<(), Fail> {
        self.k.open(at)?;
        let oif = match &route.dev {
            Some(d) => self.links(at)?.links.get(d).map(|l| l.index),
            None => None,
        };
        // A route through a device that is gone went with it.
        if route.dev.is_none() || oif.is_some() {
            match self.k.del_route(at, route, oif) {
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
        self.k.open(at)?;
        if let Some(ix) = self.links(at)?.links.get(dev).map(|l| l.index) {
            match self.k.del_addr(at, ix, addr) {
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
        self.k.open(at)?;
        let links = &self.links(at)?.links;
        let master = match master {
            Some(Some(b)) => links.get(b).map(|l| l.index),
            Some(None) => Some(0),
            None => None,
        };
        if let Some(ix) = links.get(name).map(|l| l.index) {
            self.k
                .set_link(
                    at,
                    ix,
                    LinkChange {
                        up: Some(up),
                        master,
                        mtu,
                    },
                )
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
        self.k.open(at)?;
        match self.k.del_link(at, index) {
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
        self.k.open(at)?;
        let r = self.k.create_bridge(at, NewLink { name, mtu, mac });
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
        self.k.open(&maker.at)?;
        let r = self.k.create_veth(maker, peer)?;
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
        let r = self
            .k
            .create_vxlan(at, NewLink { name, mtu, mac }, t, underlay)?;
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
        self.k.open(at)?;
        let ix = self.index(at, "lo")?;
        self.k
            .set_link(
                at,
                ix,
                LinkChange {
                    up: Some(true),
                    ..LinkChange::default()
                },
            )
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
        self.k.open(at)?;
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
            self.k.sysctl_set(at, &key, "1")?;
        }
        self.k
            .set_link(
                at,
                ix,
                LinkChange {
                    up: up.then_some(true),
                    master: m,
                    mtu,
                },
            )
            .map_err(nl_fail(what()))
    }

    pub(super) fn add_addr(&mut self, at: &Where, dev: &str, addr: &Prefix) -> Result<(), Fail> {
        self.k.open(at)?;
        let ix = self.index(at, dev)?;
        self.k.add_addr(at, ix, addr).map_err(nl_fail(format!(
            "adding {addr} to {dev} ({})",
            place_name(at)
        )))
    }

    pub(super) fn set_route(&mut self, at: &Where, route: &RouteSpec) -> Result<(), Fail> {
        self.k.open(at)?;
        let oif = match &route.dev {
            Some(d) => Some(self.index(at, d)?),
            None => None,
        };
        // Replace, never add exclusively: a route changed by hand is put right.
        self.k.set_route(at, route, oif).map_err(nl_fail(format!(
            "setting route {route} ({})",
            place_name(at)
        )))
    }

    pub(super) fn snooping(&mut self, a: &Action, at: &Where, name: &str) -> Result<(), Fail> {
        self.k.open(at)?;
        let ix = self.index(at, name)?;
        self.k.snooping_on(at, ix).map_err(nl_fail(a.text.clone()))
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
        let index = self.index(at, dev)?;
        let r = self.k.qdisc(at, index, q)?;
        match q {
            Some(q) => r.map_err(|f| {
                format!(
                    "shaping {dev} ({}) with {} ({}) failed: {}",
                    place_name(at),
                    crate::lab::shape::describe(q),
                    q.kind(),
                    crate::lab::error::why(f)
                )
            }),
            None => {
                match r {
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
