//! The second part of a plan: what is made or taken. Namespaces (made, remade from an
//! empty file, or adopted), bridges, and veth pairs (made whole; the rest of a pair whose
//! other end went is deleted first), with every existing object checked against the one
//! ownership rule.

use super::{End, Kind, Op, Place, Planner};
use crate::lab::journal::link_key;
use crate::lab::ownership::{self, Link, Netns};
use crate::lab::spec::{place_name, IfSpec, Lab, Where};

impl Planner<'_> {
    /// The file's namespaces: made, made again from an empty file, kept, adopted or
    /// refused, by the ownership rule.
    pub(super) fn namespaces(&mut self) {
        let lab = self.lab;
        for ns in &lab.namespaces {
            let n = &ns.name;
            let at = Some(n.clone());
            let stale = self.plan.stale.contains(n);
            let state = match ownership::netns(&self.j, self.obs, n) {
                Netns::Absent { .. } => {
                    self.build.push(Self::act(
                        Kind::Create,
                        Op::CreateNetns {
                            name: n.clone(),
                            clear: false,
                        },
                        format!("create netns {n}"),
                        "missing",
                    ));
                    Place::New
                }
                Netns::Ours { bound: false } => {
                    self.build.push(Self::act(
                        Kind::Create,
                        Op::CreateNetns {
                            name: n.clone(),
                            clear: true,
                        },
                        format!("create netns {n}"),
                        "an empty file, not a namespace: an add was interrupted",
                    ));
                    Place::New
                }
                Netns::Ours { bound: true } => {
                    if let Some(crate::lab::observe::NsObs::Bound { cookie: Some(c) }) =
                        self.obs.names.get(n)
                    {
                        if !self.j.netns_cookie.contains_key(n) {
                            self.plan.cookies.push((n.clone(), *c));
                        }
                    }
                    self.plan.unchanged += 1;
                    Place::Ours
                }
                Netns::Adopted => {
                    self.plan.unchanged += 1;
                    Place::Adopted
                }
                Netns::Foreign { bound: false } => {
                    self.plan
                        .strangers
                        .push(format!("netns \"{n}\" (an empty file)"));
                    self.plan.conflicts.push(format!(
                        "netns \"{n}\" is an empty file nsctl did not make (remove /run/netns/{n})"
                    ));
                    Place::Closed
                }
                Netns::Foreign { bound: true } | Netns::Replaced => {
                    let what = if stale {
                        format!("netns \"{n}\" (deleted and made again by someone else)")
                    } else {
                        format!("netns \"{n}\"")
                    };
                    self.plan.strangers.push(what.clone());
                    if self.adopt {
                        self.build.push(Self::act(
                            Kind::Change,
                            Op::AdoptNetns { name: n.clone() },
                            format!("adopt netns {n}"),
                            "not created by nsctl; used as it is, never deleted",
                        ));
                        self.plan.foreign.push(what);
                        Place::Adopted
                    } else {
                        self.plan.foreign.push(what);
                        Place::Closed
                    }
                }
            };
            self.places.insert(at, state);
        }
    }

    /// An existing link the file names: whose is it, and what to do about a foreign one.
    /// Returns false when nothing may be planned on it.
    fn claim(
        &mut self,
        at: &Where,
        name: &str,
        l: &crate::lab::observe::LinkObs,
        what: &str,
    ) -> bool {
        match self.link_owner(at, name, l.index) {
            Link::Ours | Link::Adopted { .. } => true,
            Link::Foreign => {
                let who = format!("{what} \"{name}\" ({})", place_name(at));
                self.plan.strangers.push(who.clone());
                self.plan.foreign.push(who);
                self.closed.insert((at.clone(), name.to_string()));
                if self.adopt {
                    self.build.push(Self::act(
                        Kind::Change,
                        Op::AdoptLink {
                            at: at.clone(),
                            name: name.to_string(),
                            up: l.up,
                            mtu: l.mtu,
                            master: self.master_name(at, l),
                        },
                        format!("adopt {what} {name} ({})", place_name(at)),
                        "not created by nsctl; used as it is, never deleted",
                    ));
                    self.ix
                        .adopted
                        .insert((at.clone(), name.to_string()), (l.up, l.mtu));
                }
                self.adopt
            }
        }
    }

    /// The links the file names: bridges, vxlan tunnels, then veth pairs, each made when
    /// missing or claimed when it exists.
    pub(super) fn links(&mut self) {
        self.bridges();
        self.tunnels();
        let lab = self.lab;
        for v in &lab.veths {
            if v.iter().any(|e| self.place(&e.at) == Place::Closed) {
                continue;
            }
            if self.veth_ends(v) {
                self.create_veth(v);
            }
        }
    }

    /// The file's bridges: made where missing, else claimed under the ownership rule.
    fn bridges(&mut self) {
        let lab = self.lab;
        for b in &lab.bridges {
            if self.place(&b.at) == Place::Closed {
                continue;
            }
            match self.seen(&b.at).and_then(|p| p.links.get(&b.name)).cloned() {
                None => {
                    self.build.push(Self::act(
                        Kind::Create,
                        Op::CreateBridge {
                            at: b.at.clone(),
                            name: b.name.clone(),
                            mtu: b.mtu,
                            mac: b.mac,
                        },
                        format!("create bridge {} ({})", b.name, place_name(&b.at)),
                        "missing",
                    ));
                    self.fresh.insert((b.at.clone(), b.name.clone()));
                }
                Some(l) => {
                    if self.claim(&b.at, &b.name, &l, "bridge") {
                        self.plan.unchanged += 1;
                    }
                }
            }
        }
    }

    /// The ends of a veth pair that exist: both claimed (the pair is kept), or the one left
    /// of a pair whose other end went deleted (ours) or refused (not ours). Returns true
    /// when the pair is to be made.
    fn veth_ends(&mut self, v: &[IfSpec; 2]) -> bool {
        let seen: Vec<Option<crate::lab::observe::LinkObs>> = v
            .iter()
            .map(|e| self.seen(&e.at).and_then(|p| p.links.get(&e.name)).cloned())
            .collect();
        match (&seen[0], &seen[1]) {
            (Some(a), Some(b)) => {
                let ok_a = self.claim(&v[0].at, &v[0].name, a, "interface");
                let ok_b = self.claim(&v[1].at, &v[1].name, b, "interface");
                if ok_a && ok_b {
                    self.plan.unchanged += 1;
                }
                false
            }
            (None, None) => true,
            (Some(l), None) | (None, Some(l)) => {
                let k = usize::from(seen[0].is_none());
                let (e, other) = (&v[k], &v[1 - k]);
                if self.link_owner(&e.at, &e.name, l.index) != Link::Ours {
                    self.plan.strangers.push(format!(
                        "interface \"{}\" ({})",
                        e.name,
                        place_name(&e.at)
                    ));
                    self.closed.insert((e.at.clone(), e.name.clone()));
                    self.plan.conflicts.push(format!(
                        "interface \"{}\" ({}) exists but its veth peer \"{}\" ({}) does not, and nsctl cannot make a pair around an interface it did not create; delete it or rename the pair in the file",
                        e.name,
                        place_name(&e.at),
                        other.name,
                        place_name(&other.at)
                    ));
                    return false;
                }
                // The rest of a pair whose other end went (deleted by hand, or with a
                // namespace the kernel is still tearing down): made again whole.
                // (finish() keeps one DelLink per link.)
                self.down[5].push(Self::act(
                    Kind::Remove,
                    Op::DelLink {
                        at: e.at.clone(),
                        name: e.name.clone(),
                        index: l.index,
                    },
                    format!("delete link {} ({})", e.name, place_name(&e.at)),
                    format!(
                        "its veth peer {} ({}) is gone; the pair is made again",
                        other.name,
                        place_name(&other.at)
                    ),
                ));
                true
            }
        }
    }

    /// Make a veth pair whole: the host end makes it when there is one (one socket serves a
    /// whole star), else the first end.
    fn create_veth(&mut self, v: &[IfSpec; 2]) {
        let pair = format!(
            "veth {} ({}) <-> {} ({})",
            v[0].name,
            place_name(&v[0].at),
            v[1].name,
            place_name(&v[1].at)
        );
        let (m, p) = self.lab.maker_of(v);
        let end = |e: &IfSpec| End {
            at: e.at.clone(),
            name: e.name.clone(),
            mtu: e.mtu,
            bridge: e.bridge.clone(),
            mac: e.mac,
        };
        self.build.push(Self::act(
            Kind::Create,
            Op::CreateVeth {
                maker: Box::new(end(m)),
                peer: Box::new(end(p)),
                first: link_key(&v[0].at, &v[0].name),
                second: link_key(&v[1].at, &v[1].name),
            },
            format!("create {pair}"),
            "missing",
        ));
        for e in v.iter() {
            self.fresh.insert((e.at.clone(), e.name.clone()));
        }
    }
}

impl Planner<'_> {
    /// The vxlan links of a machine's share (machines.rs): made when missing, made again
    /// when they differ from the file (another VNI, remote or local address).
    fn tunnels(&mut self) {
        let lab = self.lab;
        for t in &lab.tunnels {
            let Some(tun) = t.tunnel.as_deref() else {
                continue;
            };
            if self.place(&t.at) == Place::Closed {
                continue;
            }
            let create = |why: String| {
                Self::act(
                    Kind::Create,
                    Op::CreateVxlan {
                        at: t.at.clone(),
                        name: t.name.clone(),
                        mtu: t.mtu,
                        tunnel: Box::new(tun.clone()),
                        mac: t.mac,
                    },
                    format!(
                        "create vxlan {} ({}) to {}, vni {}",
                        t.name,
                        place_name(&t.at),
                        tun.peer,
                        tun.vni
                    ),
                    why,
                )
            };
            let Some(l) = self.seen(&t.at).and_then(|p| p.links.get(&t.name)).cloned() else {
                self.build.push(create("missing".into()));
                self.fresh.insert((t.at.clone(), t.name.clone()));
                continue;
            };
            if !self.claim(&t.at, &t.name, &l, "interface") {
                continue;
            }
            if self.adopted_of(&t.at, &t.name).is_some() {
                self.plan.unchanged += 1;
                continue;
            }
            let why = match l.vxlan.as_deref() {
                None => "not a vxlan link".to_string(),
                Some(x)
                    if x.vni == Some(tun.vni)
                        && x.remote == Some(tun.remote)
                        && x.local == Some(tun.local)
                        && x.port == Some(crate::lab::machines::VXLAN_PORT) =>
                {
                    self.plan.unchanged += 1;
                    continue;
                }
                Some(x) => format!(
                    "vni {}, remote {}, local {} now",
                    x.vni.map_or("none".into(), |v| v.to_string()),
                    x.remote.map_or("none".into(), |a| a.to_string()),
                    x.local.map_or("none".into(), |a| a.to_string())
                ),
            };
            // A link cannot become another kind, nor change its VNI or addresses: it is
            // deleted and made again.
            self.down[5].push(Self::act(
                Kind::Part,
                Op::DelLink {
                    at: t.at.clone(),
                    name: t.name.clone(),
                    index: l.index,
                },
                format!("delete link {} ({})", t.name, place_name(&t.at)),
                format!("made again as the file's vxlan: {why}"),
            ));
            self.build.push(create(why));
            self.fresh.insert((t.at.clone(), t.name.clone()));
        }
    }
}

/// A veth end that only bridges: in a bridge, with no addresses of its own. It takes no part
/// in IP, so it is brought up with IPv6 off (by a sysctl of its own, unless the file turns
/// IPv6 off for all of its namespace's new links).
pub fn quiet(lab: &Lab, e: &IfSpec) -> bool {
    e.bridge.is_some() && e.addrs.is_empty() && !lab.ipv6_off_by_default(&e.at)
}
