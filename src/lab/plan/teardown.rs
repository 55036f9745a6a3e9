//! The first part of a plan: what goes. Namespaces the file no longer names (with everything
//! in them), the veth ends that linger after a namespace went, and each journaled entry the
//! file no longer wants: the NAT table, sysctls (shared ones let go), routes, addresses on
//! adopted links, adopted links put back, links.

use std::collections::{HashMap, HashSet};

use super::{norm, same_dst, Kind, Op, Place, Planner};
use crate::lab::journal::{split_key, Owned};
use crate::lab::ownership::{self, Link, Netns};
use crate::lab::spec::{place_name, RouteSpec, Where};

impl Planner<'_> {
    pub(super) fn teardown(&mut self) {
        let journaled: Vec<Owned> = self.j.objects.clone();
        let gone = self.gone_namespaces(&journaled);
        let by_ns = self.pairs_by_netns();
        self.pair_ends(&by_ns, &gone);
        self.lingering_ends(&by_ns, &gone);
        for o in &journaled {
            let in_gone = super::super::journal::place(o)
                .is_some_and(|at| at.as_ref().is_some_and(|n| gone.contains(n)));
            if !in_gone {
                self.left_the_file(o);
            }
        }
        self.remove_dirs();
    }

    /// Namespaces that go: the lab's that the file no longer names (deleted), and journaled
    /// ones already gone (their entries forgotten). Returns both kinds.
    fn gone_namespaces(&mut self, journaled: &[Owned]) -> HashSet<String> {
        let wanted: HashSet<&str> = self
            .lab
            .namespaces
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        let mut gone = HashSet::new();
        for o in journaled {
            match o {
                Owned::Netns { name } if !wanted.contains(name.as_str()) => {
                    gone.insert(name.clone());
                    match ownership::netns(&self.j, self.obs, name) {
                        Netns::Ours { bound } => {
                            self.places.insert(Some(name.clone()), Place::Gone);
                            self.down[6].push(Self::act(
                                Kind::Remove,
                                Op::DelNetns {
                                    name: name.clone(),
                                    bound,
                                    ends: Vec::new(),
                                },
                                format!("delete netns {name}"),
                                self.left(),
                            ));
                        }
                        _ => self.plan.forget_places.push(name.clone()),
                    }
                }
                Owned::Netns { name } => {
                    if let Netns::Absent { .. } = ownership::netns(&self.j, self.obs, name) {
                        // Gone by hand: its entries are stale; the namespace is made again.
                        self.plan.forget_places.push(name.clone());
                        gone.insert(name.clone());
                    }
                }
                Owned::AdoptedNetns { name } if !wanted.contains(name.as_str()) => {
                    self.plan.forget.push(o.clone());
                }
                _ => {}
            }
        }
        gone
    }

    /// The veth ends outside namespace `n` whose peers are inside: (place, name). Read from
    /// `by_ns` (see [`Planner::pairs_by_netns`]): destroying 10,000 namespaces once walked all
    /// 10,000 pairs for each of them.
    fn ends_outside(
        by_ns: &HashMap<String, Vec<(Where, String)>>,
        n: &str,
        gone: &HashSet<String>,
    ) -> Vec<(Where, String)> {
        by_ns
            .get(n)
            .into_iter()
            .flatten()
            .filter(|(op, _)| op.as_ref().is_none_or(|o| !gone.contains(o)))
            .cloned()
            .collect()
    }

    /// Each journaled pair's ends by the namespace of the other end: namespace -> (place,
    /// name) of the ends whose peer is in it.
    fn pairs_by_netns(&self) -> HashMap<String, Vec<(Where, String)>> {
        let mut m: HashMap<String, Vec<(Where, String)>> = HashMap::new();
        for (x, y) in &self.j.pairs {
            for (inside, other) in [(x, y), (y, x)] {
                if let (Some(n), _) = split_key(inside) {
                    m.entry(n).or_default().push(split_key(other));
                }
            }
        }
        m
    }

    /// Each deleted namespace's veth ends elsewhere, which the kernel removes with it: the
    /// executor waits for them.
    fn pair_ends(&mut self, by_ns: &HashMap<String, Vec<(Where, String)>>, gone: &HashSet<String>) {
        let mut found = Vec::new();
        for (k, a) in self.down[6].iter().enumerate() {
            if let Op::DelNetns { name, .. } = &a.op {
                found.push((k, Self::ends_outside(by_ns, name, gone)));
            }
        }
        for (k, e) in found {
            if let Op::DelNetns { ends, .. } = &mut self.down[6][k].op {
                *ends = e;
            }
        }
    }

    /// A namespace gone by hand leaves the other ends of its pairs behind (lingering while
    /// the kernel tears it down): they go too, or their entries when they are gone.
    fn lingering_ends(
        &mut self,
        by_ns: &HashMap<String, Vec<(Where, String)>>,
        gone: &HashSet<String>,
    ) {
        for n in self.plan.forget_places.clone() {
            for (at, name) in Self::ends_outside(by_ns, &n, gone) {
                let l = self
                    .obs
                    .places
                    .get(&at)
                    .and_then(|p| p.links.get(&name))
                    .cloned();
                match l {
                    Some(l) if self.link_owner(&at, &name, l.index) == Link::Ours => self.down[5]
                        .push(Self::act(
                            Kind::Remove,
                            Op::DelLink {
                                at: at.clone(),
                                name: name.clone(),
                                index: l.index,
                            },
                            format!("delete link {name} ({})", place_name(&at)),
                            format!("its veth peer went with netns {n}"),
                        )),
                    _ => self.plan.forget.push(Owned::Link { netns: at, name }),
                }
            }
        }
    }

    /// One journaled entry in a place that stays: kept while the file wants it, else undone
    /// (or forgotten when what it names is gone already).
    fn left_the_file(&mut self, o: &Owned) {
        match o {
            Owned::NftTable { .. } if self.lab.nat.is_empty() => self.nat_left(o),
            Owned::Sysctl { netns, key, old } => self.sysctl_left(netns, key, old),
            Owned::Route { netns, route } => self.route_left(o, netns, route),
            Owned::Addr { netns, dev, addr } => self.addr_left(o, netns, dev, addr),
            Owned::Adopted { .. } => self.adopted_left(o),
            Owned::Link { netns, name } => self.link_left(o, netns, name),
            Owned::Hosts { .. } | Owned::EtcDir { .. } => self.hosts_left(o),
            Owned::Shaped { netns, dev } => self.shaped_left(o, netns, dev),
            _ => {}
        }
    }

    /// Shaping the file no longer gives a link it keeps is removed; on a link that goes,
    /// it goes with the link.
    fn shaped_left(&mut self, o: &Owned, netns: &Where, dev: &str) {
        let spec = self.lab.interfaces(netns).find(|i| i.name == dev);
        if spec.is_some_and(|i| i.shape.is_some()) {
            return;
        }
        let link = self
            .seen(netns)
            .and_then(|p| p.links.get(dev).map(|l| (l.index, p)));
        let shaped = link.is_some_and(|(x, p)| {
            p.qdiscs
                .get(&x)
                .is_some_and(|s| s.kind == "tbf" || s.kind == "netem")
        });
        if spec.is_none() || !shaped {
            self.plan.forget.push(o.clone());
            return;
        }
        self.down[3].push(Self::act(
            Kind::Change,
            Op::DelQdisc {
                at: netns.clone(),
                dev: dev.to_string(),
            },
            format!("unshape {dev} ({})", place_name(netns)),
            "no longer in the file",
        ));
    }

    fn nat_left(&mut self, o: &Owned) {
        if self.obs.nat.is_none() {
            self.plan.forget.push(o.clone());
            return;
        }
        self.down[0].push(Self::act(
            Kind::Remove,
            Op::RemoveNat,
            format!(
                "delete nft table ip {}",
                crate::lab::nftnames::table_name(&self.lab.name)
            ),
            self.left(),
        ));
    }

    fn sysctl_left(&mut self, netns: &Where, key: &str, old: &str) {
        let lab = self.lab;
        if lab.sysctls(netns).iter().any(|(k, _)| k == key) {
            return;
        }
        let (op, text) = match netns {
            None => {
                let others: Vec<String> = self
                    .obs
                    .shares
                    .get(key)
                    .map(|s| s.labs.iter().filter(|l| **l != lab.name).cloned().collect())
                    .unwrap_or_default();
                let text = match self.obs.shares.get(key) {
                    Some(_) if !others.is_empty() => format!(
                        "let go of sysctl {key} (host; still needed by {})",
                        others.join(", ")
                    ),
                    Some(s) => format!("restore sysctl {key}={} (host)", s.old),
                    None => format!("restore sysctl {key}={old} (host)"),
                };
                (Op::ReleaseShare { key: key.into() }, text)
            }
            Some(_) => (
                Op::RestoreSysctl {
                    at: netns.clone(),
                    key: key.into(),
                    old: old.into(),
                },
                format!("restore sysctl {key}={old} ({})", place_name(netns)),
            ),
        };
        self.down[1].push(Self::act(Kind::Remove, op, text, self.left()));
    }

    fn route_left(&mut self, o: &Owned, netns: &Where, route: &str) {
        let Ok(r) = RouteSpec::parse(route) else {
            return;
        };
        let want = self.lab.routes(netns);
        if want.contains(&r) {
            return;
        }
        let there = self
            .obs
            .places
            .get(netns)
            .is_some_and(|p| p.routes.iter().any(|x| same_dst(x, &r)));
        if want.iter().any(|w| w.dst == r.dst) || !there {
            // Superseded by the file's new route to the same place, or gone.
            self.plan.forget.push(o.clone());
            return;
        }
        self.down[2].push(Self::act(
            Kind::Remove,
            Op::DelRoute {
                at: netns.clone(),
                route: r,
                text: route.into(),
            },
            format!("delete route {route} ({})", place_name(netns)),
            self.left(),
        ));
    }

    fn addr_left(&mut self, o: &Owned, netns: &Where, dev: &str, addr: &str) {
        let Some(p) = crate::wiring::prefix::parse(addr.as_bytes()).filter(|p| p.addr.is_some())
        else {
            return;
        };
        if self
            .wants_if(netns, dev)
            .is_some_and(|i| i.addrs.iter().any(|a| norm(*a) == norm(p)))
        {
            return;
        }
        let there = self.obs.places.get(netns).is_some_and(|pl| {
            pl.links
                .get(dev)
                .is_some_and(|l| p.addr.is_some_and(|ip| pl.has_addr(l.index, ip, p.len)))
        });
        if !there {
            self.plan.forget.push(o.clone());
            return;
        }
        self.down[3].push(Self::act(
            Kind::Remove,
            Op::DelAddr {
                at: netns.clone(),
                dev: dev.into(),
                addr: p,
                adopted: true,
            },
            format!("delete {} from {dev} ({})", p, place_name(netns)),
            self.left(),
        ));
    }

    /// An adopted interface the file no longer uses: its admin state, MTU and bridge put back
    /// as they were when it was adopted. The lo of an adopted namespace is one once the lab
    /// brought it up (configure.rs), and stays up while the file keeps the namespace with
    /// `lo = true`.
    fn adopted_left(&mut self, o: &Owned) {
        let Owned::Adopted {
            netns,
            name,
            up,
            mtu,
            master,
        } = o
        else {
            return;
        };
        let lo_wanted = || {
            name == "lo"
                && netns
                    .as_ref()
                    .and_then(|n| self.lab.netns(n))
                    .is_some_and(|ns| ns.lo)
        };
        if self.wants_if(netns, name).is_some() || lo_wanted() {
            return;
        }
        let Some(l) = self.obs.places.get(netns).and_then(|p| p.links.get(name)) else {
            self.plan.forget.push(o.clone());
            return;
        };
        // Its bridge, when it was recorded and is another now.
        let master = master
            .as_ref()
            .filter(|was| self.master_name(netns, l).as_ref() != Some(*was))
            .cloned();
        if l.up == *up && (mtu.is_none() || l.mtu == *mtu) && master.is_none() {
            self.plan.forget.push(o.clone());
            return;
        }
        let bridge = match &master {
            Some(Some(b)) => format!(", master {b}"),
            Some(None) => ", nomaster".into(),
            None => String::new(),
        };
        let text = format!(
            "restore {name} ({}) to {}{bridge}",
            place_name(netns),
            if *up { "up" } else { "down" }
        );
        let op = Op::RestoreLink {
            at: netns.clone(),
            name: name.clone(),
            up: *up,
            mtu: *mtu,
            master,
        };
        let why = if name == "lo" {
            "down when its namespace was adopted"
        } else {
            "adopted, and no longer in the file"
        };
        self.down[4].push(Self::act(Kind::Remove, op, text, why));
    }

    fn link_left(&mut self, o: &Owned, netns: &Where, name: &str) {
        if self.link_wanted(netns, name) {
            return;
        }
        let l = self
            .obs
            .places
            .get(netns)
            .and_then(|p| p.links.get(name))
            .cloned();
        match l {
            Some(l) if self.link_owner(netns, name, l.index) == Link::Ours => {
                self.down[5].push(Self::act(
                    Kind::Remove,
                    Op::DelLink {
                        at: netns.clone(),
                        name: name.into(),
                        index: l.index,
                    },
                    format!("delete link {name} ({})", place_name(netns)),
                    self.left(),
                ))
            }
            _ => self.plan.forget.push(o.clone()),
        }
    }
}
