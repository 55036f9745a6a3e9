//! Observation: what exists now in every place a lab touches (the host and each of its
//! namespaces, named by the file or the journal) and what the lab's journal says it made:
//! the places are surveyed in parallel (survey.rs), each read as observed.rs reads a place,
//! and the lab's nft table, hosts files and the shared host settings are added. Everything
//! read of the system goes through `System` (`Live` here; a fake machine in observe_fake.rs
//! for the unit tests), so what is asked, and what is made of the answers, is tested
//! without root.

use std::collections::{BTreeSet, HashMap};

use super::hostsfile::Seen;
use super::journal::{place, Journal, Owned};
pub use super::observed::*;
use super::places::Fail;
use super::shares::Shares;
use super::spec::{Lab, RouteSpec, Where};
use super::survey::{Found, Job};
use crate::nl::sync::Dumper;

/// What observation reads of the system, one question each, so that `observe_with` can be
/// run against a fake machine (observe_fake.rs) without root. `Live` is the real one.
pub trait System {
    /// The namespaces of `jobs` (one `Found` each, in any order): nothing for a name that
    /// does not exist, an error naming the namespace for one that cannot be read.
    fn namespaces(&self, jobs: Vec<Job>) -> Result<Vec<Found>, Fail>;
    /// The host's links, addresses, and routes of `fam`.
    fn host(&self, fam: Families) -> Result<PlaceObs, Fail>;
    /// A host sysctl's value (None when it cannot be read: the kernel lacks it).
    fn host_sysctl(&self, key: &str) -> Option<String>;
    /// The rule comments of lab `lab`'s nft table; None when there is no table.
    fn nat(&self, lab: &str) -> Result<Option<Vec<String>>, Fail>;
    /// What /etc/netns/NETNS/hosts is to lab `lab`, which wants `want` there.
    fn hosts(&self, lab: &str, netns: &str, want: Option<&str>) -> Result<Seen, Fail>;
    /// Whether /etc/netns (None) or /etc/netns/NAME exists.
    fn dir_exists(&self, netns: Option<&str>) -> bool;
    /// The shared host settings file.
    fn shares(&self) -> std::io::Result<Shares>;
}

/// The system itself: namespaces surveyed in parallel (survey.rs), the host read here.
pub struct Live;

impl System for Live {
    fn namespaces(&self, jobs: Vec<Job>) -> Result<Vec<Found>, Fail> {
        super::survey::survey(jobs)
    }
    fn host(&self, fam: Families) -> Result<PlaceObs, Fail> {
        let host_dumper = Dumper::open().map_err(|e| {
            format!(
                "cannot open a netlink socket: {}",
                crate::error::io_errstr(&e)
            )
        })?;
        read_place(&host_dumper, fam)
    }
    fn host_sysctl(&self, key: &str) -> Option<String> {
        super::places::read_sysctl(key).ok()
    }
    fn nat(&self, lab: &str) -> Result<Option<Vec<String>>, Fail> {
        super::nat::current(lab)
    }
    fn hosts(&self, lab: &str, netns: &str, want: Option<&str>) -> Result<Seen, Fail> {
        super::hosts::seen(lab, netns, want)
    }
    fn dir_exists(&self, netns: Option<&str>) -> bool {
        super::hosts::dir_exists(netns)
    }
    fn shares(&self) -> std::io::Result<Shares> {
        super::shares::load()
    }
}

/// The sysctl keys to read in each place: what the lab sets there and what is journaled.
fn keys(lab: &Lab, j: &Journal) -> HashMap<Where, BTreeSet<String>> {
    let mut k: HashMap<Where, BTreeSet<String>> = HashMap::new();
    for at in lab.places() {
        for (key, _) in lab.sysctls(&at) {
            k.entry(at.clone()).or_default().insert(key);
        }
    }
    for o in &j.objects {
        if let Owned::Sysctl { netns, key, .. } = o {
            k.entry(netns.clone()).or_default().insert(key.clone());
        }
    }
    k
}
/// Every namespace name the lab or its journal mentions.
pub fn names(lab: &Lab, j: &Journal) -> BTreeSet<String> {
    let mut n: BTreeSet<String> = lab.namespaces.iter().map(|s| s.name.clone()).collect();
    for o in &j.objects {
        match o {
            Owned::Netns { name } | Owned::AdoptedNetns { name } => {
                n.insert(name.clone());
            }
            o => {
                if let Some(Some(p)) = place(o) {
                    n.insert(p.clone());
                }
            }
        }
    }
    n
}
/// Observe everything `lab` and its journal `j` involve. With `removing`, the lab is about to
/// be destroyed: the insides of its own namespaces are not read (they go whole), and the
/// file's other namespaces only to tell whose they are.
pub fn observe(lab: &Lab, j: &Journal, removing: bool) -> Result<Observed, Fail> {
    observe_with(&Live, lab, j, removing)
}

/// `observe`, reading through `sys`.
pub fn observe_with(
    sys: &dyn System,
    lab: &Lab,
    j: &Journal,
    removing: bool,
) -> Result<Observed, Fail> {
    let mut obs = Observed::default();
    let keys = keys(lab, j);
    let fams = families(lab, j);
    // Namespaces of the lab's own that the file no longer names are only deleted: their
    // cookie is enough.
    let wanted: std::collections::HashSet<&str> =
        lab.namespaces.iter().map(|n| n.name.as_str()).collect();
    let jobs: Vec<Job> = names(lab, j)
        .into_iter()
        .map(|n| {
            let at = Some(n.clone());
            let own = j.owns(&Owned::Netns { name: n.clone() });
            let adopted = j.owns(&Owned::AdoptedNetns { name: n.clone() });
            let deep = if removing {
                adopted
            } else {
                wanted.contains(n.as_str()) || !own
            };
            Job {
                keys: keys
                    .get(&at)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
                fam: fams.get(&at).copied().unwrap_or_default(),
                deep,
                name: n,
            }
        })
        .collect();
    for f in sys.namespaces(jobs)? {
        if let Some(ns) = f.ns {
            obs.names.insert(f.name.clone(), ns);
        }
        if let Some(p) = f.place {
            obs.places.insert(Some(f.name), p);
        }
    }
    let mut host = sys.host(fams.get(&None).copied().unwrap_or_default())?;
    for k in keys.get(&None).into_iter().flatten() {
        if let Some(v) = sys.host_sysctl(k) {
            host.sysctls.insert(k.clone(), v);
        }
    }
    obs.places.insert(None, host);
    let table = Owned::NftTable {
        family: "ip".into(),
        name: super::nat::table_name(&lab.name),
    };
    if !lab.nat.is_empty() || j.owns(&table) {
        obs.nat = sys.nat(&lab.name)?;
    }
    let journaled = j.objects.iter().filter_map(|o| match o {
        Owned::Hosts { netns } => Some(netns.as_str()),
        _ => None,
    });
    let want = lab.hosts.then(|| lab.hosts_body());
    for n in lab.hosts_namespaces().into_iter().chain(journaled) {
        if !obs.hosts.contains_key(n) {
            let seen = sys.hosts(&lab.name, n, want.as_deref())?;
            obs.hosts.insert(n.to_string(), seen);
        }
    }
    for o in &j.objects {
        if let Owned::EtcDir { netns } = o {
            if sys.dir_exists(netns.as_deref()) {
                obs.etc_dirs.insert(netns.clone());
            }
        }
    }
    obs.shares = sys.shares().map_err(|e| {
        format!(
            "cannot read the shared host settings in {}: {}",
            super::shares::PATH,
            super::error::describe(&e)
        )
    })?;
    Ok(obs)
}

fn families(lab: &Lab, j: &Journal) -> HashMap<Where, Families> {
    let mut f: HashMap<Where, Families> = HashMap::new();
    let mut note = |at: &Where, r: &RouteSpec| {
        let e = f.entry(at.clone()).or_default();
        if r.is_v6() {
            e.v6 = true;
        } else {
            e.v4 = true;
        }
    };
    for at in lab.places() {
        for r in lab.routes(&at) {
            note(&at, r);
        }
    }
    for o in &j.objects {
        if let Owned::Route { netns, route } = o {
            if let Ok(r) = RouteSpec::parse(route) {
                note(netns, &r);
            }
        }
    }
    let shaped = lab
        .all_interfaces()
        .filter(|i| i.shape.is_some())
        .map(|i| &i.at);
    let journaled = j.objects.iter().filter_map(|o| match o {
        Owned::Shaped { netns, .. } => Some(netns),
        _ => None,
    });
    for at in shaped.chain(journaled) {
        f.entry(at.clone()).or_default().tc = true;
    }
    f
}
