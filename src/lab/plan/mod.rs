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

use super::journal::{link_key, Journal, Owned};
use super::observe::{Observed, PlaceObs};
use super::ownership::{self, Link, Netns};
use super::spec::{IfSpec, Lab, RouteSpec, Where};
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
    /// The bridge it joins (when configured). A bridge port is born down and comes up as it
    /// joins.
    pub bridge: Option<String>,
    /// Its MAC address, from the file (machines::derive_macs).
    pub mac: [u8; 6],
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
    /// An adopted interface put back as it was: up or down, its MTU, and (`master`, when
    /// it changed) the bridge it was in (Some(None): none).
    RestoreLink {
        at: Where,
        name: String,
        up: bool,
        mtu: Option<u32>,
        master: Option<Option<String>>,
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
    /// `up`, `mtu`, `master`: as it is, journaled to put back (`master`: the bridge it is
    /// in, Some(None) none, None not known).
    AdoptLink {
        at: Where,
        name: String,
        up: bool,
        mtu: Option<u32>,
        master: Option<Option<String>>,
    },
    CreateBridge {
        at: Where,
        name: String,
        mtu: Option<u32>,
        mac: [u8; 6],
    },
    /// `maker` is made (born up, in its bridge) with `peer` born in its own place; the
    /// journal keys the pair by `first` (the file's first end). The ends are boxed: every
    /// action is the size of the largest, and a lab of 10,000 plans about 60,000 of them.
    CreateVeth {
        maker: Box<End>,
        peer: Box<End>,
        first: String,
        second: String,
    },
    /// A vxlan link standing for a veth end whose peer is on another machine (machines.rs):
    /// made from the host namespace, where its UDP socket stays, and born in `at`.
    CreateVxlan {
        at: Where,
        name: String,
        mtu: Option<u32>,
        tunnel: Box<crate::lab::machines::Tunnel>,
        mac: [u8; 6],
    },
    /// `adopted`: the namespace is adopted, and its lo was down: that is journaled first
    /// (as an adopted interface), so destroy puts it back down.
    LoUp {
        at: Where,
        adopted: bool,
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
    /// `master`: Some(Some(bridge)) join it, Some(None) leave any. `quiet`: a new bridge
    /// port with no addresses, brought up with IPv6 off (no link-local address, DAD, MLD or
    /// routes: in a host with thousands of ports their routes of one prefix share one IPv6
    /// table, and adding each walks all the others).
    SetLink {
        at: Where,
        name: String,
        up: bool,
        master: Option<Option<String>>,
        mtu: Option<u32>,
        quiet: bool,
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
    /// The root qdisc of a shaped end, set (or replaced).
    SetQdisc {
        at: Where,
        dev: String,
        q: crate::nl::qdisc::Qdisc,
    },
    /// Shaping that left the file: the end's root qdisc goes back to the default.
    DelQdisc {
        at: Where,
        dev: String,
    },
    /// /etc/netns/NAME/hosts, written whole.
    WriteHosts {
        netns: String,
    },
    DelHosts {
        netns: String,
    },
    /// A directory nsctl made for hosts files, removed when empty (None: /etc/netns).
    RemoveEtcDir {
        netns: Option<String>,
    },
}

impl Op {
    /// The place a configuring action works in.
    pub fn place(&self) -> Option<&Where> {
        match self {
            Op::LoUp { at, .. }
            | Op::SetSysctl { at, .. }
            | Op::SetLink { at, .. }
            | Op::AddAddr { at, .. }
            | Op::SetRoute { at, .. }
            | Op::SetQdisc { at, .. }
            | Op::Snooping { at, .. } => Some(at),
            _ => None,
        }
    }

    /// The place whose netlink socket an action uses: a configuring action's place, or the
    /// place a veth pair is made from.
    pub fn socket_place(&self) -> Option<&Where> {
        match self {
            Op::CreateVeth { maker, .. } => Some(&maker.at),
            o => o.place(),
        }
    }

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
            | Op::DelNetns { .. }
            | Op::DelHosts { .. }
            | Op::DelQdisc { .. }
            | Op::RemoveEtcDir { .. } => 0,
            Op::CreateNetns { .. } | Op::AdoptNetns { .. } => 1,
            // A namespace's default for new links, set before its links are made (and after
            // the namespace is, so that the old value can be read and journaled first).
            Op::SetSysctl {
                at: Some(_), key, ..
            } if crate::lab::spec::is_link_default(key) => 2,
            Op::CreateBridge { .. } | Op::AdoptLink { .. } => 2,
            Op::CreateVeth { .. } | Op::CreateVxlan { .. } => 3,
            Op::LoUp { .. }
            | Op::SetSysctl { .. }
            | Op::SetLink { .. }
            | Op::AddAddr { .. }
            | Op::SetRoute { .. }
            | Op::SetQdisc { .. }
            | Op::Snooping { .. } => 4,
            Op::HoldShare { .. } | Op::InstallNat | Op::WriteHosts { .. } => 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub kind: Kind,
    pub op: Op,
    /// What is done, e.g. `create netns A`, `set eth0 up (netns A)`.
    pub text: String,
    /// Why, e.g. `missing`, `down`, `left the file`; may be empty. Mostly a fixed text,
    /// which then takes no allocation (a lab of 10,000 plans about 70,000 actions).
    pub why: std::borrow::Cow<'static, str>,
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
                    ..
                } => {
                    ix.adopted
                        .insert((netns.clone(), name.clone()), (*up, *mtu));
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
    /// Each place's configuring actions: (the place's turn, its slot, a sequence number, the
    /// action), put in order by `finish`. One list, not five per place: a lab of thousands of
    /// places has a few actions in each, and five small vectors each would hold mostly spare
    /// room.
    config: Vec<(u32, u8, u32, Action)>,
    /// Namespaces' sysctls that links copy when made (`conf.default.*`): set in phase 2,
    /// before the first link is made.
    early: Vec<Action>,
    /// The turn of each place in configuring: namespaces in file order, then the host.
    turn: HashMap<Where, u32>,
    /// The places that hold a bridge of the file.
    bridged: HashSet<Where>,
    host_last: Vec<Action>,
    /// Links this plan creates: (place, name).
    fresh: HashSet<(Where, String)>,
    /// Links the file names that are not the lab's and not adopted: nothing is planned on
    /// them.
    closed: HashSet<(Where, String)>,
    /// Directories nsctl made in /etc that nothing needs any more (files.rs).
    dirs_left: Vec<Option<String>>,
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
        config: Vec::new(),
        early: Vec::new(),
        turn: HashMap::new(),
        bridged: lab.bridges.iter().map(|b| b.at.clone()).collect(),
        host_last: Vec::new(),
        fresh: HashSet::new(),
        closed: HashSet::new(),
        dirs_left: Vec::new(),
    };
    // Namespaces first, the host last: the namespace ends come up (carrier) before the
    // host ends join their bridge, so the bridge does its per-port work once per port.
    let mut order = lab.places();
    order.rotate_left(1);
    p.turn = order.into_iter().zip(0..).collect();
    p.stale();
    p.ix = Index::new(&p.j);
    p.namespaces();
    p.teardown();
    p.links();
    for at in lab.places() {
        p.configure(&at);
    }
    p.host();
    p.hosts();
    p.finish()
}

impl Planner<'_> {
    fn act(
        kind: Kind,
        op: Op,
        text: String,
        why: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Action {
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

    /// Whether the file still wants the link journaled as `Link { at, name }`.
    fn link_wanted(&self, at: &Where, name: &str) -> bool {
        let ix = &self.lab.index;
        let k = (at.clone(), name.to_string());
        if ix.bridges.contains(&k) || ix.tunnels.contains(&k) {
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

    /// The bridge that link `l` of `at` is in, by name: Some(None) in none, None when its
    /// master is no link seen there.
    fn master_name(&self, at: &Where, l: &super::observe::LinkObs) -> Option<Option<String>> {
        let Some(m) = l.master else {
            return Some(None);
        };
        let links = &self.obs.places.get(at)?.links;
        links
            .iter()
            .find(|(_, x)| x.index == m)
            .map(|(n, _)| Some(n.clone()))
    }

    fn adopted_of(&self, at: &Where, name: &str) -> Option<(bool, Option<u32>)> {
        self.ix
            .adopted
            .get(&(at.clone(), name.to_string()))
            .copied()
    }

    /// Whose is the link `name` in `at` (ifindex `index`)? The one ownership rule.
    fn link_owner(&self, at: &Where, name: &str, index: u32) -> Link {
        let ix = &self.ix;
        ownership::link(
            &self.j,
            self.obs,
            |a, n| ix.adopted.get(&(a.clone(), n.to_string())).copied(),
            at,
            name,
            index,
        )
    }

    fn finish(mut self) -> Plan {
        let mut actions = Vec::new();
        // A link can be due to go for two reasons (its pair left the file, and its peer went
        // with a namespace): it is deleted once.
        let mut deleting: HashSet<(Where, String)> = HashSet::new();
        for d in std::mem::take(&mut self.down) {
            actions.extend(d.into_iter().filter(|a| match &a.op {
                Op::DelLink { at, name, .. } => deleting.insert((at.clone(), name.clone())),
                _ => true,
            }));
        }
        // The namespaces' defaults for new links go first in phase 2, before any link is made.
        let at = self.build.iter().position(|a| a.op.phase() >= 2);
        let early = std::mem::take(&mut self.early);
        match at {
            Some(k) => {
                self.build.splice(k..k, early);
            }
            None => self.build.extend(early),
        }
        actions.append(&mut self.build);
        // Within a slot, actions keep the order they were planned in (the sequence number):
        // an unstable sort needs no buffer, where a stable one takes up to 8 MB for a lab
        // of 10,000.
        self.config
            .sort_unstable_by_key(|(turn, slot, seq, _)| (*turn, *slot, *seq));
        // The configuring actions stay in the buffer they were planned in (an in-place
        // collect), and the teardown and build go in front of them: copied into a new list,
        // the 60,000 of a lab of 10,000 would briefly be held twice (11 MB).
        let mut all: Vec<Action> = std::mem::take(&mut self.config)
            .into_iter()
            .map(|(_, _, _, a)| a)
            .collect();
        all.splice(0..0, actions);
        all.append(&mut self.host_last);
        self.plan.actions = all;
        self.plan
    }
}

mod build;
mod configure;
mod files;
mod teardown;

#[cfg(test)]
mod tests;
