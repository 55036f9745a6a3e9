//! Carrying out a plan (`plan.rs`): each phase's intents are journaled (and fsync'd) before
//! the phase runs, each action is one or two netlink requests on a socket that lives in its
//! place (reused from the observation), and the journal forgets what is gone. apply stops at
//! the first failure; destroy goes on and reports every one.

use std::collections::{HashMap, HashSet};
use std::os::fd::AsRawFd;

use netlink_packet_route::link::{
    InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::journal::{link_key, split_key, Journal, Owned};
use super::observe::{why, Observed, PlaceObs};
use super::places::{open_netns, Fail, Places};
use super::plan::{Action, End, Kind, Op, Plan};
use super::report::Tally;
use super::shares::{self, Take};
use super::spec::{place_name, Lab, RouteSpec, Where};
use super::{exit, LabError};
use crate::nl::{Failure, Socket};

/// How long destroy waits for the kernel to remove the veth ends of deleted namespaces
/// before it deletes them itself.
const LINGER: std::time::Duration = std::time::Duration::from_secs(10);

pub struct Exec<'a> {
    pub lab: &'a Lab,
    pub pl: &'a Places,
    pub j: Journal,
    pub obs: Observed,
    pub socks: HashMap<Where, Socket>,
    pub t: Tally,
    /// Go on after a failure (destroy), instead of stopping (apply).
    pub keep_going: bool,
    /// Places whose links changed since they were read.
    dirty: HashSet<Where>,
    /// Veth ends that go with a deleted namespace: (place, name).
    linger: Vec<(Where, String)>,
    /// Namespaces by inode -> processes in them, read once when first needed.
    holders: Option<HashMap<u64, Vec<u32>>>,
    /// Namespaces deleted in this phase, forgotten with their entries at its end.
    deleted: Vec<String>,
    /// The journal's routes by place, for the routes a phase sets (built on first use).
    routes: Option<HashMap<Where, Vec<(String, RouteSpec)>>>,
}

fn io(e: std::io::Error) -> Fail {
    format!(
        "cannot write the lab journal in {}: {}",
        super::journal::DIR,
        super::describe(&e)
    )
}

fn nl_fail(what: String) -> impl FnOnce(Failure) -> Fail {
    move |f| format!("{what} failed: {}", why(f))
}

impl<'a> Exec<'a> {
    pub fn new(
        lab: &'a Lab,
        pl: &'a Places,
        j: Journal,
        obs: Observed,
        t: Tally,
        keep_going: bool,
    ) -> Exec<'a> {
        Exec {
            lab,
            pl,
            j,
            obs,
            socks: HashMap::new(),
            t,
            keep_going,
            dirty: HashSet::new(),
            linger: Vec::new(),
            holders: None,
            deleted: Vec::new(),
            routes: None,
        }
    }

    /// Carry out `plan`. Err only for a failure that stops the run (the tally has the rest).
    pub fn run(&mut self, plan: &Plan) -> Result<(), LabError> {
        self.housekeeping(plan)?;
        let timing = std::env::var_os("NSCTL_PHASE_TIMES").is_some();
        let acts = &plan.actions;
        let mut i = 0;
        while i < acts.len() {
            let phase = acts[i].op.phase();
            let end = acts[i..]
                .iter()
                .position(|a| a.op.phase() != phase)
                .map_or(acts.len(), |k| i + k);
            let start = std::time::Instant::now();
            self.phase(phase, &acts[i..end])?;
            if timing {
                crate::output::err(
                    format!("phase {phase}: {:.3}s\n", start.elapsed().as_secs_f64()).as_bytes(),
                );
            }
            i = end;
        }
        self.j.save().map_err(io)?;
        Ok(())
    }

    /// Journal changes that need no action: stale and gone entries, cookies not yet known.
    fn housekeeping(&mut self, plan: &Plan) -> Result<(), LabError> {
        let before = (self.j.objects.len(), self.j.netns_cookie.len());
        for n in plan.stale.iter().chain(&plan.forget_places) {
            self.j.forget_place(n);
        }
        self.j.forget_all(&plan.forget);
        for (n, c) in &plan.cookies {
            self.j.netns_cookie.insert(n.clone(), *c);
        }
        if before != (self.j.objects.len(), self.j.netns_cookie.len()) {
            self.j.save().map_err(io)?;
        }
        Ok(())
    }

    fn phase(&mut self, phase: u8, acts: &[Action]) -> Result<(), LabError> {
        let intents = self.intents(acts)?;
        self.j.intend(intents).map_err(io)?;
        let names = [
            "removing",
            "namespaces",
            "bridges",
            "veth pairs",
            "configure",
            "host",
        ];
        let label = names.get(phase as usize).copied().unwrap_or("");
        for (k, a) in acts.iter().enumerate() {
            self.t.progress(label, k, acts.len());
            match self.one(a) {
                Ok(()) => match a.kind {
                    Kind::Create => self.t.created += 1,
                    Kind::Change => self.t.changed += 1,
                    Kind::Remove => self.t.removed += 1,
                    Kind::Part => {}
                },
                Err(m) => {
                    if self.pl.lost() || !self.keep_going {
                        let _ = self.j.save();
                        return Err(LabError::new(exit::FAILED, m));
                    }
                    self.t.fail(m);
                }
            }
        }
        self.t.progress(label, acts.len(), acts.len());
        let deleted = std::mem::take(&mut self.deleted);
        self.j.forget_places(&deleted);
        match phase {
            0 => self.wait_linger(),
            2 | 3 => self.record_indexes(acts).map_err(LabError::from)?,
            _ => {}
        }
        Ok(())
    }

    /// The journal entries a phase's actions need before they run.
    fn intents(&mut self, acts: &[Action]) -> Result<Vec<Owned>, Fail> {
        let mut out = Vec::new();
        for a in acts {
            match &a.op {
                Op::CreateNetns { name, .. } => out.push(Owned::Netns { name: name.clone() }),
                Op::AdoptNetns { name } => out.push(Owned::AdoptedNetns { name: name.clone() }),
                Op::CreateBridge { at, name, .. } => out.push(Owned::Link {
                    netns: at.clone(),
                    name: name.clone(),
                }),
                Op::AdoptLink { at, name, up, mtu } => out.push(Owned::Adopted {
                    netns: at.clone(),
                    name: name.clone(),
                    up: *up,
                    mtu: *mtu,
                }),
                Op::CreateVeth { first, second, .. } => {
                    let (netns, name) = split_key(first);
                    self.j.pair(first.clone(), second.clone());
                    out.push(Owned::Link { netns, name });
                }
                Op::SetSysctl { at, key, old, .. } if !self.sysctl_journaled(at, key) => {
                    out.push(self.sysctl_entry(at, key, old)?);
                }
                Op::HoldShare { key, old, .. } if !self.sysctl_journaled(&None, key) => {
                    out.push(self.sysctl_entry(&None, key, old)?);
                }
                Op::AddAddr {
                    at,
                    dev,
                    addr,
                    adopted: true,
                } => out.push(Owned::Addr {
                    netns: at.clone(),
                    dev: dev.clone(),
                    addr: format!(
                        "{}/{}",
                        addr.addr.map(|a| a.to_string()).unwrap_or_default(),
                        addr.len
                    ),
                }),
                Op::SetRoute { at, route } => {
                    // The file's earlier route to the same place is replaced by this one.
                    let j = &self.j;
                    let routes = self.routes.get_or_insert_with(|| {
                        let mut m: HashMap<Where, Vec<(String, RouteSpec)>> = HashMap::new();
                        for o in &j.objects {
                            if let Owned::Route { netns, route } = o {
                                if let Ok(r) = RouteSpec::parse(route) {
                                    m.entry(netns.clone()).or_default().push((route.clone(), r));
                                }
                            }
                        }
                        m
                    });
                    let old: Vec<Owned> = routes
                        .get(at)
                        .into_iter()
                        .flatten()
                        .filter(|(_, r)| r.dst == route.dst && r != route)
                        .map(|(t, _)| Owned::Route {
                            netns: at.clone(),
                            route: t.clone(),
                        })
                        .collect();
                    self.j.forget_all(&old);
                    out.push(Owned::Route {
                        netns: at.clone(),
                        route: route.to_string(),
                    });
                }
                Op::InstallNat => out.push(Owned::NftTable {
                    family: "ip".into(),
                    name: super::nat::table_name(&self.lab.name),
                }),
                _ => {}
            }
        }
        Ok(out)
    }

    /// The journal entry for a sysctl about to change: its value now, to put back.
    fn sysctl_entry(&self, at: &Where, key: &str, old: &Option<String>) -> Result<Owned, Fail> {
        let old = match old {
            Some(o) => o.clone(),
            None => self.pl.sysctl_get(at, key)?,
        };
        Ok(Owned::Sysctl {
            netns: at.clone(),
            key: key.to_string(),
            old,
        })
    }

    fn sysctl_journaled(&self, at: &Where, key: &str) -> bool {
        self.j
            .objects
            .iter()
            .any(|o| matches!(o, Owned::Sysctl { netns, key: k, .. } if netns == at && k == key))
    }

    /// A socket in `at`, opened once.
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

    /// The links of `at` as they are now (read again after anything was made or deleted).
    fn links(&mut self, at: &Where) -> Result<&PlaceObs, Fail> {
        if self.dirty.contains(at) || !self.obs.places.contains_key(at) {
            let s = self.sock(at)?;
            let links = super::observe::links(self.pl, &s)
                .map_err(|m| format!("{} ({}): {m}", "reading links", place_name(at)))?;
            self.obs.places.entry(at.clone()).or_default().links = links;
            self.dirty.remove(at);
        }
        Ok(&self.obs.places[at])
    }

    fn index(&mut self, at: &Where, name: &str) -> Result<u32, Fail> {
        self.links(at)?
            .links
            .get(name)
            .map(|l| l.index)
            .ok_or_else(|| format!("interface {name} ({}) is missing", place_name(at)))
    }

    /// Record the ifindex of each link just made outside the lab's own namespaces, so a
    /// later run can tell it from a same-named link made by someone else.
    fn record_indexes(&mut self, acts: &[Action]) -> Result<(), Fail> {
        let mut made: Vec<(Where, String)> = Vec::new();
        for a in acts {
            match &a.op {
                Op::CreateBridge { at, name, .. } => made.push((at.clone(), name.clone())),
                Op::CreateVeth { maker, peer, .. } => {
                    made.push((maker.at.clone(), maker.name.clone()));
                    made.push((peer.at.clone(), peer.name.clone()));
                }
                _ => {}
            }
        }
        let mut any = false;
        for (at, name) in made {
            let own = at
                .as_ref()
                .is_some_and(|n| self.j.owns(&Owned::Netns { name: n.clone() }));
            if own {
                continue;
            }
            if let Some(l) = self.links(&at)?.links.get(&name) {
                let index = l.index;
                self.j.link_index.insert(link_key(&at, &name), index);
                any = true;
            }
        }
        if any {
            self.j.save().map_err(io)?;
        }
        Ok(())
    }

    fn one(&mut self, a: &Action) -> Result<(), Fail> {
        let lab = self.lab;
        match &a.op {
            Op::RemoveNat => {
                super::nat::remove(&lab.name)?;
                self.j.forget(&Owned::NftTable {
                    family: "ip".into(),
                    name: super::nat::table_name(&lab.name),
                });
            }
            Op::ReleaseShare { key } => self.release(key)?,
            Op::RestoreSysctl { at, key, old } => {
                self.pl.sysctl_set(at, key, old)?;
                self.forget_sysctl(at, key);
            }
            Op::DelRoute { at, route, text } => {
                let s = self.sock(at)?;
                let oif = match &route.dev {
                    Some(d) => self.links(at)?.links.get(d).map(|l| l.index),
                    None => None,
                };
                if route.dev.is_none() || oif.is_some() {
                    let m = crate::wiring::route::message(
                        &crate::wiring::route::Spec {
                            dst: route.dst,
                            via: route.via,
                            oif,
                        },
                        false,
                    );
                    match crate::nl::route::delete(&self.pl.nl, &s, m) {
                        Ok(()) => {}
                        Err(Failure::Kernel(e)) if e.errno == libc::ESRCH => {}
                        Err(f) => return Err(nl_fail(a.text.clone())(f)),
                    }
                }
                self.j.forget(&Owned::Route {
                    netns: at.clone(),
                    route: text.clone(),
                });
            }
            Op::DelAddr {
                at,
                dev,
                addr,
                adopted,
            } => {
                let s = self.sock(at)?;
                if let Some(ix) = self.links(at)?.links.get(dev).map(|l| l.index) {
                    let m = crate::wiring::addr::message(*addr, ix, false);
                    match crate::nl::addr::delete(&self.pl.nl, &s, m) {
                        Ok(()) => {}
                        Err(Failure::Kernel(e)) if e.errno == libc::EADDRNOTAVAIL => {}
                        Err(f) => return Err(nl_fail(a.text.clone())(f)),
                    }
                }
                if *adopted {
                    self.j.forget(&Owned::Addr {
                        netns: at.clone(),
                        dev: dev.clone(),
                        addr: format!(
                            "{}/{}",
                            addr.addr.map(|x| x.to_string()).unwrap_or_default(),
                            addr.len
                        ),
                    });
                }
            }
            Op::RestoreLink { at, name, up, mtu } => {
                let s = self.sock(at)?;
                if let Some(ix) = self.links(at)?.links.get(name).map(|l| l.index) {
                    self.set_link(&s, ix, Some(*up), None, *mtu)
                        .map_err(nl_fail(a.text.clone()))?;
                }
                let entries: Vec<Owned> = self
                    .j
                    .objects
                    .iter()
                    .filter(|o| matches!(o, Owned::Adopted { netns, name: n, .. } if netns == at && n == name))
                    .cloned()
                    .collect();
                self.j.forget_all(&entries);
            }
            Op::DelLink { at, name, index } => {
                let s = self.sock(at)?;
                match crate::nl::link::delete(&self.pl.nl, &s, *index) {
                    Ok(()) => {}
                    Err(Failure::Kernel(e)) if e.errno == libc::ENODEV => {}
                    Err(f) => return Err(nl_fail(a.text.clone())(f)),
                }
                self.dirty.insert(at.clone());
                self.j.forget(&Owned::Link {
                    netns: at.clone(),
                    name: name.clone(),
                });
                self.j.link_index.remove(&link_key(at, name));
            }
            Op::DelNetns { name, bound, ends } => self.del_netns(name, *bound, ends)?,
            Op::CreateNetns { name, clear } => self.create_netns(name, *clear)?,
            Op::AdoptNetns { .. } | Op::AdoptLink { .. } => {}
            Op::CreateBridge { at, name, mtu } => {
                let s = self.sock(at)?;
                let mut m = LinkMessage::default();
                m.attributes.push(LinkAttribute::IfName(name.clone()));
                if let Some(mtu) = mtu {
                    m.attributes.push(LinkAttribute::Mtu(*mtu));
                }
                // Born with multicast snooping off, and switched on once its ports are in
                // (a Snooping action): with snooping on, every port that joins re-arms the
                // multicast query timers of every port already there, which is O(ports²)
                // over a star (about 9% of a 1,000-namespace apply).
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Bridge),
                    LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(false)])),
                ]));
                let r = crate::nl::link::create(&self.pl.nl, &s, m);
                self.dirty.insert(at.clone());
                if let Err(f) = r {
                    self.unintend(&Owned::Link {
                        netns: at.clone(),
                        name: name.clone(),
                    });
                    return Err(nl_fail(format!(
                        "creating bridge {name} ({})",
                        place_name(at)
                    ))(f));
                }
            }
            Op::CreateVeth {
                maker, peer, first, ..
            } => {
                if let Err(m) = self.create_veth(maker, peer) {
                    let (netns, name) = split_key(first);
                    self.unintend(&Owned::Link { netns, name });
                    return Err(m);
                }
            }
            Op::LoUp { at } => {
                let s = self.sock(at)?;
                let ix = self.index(at, "lo")?;
                self.set_link(&s, ix, Some(true), None, None)
                    .map_err(nl_fail(a.text.clone()))?;
            }
            Op::SetSysctl { at, key, value, .. } => self.pl.sysctl_set(at, key, value)?,
            Op::HoldShare {
                key, value, write, ..
            } => self.hold(key, value, *write)?,
            Op::SetLink {
                at,
                name,
                up,
                master,
                mtu,
            } => {
                let s = self.sock(at)?;
                let ix = self.index(at, name)?;
                let m = match master {
                    Some(Some(b)) => Some(self.index(at, b)?),
                    Some(None) => Some(0),
                    None => None,
                };
                self.set_link(&s, ix, up.then_some(true), m, *mtu)
                    .map_err(nl_fail(format!("configuring {name} ({})", place_name(at))))?;
            }
            Op::AddAddr { at, dev, addr, .. } => {
                let s = self.sock(at)?;
                let ix = self.index(at, dev)?;
                let m = crate::wiring::addr::message(*addr, ix, true);
                crate::nl::addr::replace(&self.pl.nl, &s, m).map_err(nl_fail(format!(
                    "adding {}/{} to {dev} ({})",
                    addr.addr.map(|x| x.to_string()).unwrap_or_default(),
                    addr.len,
                    place_name(at)
                )))?;
            }
            Op::SetRoute { at, route } => {
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
                )))?;
            }
            Op::Snooping { at, name } => {
                let s = self.sock(at)?;
                let ix = self.index(at, name)?;
                let mut m = LinkMessage::default();
                m.header.index = ix;
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Bridge),
                    LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(true)])),
                ]));
                crate::nl::link::change(&self.pl.nl, &s, m).map_err(nl_fail(a.text.clone()))?;
            }
            Op::InstallNat => {
                super::nat::install(&lab.name, &lab.nat, &lab.nets_v4())?;
            }
        }
        Ok(())
    }

    /// Drop an intent whose creation failed, and persist that at once.
    fn unintend(&mut self, o: &Owned) {
        self.j.forget(o);
        let _ = self.j.save();
    }

    fn forget_sysctl(&mut self, at: &Where, key: &str) {
        let e: Vec<Owned> = self
            .j
            .objects
            .iter()
            .filter(|o| matches!(o, Owned::Sysctl { netns, key: k, .. } if netns == at && k == key))
            .cloned()
            .collect();
        self.j.forget_all(&e);
    }

    fn set_link(
        &self,
        s: &Socket,
        index: u32,
        up: Option<bool>,
        master: Option<u32>,
        mtu: Option<u32>,
    ) -> Result<(), Failure> {
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
        crate::nl::link::change(&self.pl.nl, s, m)
    }

    fn create_netns(&mut self, name: &str, clear: bool) -> Result<(), Fail> {
        let path = crate::netns::run_path(name.as_bytes());
        if clear && crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) != 0 {
            return Err(format!(
                "removing the empty file /run/netns/{name} failed (see the message above)"
            ));
        }
        let rc = crate::netns::lifecycle::create(
            &mut crate::netns::sys::Real,
            name.as_bytes(),
            crate::netns::lifecycle::Source::New,
        );
        match rc {
            Ok(0) => {}
            Err(crate::error::Exit(_)) => {
                // add could not return to the original namespace: nothing after may run.
                return Err(format!(
                    "creating netns {name} left this process in another namespace; stopping"
                ));
            }
            Ok(_) => {
                // Nothing was made (add rolls itself back): the intent must not survive, or a
                // later destroy would remove a namespace of that name that is not nsctl's.
                self.unintend(&Owned::Netns {
                    name: name.to_string(),
                });
                return Err(format!(
                    "creating netns {name} failed (see the message above)"
                ));
            }
        }
        // Its socket, and the cookie that tells it from any later namespace of that name,
        // from one visit.
        let (socket, cookie) = self.pl.socket_and_cookie(name)?;
        let at = Some(name.to_string());
        if let Some(c) = cookie {
            self.j.netns_cookie.insert(name.to_string(), c);
        }
        self.socks.insert(at.clone(), socket);
        self.obs.places.insert(at.clone(), PlaceObs::default());
        self.dirty.insert(at);
        Ok(())
    }

    fn create_veth(&mut self, maker: &End, peer: &End) -> Result<(), Fail> {
        let s = self.sock(&maker.at)?;
        let peer_fd = match &peer.at {
            Some(n) if peer.at != maker.at => Some(open_netns(n)?),
            _ => None,
        };
        let master: Option<u32> = None;
        let mut p = LinkMessage::default();
        p.attributes.push(LinkAttribute::IfName(peer.name.clone()));
        if let Some(mtu) = peer.mtu {
            p.attributes.push(LinkAttribute::Mtu(mtu));
        }
        if let Some(fd) = &peer_fd {
            p.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
        }
        p.attributes.push(LinkAttribute::NumTxQueues(1));
        p.attributes.push(LinkAttribute::NumRxQueues(1));
        // The maker end is born up, with its MTU and in its bridge: one request instead of
        // three. (The peer cannot be born up: the kernel opens it before the pair is linked
        // and answers ENOTCONN.)
        let mut m = LinkMessage::default();
        m.header.flags = LinkFlags::Up;
        m.header.change_mask = LinkFlags::Up;
        m.attributes.push(LinkAttribute::IfName(maker.name.clone()));
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

    fn del_netns(&mut self, name: &str, bound: bool, ends: &[(Where, String)]) -> Result<(), Fail> {
        let path = crate::netns::run_path(name.as_bytes());
        let held = match (bound, crate::netns::ns_inode(name.as_bytes())) {
            (true, Ok(Some(ino))) => self.held_by(ino),
            _ => Vec::new(),
        };
        if !held.is_empty() {
            // The namespace outlives its name while a process runs in it, and so would its
            // veths: the ends outside go now, which takes their peers inside with them.
            for (at, n) in ends {
                if let Ok(Some(ix)) = self.links(at).map(|p| p.links.get(n).map(|l| l.index)) {
                    let s = self.sock(at)?;
                    let _ = crate::nl::link::delete(&self.pl.nl, &s, ix);
                    self.dirty.insert(at.clone());
                }
            }
        }
        if crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) != 0 {
            return Err(format!(
                "deleting netns {name} failed (see the message above)"
            ));
        }
        if !held.is_empty() {
            let who: Vec<String> = held
                .iter()
                .take(5)
                .map(|p| {
                    let comm = std::fs::read_to_string(format!("/proc/{p}/comm"))
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default();
                    format!("{p} ({comm})")
                })
                .collect();
            // Its entries stay in the journal but the name: the namespace lives on unnamed
            // until those processes end, and the next destroy or apply finds the name gone.
            return Err(format!(
                "netns {name}: its name and veth pairs are removed, but the namespace lives on while process {} still runs in it; stop {} and run destroy again",
                who.join(", "),
                if held.len() == 1 { "it" } else { "them" }
            ));
        }
        self.deleted.push(name.to_string());
        self.socks.remove(&Some(name.to_string()));
        self.linger.extend(ends.iter().cloned());
        Ok(())
    }

    /// Wait (bounded) for the veth ends of deleted namespaces to leave their places as the
    /// kernel tears the namespaces down; delete any still there, so nothing nsctl made is
    /// left when the run ends.
    fn wait_linger(&mut self) {
        let ends = std::mem::take(&mut self.linger);
        if ends.is_empty() {
            return;
        }
        let deadline = std::time::Instant::now() + LINGER;
        let mut left = ends;
        loop {
            let mut still = Vec::new();
            // Each place is read once per round.
            for (at, _) in &left {
                self.dirty.insert(at.clone());
            }
            for (at, n) in left {
                match self.links(&at) {
                    Ok(p) if p.links.contains_key(&n) => still.push((at, n)),
                    Ok(_) => {}
                    // The place itself is gone: so is the end.
                    Err(_) => {}
                }
            }
            left = still;
            if left.is_empty() || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for (at, n) in left {
            let ix = self
                .links(&at)
                .ok()
                .and_then(|p| p.links.get(&n).map(|l| l.index));
            if let (Some(ix), Ok(s)) = (ix, self.sock(&at)) {
                if let Err(f) = crate::nl::link::delete(&self.pl.nl, &s, ix) {
                    self.t.fail(format!(
                        "deleting {n} ({}), left by a deleted namespace, failed: {}",
                        place_name(&at),
                        why(f)
                    ));
                    continue;
                }
            }
            self.j.forget(&Owned::Link {
                netns: at.clone(),
                name: n.clone(),
            });
        }
        // The ends that went by themselves leave lone entries (see Journal::forget_place).
        let lone: Vec<Owned> = self
            .j
            .objects
            .iter()
            .filter(|o| matches!(o, Owned::Link { netns, name } if self.obs.places.get(netns).is_some_and(|p| !p.links.contains_key(name)) && !self.j.pairs.contains_key(&link_key(netns, name)) && !self.lab.bridges.iter().any(|b| &b.at == netns && &b.name == name)))
            .cloned()
            .collect();
        self.j.forget_all(&lone);
    }

    fn release(&mut self, key: &str) -> Result<(), Fail> {
        let lab = self.lab.name.clone();
        let _g = shares::lock().map_err(io)?;
        let mut s = shares::load().map_err(io)?;
        let restore = if s.contains_key(key) {
            shares::release(&mut s, &lab, key)
        } else {
            // A host sysctl journaled before the register knew it: this lab's own old value.
            self.j.objects.iter().find_map(|o| match o {
                Owned::Sysctl {
                    netns: None,
                    key: k,
                    old,
                } if k == key => Some(old.clone()),
                _ => None,
            })
        };
        shares::save(&s).map_err(io)?;
        if let Some(old) = restore {
            self.pl.sysctl_set(&None, key, &old)?;
        }
        self.forget_sysctl(&None, key);
        Ok(())
    }

    fn hold(&mut self, key: &str, value: &str, write: bool) -> Result<(), Fail> {
        let lab = self.lab.name.clone();
        let _g = shares::lock().map_err(io)?;
        let mut s = shares::load().map_err(io)?;
        let now = self.pl.sysctl_get(&None, key)?;
        if let Take::Conflict { value: v, labs } = shares::take(&s, &lab, key, value, Some(&now)) {
            return Err(format!(
                "host sysctl {key} is held at {v} by lab {}, and this lab wants {value}",
                labs.join(", ")
            ));
        }
        shares::hold(&mut s, &lab, key, value, &now);
        // The register knows the old value before the new one is written.
        shares::save(&s).map_err(io)?;
        if write || now != value {
            self.pl.sysctl_set(&None, key, value)?;
        }
        Ok(())
    }
}
