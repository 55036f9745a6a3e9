//! `nsctl apply FILE`: build the lab, or converge a partly built or changed one to FILE.
//!
//! Phases: namespaces, bridges, veth pairs (each peer born in its namespace), then per place
//! (host, then each namespace) loopback, sysctls, masters, MTUs, links up, addresses and
//! routes, then the host's sysctls and NAT. Every object is checked before it is touched, so
//! a second run changes nothing. Intents go to the journal before each creating phase.

use std::collections::{BTreeSet, HashSet};
use std::os::fd::AsRawFd;
use std::path::Path;

use netlink_packet_route::link::{
    InfoBridge, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::observe::{why, Seen};
use super::places::{open_netns, Places};
use super::report::Tally;
use super::spec::{IfSpec, Lab, Where};
use super::state::{Journal, Owned};
use super::{nat, LabError};
use crate::nl::Socket;

pub struct Opts {
    pub dry_run: bool,
    pub adopt: bool,
    pub json: bool,
}

pub(super) fn place_name(at: &Where) -> String {
    at.as_ref()
        .map(|n| format!("netns {n}"))
        .unwrap_or_else(|| "host".into())
}

pub(super) fn io(e: std::io::Error) -> LabError {
    LabError::new(
        1,
        format!(
            "cannot write the lab journal in {}: {}",
            super::state::DIR,
            crate::error::io_errstr(&e)
        ),
    )
}

/// Every interface the lab puts in `at`: bridges first, then veth ends.
pub fn interfaces<'a>(lab: &'a Lab, at: &Where) -> Vec<&'a IfSpec> {
    lab.bridges
        .iter()
        .chain(lab.veths.iter().flatten())
        .filter(|i| &i.at == at)
        .collect()
}

/// All places of the lab: the host, then each namespace in file order.
pub fn places(lab: &Lab) -> Vec<Where> {
    std::iter::once(None)
        .chain(lab.namespaces.iter().map(|n| Some(n.name.clone())))
        .collect()
}

/// The journal entry that owns a veth pair (by its first end).
pub fn veth_owner(v: &[IfSpec; 2]) -> Owned {
    Owned::Link {
        netns: v[0].at.clone(),
        name: v[0].name.clone(),
    }
}

pub fn existing_namespaces() -> BTreeSet<String> {
    crate::commands::list::entries()
        .unwrap_or_default()
        .into_iter()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .collect()
}

/// Names of this lab's namespaces that are empty files, not namespaces: an apply killed
/// between creating the file and binding it left them. They are removed (a dry run only
/// plans it), so the namespace is made again. Only a file that is positively not a
/// namespace counts; an error reading it leaves it alone.
fn clear_unbound(j: &Journal, have: &mut BTreeSet<String>, dry: bool) {
    let stale: Vec<String> = have
        .iter()
        .filter(|n| {
            j.owns(&Owned::Netns {
                name: n.to_string(),
            }) && crate::netns::is_unbound(n.as_bytes())
        })
        .cloned()
        .collect();
    for n in stale {
        let path = crate::netns::run_path(n.as_bytes());
        if dry || crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) == 0 {
            have.remove(&n);
        }
    }
}

/// Journaled namespaces that exist but are not the ones nsctl made (their cookie differs):
/// someone deleted one and made another under its name.
pub fn replaced_namespaces(
    lab: &Lab,
    j: &Journal,
    pl: &Places,
    have_ns: &BTreeSet<String>,
) -> Result<HashSet<String>, LabError> {
    let mut out = HashSet::new();
    for n in lab.namespaces.iter().map(|n| &n.name) {
        let journaled = j.owns(&Owned::Netns {
            name: n.to_string(),
        });
        if have_ns.contains(n) && journaled {
            let ours = j.owns_netns(n, || pl.cookie_now(n)).map_err(|m| {
                LabError::new(
                    1,
                    format!("cannot tell whether netns {n} is still the one nsctl made: {m}; nothing was changed"),
                )
            })?;
            if !ours {
                out.insert(n.clone());
            }
        }
    }
    Ok(out)
}

/// The lab's nft table (`ip nsctl-LAB`), when the lab has NAT and the table exists but is not
/// in the journal: someone else made it, or a journal was lost.
fn foreign_nat_table(lab: &Lab, j: &Journal) -> Result<Option<String>, LabError> {
    if lab.nat.is_empty() {
        return Ok(None);
    }
    let name = nat::table_name(&lab.name);
    let ours = j.owns(&Owned::NftTable {
        family: "ip".into(),
        name: name.clone(),
    });
    let exists = nat::current(&lab.name)
        .map_err(|m| LabError::new(1, m))?
        .is_some();
    Ok((exists && !ours).then_some(name))
}

/// Objects the file names that exist but that nsctl did not create.
pub fn foreign(
    lab: &Lab,
    j: &Journal,
    pl: &Places,
    have_ns: &BTreeSet<String>,
    replaced: &HashSet<String>,
) -> Result<Vec<String>, LabError> {
    let mut out = Vec::new();
    let mut foreign_ns = HashSet::new();
    for ns in &lab.namespaces {
        let ours = j.owns(&Owned::Netns {
            name: ns.name.clone(),
        }) && !replaced.contains(&ns.name);
        if have_ns.contains(&ns.name) && !ours {
            out.push(format!("netns \"{}\"", ns.name));
            foreign_ns.insert(ns.name.clone());
        }
    }
    // Links can only be foreign in the host or in a namespace nsctl did not create.
    for at in places(lab) {
        let check = match &at {
            None => true,
            Some(n) => foreign_ns.contains(n),
        };
        if !check {
            continue;
        }
        let sock = pl.socket(&at).map_err(|m| LabError::new(1, m))?;
        let seen =
            Seen::links(pl, sock.as_ref().unwrap_or(pl.host())).map_err(|m| LabError::new(1, m))?;
        for b in lab.bridges.iter().filter(|b| b.at == at) {
            let own = Owned::Link {
                netns: at.clone(),
                name: b.name.clone(),
            };
            if seen
                .links
                .get(&b.name)
                .is_some_and(|l| !j.owns_link(&own, l.index))
            {
                out.push(format!("bridge \"{}\" ({})", b.name, place_name(&at)));
            }
        }
        for v in &lab.veths {
            for e in v.iter().filter(|e| e.at == at) {
                let Some(l) = seen.links.get(&e.name) else {
                    continue;
                };
                // The end that names the pair is checked by its ifindex too.
                let owner = veth_owner(v);
                let ours = if e.name == v[0].name && e.at == v[0].at {
                    j.owns_link(&owner, l.index)
                } else {
                    j.owns(&owner)
                };
                if !ours {
                    out.push(format!("interface \"{}\" ({})", e.name, place_name(&at)));
                }
            }
        }
    }
    Ok(out)
}

/// The work of one apply.
pub(super) struct Run<'a> {
    pub(super) lab: &'a Lab,
    pub(super) pl: Places,
    pub(super) j: Journal,
    pub(super) t: Tally,
    pub(super) dry: bool,
    /// Objects created by this run (their later set-up is part of the creation).
    pub(super) fresh: HashSet<(Where, String)>,
    /// Journaled namespaces that someone deleted and made again (taken only with --adopt).
    pub(super) replaced: HashSet<String>,
}

pub fn run(path: &Path, o: Opts) -> Result<i32, LabError> {
    let lab = super::load(path)?;
    let shown = path.display();
    if !lab.nat.is_empty() && !nat::nft_available() {
        return Err(LabError::new(
            4,
            format!("apply {shown}: the lab asks for NAT, which needs nft, and nft is not installed; install nftables (apt-get install nftables) and run apply again. Nothing was changed."),
        ));
    }
    let _lock = if o.dry_run {
        None
    } else {
        Some(super::lock(&lab.name)?)
    };
    let j = super::journal(&lab.name)?;
    let pl = Places::new().map_err(|m| LabError::new(1, m))?;
    let mut have_ns = existing_namespaces();
    if let Some(t) = foreign_nat_table(&lab, &j)? {
        // Adopting cannot help: installing the lab's NAT replaces the table's contents.
        return Err(LabError::new(
            3,
            format!("apply {shown}: refusing to replace nft table ip {t}, which nsctl did not create; delete it (nft delete table ip {t}) or give the lab another name, then run apply again. Nothing was changed."),
        ));
    }
    let mut replaced = replaced_namespaces(&lab, &j, &pl, &have_ns)?;
    let foreign = foreign(&lab, &j, &pl, &have_ns, &replaced)?;
    if !foreign.is_empty() && !o.adopt {
        return Err(LabError::new(
            3,
            format!(
                "apply {shown}: refusing to take over what nsctl did not create: {}; rename them in the file, remove them, or run apply --adopt to use them as they are (nsctl will never delete them). Nothing was changed.",
                foreign.join(", ")
            ),
        ));
    }
    let mut j = j;
    if !o.dry_run && !replaced.is_empty() {
        // --adopt takes a namespace someone made again under a journaled name: the entries of
        // the namespace nsctl made are stale, and from here on it is an ordinary foreign one
        // (what apply adds to it is journaled as for any adopted object).
        for n in replaced.drain() {
            j.forget_place(&n);
        }
        j.save().map_err(io)?;
    }
    clear_unbound(&j, &mut have_ns, o.dry_run);
    let objects = lab.namespaces.len() + lab.bridges.len() + lab.veths.len();
    let mut r = Run {
        lab: &lab,
        pl,
        j,
        t: Tally::new("apply", &lab.name, objects),
        dry: o.dry_run,
        fresh: HashSet::new(),
        replaced,
    };
    let was_empty = r.j.objects.is_empty();
    let res = r.all(&have_ns);
    if let Err(e) = res {
        r.t.fail(e.msg.clone());
        if was_empty && !r.dry {
            // A lab that did not exist before this run is rolled back whole.
            drop(r.pl);
            let undone = super::destroy::by_journal(&lab.name, &lab, false);
            let tail = match undone {
                Ok(_) => "everything this run created was removed again".to_string(),
                Err(u) => format!(
                    "and rolling back failed too: {}; run nsctl destroy {shown}",
                    u.msg
                ),
            };
            return Err(LabError::new(
                e.code,
                format!("apply {shown}: {}; {tail}", e.msg),
            ));
        }
        // Keep what this run learnt (namespace cookies) for the next one.
        if !r.dry {
            let _ = r.j.save();
        }
        r.t.print(o.json, r.dry);
        return Err(LabError::new(
            e.code,
            format!(
                "apply {shown}: {}; run apply again to converge, or nsctl destroy {shown}",
                e.msg
            ),
        ));
    }
    r.t.print(o.json, r.dry);
    Ok(if r.t.failed > 0 { 1 } else { 0 })
}

impl Run<'_> {
    /// Drop an intent whose creation failed, and persist that at once.
    pub(super) fn unintend(&mut self, o: &Owned) {
        self.j.forget(o);
        let _ = self.j.save();
    }

    pub(super) fn plan(&mut self, what: String) {
        self.t.lines.push(what);
    }

    fn all(&mut self, have_ns: &BTreeSet<String>) -> Result<(), LabError> {
        // NSCTL_PHASE_TIMES=1 prints each phase's wall time on stderr (for bench/run.sh).
        let timing = std::env::var_os("NSCTL_PHASE_TIMES").is_some();
        let mut mark = std::time::Instant::now();
        let mut lap = |phase: &str| {
            if timing {
                crate::output::err(
                    format!("phase {phase}: {:.3}s\n", mark.elapsed().as_secs_f64()).as_bytes(),
                );
            }
            mark = std::time::Instant::now();
        };
        self.namespaces(have_ns)?;
        lap("namespaces");
        self.bridges(have_ns)?;
        lap("bridges");
        self.veths(have_ns)?;
        lap("veths");
        // Namespaces first, the host last: the namespace ends come up (carrier) before the
        // host ends join their bridge, so the bridge does its per-port work once per port.
        let mut places = places(self.lab);
        places.rotate_left(1);
        let cookies = self.j.netns_cookie.clone();
        for (k, at) in places.iter().enumerate() {
            self.t.progress("configure", k, places.len());
            self.configure(at, have_ns)?;
        }
        self.t.progress("configure", places.len(), places.len());
        // The cookies recorded in configure go to the journal.
        if !self.dry && self.j.netns_cookie != cookies {
            self.j.save().map_err(io)?;
        }
        lap("configure");
        self.host_settings()?;
        lap("host settings");
        Ok(())
    }

    fn namespaces(&mut self, have: &BTreeSet<String>) -> Result<(), LabError> {
        let missing: Vec<String> = self
            .lab
            .namespaces
            .iter()
            .filter(|n| !have.contains(&n.name))
            .map(|n| n.name.clone())
            .collect();
        self.t.unchanged += self.lab.namespaces.len() - missing.len();
        if self.dry {
            for n in &missing {
                self.plan(format!("create netns {n}"));
                self.t.created += 1;
            }
            return Ok(());
        }
        self.j
            .intend(missing.iter().map(|n| Owned::Netns { name: n.clone() }))
            .map_err(io)?;
        for (k, n) in missing.iter().enumerate() {
            self.t.progress("namespaces", k, missing.len());
            let rc = crate::netns::lifecycle::create(
                &mut crate::netns::sys::Real,
                n.as_bytes(),
                crate::netns::lifecycle::Source::New,
            );
            if let Err(crate::error::Exit(code)) = rc {
                // add could not return to the original namespace: nothing after this may run.
                std::process::exit(code);
            }
            if rc != Ok(0) {
                // Nothing was made (add rolls itself back): the intent must not survive, or a
                // later destroy would remove a namespace of that name that is not nsctl's.
                self.unintend(&Owned::Netns { name: n.clone() });
                return Err(LabError::new(
                    1,
                    format!("creating netns {n} failed (see the message above)"),
                ));
            }
            self.t.created += 1;
            // Its loopback and sysctls are part of creating it, not changes.
            self.fresh.insert((Some(n.clone()), String::new()));
        }
        self.t.progress("namespaces", missing.len(), missing.len());
        Ok(())
    }

    /// A socket in `at`, or None in a dry run when `at` does not exist yet.
    pub(super) fn sock(
        &self,
        at: &Where,
        have_ns: &BTreeSet<String>,
    ) -> Result<Option<Option<Socket>>, LabError> {
        if self.dry {
            if let Some(n) = at {
                if !have_ns.contains(n) {
                    return Ok(None);
                }
            }
        }
        self.pl
            .socket(at)
            .map(Some)
            .map_err(|m| LabError::new(1, m))
    }

    fn bridges(&mut self, have_ns: &BTreeSet<String>) -> Result<(), LabError> {
        for at in places(self.lab) {
            let wanted: Vec<&IfSpec> = self.lab.bridges.iter().filter(|b| b.at == at).collect();
            if wanted.is_empty() {
                continue;
            }
            let Some(sock) = self.sock(&at, have_ns)? else {
                for b in wanted {
                    self.plan(format!("create bridge {} ({})", b.name, place_name(&at)));
                    self.t.created += 1;
                }
                continue;
            };
            let s = sock.as_ref().unwrap_or(self.pl.host());
            let seen = Seen::links(&self.pl, s).map_err(|m| LabError::new(1, m))?;
            let missing: Vec<&IfSpec> = wanted
                .into_iter()
                .filter(|b| !seen.links.contains_key(&b.name))
                .collect();
            if self.dry {
                for b in missing {
                    self.plan(format!("create bridge {} ({})", b.name, place_name(&at)));
                    self.t.created += 1;
                }
                continue;
            }
            self.j
                .intend(missing.iter().map(|b| Owned::Link {
                    netns: at.clone(),
                    name: b.name.clone(),
                }))
                .map_err(io)?;
            for b in missing {
                let mut m = LinkMessage::default();
                m.attributes.push(LinkAttribute::IfName(b.name.clone()));
                if let Some(mtu) = b.mtu {
                    m.attributes.push(LinkAttribute::Mtu(mtu));
                }
                // Born with multicast snooping off, and switched on once its ports are in
                // (configure.rs): with snooping on, every port that joins an up bridge re-arms
                // the multicast query timers of every port already there, which is O(ports²)
                // over a star (about 9% of a 1,000-namespace apply). Switching it on at the end
                // does that work once per port, and leaves the bridge as the kernel's default.
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Bridge),
                    LinkInfo::Data(InfoData::Bridge(vec![InfoBridge::MulticastSnooping(false)])),
                ]));
                if let Err(f) = crate::nl::link::create(&self.pl.nl, s, m) {
                    self.unintend(&Owned::Link {
                        netns: at.clone(),
                        name: b.name.clone(),
                    });
                    return Err(LabError::new(
                        1,
                        format!(
                            "creating bridge {} ({}) failed: {}",
                            b.name,
                            place_name(&at),
                            why(f)
                        ),
                    ));
                }
                self.t.created += 1;
                self.fresh.insert((at.clone(), b.name.clone()));
            }
        }
        Ok(())
    }

    fn veths(&mut self, have_ns: &BTreeSet<String>) -> Result<(), LabError> {
        let lab = self.lab;
        let mut done = 0;
        for at in places(lab) {
            // Each pair is made from one end's place, with the other end born in its own:
            // from the host when an end is there (one socket and one dump serve every pair
            // of a star), else from the first end's namespace.
            let mine: Vec<(&IfSpec, &IfSpec)> = lab
                .veths
                .iter()
                .map(|v| {
                    if v[0].at.is_some() && v[1].at.is_none() {
                        (&v[1], &v[0])
                    } else {
                        (&v[0], &v[1])
                    }
                })
                .filter(|(maker, _)| maker.at == at)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let text = |a: &IfSpec, b: &IfSpec| {
                format!(
                    "create veth {} ({}) <-> {} ({})",
                    a.name,
                    place_name(&a.at),
                    b.name,
                    place_name(&b.at)
                )
            };
            let Some(sock) = self.sock(&at, have_ns)? else {
                for (a, b) in mine {
                    self.plan(text(a, b));
                    self.t.created += 1;
                }
                continue;
            };
            let s = sock.as_ref().unwrap_or(self.pl.host());
            let mut seen = Seen::links(&self.pl, s).map_err(|m| LabError::new(1, m))?;
            // A pair with its other end in a namespace this run just made cannot exist yet: an
            // end of that name here belongs to the namespace's previous life (deleted by hand,
            // say), which the kernel is still tearing down. Wait for it to go, as destroy does.
            let dying: Vec<&str> = mine
                .iter()
                .filter(|(a, b)| {
                    seen.links.contains_key(&a.name)
                        && b.at.is_some()
                        && b.at != at
                        && self.fresh.contains(&(b.at.clone(), String::new()))
                })
                .map(|(a, _)| a.name.as_str())
                .collect();
            if !dying.is_empty() && !self.dry {
                super::destroy::wait_gone_at(&self.pl, s, &dying);
                seen = Seen::links(&self.pl, s).map_err(|m| LabError::new(1, m))?;
            }
            let missing: Vec<(&IfSpec, &IfSpec)> = mine
                .into_iter()
                .filter(|(a, _)| !seen.links.contains_key(&a.name))
                .collect();
            if self.dry {
                for (a, b) in missing {
                    self.plan(text(a, b));
                    self.t.created += 1;
                }
                continue;
            }
            let owners = missing.iter().filter_map(|(a, _)| {
                lab.veths
                    .iter()
                    .find(|v| v.iter().any(|e| e.at == a.at && e.name == a.name))
                    .map(veth_owner)
            });
            self.j.intend(owners).map_err(io)?;
            for (a, b) in missing {
                self.t.progress("veth pairs", done, lab.veths.len());
                done += 1;
                // The maker is the host end whenever there is one, so a peer elsewhere is
                // always in a namespace.
                let peer_fd = match &b.at {
                    Some(n) if b.at != at => Some(open_netns(n).map_err(|m| LabError::new(1, m))?),
                    _ => None,
                };
                // The maker end is born up, with its MTU and already in its bridge: one request
                // instead of three. (The peer cannot be born up: the kernel opens it before the
                // pair is linked and answers ENOTCONN.)
                let mut peer = LinkMessage::default();
                peer.attributes.push(LinkAttribute::IfName(b.name.clone()));
                if let Some(mtu) = b.mtu {
                    peer.attributes.push(LinkAttribute::Mtu(mtu));
                }
                if let Some(fd) = &peer_fd {
                    peer.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd()));
                }
                peer.attributes.push(LinkAttribute::NumTxQueues(1));
                peer.attributes.push(LinkAttribute::NumRxQueues(1));
                let mut m = LinkMessage::default();
                m.header.flags = LinkFlags::Up;
                m.header.change_mask = LinkFlags::Up;
                m.attributes.push(LinkAttribute::IfName(a.name.clone()));
                if let Some(mtu) = a.mtu {
                    m.attributes.push(LinkAttribute::Mtu(mtu));
                }
                // One queue each way, asked for explicitly. A veth gets as many queues as the
                // machine has CPUs and the kernel then drops it to one real queue, which costs
                // an expedited RCU grace period per end (netif_set_real_num_tx_queues): a third
                // of the veth phase. The end is the same: one real queue each way.
                m.attributes.push(LinkAttribute::NumTxQueues(1));
                m.attributes.push(LinkAttribute::NumRxQueues(1));
                m.attributes.push(LinkAttribute::LinkInfo(vec![
                    LinkInfo::Kind(InfoKind::Veth),
                    LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
                ]));
                if let Err(f) = crate::nl::link::create(&self.pl.nl, s, m) {
                    // The pair was not made (the kernel makes both ends or neither).
                    if let Some(v) = lab
                        .veths
                        .iter()
                        .find(|v| v.iter().any(|e| e.at == a.at && e.name == a.name))
                    {
                        self.unintend(&veth_owner(v));
                    }
                    return Err(LabError::new(
                        1,
                        format!(
                            "{} failed: {}",
                            text(a, b).replacen("create", "creating", 1),
                            why(f)
                        ),
                    ));
                }
                self.t.created += 1;
                self.fresh.insert((a.at.clone(), a.name.clone()));
                self.fresh.insert((b.at.clone(), b.name.clone()));
            }
        }
        self.t
            .progress("veth pairs", lab.veths.len(), lab.veths.len());
        if !self.dry {
            self.t.unchanged += lab.veths.len() - done;
        }
        Ok(())
    }
}

pub fn route_text(r: &super::model::RouteSpec) -> String {
    let mut s = match r.dst.addr {
        None => "default".to_string(),
        Some(a) => format!("{a}/{}", r.dst.len),
    };
    if let Some(v) = r.via {
        s += &format!(" via {v}");
    }
    if let Some(d) = &r.dev {
        s += &format!(" dev {d}");
    }
    s
}
