//! The plan: a pure function from (desired lab, observed state, journal) to an ordered list
//! of actions, each naming its object and why. `apply` executes it, `apply --dry-run` prints
//! it, `status` reports it (converged exactly when it is empty), and `destroy` is the plan of
//! an empty lab: everything the journal has is removed.
//!
//! Order: first what left the file goes (NAT, shared and journaled sysctls, routes,
//! addresses, adopted interfaces put back, links, namespaces); then namespaces, bridges and
//! veth pairs are made; then each place is configured (the namespaces, then the host:
//! loopback, sysctls, links up / in their bridge / MTU, addresses, bridges up, snooping,
//! routes); last the host's sysctls and NAT.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::journal::{link_key, split_key, Journal, Owned};
use super::observe::{Observed, PlaceObs};
use super::ownership::{self, Link, Netns};
use super::shares::{self, Take};
use super::spec::{place_name, IfSpec, Lab, RouteSpec, Where};
use crate::wiring::prefix::Prefix;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Create,
    Change,
    Remove,
    /// Part of creating an object this plan also creates (counted with it).
    Part,
}

/// One end of a veth pair to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    pub at: Where,
    pub name: String,
    pub mtu: Option<u32>,
    /// Born in this bridge (same place), up.
    pub bridge: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    RemoveNat,
    /// A host sysctl this lab held: let go, and put the old value back if it was the last.
    ReleaseShare {
        key: String,
    },
    RestoreSysctl {
        at: Where,
        key: String,
        old: String,
    },
    DelRoute {
        at: Where,
        route: RouteSpec,
        text: String,
    },
    DelAddr {
        at: Where,
        dev: String,
        addr: Prefix,
        adopted: bool,
    },
    RestoreLink {
        at: Where,
        name: String,
        up: bool,
        mtu: Option<u32>,
    },
    DelLink {
        at: Where,
        name: String,
        index: u32,
    },
    /// Delete the namespace; `ends` are veth ends elsewhere that go with it, waited for.
    DelNetns {
        name: String,
        bound: bool,
        ends: Vec<(Where, String)>,
    },
    /// `clear`: the name is an empty file left by a killed add, removed first.
    CreateNetns {
        name: String,
        clear: bool,
    },
    AdoptNetns {
        name: String,
    },
    AdoptLink {
        at: Where,
        name: String,
        up: bool,
        mtu: Option<u32>,
    },
    CreateBridge {
        at: Where,
        name: String,
        mtu: Option<u32>,
    },
    /// `maker` is made (born up, in its bridge) with `peer` born in its own place; the
    /// journal keys the pair by `first` (the file's first end).
    CreateVeth {
        maker: End,
        peer: End,
        first: String,
        second: String,
    },
    LoUp {
        at: Where,
    },
    SetSysctl {
        at: Where,
        key: String,
        value: String,
        old: Option<String>,
    },
    /// Hold a host sysctl for this lab (write it when `write`).
    HoldShare {
        key: String,
        value: String,
        write: bool,
        old: Option<String>,
    },
    /// `master`: Some(Some(bridge)) join it, Some(None) leave any.
    SetLink {
        at: Where,
        name: String,
        up: bool,
        master: Option<Option<String>>,
        mtu: Option<u32>,
    },
    AddAddr {
        at: Where,
        dev: String,
        addr: Prefix,
        adopted: bool,
    },
    SetRoute {
        at: Where,
        route: RouteSpec,
    },
    Snooping {
        at: Where,
        name: String,
    },
    InstallNat,
}

impl Op {
    /// The executor's phases: intents are journaled once per phase, before it runs.
    pub fn phase(&self) -> u8 {
        match self {
            Op::RemoveNat
            | Op::ReleaseShare { .. }
            | Op::RestoreSysctl { .. }
            | Op::DelRoute { .. }
            | Op::DelAddr { .. }
            | Op::RestoreLink { .. }
            | Op::DelLink { .. }
            | Op::DelNetns { .. } => 0,
            Op::CreateNetns { .. } | Op::AdoptNetns { .. } => 1,
            Op::CreateBridge { .. } | Op::AdoptLink { .. } => 2,
            Op::CreateVeth { .. } => 3,
            Op::LoUp { .. }
            | Op::SetSysctl { .. }
            | Op::SetLink { .. }
            | Op::AddAddr { .. }
            | Op::SetRoute { .. }
            | Op::Snooping { .. } => 4,
            Op::HoldShare { .. } | Op::InstallNat => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: Kind,
    pub op: Op,
    /// What is done, e.g. `create netns A`, `set eth0 up (netns A)`.
    pub text: String,
    /// Why, e.g. `missing`, `down`, `left the file`; may be empty.
    pub why: String,
}

impl Action {
    pub fn line(&self) -> String {
        if self.why.is_empty() {
            self.text.clone()
        } else {
            format!("{}: {}", self.text, self.why)
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Objects and settings already as the file wants them.
    pub unchanged: usize,
    /// Objects the file names that exist but are not the lab's: apply refuses them unless
    /// `--adopt`.
    pub foreign: Vec<String>,
    /// What stops apply even with `--adopt`.
    pub conflicts: Vec<String>,
    /// Every object the file names that exists and is not the lab's (foreign, or named in a
    /// conflict): what destroy leaves alone.
    pub strangers: Vec<String>,
    /// Journaled namespaces someone made again: their entries are stale.
    pub stale: Vec<String>,
    /// Entries of objects that are gone already.
    pub forget: Vec<Owned>,
    /// Journaled namespaces that are gone, with everything journaled in them.
    pub forget_places: Vec<String>,
    /// Cookies of the lab's namespaces not yet in the journal.
    pub cookies: Vec<(String, u64)>,
}

impl Plan {
    pub fn count(&self, k: Kind) -> usize {
        self.actions.iter().filter(|a| a.kind == k).count()
    }

    /// Converged: nothing to do and nothing in the way.
    pub fn converged(&self) -> bool {
        self.actions.is_empty() && self.foreign.is_empty() && self.conflicts.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Opts {
    pub adopt: bool,
}

/// How a place stands for this plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Host,
    /// Made by this plan: nothing in it yet.
    New,
    Ours,
    Adopted,
    /// Not usable (foreign and not adopted): nothing is planned inside.
    Closed,
    /// Deleted by this plan, or gone.
    Gone,
}

/// The journal's entries, indexed once.
#[derive(Default)]
struct Index {
    adopted: HashMap<(Where, String), (bool, Option<u32>)>,
    sysctls: HashSet<(Where, String)>,
    routes: HashMap<Where, Vec<RouteSpec>>,
}

impl Index {
    fn new(j: &Journal) -> Index {
        let mut ix = Index::default();
        for o in &j.objects {
            match o {
                Owned::Adopted {
                    netns,
                    name,
                    up,
                    mtu,
                } => {
                    ix.adopted
                        .insert((netns.clone(), name.clone()), (*up, *mtu));
                }
                Owned::Sysctl { netns, key, .. } => {
                    ix.sysctls.insert((netns.clone(), key.clone()));
                }
                Owned::Route { netns, route } => {
                    if let Ok(r) = RouteSpec::parse(route) {
                        ix.routes.entry(netns.clone()).or_default().push(r);
                    }
                }
                _ => {}
            }
        }
        ix
    }
}

/// A prefix as compared: address and length only.
fn norm(p: Prefix) -> Prefix {
    Prefix {
        explicit_len: true,
        ..p
    }
}

fn addr_text(p: &Prefix) -> String {
    format!(
        "{}/{}",
        p.addr.map(|a| a.to_string()).unwrap_or_default(),
        p.len
    )
}

/// Whether an observed route is the route `r` (oif: the index of `r.dev` there).
fn route_is(o: &super::observe::RouteObs, r: &RouteSpec, oif: Option<u32>) -> bool {
    o.dst == r.dst.addr && o.len == r.dst.len && o.via == r.via && (r.dev.is_none() || o.oif == oif)
}

fn same_dst(o: &super::observe::RouteObs, r: &RouteSpec) -> bool {
    o.dst == r.dst.addr && o.len == r.dst.len
}

/// An IPv6 link-local address (fe80::/10), which the kernel gives every interface itself.
fn kernel_made(a: &std::net::IpAddr) -> bool {
    matches!(a, std::net::IpAddr::V6(v) if (v.segments()[0] & 0xffc0) == 0xfe80)
}

struct Planner<'a> {
    lab: &'a Lab,
    obs: &'a Observed,
    j: Journal,
    ix: Index,
    adopt: bool,
    places: HashMap<Where, Place>,
    plan: Plan,
    /// Teardown and build actions, kept apart and joined in order at the end.
    down: [Vec<Action>; 7],
    build: Vec<Action>,
    config: HashMap<Where, [Vec<Action>; 5]>,
    host_last: Vec<Action>,
    /// Links this plan creates: (place, name).
    fresh: HashSet<(Where, String)>,
    /// Links the file names that are not the lab's and not adopted: nothing is planned on
    /// them.
    closed: HashSet<(Where, String)>,
}

/// Make the plan. `lab` is the desired state (an empty lab with the journal's name for
/// destroy), `obs` what exists, `j` the journal.
pub fn plan(lab: &Lab, obs: &Observed, j: &Journal, o: Opts) -> Plan {
    let mut p = Planner {
        lab,
        obs,
        j: j.clone(),
        ix: Index::default(),
        adopt: o.adopt,
        places: HashMap::new(),
        plan: Plan::default(),
        down: Default::default(),
        build: Vec::new(),
        config: HashMap::new(),
        host_last: Vec::new(),
        fresh: HashSet::new(),
        closed: HashSet::new(),
    };
    p.stale();
    p.ix = Index::new(&p.j);
    p.namespaces();
    p.teardown();
    p.links();
    for at in lab.places() {
        p.configure(&at);
    }
    p.host();
    p.finish()
}

impl Planner<'_> {
    fn act(kind: Kind, op: Op, text: String, why: impl Into<String>) -> Action {
        Action {
            kind,
            op,
            text,
            why: why.into(),
        }
    }

    fn place(&self, at: &Where) -> Place {
        match at {
            None => Place::Host,
            Some(n) => self.places.get(at).copied().unwrap_or_else(|| {
                match ownership::netns(&self.j, self.obs, n) {
                    Netns::Ours { bound: true } => Place::Ours,
                    Netns::Adopted => Place::Adopted,
                    Netns::Absent { .. } => Place::Gone,
                    _ => Place::Closed,
                }
            }),
        }
    }

    fn seen(&self, at: &Where) -> Option<&PlaceObs> {
        match self.place(at) {
            Place::New | Place::Gone | Place::Closed => None,
            _ => self.obs.places.get(at),
        }
    }

    /// Journaled namespaces that someone made again: drop their entries from this plan's
    /// view (the executor drops them from the journal when it acts).
    fn stale(&mut self) {
        let names: BTreeSet<String> = super::observe::names(self.lab, &self.j);
        for n in names {
            if ownership::netns(&self.j, self.obs, &n) == Netns::Replaced {
                self.j.forget_place(&n);
                self.plan.stale.push(n);
            }
        }
    }

    fn namespaces(&mut self) {
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
                    if let Some(super::observe::NsObs::Bound { cookie: Some(c) }) =
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

    /// Whether the file still wants the link journaled as `Link { at, name }`.
    fn link_wanted(&self, at: &Where, name: &str) -> bool {
        let ix = &self.lab.index;
        if ix.bridges.contains(&(at.clone(), name.to_string())) {
            return true;
        }
        let key = link_key(at, name);
        ix.firsts
            .get(&key)
            .is_some_and(|second| self.j.pairs.get(&key).is_none_or(|p| p == second))
    }

    fn wants_if(&self, at: &Where, name: &str) -> Option<&IfSpec> {
        self.lab.interfaces(at).find(|i| i.name == name)
    }

    /// What the file no longer names, and what is journaled but gone.
    fn teardown(&mut self) {
        let lab = self.lab;
        // Namespaces first: everything journaled inside one that goes, goes with it.
        let wanted: HashSet<&str> = lab.namespaces.iter().map(|n| n.name.as_str()).collect();
        let mut gone: HashSet<String> = HashSet::new();
        let journaled: Vec<Owned> = self.j.objects.clone();
        for o in &journaled {
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
        // Veth ends outside a namespace that goes, which the kernel removes with it.
        let pairs: Vec<(String, String)> = self
            .j
            .pairs
            .iter()
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for a in &mut self.down[6] {
            if let Op::DelNetns { name, ends, .. } = &mut a.op {
                for (x, y) in &pairs {
                    for (inside, other) in [(x, y), (y, x)] {
                        let (ip, _) = split_key(inside);
                        let (op, on) = split_key(other);
                        if ip.as_deref() == Some(name.as_str())
                            && op.as_ref().is_none_or(|n| !gone.contains(n))
                        {
                            ends.push((op, on));
                        }
                    }
                }
            }
        }
        // A namespace gone by hand leaves the other ends of its pairs behind (lingering while
        // the kernel tears it down): they go too, or their entries when they are gone.
        for n in self.plan.forget_places.clone() {
            for (x, y) in &pairs {
                for (inside, other) in [(x, y), (y, x)] {
                    let (ip, _) = split_key(inside);
                    let (at, name) = split_key(other);
                    if ip.as_deref() != Some(n.as_str())
                        || at.as_ref().is_some_and(|o| gone.contains(o))
                    {
                        continue;
                    }
                    let l = self.obs.places.get(&at).and_then(|p| p.links.get(&name));
                    let ix = &self.ix;
                    let ours = l.is_some_and(|l| {
                        ownership::link(
                            &self.j,
                            self.obs,
                            |a, k| ix.adopted.get(&(a.clone(), k.to_string())).copied(),
                            &at,
                            &name,
                            l.index,
                        ) == Link::Ours
                    });
                    match l {
                        Some(l) if ours => self.down[5].push(Self::act(
                            Kind::Remove,
                            Op::DelLink {
                                at: at.clone(),
                                name: name.clone(),
                                index: l.index,
                            },
                            format!("delete link {name} ({})", place_name(&at)),
                            format!("its veth peer went with netns {n}"),
                        )),
                        _ => self.plan.forget.push(Owned::Link {
                            netns: at.clone(),
                            name: name.clone(),
                        }),
                    }
                }
            }
        }
        let in_gone = |at: &Where| at.as_ref().is_some_and(|n| gone.contains(n));
        for o in &journaled {
            match o {
                Owned::NftTable { .. } if lab.nat.is_empty() => {
                    if self.obs.nat.is_some() {
                        self.down[0].push(Self::act(
                            Kind::Remove,
                            Op::RemoveNat,
                            format!("delete nft table ip {}", super::nat::table_name(&lab.name)),
                            self.left(),
                        ));
                    } else {
                        self.plan.forget.push(o.clone());
                    }
                }
                Owned::Sysctl { netns, key, old } if !in_gone(netns) => {
                    if lab.sysctls(netns).iter().any(|(k, _)| k == key) {
                        continue;
                    }
                    let (op, text) = match netns {
                        None => (
                            Op::ReleaseShare { key: key.clone() },
                            match self.obs.shares.get(key) {
                                Some(s) if s.labs.iter().any(|l| *l != lab.name) => format!(
                                    "let go of sysctl {key} (host; still needed by {})",
                                    s.labs
                                        .iter()
                                        .filter(|l| **l != lab.name)
                                        .cloned()
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                                Some(s) => format!("restore sysctl {key}={} (host)", s.old),
                                None => format!("restore sysctl {key}={old} (host)"),
                            },
                        ),
                        Some(_) => (
                            Op::RestoreSysctl {
                                at: netns.clone(),
                                key: key.clone(),
                                old: old.clone(),
                            },
                            format!("restore sysctl {key}={old} ({})", place_name(netns)),
                        ),
                    };
                    self.down[1].push(Self::act(Kind::Remove, op, text, self.left()));
                }
                Owned::Route { netns, route } if !in_gone(netns) => {
                    let Ok(r) = RouteSpec::parse(route) else {
                        continue;
                    };
                    let want = lab.routes(netns);
                    if want.contains(&r) {
                        continue;
                    }
                    let there = self
                        .obs
                        .places
                        .get(netns)
                        .is_some_and(|p| p.routes.iter().any(|x| same_dst(x, &r)));
                    if want.iter().any(|w| w.dst == r.dst) || !there {
                        // Superseded by the file's new route to the same place, or gone.
                        self.plan.forget.push(o.clone());
                        continue;
                    }
                    self.down[2].push(Self::act(
                        Kind::Remove,
                        Op::DelRoute {
                            at: netns.clone(),
                            route: r,
                            text: route.clone(),
                        },
                        format!("delete route {route} ({})", place_name(netns)),
                        self.left(),
                    ));
                }
                Owned::Addr { netns, dev, addr } if !in_gone(netns) => {
                    let Some(p) = crate::wiring::prefix::parse(addr.as_bytes()) else {
                        continue;
                    };
                    if self
                        .wants_if(netns, dev)
                        .is_some_and(|i| i.addrs.iter().any(|a| norm(*a) == norm(p)))
                    {
                        continue;
                    }
                    let there = self.obs.places.get(netns).is_some_and(|pl| {
                        pl.links.get(dev).is_some_and(|l| {
                            pl.has_addr(
                                l.index,
                                p.addr.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into()),
                                p.len,
                            )
                        })
                    });
                    if !there {
                        self.plan.forget.push(o.clone());
                        continue;
                    }
                    self.down[3].push(Self::act(
                        Kind::Remove,
                        Op::DelAddr {
                            at: netns.clone(),
                            dev: dev.clone(),
                            addr: p,
                            adopted: true,
                        },
                        format!("delete {addr} from {dev} ({})", place_name(netns)),
                        self.left(),
                    ));
                }
                Owned::Adopted {
                    netns,
                    name,
                    up,
                    mtu,
                } if !in_gone(netns) => {
                    if self.wants_if(netns, name).is_some() {
                        continue;
                    }
                    let l = self.obs.places.get(netns).and_then(|p| p.links.get(name));
                    match l {
                        Some(l) if l.up != *up || (mtu.is_some() && l.mtu != *mtu) => self.down[4]
                            .push(Self::act(
                                Kind::Remove,
                                Op::RestoreLink {
                                    at: netns.clone(),
                                    name: name.clone(),
                                    up: *up,
                                    mtu: *mtu,
                                },
                                format!(
                                    "restore {name} ({}) to {}",
                                    place_name(netns),
                                    if *up { "up" } else { "down" }
                                ),
                                "adopted, and no longer in the file",
                            )),
                        _ => self.plan.forget.push(o.clone()),
                    }
                }
                Owned::Link { netns, name } if !in_gone(netns) => {
                    if self.link_wanted(netns, name) {
                        continue;
                    }
                    let l = self.obs.places.get(netns).and_then(|p| p.links.get(name));
                    let ix = &self.ix;
                    let ours = l.map(|l| {
                        ownership::link(
                            &self.j,
                            self.obs,
                            |at, n| ix.adopted.get(&(at.clone(), n.to_string())).copied(),
                            netns,
                            name,
                            l.index,
                        )
                    });
                    match (l, ours) {
                        (Some(l), Some(Link::Ours)) => self.down[5].push(Self::act(
                            Kind::Remove,
                            Op::DelLink {
                                at: netns.clone(),
                                name: name.clone(),
                                index: l.index,
                            },
                            format!("delete link {name} ({})", place_name(netns)),
                            self.left(),
                        )),
                        _ => self.plan.forget.push(o.clone()),
                    }
                }
                _ => {}
            }
        }
    }

    /// Why a removal happens: the lab left the file, or is being destroyed.
    fn left(&self) -> &'static str {
        if self.lab.namespaces.is_empty()
            && self.lab.bridges.is_empty()
            && self.lab.veths.is_empty()
            && self.lab.nat.is_empty()
            && self.lab.host_routes.is_empty()
            && self.lab.host_sysctls.is_empty()
        {
            ""
        } else {
            "no longer in the file"
        }
    }

    fn adopted_of(&self, at: &Where, name: &str) -> Option<(bool, Option<u32>)> {
        self.ix
            .adopted
            .get(&(at.clone(), name.to_string()))
            .copied()
    }

    /// An existing link the file names: whose is it, and what to do about a foreign one.
    /// Returns false when nothing may be planned on it.
    fn claim(&mut self, at: &Where, name: &str, l: &super::observe::LinkObs, what: &str) -> bool {
        let ix = &self.ix;
        let who = ownership::link(
            &self.j,
            self.obs,
            |a, n| ix.adopted.get(&(a.clone(), n.to_string())).copied(),
            at,
            name,
            l.index,
        );
        match who {
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

    fn links(&mut self) {
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
        for v in &lab.veths {
            if v.iter().any(|e| self.place(&e.at) == Place::Closed) {
                continue;
            }
            let seen: Vec<Option<super::observe::LinkObs>> = v
                .iter()
                .map(|e| self.seen(&e.at).and_then(|p| p.links.get(&e.name)).cloned())
                .collect();
            let pair = format!(
                "veth {} ({}) <-> {} ({})",
                v[0].name,
                place_name(&v[0].at),
                v[1].name,
                place_name(&v[1].at)
            );
            match (&seen[0], &seen[1]) {
                (Some(a), Some(b)) => {
                    let ok_a = self.claim(&v[0].at, &v[0].name, a, "interface");
                    let ok_b = self.claim(&v[1].at, &v[1].name, b, "interface");
                    if ok_a && ok_b {
                        self.plan.unchanged += 1;
                    }
                    continue;
                }
                (None, None) => {}
                (Some(l), None) | (None, Some(l)) => {
                    let k = usize::from(seen[0].is_none());
                    let (e, other) = (&v[k], &v[1 - k]);
                    let ix = &self.ix;
                    let who = ownership::link(
                        &self.j,
                        self.obs,
                        |a, n| ix.adopted.get(&(a.clone(), n.to_string())).copied(),
                        &e.at,
                        &e.name,
                        l.index,
                    );
                    if who != Link::Ours {
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
                        continue;
                    }
                    // The rest of a pair whose other end went (deleted by hand, or with a
                    // namespace the kernel is still tearing down): made again whole.
                    let dup = self.down[5].iter().any(|a| {
                        matches!(&a.op, Op::DelLink { at, name, .. } if *at == e.at && *name == e.name)
                    });
                    if !dup {
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
                    }
                }
            }
            // The host end makes the pair when there is one (one socket serves a whole
            // star), else the first end.
            let (m, p) = super::spec::maker(v);
            let end = |e: &IfSpec| End {
                at: e.at.clone(),
                name: e.name.clone(),
                mtu: e.mtu,
                bridge: e.bridge.clone(),
            };
            self.build.push(Self::act(
                Kind::Create,
                Op::CreateVeth {
                    maker: end(m),
                    peer: end(p),
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

    fn push_config(&mut self, at: &Where, slot: usize, a: Action) {
        self.config.entry(at.clone()).or_default()[slot].push(a);
    }

    /// Loopback, sysctls, links, addresses, snooping and routes of one place.
    fn configure(&mut self, at: &Where) {
        let state = self.place(at);
        if matches!(state, Place::Closed | Place::Gone) {
            return;
        }
        let lab = self.lab;
        let new = state == Place::New;
        let pn = place_name(at);
        let part_or = |k: Kind| if new { Kind::Part } else { k };
        let seen = self.seen(at).cloned().unwrap_or_default();
        if let Some(ns) = at.as_ref().and_then(|n| lab.netns(n)) {
            if ns.lo {
                match seen.links.get("lo") {
                    Some(l) if l.up => self.plan.unchanged += 1,
                    _ => {
                        let a = Self::act(
                            part_or(Kind::Change),
                            Op::LoUp { at: at.clone() },
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
                self.push_config(at, 0, a);
            }
        }
        let ifs: Vec<&IfSpec> = lab.interfaces(at).collect();
        for i in ifs {
            self.interface(at, i, &seen);
        }
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
                self.push_config(at, 3, a);
            }
        }
        self.routes(at, &seen, new);
    }

    fn interface(&mut self, at: &Where, i: &IfSpec, seen: &PlaceObs) {
        let pn = place_name(at);
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
        let adopted = self.adopted_of(at, &i.name).is_some();
        // A made veth's maker end is born up, with its MTU, in its bridge.
        let maker_born = fresh
            && !is_bridge
            && self
                .lab
                .index
                .makers
                .contains(&(at.clone(), i.name.clone()));
        let want_master: Option<Option<String>> = match (l, &i.bridge) {
            (None, Some(b)) => Some(Some(b.clone())),
            (None, None) => None,
            (Some(l), Some(b)) => {
                let bi = seen.links.get(b).map(|x| x.index);
                (bi.is_none() || l.master != bi).then(|| Some(b.clone()))
            }
            (Some(l), None) => {
                // A link of the lab's own that the file took out of its bridge.
                (l.master.is_some() && !adopted && !is_bridge).then_some(None)
            }
        };
        let want_mtu = match l {
            None => None,
            Some(l) => i.mtu.filter(|m| l.mtu != Some(*m)),
        };
        let want_up = if fresh {
            !maker_born
        } else {
            l.is_some_and(|l| !l.up)
        };
        if want_master.is_some() || want_mtu.is_some() || want_up {
            let mut why = Vec::new();
            if let Some(l) = l {
                if !l.up {
                    why.push("down".to_string());
                }
                match &want_master {
                    Some(Some(b)) => why.push(format!("not in bridge {b}")),
                    Some(None) => why.push("in a bridge the file does not name".into()),
                    None => {}
                }
                if let Some(m) = want_mtu {
                    why.push(format!("mtu {} instead of {m}", l.mtu.unwrap_or(0)));
                }
            }
            let mut what = Vec::new();
            if want_up {
                what.push("up".to_string());
            }
            match &want_master {
                Some(Some(b)) => what.push(format!("master {b}")),
                Some(None) => what.push("nomaster".into()),
                None => {}
            }
            if let Some(m) = want_mtu {
                what.push(format!("mtu {m}"));
            }
            let a = Self::act(
                if fresh { Kind::Part } else { Kind::Change },
                Op::SetLink {
                    at: at.clone(),
                    name: i.name.clone(),
                    up: want_up,
                    master: want_master,
                    mtu: want_mtu,
                },
                format!("set {} {} ({pn})", i.name, what.join(" ")),
                why.join(", "),
            );
            // A bridge comes up after its ports are in: each port that joins an up bridge
            // makes the kernel redo its port selection over every port.
            self.push_config(at, if is_bridge { 2 } else { 1 }, a);
        } else if !fresh {
            self.plan.unchanged += 1;
        }
        // Addresses: the file's exactly, on the lab's own links; on an adopted one, the file's
        // are added and only those nsctl added are ever removed.
        let index = l.map(|l| l.index);
        for a in &i.addrs {
            let ip = a.addr.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED.into());
            if index.is_some_and(|x| seen.has_addr(x, ip, a.len)) {
                self.plan.unchanged += 1;
                continue;
            }
            let act = Self::act(
                if fresh { Kind::Part } else { Kind::Create },
                Op::AddAddr {
                    at: at.clone(),
                    dev: i.name.clone(),
                    addr: *a,
                    adopted,
                },
                format!("add {} to {} ({pn})", addr_text(a), i.name),
                if fresh { "" } else { "missing" },
            );
            self.push_config(at, 1, act);
        }
        if let (Some(x), false) = (index, adopted) {
            let mut extra: Vec<(std::net::IpAddr, u8)> = seen
                .addrs
                .get(&x)
                .into_iter()
                .flatten()
                .filter(|(ip, len)| {
                    !kernel_made(ip)
                        && !i.addrs.iter().any(|a| a.addr == Some(*ip) && a.len == *len)
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
                    format!("delete {} from {} ({pn})", addr_text(&p), i.name),
                    "not in the file",
                ));
            }
        }
    }

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
                        if x == at && super::spec::same_subnet(addr, &gw))
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
                self.push_config(at, 4, a);
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
                Some(o) => {
                    let now = match o.via {
                        Some(v) => format!("via {v} now"),
                        None => "another route now".into(),
                    };
                    if !ours {
                        self.plan.foreign.push(format!(
                            "route {} ({pn}): {now}",
                            super::spec::RouteSpec {
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
            self.push_config(at, 4, a);
        }
    }

    /// The host's sysctls (shared with other labs) and NAT.
    fn host(&mut self) {
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
        let table = super::nat::table_name(&lab.name);
        let ours = self.j.owns(&Owned::NftTable {
            family: "ip".into(),
            name: table.clone(),
        });
        let want = super::nat::tags(&lab.nat, &lab.nets_v4());
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

    fn finish(mut self) -> Plan {
        let mut actions = Vec::new();
        for d in std::mem::take(&mut self.down) {
            actions.extend(d);
        }
        actions.append(&mut self.build);
        // Namespaces first, the host last: the namespace ends come up (carrier) before the
        // host ends join their bridge, so the bridge does its per-port work once per port.
        let mut order = self.lab.places();
        order.rotate_left(1);
        for at in order {
            if let Some(c) = self.config.remove(&at) {
                for slot in c {
                    actions.extend(slot);
                }
            }
        }
        actions.append(&mut self.host_last);
        self.plan.actions = actions;
        self.plan
    }
}

#[cfg(test)]
mod tests;
