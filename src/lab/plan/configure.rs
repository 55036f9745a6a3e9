//! The third part of a plan: each place configured (loopback, sysctls, links up / in
//! their bridge / MTU, addresses exactly as the file says on the lab's own links, bridges up
//! after their ports, multicast snooping, routes), then the host's shared sysctls and NAT.

use super::{kernel_made, route_is, same_dst, Action, Kind, Op, Place, Planner};
use crate::lab::journal::Owned;
use crate::lab::observe::{LinkObs, PlaceObs};
use crate::lab::shares::{self, Take};
use crate::lab::spec::{place_name, IfSpec, Where};
use crate::wiring::prefix::Prefix;

impl Planner<'_> {
    /// Queue `a` in `turn`, after what is queued there already in the same slot.
    fn push_turn(&mut self, turn: u32, slot: usize, a: Action) {
        let seq = self.config.len() as u32;
        self.config.push((turn, slot as u8, seq, a));
    }

    /// The turn of a place's configuration (places without one go after every other).
    fn turn_of(&self, at: &Where) -> u32 {
        self.turn.get(at).copied().unwrap_or(u32::MAX / 2)
    }

    /// Queue `a` in the place's own turn.
    fn push_config(&mut self, at: &Where, slot: usize, a: Action) {
        self.push_turn(self.turn_of(at), slot, a);
    }

    /// Like `push_config`, in the place's second turn, after every place's first: where its
    /// bridges' ports come up (their carriers with them), then the bridges, then snooping.
    ///
    /// A carrier that comes up starts the kernel's own work on both ends (link watch, and on
    /// an end with IPv6 its link-local address, DAD, MLD and router solicitations, flooded by
    /// the bridge to every port), on workers that take the RTNL. Brought up in a last short
    /// pass, that work runs after the lab's requests instead of competing with them: in a
    /// fabric of 10,000 namespaces, the switches' turns took 2 s longer with every port
    /// coming up in its switch's turn.
    fn push_late(&mut self, at: &Where, slot: usize, a: Action) {
        let late = (self.turn.len() as u32).saturating_add(self.turn_of(at));
        self.push_turn(late, slot, a);
    }

    /// Loopback, sysctls, links, addresses, snooping and routes of one place.
    pub(super) fn configure(&mut self, at: &Where) {
        let state = self.place(at);
        if matches!(state, Place::Closed | Place::Gone) {
            return;
        }
        let lab = self.lab;
        let new = state == Place::New;
        let seen = self.seen(at).cloned().unwrap_or_default();
        self.loopback_and_sysctls(at, state, &seen);
        let ifs: Vec<&IfSpec> = lab.interfaces(at).collect();
        for i in ifs {
            self.interface(at, i, &seen);
        }
        self.snooping(at, &seen);
        self.routes(at, &seen, new);
    }

    /// A namespace's loopback (up where the file wants it and it is down) and its sysctls
    /// (set where they differ; the links' defaults before the lab's links are made).
    fn loopback_and_sysctls(&mut self, at: &Where, state: Place, seen: &PlaceObs) {
        let lab = self.lab;
        let Some(ns) = at.as_ref().and_then(|n| lab.netns(n)) else {
            return;
        };
        let new = state == Place::New;
        let pn = place_name(at);
        let part_or = |k: Kind| if new { Kind::Part } else { k };
        if ns.lo {
            match seen.links.get("lo") {
                Some(l) if l.up => self.plan.unchanged += 1,
                _ => {
                    let a = Self::act(
                        part_or(Kind::Change),
                        Op::LoUp {
                            at: at.clone(),
                            adopted: state == Place::Adopted,
                        },
                        format!("set lo up ({pn})"),
                        if new { "" } else { "down" },
                    );
                    self.push_config(at, 0, a);
                }
            }
        }
        for (k, v) in &ns.sysctls {
            let now = seen.sysctls.get(k);
            if now == Some(v) {
                self.plan.unchanged += 1;
                continue;
            }
            let a = Self::act(
                part_or(Kind::Change),
                Op::SetSysctl {
                    at: at.clone(),
                    key: k.clone(),
                    value: v.clone(),
                    old: now.cloned(),
                },
                format!("set sysctl {k}={v} ({pn})"),
                now.map(|n| format!("{n} now")).unwrap_or_default(),
            );
            if crate::lab::spec::is_link_default(k) {
                // Links copy it when they are made: set before the lab's are.
                self.early.push(a);
            } else {
                self.push_config(at, 0, a);
            }
        }
    }

    /// Multicast snooping of a place's bridges: turned on, in the late pass, for a bridge
    /// this plan makes and for one of the lab's own left with it off (an interrupted apply).
    fn snooping(&mut self, at: &Where, seen: &PlaceObs) {
        let lab = self.lab;
        let pn = place_name(at);
        for b in lab.bridges.iter().filter(|b| &b.at == at) {
            let fresh = self.fresh.contains(&(at.clone(), b.name.clone()));
            let off = seen.links.get(&b.name).is_some_and(|l| {
                l.snooping == Some(false) && self.adopted_of(at, &b.name).is_none()
            });
            if fresh || off {
                let a = Self::act(
                    if fresh { Kind::Part } else { Kind::Change },
                    Op::Snooping {
                        at: at.clone(),
                        name: b.name.clone(),
                    },
                    format!("turn multicast snooping on for {} ({pn})", b.name),
                    if fresh {
                        ""
                    } else {
                        "off: an apply was interrupted"
                    },
                );
                self.push_late(at, 3, a);
            }
        }
    }

    /// A route: in the place's late turn where the place has a bridge, which is up only then
    /// (a gateway on a bridge's network needs the bridge up).
    fn push_route(&mut self, at: &Where, a: Action) {
        if self.bridged.contains(at) {
            self.push_late(at, 4, a);
        } else {
            self.push_config(at, 4, a);
        }
    }

    /// Bring a link up, and nothing else.
    fn up(at: &Where, name: &str) -> Op {
        Op::SetLink {
            at: at.clone(),
            name: name.to_string(),
            up: true,
            master: None,
            mtu: None,
            quiet: false,
        }
    }

    /// One link of the file in a place: its settings (up, bridge, MTU), its shaping and its
    /// addresses, or nothing where the link is not the lab's to configure.
    fn interface(&mut self, at: &Where, i: &IfSpec, seen: &PlaceObs) {
        let fresh = self.fresh.contains(&(at.clone(), i.name.clone()));
        if self.closed.contains(&(at.clone(), i.name.clone())) && !self.adopt {
            return;
        }
        let is_bridge = self
            .lab
            .index
            .bridges
            .contains(&(at.clone(), i.name.clone()));
        // A link this plan makes is new, whatever was seen under its name (an end of a pair
        // whose peer went, deleted first).
        let l = if fresh { None } else { seen.links.get(&i.name) };
        if l.is_none() && !fresh {
            // Foreign in a closed place, or a pair not made (a conflict): nothing to plan.
            return;
        }
        let x = Iface {
            at,
            i,
            l,
            fresh,
            is_bridge,
            adopted: self.adopted_of(at, &i.name).is_some(),
        };
        let diff = self.link_diff(&x, seen);
        if diff.master.is_some() || diff.mtu.is_some() || diff.up {
            self.emit_link(&x, diff);
        } else if !fresh {
            self.plan.unchanged += 1;
        }
        self.shaping(&x, seen);
        self.addresses(&x, seen);
        self.stray_addresses(&x, seen);
    }

    /// The diff step of a link: which of up, bridge and MTU differ from the file.
    fn link_diff(&self, x: &Iface, seen: &PlaceObs) -> LinkDiff {
        let (at, i, l) = (x.at, x.i, x.l);
        // A made veth's maker end is born up, with its MTU (unless it is a bridge's port).
        let maker_born = x.fresh
            && !x.is_bridge
            && i.bridge.is_none()
            && self
                .lab
                .index
                .makers
                .contains(&(at.clone(), i.name.clone()));
        let master: Option<Option<String>> = match (l, &i.bridge) {
            (None, Some(b)) => Some(Some(b.clone())),
            (None, None) => None,
            (Some(l), Some(b)) => {
                let bi = seen.links.get(b).map(|x| x.index);
                (bi.is_none() || l.master != bi).then(|| Some(b.clone()))
            }
            (Some(l), None) => {
                // A link of the lab's own that the file took out of its bridge.
                (l.master.is_some() && !x.adopted && !x.is_bridge).then_some(None)
            }
        };
        let mtu = match l {
            None => None,
            Some(l) => i.mtu.filter(|m| l.mtu != Some(*m)),
        };
        let up = if x.fresh {
            !maker_born
        } else {
            l.is_some_and(|l| !l.up)
        };
        LinkDiff { master, mtu, up }
    }

    /// The emit step of a link's diff: one SetLink in its place's turn, or, for a bridge or
    /// a port that comes up, in the late pass (a joining port's up as an action of its own).
    fn emit_link(&mut self, x: &Iface, diff: LinkDiff) {
        let (at, i) = (x.at, x.i);
        let pn = place_name(at);
        // A new end that only bridges comes up with IPv6 off.
        let quiet = x.fresh && !x.is_bridge && super::build::quiet(self.lab, i);
        let why = x.l.map(|l| diff.why(l)).unwrap_or_default();
        // A port that joins its bridge does so down, and comes up in the late pass.
        let joins = matches!(diff.master, Some(Some(_)));
        let up_late = diff.up && (x.is_bridge || i.bridge.is_some());
        let what = diff.what(joins);
        let slot = if x.is_bridge { 2 } else { 1 };
        // A joining port's up is an action of its own, in the late pass.
        let split = joins && diff.up;
        let a = Self::act(
            if x.fresh { Kind::Part } else { Kind::Change },
            Op::SetLink {
                at: at.clone(),
                name: i.name.clone(),
                up: diff.up && !split,
                master: diff.master,
                mtu: diff.mtu,
                quiet,
            },
            format!("set {} {what} ({pn})", i.name),
            why,
        );
        // A bridge comes up after its ports: each port that comes up in an up bridge
        // makes the kernel redo its port selection over every port.
        if up_late && !split {
            self.push_late(at, slot, a);
        } else {
            self.push_config(at, slot, a);
        }
        if split {
            let a = Self::act(
                Kind::Part,
                Self::up(at, &i.name),
                format!("set {} up ({pn})", i.name),
                "",
            );
            self.push_late(at, slot, a);
        }
    }

    /// A shaped end's root qdisc: set where it is missing or differs from the file.
    fn shaping(&mut self, x: &Iface, seen: &PlaceObs) {
        let (at, i) = (x.at, x.i);
        let Some(q) = &i.shape else {
            return;
        };
        let now = x.l.and_then(|l| seen.qdiscs.get(&l.index));
        if now.is_some_and(|s| q.matches(s)) {
            self.plan.unchanged += 1;
            return;
        }
        let why = match now {
            _ if x.fresh => String::new(),
            Some(s) if s.kind == "tbf" || s.kind == "netem" => {
                format!("{} with other settings now", s.kind)
            }
            _ => "not shaped".into(),
        };
        let a = Self::act(
            if x.fresh { Kind::Part } else { Kind::Change },
            Op::SetQdisc {
                at: at.clone(),
                dev: i.name.clone(),
                q: **q,
            },
            format!(
                "shape {} {} ({})",
                i.name,
                crate::lab::shape::describe(q),
                place_name(at)
            ),
            why,
        );
        self.push_config(at, 1, a);
    }

    /// The file's addresses a link lacks: added (on an adopted link too, marked so that only
    /// those nsctl added are ever removed).
    fn addresses(&mut self, x: &Iface, seen: &PlaceObs) {
        let (at, i) = (x.at, x.i);
        let pn = place_name(at);
        let index = x.l.map(|l| l.index);
        for a in &i.addrs {
            let ip = a.addr.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
            if index.is_some_and(|ix| seen.has_addr(ix, ip, a.len)) {
                self.plan.unchanged += 1;
                continue;
            }
            let act = Self::act(
                if x.fresh { Kind::Part } else { Kind::Create },
                Op::AddAddr {
                    at: at.clone(),
                    dev: i.name.clone(),
                    addr: *a,
                    adopted: x.adopted,
                },
                format!("add {} to {} ({pn})", a, i.name),
                if x.fresh { "" } else { "missing" },
            );
            self.push_config(at, 1, act);
        }
    }

    /// Addresses on one of the lab's own links that the file does not give it (nor the
    /// kernel): deleted, so that its addresses are the file's exactly. An adopted link
    /// keeps whatever it had.
    fn stray_addresses(&mut self, x: &Iface, seen: &PlaceObs) {
        let (at, i) = (x.at, x.i);
        let Some(index) = x.l.map(|l| l.index).filter(|_| !x.adopted) else {
            return;
        };
        let pn = place_name(at);
        let mut extra: Vec<(std::net::IpAddr, u8)> = seen
            .addrs
            .get(&index)
            .into_iter()
            .flatten()
            .filter(|(ip, len)| {
                !kernel_made(ip) && !i.addrs.iter().any(|a| a.addr == Some(*ip) && a.len == *len)
            })
            .copied()
            .collect();
        extra.sort();
        for (ip, len) in extra {
            let p = Prefix {
                addr: Some(ip),
                len,
                explicit_len: true,
            };
            self.down[3].push(Self::act(
                Kind::Remove,
                Op::DelAddr {
                    at: at.clone(),
                    dev: i.name.clone(),
                    addr: p,
                    adopted: false,
                },
                format!("delete {} from {} ({pn})", p, i.name),
                "not in the file",
            ));
        }
    }

    /// A place's routes: set where missing, where they differ (a foreign one only with
    /// --adopt), or where the address their gateway is reached through changes.
    fn routes(&mut self, at: &Where, seen: &PlaceObs, new: bool) {
        let pn = place_name(at);
        let own = matches!(self.place(at), Place::New | Place::Ours);
        for r in self.lab.routes(at) {
            let oif = r
                .dev
                .as_ref()
                .and_then(|d| seen.links.get(d))
                .map(|l| l.index);
            // The kernel drops a route whose gateway's subnet loses its address: one this plan
            // deletes (an address changed in the file) takes the route with it.
            let orphaned = r.via.is_some_and(|gw| {
                self.down[3].iter().any(|a| {
                    matches!(&a.op, Op::DelAddr { at: x, addr, .. }
                        if x == at && crate::lab::spec::same_subnet(addr, &gw))
                })
            });
            if orphaned {
                let a = Self::act(
                    Kind::Change,
                    Op::SetRoute {
                        at: at.clone(),
                        route: r.clone(),
                    },
                    format!("set route {r} ({pn})"),
                    "the address its gateway is reached through changes",
                );
                self.push_route(at, a);
                continue;
            }
            if seen.routes.iter().any(|o| route_is(o, r, oif)) {
                self.plan.unchanged += 1;
                continue;
            }
            let other = seen.routes.iter().find(|o| same_dst(o, r));
            let ours = own
                || self
                    .ix
                    .routes
                    .get(at)
                    .is_some_and(|v| v.iter().any(|x| x.dst == r.dst));
            let (kind, why) = match other {
                None if new => (Kind::Part, String::new()),
                None => (Kind::Create, "missing".to_string()),
                // The kernel's route for an address of the place: replacing it under
                // --adopt made it the lab's, and destroy then left the place without one.
                Some(o) if o.kernel => {
                    self.plan.conflicts.push(format!(
                        "route {r} ({pn}): the kernel made the route to {} for an address there (proto kernel), and nsctl never replaces it; take the route out of the file",
                        r.dst
                    ));
                    continue;
                }
                Some(o) => {
                    let now = match o.via {
                        Some(v) => format!("via {v} now"),
                        None => "another route now".into(),
                    };
                    if !ours {
                        self.plan.foreign.push(format!(
                            "route {} ({pn}): {now}",
                            crate::lab::spec::RouteSpec {
                                via: o.via,
                                dev: None,
                                dst: r.dst
                            }
                        ));
                        if !self.adopt {
                            continue;
                        }
                    }
                    (Kind::Change, now)
                }
            };
            let a = Self::act(
                kind,
                Op::SetRoute {
                    at: at.clone(),
                    route: r.clone(),
                },
                format!("set route {r} ({pn})"),
                why,
            );
            self.push_route(at, a);
        }
    }

    /// The host's sysctls (shared with other labs) and NAT.
    pub(super) fn host(&mut self) {
        let lab = self.lab;
        let host = self.obs.places.get(&None).cloned().unwrap_or_default();
        for (k, v) in lab.sysctls(&None) {
            let now = host.sysctls.get(&k).map(|s| s.as_str());
            match shares::take(&self.obs.shares, &lab.name, &k, &v, now) {
                Take::Nothing => self.plan.unchanged += 1,
                Take::Conflict { value, labs } => self.plan.conflicts.push(format!(
                    "host sysctl {k} is held at {value} by lab {}, and this lab wants {v}",
                    labs.join(", ")
                )),
                Take::Hold { write } => {
                    let (text, why) = if write {
                        (
                            format!("set sysctl {k}={v} (host)"),
                            now.map(|n| format!("{n} now")).unwrap_or_default(),
                        )
                    } else {
                        (
                            format!("share sysctl {k}={v} (host)"),
                            "set by another lab; kept until the last one is destroyed".into(),
                        )
                    };
                    self.host_last.push(Self::act(
                        Kind::Change,
                        Op::HoldShare {
                            key: k.clone(),
                            value: v.clone(),
                            write,
                            old: now.map(str::to_string),
                        },
                        text,
                        why,
                    ));
                }
            }
        }
        if lab.nat.is_empty() {
            return;
        }
        let table = crate::lab::nftnames::table_name(&lab.name);
        let ours = self.j.owns(&Owned::NftTable {
            family: "ip".into(),
            name: table.clone(),
        });
        let want = crate::lab::nftnames::tags(&lab.nat, &lab.nets_v4());
        match &self.obs.nat {
            Some(_) if !ours => {
                self.plan.strangers.push(format!("nft table ip {table}"));
                self.plan.conflicts.push(format!(
                    "nft table ip {table} exists and nsctl did not create it (installing the lab's NAT would replace it); delete it (nft delete table ip {table}) or rename the lab"
                ))
            }
            Some(have) if *have == want => self.plan.unchanged += 1,
            have => self.host_last.push(Self::act(
                if have.is_some() {
                    Kind::Change
                } else {
                    Kind::Create
                },
                Op::InstallNat,
                format!(
                    "install nft table ip {table} ({} masquerade rules)",
                    lab.nat.len()
                ),
                if have.is_some() {
                    "its rules differ from the file"
                } else {
                    "missing"
                },
            )),
        }
    }
}

/// A link of the file in its place, as `interface` found it.
struct Iface<'a> {
    at: &'a Where,
    i: &'a IfSpec,
    /// What was seen under its name; None for a link this plan makes.
    l: Option<&'a LinkObs>,
    /// Made by this plan.
    fresh: bool,
    /// One of the file's bridges.
    is_bridge: bool,
    /// Adopted: nsctl did not make it and never deletes it.
    adopted: bool,
}

/// What differs in a link's settings from the file.
struct LinkDiff {
    /// Some(Some(b)): into bridge b; Some(None): out of the bridge it is in; None: as it is.
    master: Option<Option<String>>,
    /// The file's MTU, where the link has another.
    mtu: Option<u32>,
    /// Brought up (a new link unless it is born up, or an existing one that is down).
    up: bool,
}

impl LinkDiff {
    /// Why an existing link `l` is changed: "down, not in bridge br0, mtu 1500 instead of 1450".
    fn why(&self, l: &LinkObs) -> String {
        let mut why = Vec::new();
        if !l.up {
            why.push("down".to_string());
        }
        match &self.master {
            Some(Some(b)) => why.push(format!("not in bridge {b}")),
            Some(None) => why.push("in a bridge the file does not name".into()),
            None => {}
        }
        if let Some(m) = self.mtu {
            why.push(format!("mtu {} instead of {m}", l.mtu.unwrap_or(0)));
        }
        why.join(", ")
    }

    /// What is set: "up master br0 mtu 1450" (no "up" for a port that `joins` its bridge,
    /// which comes up later).
    fn what(&self, joins: bool) -> String {
        let mut what = Vec::new();
        if self.up && !joins {
            what.push("up".to_string());
        }
        match &self.master {
            Some(Some(b)) => what.push(format!("master {b}")),
            Some(None) => what.push("nomaster".into()),
            None => {}
        }
        if let Some(m) = self.mtu {
            what.push(format!("mtu {m}"));
        }
        what.join(" ")
    }
}
