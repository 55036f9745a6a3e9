//! `nsctl apply`, second half: per place (the namespaces, then the host) loopback, sysctls,
//! masters, MTUs, links up, addresses and routes; then the host's sysctls and NAT.

use std::collections::BTreeSet;

use netlink_packet_route::link::{
    InfoBridge, InfoData, InfoKind, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::apply::{interfaces, io, place_name, route_text, veth_owner, Run};
use super::nat;
use super::observe::{why, Seen};
use super::spec::Where;
use super::state::Owned;
use super::LabError;
use crate::nl::Socket;

impl Run<'_> {
    /// Count a change to an existing object (not to one this run just created).
    pub(super) fn changed(&mut self, at: &Where, name: &str, what: String) {
        if self.dry {
            self.plan(what);
        }
        if !self.fresh.contains(&(at.clone(), name.to_string())) {
            self.t.changed += 1;
        }
    }

    pub(super) fn configure(
        &mut self,
        at: &Where,
        have_ns: &BTreeSet<String>,
    ) -> Result<(), LabError> {
        let lab = self.lab;
        let ns = at
            .as_ref()
            .and_then(|n| lab.namespaces.iter().find(|s| &s.name == n));
        // A namespace this run created holds only what this run put there: its links are
        // enough, the address and route dumps (which grow costly with thousands of
        // namespaces) are skipped.
        let fresh_ns = at.is_some() && self.fresh.contains(&(at.clone(), String::new()));
        // A namespace of nsctl's without a recorded cookie (made by this run, or by a run that
        // was killed before it saved one) gets it now.
        let needs_cookie = |n: &String| {
            self.j.owns(&Owned::Netns { name: n.clone() }) && !self.j.netns_cookie.contains_key(n)
        };
        let got = match at {
            // Its socket, and the cookie that tells it from any later namespace of the same
            // name, from one visit.
            Some(n) if !self.dry && (fresh_ns || needs_cookie(n)) => {
                let (s, cookie) = self
                    .pl
                    .socket_and_cookie(n)
                    .map_err(|m| LabError::new(1, m))?;
                if let Some(c) = cookie {
                    self.j.netns_cookie.insert(n.clone(), c);
                }
                Some(Some(s))
            }
            _ => self.sock(at, have_ns)?,
        };
        let Some(sock) = got else {
            // Dry run, namespace not there yet: everything in it is part of its creation.
            for i in interfaces(lab, at) {
                for a in &i.addrs {
                    self.plan(format!(
                        "add {}/{} to {} ({})",
                        a.addr.map(|x| x.to_string()).unwrap_or_default(),
                        a.len,
                        i.name,
                        place_name(at)
                    ));
                }
            }
            for rt in lab.routes(at) {
                self.plan(format!("add route {} ({})", route_text(rt), place_name(at)));
            }
            return Ok(());
        };
        let s = &sock.unwrap_or_else(|| self.pl.host().clone());
        let seen = Seen::read_with(&self.pl, s, !fresh_ns).map_err(|m| LabError::new(1, m))?;
        if !self.dry && !fresh_ns {
            self.record_indexes(at, &seen).map_err(io)?;
        }
        // Loopback and sysctls (namespaces only; the host's come last).
        if let Some(ns) = ns {
            if ns.lo {
                if let Some(lo) = seen.links.get("lo") {
                    if !lo.up {
                        if !self.dry {
                            self.set_link(s, lo.index, true, None, None, at, "lo")?;
                        }
                        self.changed(at, "", format!("set lo up ({})", place_name(at)));
                    }
                }
            }
            for (k, v) in &ns.sysctls {
                let cur = if self.dry && !have_ns.contains(&ns.name) {
                    String::new()
                } else {
                    self.pl.sysctl_get(at, k).map_err(|m| LabError::new(1, m))?
                };
                if &cur == v {
                    self.t.unchanged += 1;
                } else {
                    if !self.dry {
                        // In a namespace nsctl did not create (adopted), the old value is
                        // journaled first, so destroy can put it back.
                        let adopted = !self.j.owns(&Owned::Netns {
                            name: ns.name.clone(),
                        });
                        let known = self.j.objects.iter().any(|o| {
                            matches!(o, Owned::Sysctl { netns, key, .. } if netns == at && key == k)
                        });
                        if adopted && !known {
                            self.j
                                .intend([Owned::Sysctl {
                                    netns: at.clone(),
                                    key: k.clone(),
                                    old: cur.clone(),
                                }])
                                .map_err(io)?;
                        }
                        self.pl
                            .sysctl_set(at, k, v)
                            .map_err(|m| LabError::new(1, m))?;
                    }
                    self.changed(at, "", format!("set {k}={v} ({})", place_name(at)));
                }
            }
        }
        // Bridges that must come up do so after their ports are in (below).
        let mut late_up = Vec::new();
        for i in interfaces(lab, at) {
            let Some(st) = seen.links.get(&i.name) else {
                if self.dry {
                    continue;
                }
                return Err(LabError::new(1, format!("interface {} ({}) is missing although its veth pair exists; delete the pair by hand or run nsctl destroy, then apply again", i.name, place_name(at))));
            };
            let master = match &i.bridge {
                Some(b) => self.index_in(&seen, b, at, "bridge")?,
                None => None,
            };
            let want_master = master.filter(|m| st.master != Some(*m));
            let want_mtu = i.mtu.filter(|m| st.mtu != Some(*m));
            let want_up = !st.up;
            // A port that joins an up bridge makes the kernel redo its STP port selection over
            // every port; joining a down bridge skips that, and bringing the bridge up later
            // does it once. So a bridge that is down waits until its ports are in.
            let is_bridge = lab.bridges.iter().any(|b| b.at == *at && b.name == i.name);
            let up_now = want_up && !is_bridge;
            // Links in a namespace someone made again under a journaled name are not nsctl's.
            let in_replaced = at.as_ref().is_some_and(|n| self.replaced.contains(n));
            let adopted = in_replaced
                || !self.j.owns_link(
                    &Owned::Link {
                        netns: at.clone(),
                        name: i.name.clone(),
                    },
                    st.index,
                ) && !lab.veths.iter().any(|v| {
                    v.iter().any(|e| e.at == *at && e.name == i.name) && self.j.owns(&veth_owner(v))
                }) && !self.fresh.contains(&(at.clone(), i.name.clone()));
            if want_master.is_some() || want_mtu.is_some() || want_up {
                if adopted && !self.dry && !self.j.objects.iter().any(|o| matches!(o, Owned::Adopted { netns, name, .. } if netns == at && name == &i.name)) {
                    // Remember how it was, so destroy can put it back.
                    self.j.intend([Owned::Adopted { netns: at.clone(), name: i.name.clone(), up: st.up, mtu: st.mtu }]).map_err(io)?;
                }
                if !self.dry {
                    if want_master.is_some() || want_mtu.is_some() || up_now {
                        self.set_link(s, st.index, up_now, want_master, want_mtu, at, &i.name)?;
                    }
                    if want_up && !up_now {
                        late_up.push((st.index, i.name.clone()));
                    }
                }
                self.changed(
                    at,
                    &i.name,
                    format!("configure {} ({}): up/master/mtu", i.name, place_name(at)),
                );
            } else if !self.fresh.contains(&(at.clone(), i.name.clone())) {
                self.t.unchanged += 1;
            }
            for a in &i.addrs {
                let ip = a.addr.expect("lab addresses are checked");
                if seen.has_addr(st.index, ip, a.len) {
                    self.t.unchanged += 1;
                    continue;
                }
                if !self.dry {
                    if adopted {
                        self.j
                            .intend([Owned::Addr {
                                netns: at.clone(),
                                dev: i.name.clone(),
                                addr: format!("{ip}/{}", a.len),
                            }])
                            .map_err(io)?;
                    }
                    let m = crate::wiring::addr::message(*a, st.index, true);
                    crate::nl::addr::add(&self.pl.nl, s, m).map_err(|f| {
                        LabError::new(
                            1,
                            format!(
                                "adding {ip}/{} to {} ({}) failed: {}",
                                a.len,
                                i.name,
                                place_name(at),
                                why(f)
                            ),
                        )
                    })?;
                }
                if self.fresh.contains(&(at.clone(), i.name.clone())) {
                    if self.dry {
                        self.plan(format!("add {ip}/{} to {}", a.len, i.name));
                    }
                } else {
                    self.changed(
                        at,
                        &i.name,
                        format!("add {ip}/{} to {} ({})", a.len, i.name, place_name(at)),
                    );
                }
            }
        }
        for (index, name) in late_up {
            self.set_link(s, index, true, None, None, at, &name)?;
        }
        self.snooping_on(s, &seen, at)?;
        for rt in lab.routes(at) {
            let oif = match &rt.dev {
                Some(d) => self.index_in(&seen, d, at, "interface")?,
                None => None,
            };
            let exists = seen.routes.iter().any(|r| {
                r.dst == rt.dst.addr
                    && r.len == rt.dst.len
                    && r.via == rt.via
                    && (oif.is_none() || r.oif == oif)
            });
            if exists {
                self.t.unchanged += 1;
                continue;
            }
            // A route in the host, or in a namespace nsctl did not create, outlives the lab's
            // links and namespaces, so destroy must remove it itself: it is journaled first.
            let outlives = match at {
                None => true,
                Some(n) => {
                    !self.j.owns(&Owned::Netns { name: n.clone() }) || self.replaced.contains(n)
                }
            };
            let entry = outlives.then(|| Owned::Route {
                netns: at.clone(),
                route: route_text(rt),
            });
            if !self.dry {
                if let Some(o) = &entry {
                    self.j.intend([o.clone()]).map_err(io)?;
                }
                let m = crate::wiring::route::message(
                    &crate::wiring::route::Spec {
                        dst: rt.dst,
                        via: rt.via,
                        oif,
                    },
                    true,
                );
                crate::nl::route::add(&self.pl.nl, s, m).map_err(|f| {
                    if let Some(o) = &entry {
                        self.unintend(o);
                    }
                    LabError::new(
                        1,
                        format!(
                            "adding route {} ({}) failed: {}",
                            route_text(rt),
                            place_name(at),
                            why(f)
                        ),
                    )
                })?;
            }
            if self.dry {
                self.plan(format!("add route {} ({})", route_text(rt), place_name(at)));
            }
            self.t.created += 1;
        }
        Ok(())
    }

    /// The ifindex of `name` in what was seen; a dry run tolerates its absence (it would be
    /// created first).
    fn index_in(
        &self,
        seen: &Seen,
        name: &str,
        at: &Where,
        what: &str,
    ) -> Result<Option<u32>, LabError> {
        match seen.links.get(name) {
            Some(l) => Ok(Some(l.index)),
            None if self.dry => Ok(None),
            None => Err(LabError::new(
                1,
                format!("{what} {name} ({}) is missing", place_name(at)),
            )),
        }
    }

    /// Record the ifindex of each link this run made in `at` (a place nsctl's namespaces do not
    /// cover), so a later run can tell it from a same-named link made by someone else.
    fn record_indexes(&mut self, at: &Where, seen: &Seen) -> std::io::Result<()> {
        let mut any = false;
        for (name, l) in &seen.links {
            if !self.fresh.contains(&(at.clone(), name.clone())) {
                continue;
            }
            let o = Owned::Link {
                netns: at.clone(),
                name: name.clone(),
            };
            if self.j.owns(&o) {
                let key = crate::lab::state::link_key(at, name);
                self.j.link_index.insert(key, l.index);
                any = true;
            }
        }
        if any {
            self.j.save()?;
        }
        Ok(())
    }

    /// Multicast snooping on for the lab's bridges in `at` that nsctl created (they are born
    /// with it off, see `bridges` in apply.rs), now that their ports are in. A bridge left
    /// with it off by an interrupted run is set right here too; a bridge nsctl did not create
    /// keeps whatever its owner chose.
    fn snooping_on(&mut self, s: &Socket, seen: &Seen, at: &Where) -> Result<(), LabError> {
        for b in self.lab.bridges.iter().filter(|b| b.at == *at) {
            let Some(st) = seen.links.get(&b.name) else {
                continue;
            };
            let ours = self.j.owns_link(
                &Owned::Link {
                    netns: at.clone(),
                    name: b.name.clone(),
                },
                st.index,
            );
            if st.snooping != Some(false) || !ours {
                continue;
            }
            if !self.dry {
                let mut m = LinkMessage::default();
                m.header.index = st.index;
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Bridge),
                    LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(true)])),
                ]));
                crate::nl::link::change(&self.pl.nl, s, m).map_err(|f| {
                    LabError::new(
                        1,
                        format!(
                            "turning multicast snooping on for bridge {} ({}) failed: {}",
                            b.name,
                            place_name(at),
                            why(f)
                        ),
                    )
                })?;
            }
            self.changed(
                at,
                &b.name,
                format!(
                    "turn multicast snooping on for {} ({})",
                    b.name,
                    place_name(at)
                ),
            );
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn set_link(
        &self,
        s: &Socket,
        index: u32,
        up: bool,
        master: Option<u32>,
        mtu: Option<u32>,
        at: &Where,
        name: &str,
    ) -> Result<(), LabError> {
        let mut m = LinkMessage::default();
        m.header.index = index;
        if up {
            m.header.flags = LinkFlags::Up;
            m.header.change_mask = LinkFlags::Up;
        }
        if let Some(x) = master {
            m.attributes.push(LinkAttribute::Controller(x));
        }
        if let Some(x) = mtu {
            m.attributes.push(LinkAttribute::Mtu(x));
        }
        crate::nl::link::change(&self.pl.nl, s, m).map_err(|f| {
            LabError::new(
                1,
                format!("configuring {name} ({}) failed: {}", place_name(at), why(f)),
            )
        })
    }

    /// Host sysctls and NAT (which needs forwarding on).
    pub(super) fn host_settings(&mut self) -> Result<(), LabError> {
        let lab = self.lab;
        let mut sysctls = lab.host_sysctls.clone();
        if !lab.nat.is_empty() && !sysctls.iter().any(|(k, _)| k == "net.ipv4.ip_forward") {
            sysctls.push(("net.ipv4.ip_forward".into(), "1".into()));
        }
        for (k, v) in &sysctls {
            let cur = self
                .pl
                .sysctl_get(&None, k)
                .map_err(|m| LabError::new(1, m))?;
            if &cur == v {
                self.t.unchanged += 1;
                continue;
            }
            if !self.dry {
                if !self
                    .j
                    .objects
                    .iter()
                    .any(|o| matches!(o, Owned::Sysctl { netns: None, key, .. } if key == k))
                {
                    self.j
                        .intend([Owned::Sysctl {
                            netns: None,
                            key: k.clone(),
                            old: cur.clone(),
                        }])
                        .map_err(io)?;
                }
                self.pl
                    .sysctl_set(&None, k, v)
                    .map_err(|m| LabError::new(1, m))?;
            }
            self.changed(&None, "", format!("set {k}={v} (host, was {cur})"));
        }
        if lab.nat.is_empty() {
            return Ok(());
        }
        match nat::converged(&lab.name, &lab.nat).map_err(|m| LabError::new(1, m))? {
            Some(true) => self.t.unchanged += 1,
            state => {
                if !self.dry {
                    self.j
                        .intend([Owned::NftTable {
                            family: "ip".into(),
                            name: nat::table_name(&lab.name),
                        }])
                        .map_err(io)?;
                    nat::install(&lab.name, &lab.nat).map_err(|m| LabError::new(1, m))?;
                } else {
                    self.plan(format!(
                        "install nft table ip {} ({} masquerade rules)",
                        nat::table_name(&lab.name),
                        lab.nat.len()
                    ));
                }
                if state.is_none() {
                    self.t.created += 1;
                } else {
                    self.t.changed += 1;
                }
            }
        }
        Ok(())
    }
}
