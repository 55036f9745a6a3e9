//! Carrying out a plan (`plan/`): each phase's intents are journaled (and fsync'd) before
//! the phase runs, each action is one or two netlink requests on a socket that lives in its
//! place (reused from the observation), and the journal forgets what is gone. apply stops at
//! the first failure; destroy goes on and reports every one. Every effect goes through a
//! [`Kernel`] (`kernel.rs`): the real one, or a recording fake in the unit tests (`tests.rs`).

use std::collections::{HashMap, HashSet};

use super::error::why;
use super::error::{exit, LabError};
use super::journal::{link_key, split_key, Journal, Owned};
use super::observe::{Observed, PlaceObs};
use super::places::Fail;
use super::plan::{Action, Kind, Op, Plan};
use super::report::Tally;
use super::spec::{place_name, Lab, RouteSpec, Where};
use crate::nl::Failure;

pub use kernel::{Kernel, Made, Real};

/// How long destroy waits for the kernel to remove the veth ends of deleted namespaces
/// before it deletes them itself.
const LINGER: std::time::Duration = std::time::Duration::from_secs(10);

/// What a run leaves: the tally the verbs print, the journal as last saved, and the failure
/// that stopped it (apply stops at the first; destroy only at one it cannot go past).
pub struct Outcome {
    pub t: Tally,
    pub j: Journal,
    pub res: Result<(), LabError>,
}

pub struct Exec<'a> {
    pub lab: &'a Lab,
    /// Where every effect goes.
    k: &'a mut dyn Kernel,
    pub j: Journal,
    pub obs: Observed,
    pub t: Tally,
    /// Go on after a failure (destroy), instead of stopping (apply).
    pub keep_going: bool,
    /// Places whose links changed since they were read.
    dirty: HashSet<Where>,
    /// Veth ends that go with a deleted namespace: (place, name).
    linger: Vec<(Where, String)>,
    /// Namespaces deleted in this phase, forgotten with their entries at its end.
    deleted: Vec<String>,
    /// The journal's routes by place, for the routes a phase sets (built on first use).
    routes: Option<HashMap<Where, Vec<(String, RouteSpec)>>>,
    /// What every hosts file lists (built on first use).
    hosts_body: Option<String>,
}

fn io(e: std::io::Error) -> Fail {
    format!(
        "cannot write the lab journal in {}: {}",
        super::journal::DIR,
        crate::lab::error::describe(&e)
    )
}

fn nl_fail(what: String) -> impl FnOnce(Failure) -> Fail {
    move |f| format!("{what} failed: {}", why(f))
}

/// The entry for what `op` takes over (namespace, link, adopted lo, address), to put back.
fn adopted_intent(op: &Op) -> Option<Owned> {
    match op {
        Op::AdoptNetns { name } => Some(Owned::AdoptedNetns { name: name.clone() }),
        Op::AdoptLink {
            at,
            name,
            up,
            mtu,
            master,
        } => Some(Owned::Adopted {
            netns: at.clone(),
            name: name.clone(),
            up: *up,
            mtu: *mtu,
            master: master.clone(),
        }),
        // The lo of an adopted namespace, down until the lab brings it up: destroy
        // puts it back down (a second apply finds the entry there already).
        Op::LoUp { at, adopted: true } => Some(Owned::Adopted {
            netns: at.clone(),
            name: "lo".into(),
            up: false,
            mtu: None,
            master: None,
        }),
        Op::AddAddr {
            at,
            dev,
            addr,
            adopted: true,
        } => Some(Owned::Addr {
            netns: at.clone(),
            dev: dev.clone(),
            addr: addr.to_string(),
        }),
        _ => None,
    }
}

impl<'a> Exec<'a> {
    pub fn new(
        lab: &'a Lab,
        k: &'a mut dyn Kernel,
        j: Journal,
        obs: Observed,
        t: Tally,
        keep_going: bool,
    ) -> Exec<'a> {
        Exec {
            lab,
            k,
            j,
            obs,
            t,
            keep_going,
            dirty: HashSet::new(),
            linger: Vec::new(),
            deleted: Vec::new(),
            routes: None,
            hosts_body: None,
        }
    }

    /// Carry out `plan`. Err only for a failure that stops the run (the tally has the rest).
    pub fn run(mut self, plan: Plan) -> Outcome {
        let res = self.carry_out(plan);
        Outcome {
            t: self.t,
            j: self.j,
            res,
        }
    }

    fn carry_out(&mut self, plan: Plan) -> Result<(), LabError> {
        self.housekeeping(&plan)?;
        let timing = std::env::var_os("NSCTL_PHASE_TIMES").is_some();
        let mut acts = plan.actions;
        while let Some(first) = acts.first() {
            let phase = first.op.phase();
            let end = acts
                .iter()
                .position(|a| a.op.phase() != phase)
                .unwrap_or(acts.len());
            let start = std::time::Instant::now();
            self.phase(phase, &acts[..end])?;
            if timing {
                crate::output::err(
                    format!("phase {phase}: {:.3}s\n", start.elapsed().as_secs_f64()).as_bytes(),
                );
            }
            // A phase's actions are dropped once it has run, and their room given back: what
            // the later phases read and journal grows as the plan shrinks (a lab of 10,000
            // plans tens of thousands of actions).
            acts.drain(..end);
            acts.shrink_to_fit();
        }
        self.save().map_err(io)?;
        Ok(())
    }

    /// Persist the journal.
    fn save(&mut self) -> std::io::Result<()> {
        self.k.journal_save(&self.j)
    }

    /// Journal `objs` (forgetting the ids of what is made again) and save, if that changed
    /// anything: the intents of a phase, on disk before any of it is done.
    fn intend(&mut self, objs: Vec<Owned>) -> std::io::Result<()> {
        let ids = |j: &Journal| j.netns_cookie.len() + j.link_index.len();
        let before = (ids(&self.j), self.j.objects.len());
        self.j.forget_ids(&objs);
        let forgot = ids(&self.j) != before.0;
        for o in objs {
            self.j.add(o);
        }
        if forgot || self.j.objects.len() != before.1 {
            self.save()?;
        }
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
            self.save().map_err(io)?;
        }
        Ok(())
    }

    fn phase(&mut self, phase: u8, acts: &[Action]) -> Result<(), LabError> {
        let intents = self.intents(acts)?;
        self.intend(intents).map_err(io)?;
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
            // Places are configured one after the other: a namespace's socket, and what was
            // read of it, are dropped once its turn is over (a lab of thousands would
            // otherwise hold thousands of sockets, their buffers and descriptors, and
            // megabytes of link tables no later step reads).
            if let (Some(prev), Some(at)) = (
                k.checked_sub(1).and_then(|p| acts[p].op.socket_place()),
                a.op.socket_place(),
            ) {
                if prev != at && prev.is_some() {
                    self.k.close(prev);
                    if phase == 4 {
                        self.obs.places.remove(prev);
                    }
                }
            }
            match self.one(a) {
                Ok(()) => match a.kind {
                    Kind::Create => self.t.created += 1,
                    Kind::Change => self.t.changed += 1,
                    Kind::Remove => self.t.removed += 1,
                    Kind::Part => {}
                },
                Err(m) => {
                    if self.k.lost() || !self.keep_going {
                        let _ = self.save();
                        return Err(LabError::new(exit::FAILED, m));
                    }
                    self.t.fail(m);
                }
            }
        }
        self.t.progress(label, acts.len(), acts.len());
        if phase == 4 {
            self.k.close_all();
        }
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
        let journaled = self.journaled_sysctls();
        for a in acts {
            if let Some(o) = self.made_intent(&a.op).or_else(|| adopted_intent(&a.op)) {
                out.push(o);
            } else {
                self.setting_intents(&a.op, &journaled, &mut out)?;
            }
        }
        Ok(out)
    }

    /// The sysctls journaled already (their first old value is the one to put back).
    fn journaled_sysctls(&self) -> HashSet<(Where, String)> {
        self.j
            .objects
            .iter()
            .filter_map(|o| match o {
                Owned::Sysctl { netns, key, .. } => Some((netns.clone(), key.clone())),
                _ => None,
            })
            .collect()
    }

    /// The entry for an object `op` makes (namespace, bridge, VXLAN, veth), if it makes one.
    fn made_intent(&mut self, op: &Op) -> Option<Owned> {
        match op {
            Op::CreateNetns { name, .. } => Some(Owned::Netns { name: name.clone() }),
            Op::CreateBridge { at, name, .. } | Op::CreateVxlan { at, name, .. } => {
                Some(Owned::Link {
                    netns: at.clone(),
                    name: name.clone(),
                })
            }
            Op::CreateVeth { first, second, .. } => {
                let (netns, name) = split_key(first);
                self.j.pair(first.clone(), second.clone());
                Some(Owned::Link { netns, name })
            }
            _ => None,
        }
    }

    /// The entries for settings `op` changes (sysctls, routes, qdiscs, hosts files, NAT).
    fn setting_intents(
        &mut self,
        op: &Op,
        journaled: &HashSet<(Where, String)>,
        out: &mut Vec<Owned>,
    ) -> Result<(), Fail> {
        let known = |at: &Where, key: &str| journaled.contains(&(at.clone(), key.to_string()));
        match op {
            Op::SetSysctl { at, key, old, .. } if !known(at, key) => {
                out.push(self.sysctl_entry(at, key, old)?);
            }
            Op::HoldShare { key, old, .. } if !known(&None, key) => {
                out.push(self.sysctl_entry(&None, key, old)?);
            }
            Op::SetRoute { at, route } => out.push(self.route_intent(at, route)),
            Op::SetQdisc { at, dev, .. } => out.push(Owned::Shaped {
                netns: at.clone(),
                dev: dev.clone(),
            }),
            Op::WriteHosts { netns } => {
                self.dir_intents(netns, out);
                out.push(Owned::Hosts {
                    netns: netns.clone(),
                })
            }
            Op::InstallNat => out.push(Owned::NftTable {
                family: "ip".into(),
                name: super::nat::table_name(&self.lab.name),
            }),
            _ => {}
        }
        Ok(())
    }

    /// The entry for `route` in `at`, forgetting the file's earlier route it replaces.
    fn route_intent(&mut self, at: &Where, route: &RouteSpec) -> Owned {
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
        Owned::Route {
            netns: at.clone(),
            route: route.to_string(),
        }
    }

    /// The journal entry for a sysctl about to change: its value now, to put back.
    fn sysctl_entry(&mut self, at: &Where, key: &str, old: &Option<String>) -> Result<Owned, Fail> {
        let old = match old {
            Some(o) => o.clone(),
            None => self.k.sysctl_get(at, key)?,
        };
        Ok(Owned::Sysctl {
            netns: at.clone(),
            key: key.to_string(),
            old,
        })
    }

    /// The links of `at` as they are now (read again after anything was made or deleted).
    fn links(&mut self, at: &Where) -> Result<&PlaceObs, Fail> {
        if self.dirty.contains(at) || !self.obs.places.contains_key(at) {
            let links = self
                .k
                .links(at)
                .map_err(|m| format!("reading links ({}): {m}", place_name(at)))?;
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
                Op::CreateBridge { at, name, .. } | Op::CreateVxlan { at, name, .. } => {
                    made.push((at.clone(), name.clone()))
                }
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
            self.save().map_err(io)?;
        }
        Ok(())
    }

    /// Carry out one action.
    fn one(&mut self, a: &Action) -> Result<(), Fail> {
        let lab = self.lab;
        match &a.op {
            Op::RemoveNat => self.remove_nat(),
            Op::ReleaseShare { key } => self.release(key),
            Op::RestoreSysctl { at, key, old } => {
                self.k.sysctl_set(at, key, old)?;
                self.forget_sysctl(at, key);
                Ok(())
            }
            Op::DelRoute { at, route, text } => self.del_route(a, at, route, text),
            Op::DelAddr {
                at,
                dev,
                addr,
                adopted,
            } => self.del_addr(a, at, dev, addr, *adopted),
            Op::RestoreLink {
                at,
                name,
                up,
                mtu,
                master,
            } => self.restore_link(a, at, name, *up, *mtu, master),
            Op::DelLink { at, name, index } => self.del_link(a, at, name, *index),
            Op::DelNetns { name, bound, ends } => self.del_netns(name, *bound, ends),
            Op::CreateNetns { name, clear } => self.create_netns(name, *clear),
            Op::AdoptNetns { .. } | Op::AdoptLink { .. } => Ok(()),
            Op::CreateBridge { at, name, mtu, mac } => self.create_bridge(at, name, *mtu, mac),
            Op::CreateVxlan {
                at,
                name,
                mtu,
                tunnel,
                mac,
            } => self.create_vxlan(at, name, *mtu, mac, tunnel),
            Op::CreateVeth {
                maker, peer, first, ..
            } => self.create_veth(maker, peer).inspect_err(|_| {
                let (netns, name) = split_key(first);
                self.unintend(&Owned::Link { netns, name });
            }),
            Op::LoUp { at, .. } => self.lo_up(a, at),
            Op::SetSysctl { at, key, value, .. } => self.k.sysctl_set(at, key, value),
            Op::HoldShare {
                key, value, write, ..
            } => self.hold(key, value, *write),
            Op::SetLink {
                at,
                name,
                up,
                master,
                mtu,
                quiet,
            } => self.configure_link(at, name, *up, master, *mtu, *quiet),
            Op::AddAddr { at, dev, addr, .. } => self.add_addr(at, dev, addr),
            Op::SetRoute { at, route } => self.set_route(at, route),
            Op::Snooping { at, name } => self.snooping(a, at, name),
            Op::InstallNat => self.k.nat_install(lab),
            Op::SetQdisc { at, dev, q } => self.set_qdisc(at, dev, Some(q)),
            Op::DelQdisc { at, dev } => self.set_qdisc(at, dev, None),
            Op::WriteHosts { netns } => self.write_hosts(netns),
            Op::DelHosts { netns } => self.del_hosts(netns),
            Op::RemoveEtcDir { netns } => self.remove_etc_dir(netns),
        }
    }

    /// Drop an intent whose creation failed, and persist that at once.
    fn unintend(&mut self, o: &Owned) {
        self.j.forget(o);
        let _ = self.save();
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
}

#[cfg(test)]
pub mod fake;
mod files;
mod host;
mod kernel;
mod links;
mod namespaces;
#[cfg(test)]
mod tests;
