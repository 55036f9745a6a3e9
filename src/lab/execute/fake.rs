//! A recording [`Kernel`]: every effect is logged as one line, in order (journal saves
//! included, with what the journal then holds), and any effect can be made to fail. It keeps
//! just enough of a machine to answer the executor's reads: the namespaces, each place's
//! links (a veth end goes with its peer's namespace), sysctls (0 until set), and the hosts
//! files and their directories.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::kernel::{Kernel, LinkChange, Made, NewLink, Reached};
use crate::lab::hosts::Seen;
use crate::lab::journal::{Journal, Owned};
use crate::lab::observe::{LinkObs, NsObs, Observed, PlaceObs};
use crate::lab::places::Fail;
use crate::lab::plan::End;
use crate::lab::shares::Shares;
use crate::lab::spec::{Lab, RouteSpec, Tunnel, Where};
use crate::nl::qdisc::Qdisc;
use crate::nl::{Failure, NlError};
use crate::wiring::prefix::Prefix;

/// A link of the fake machine: its index, and (a veth end) its peer.
#[derive(Debug, Clone)]
struct Link {
    index: u32,
    peer: Option<(Where, String)>,
}

#[derive(Default)]
pub struct Recorder {
    /// Every effect, in order: `netns add A`, `veth add A/eth0 B/eth0`, `journal save: ...`.
    pub log: Vec<String>,
    /// (line prefix, how many matching effects succeed first, errno)
    pub fail: Vec<(String, usize, i32)>,
    /// The journal as last saved.
    pub saved: Option<Journal>,
    netns: BTreeSet<String>,
    links: BTreeMap<Where, BTreeMap<String, Link>>,
    sysctls: HashMap<(Where, String), String>,
    /// The hosts files written (by namespace), and the directories made for them.
    hosts: BTreeSet<String>,
    dirs: BTreeSet<Option<String>>,
    next_index: u32,
}

/// "host" or the namespace's name.
fn at_name(at: &Where) -> &str {
    at.as_deref().unwrap_or("host")
}

/// One journal entry, short.
fn entry(o: &Owned) -> String {
    match o {
        Owned::Netns { name } => format!("netns {name}"),
        Owned::Link { netns, name } => format!("link {}/{name}", at_name(netns)),
        Owned::Sysctl { netns, key, old } => format!("sysctl {} {key}={old}", at_name(netns)),
        Owned::Route { netns, route } => format!("route {} {route}", at_name(netns)),
        Owned::Hosts { netns } => format!("hosts {netns}"),
        Owned::EtcDir { netns } => format!("etc-dir {}", netns.as_deref().unwrap_or("/")),
        Owned::NftTable { name, .. } => format!("nft {name}"),
        o => format!("{o:?}"),
    }
}

impl Recorder {
    /// A fake whose `after`+1-th effect starting with `prefix` fails with `errno`.
    pub fn failing(prefix: &str, after: usize, errno: i32) -> Self {
        Recorder {
            fail: vec![(prefix.to_string(), after, errno)],
            ..Default::default()
        }
    }

    /// Log `line`; the errno it fails with, if it was made to.
    fn effect(&mut self, line: String) -> Option<i32> {
        let mut res = None;
        for (prefix, after, e) in self.fail.iter_mut() {
            if line.starts_with(prefix.as_str()) {
                if *after == 0 {
                    res = Some(*e);
                } else {
                    *after -= 1;
                }
            }
        }
        match res {
            None => self.log.push(line),
            Some(e) => self
                .log
                .push(format!("{line} = {}", crate::error::strerror(e))),
        }
        res
    }

    fn nl(&mut self, line: String) -> Result<(), Failure> {
        match self.effect(line) {
            None => Ok(()),
            Some(errno) => Err(Failure::Kernel(NlError { errno, msg: None })),
        }
    }

    fn other(&mut self, line: String) -> Result<(), Fail> {
        match self.effect(line.clone()) {
            None => Ok(()),
            Some(e) => Err(format!("{line}: {}", crate::error::strerror(e))),
        }
    }

    fn io(&mut self, line: String) -> std::io::Result<()> {
        match self.effect(line) {
            None => Ok(()),
            Some(e) => Err(std::io::Error::from_raw_os_error(e)),
        }
    }

    /// The name of link `index` in `at`, for the log.
    fn name(&self, at: &Where, index: u32) -> String {
        self.links
            .get(at)
            .and_then(|p| p.iter().find(|(_, l)| l.index == index))
            .map(|(n, _)| format!("{}/{n}", at_name(at)))
            .unwrap_or_else(|| format!("{}/#{index}", at_name(at)))
    }

    fn add_link(&mut self, at: &Where, name: &str, peer: Option<(Where, String)>) {
        self.next_index += 1;
        let l = Link {
            index: self.next_index,
            peer,
        };
        self.links
            .entry(at.clone())
            .or_default()
            .insert(name.to_string(), l);
    }

    /// Remove a link and (a veth end) its peer.
    fn remove_link(&mut self, at: &Where, name: &str) {
        let l = self.links.get_mut(at).and_then(|p| p.remove(name));
        if let Some((pat, pname)) = l.and_then(|l| l.peer) {
            if let Some(p) = self.links.get_mut(&pat) {
                p.remove(&pname);
            }
        }
    }

    fn exists(&self, at: &Where) -> bool {
        at.as_ref().is_none_or(|n| self.netns.contains(n))
    }

    /// What an observation of the fake machine would find: its namespaces (bound, with a
    /// cookie), the links of each place, and the hosts files (as nsctl wrote them).
    pub fn observed(&self) -> Observed {
        let mut obs = Observed::default();
        obs.places.insert(None, PlaceObs::default());
        for (k, n) in self.netns.iter().enumerate() {
            let cookie = Some(1000 + k as u64);
            obs.names.insert(n.clone(), NsObs::Bound { cookie });
        }
        for (at, links) in &self.links {
            let p = obs.places.entry(at.clone()).or_default();
            for (name, l) in links {
                let o = LinkObs {
                    index: l.index,
                    up: true,
                    ..Default::default()
                };
                p.links.insert(name.clone(), o);
            }
        }
        for n in &self.hosts {
            obs.hosts.insert(n.clone(), Seen::Written { current: true });
        }
        obs.etc_dirs = self.dirs.iter().cloned().collect();
        obs
    }

    /// The log lines that start with `prefix`.
    pub fn lines(&self, prefix: &str) -> Vec<&str> {
        self.log
            .iter()
            .filter(|l| l.starts_with(prefix))
            .map(String::as_str)
            .collect()
    }

    /// Where the first line starting with `prefix` is in the log.
    pub fn first(&self, prefix: &str) -> Option<usize> {
        self.log.iter().position(|l| l.starts_with(prefix))
    }
}

impl Kernel for Recorder {
    fn lost(&self) -> bool {
        false
    }

    fn open(&mut self, at: &Where) -> Result<(), Fail> {
        match self.exists(at) {
            true => Ok(()),
            false => Err(format!("cannot enter netns \"{}\"", at_name(at))),
        }
    }

    fn close(&mut self, _at: &Where) {}

    fn close_all(&mut self) {}

    fn links(&mut self, at: &Where) -> Result<HashMap<String, LinkObs>, Fail> {
        self.open(at)?;
        let links = self.links.get(at).into_iter().flatten();
        Ok(links
            .map(|(n, l)| {
                let o = LinkObs {
                    index: l.index,
                    ..Default::default()
                };
                (n.clone(), o)
            })
            .collect())
    }

    fn create_bridge(&mut self, at: &Where, link: NewLink) -> Result<(), Failure> {
        self.nl(format!("bridge add {}/{}", at_name(at), link.name))?;
        self.add_link(at, link.name, None);
        Ok(())
    }

    fn create_veth(&mut self, maker: &End, peer: &End) -> Reached {
        self.open(&peer.at)?;
        let line = format!(
            "veth add {}/{} {}/{}",
            at_name(&maker.at),
            maker.name,
            at_name(&peer.at),
            peer.name
        );
        if let Err(f) = self.nl(line) {
            return Ok(Err(f));
        }
        self.add_link(
            &maker.at,
            &maker.name,
            Some((peer.at.clone(), peer.name.clone())),
        );
        self.add_link(
            &peer.at,
            &peer.name,
            Some((maker.at.clone(), maker.name.clone())),
        );
        Ok(Ok(()))
    }

    fn create_vxlan(&mut self, at: &Where, link: NewLink, t: &Tunnel, underlay: u32) -> Reached {
        self.open(at)?;
        let line = format!(
            "vxlan add {}/{} vni {} over #{underlay}",
            at_name(at),
            link.name,
            t.vni
        );
        if let Err(f) = self.nl(line) {
            return Ok(Err(f));
        }
        self.add_link(at, link.name, None);
        Ok(Ok(()))
    }

    fn set_link(&mut self, at: &Where, index: u32, ch: LinkChange) -> Result<(), Failure> {
        let mut line = format!("link set {}", self.name(at, index));
        if let Some(up) = ch.up {
            line += if up { " up" } else { " down" };
        }
        match ch.master {
            Some(0) => line += " nomaster",
            Some(m) => line += &format!(" master {}", self.name(at, m)),
            None => {}
        }
        if let Some(m) = ch.mtu {
            line += &format!(" mtu {m}");
        }
        self.nl(line)
    }

    fn snooping_on(&mut self, at: &Where, index: u32) -> Result<(), Failure> {
        let line = format!("snooping on {}", self.name(at, index));
        self.nl(line)
    }

    fn del_link(&mut self, at: &Where, index: u32) -> Result<(), Failure> {
        let name = self.name(at, index);
        self.nl(format!("link del {name}"))?;
        let found = self
            .links
            .get(at)
            .and_then(|p| p.iter().find(|(_, l)| l.index == index))
            .map(|(n, _)| n.clone());
        if let Some(n) = found {
            self.remove_link(at, &n);
        }
        Ok(())
    }

    fn add_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure> {
        let line = format!("addr add {} {addr}", self.name(at, index));
        self.nl(line)
    }

    fn del_addr(&mut self, at: &Where, index: u32, addr: &Prefix) -> Result<(), Failure> {
        let line = format!("addr del {} {addr}", self.name(at, index));
        self.nl(line)
    }

    fn set_route(
        &mut self,
        at: &Where,
        route: &RouteSpec,
        _oif: Option<u32>,
    ) -> Result<(), Failure> {
        self.nl(format!("route set {} {route}", at_name(at)))
    }

    fn del_route(
        &mut self,
        at: &Where,
        route: &RouteSpec,
        _oif: Option<u32>,
    ) -> Result<(), Failure> {
        self.nl(format!("route del {} {route}", at_name(at)))
    }

    fn qdisc(&mut self, at: &Where, index: u32, q: Option<&Qdisc>) -> Reached {
        self.open(at)?;
        let verb = if q.is_some() { "set" } else { "del" };
        let line = format!("qdisc {verb} {}", self.name(at, index));
        Ok(self.nl(line))
    }

    fn sysctl_get(&mut self, at: &Where, key: &str) -> Result<String, Fail> {
        self.open(at)?;
        let k = (at.clone(), key.to_string());
        Ok(self.sysctls.get(&k).cloned().unwrap_or_else(|| "0".into()))
    }

    fn sysctl_set(&mut self, at: &Where, key: &str, value: &str) -> Result<(), Fail> {
        self.open(at)?;
        self.other(format!("sysctl set {} {key}={value}", at_name(at)))?;
        let k = (at.clone(), key.to_string());
        self.sysctls.insert(k, value.to_string());
        Ok(())
    }

    fn netns_remove(&mut self, name: &str) -> bool {
        if self.effect(format!("netns remove {name}")).is_some() {
            return false;
        }
        self.netns.remove(name);
        let at = Some(name.to_string());
        let ends: Vec<String> = self
            .links
            .get(&at)
            .into_iter()
            .flatten()
            .map(|(n, _)| n.clone())
            .collect();
        for n in ends {
            self.remove_link(&at, &n);
        }
        self.links.remove(&at);
        true
    }

    fn netns_add(&mut self, name: &str) -> Made {
        if self.effect(format!("netns add {name}")).is_some() {
            return Made::No;
        }
        self.netns.insert(name.to_string());
        self.add_link(&Some(name.to_string()), "lo", None);
        Made::Yes
    }

    fn netns_cookie(&mut self, name: &str) -> Result<Option<u64>, Fail> {
        self.open(&Some(name.to_string()))?;
        let k = self.netns.iter().position(|n| n == name).unwrap_or(0);
        Ok(Some(1000 + k as u64))
    }

    fn netns_holders(&mut self, _name: &str) -> Vec<u32> {
        Vec::new()
    }

    fn comm(&mut self, _pid: u32) -> String {
        String::new()
    }

    fn shares_lock(&mut self) -> std::io::Result<Option<std::fs::File>> {
        Ok(None)
    }

    fn shares_load(&mut self) -> std::io::Result<Shares> {
        Ok(Shares::new())
    }

    fn shares_save(&mut self, s: &Shares) -> std::io::Result<()> {
        let keys: Vec<&str> = s.keys().map(String::as_str).collect();
        self.io(format!("shares save: {}", keys.join(", ")))
    }

    fn nat_install(&mut self, lab: &Lab) -> Result<(), Fail> {
        self.other(format!("nft install {}", lab.name))
    }

    fn nat_remove(&mut self, lab: &str) -> Result<(), Fail> {
        self.other(format!("nft remove {lab}"))
    }

    fn hosts_dir_exists(&mut self, netns: Option<&str>) -> bool {
        self.dirs.contains(&netns.map(str::to_string))
    }

    fn hosts_make_dir(&mut self, netns: Option<&str>, _ours: bool) -> Result<(), Fail> {
        let d = netns.map(str::to_string);
        if !self.dirs.contains(&d) {
            self.other(format!("hosts mkdir {}", netns.unwrap_or("/")))?;
            self.dirs.insert(d);
        }
        Ok(())
    }

    fn hosts_seen(&mut self, _lab: &str, netns: &str) -> Result<Seen, Fail> {
        Ok(match self.hosts.contains(netns) {
            true => Seen::Written { current: true },
            false => Seen::Absent,
        })
    }

    fn hosts_write(&mut self, netns: &str, _text: &str) -> Result<(), Fail> {
        self.other(format!("hosts write {netns}"))?;
        self.hosts.insert(netns.to_string());
        Ok(())
    }

    fn hosts_remove(&mut self, netns: &str) -> Result<(), Fail> {
        self.other(format!("hosts remove {netns}"))?;
        self.hosts.remove(netns);
        Ok(())
    }

    fn hosts_remove_dir(&mut self, netns: Option<&str>) -> Result<bool, Fail> {
        self.other(format!("hosts rmdir {}", netns.unwrap_or("/")))?;
        Ok(self.dirs.remove(&netns.map(str::to_string)))
    }

    fn journal_save(&mut self, j: &Journal) -> std::io::Result<()> {
        let entries: Vec<String> = j.objects.iter().map(entry).collect();
        self.io(format!("journal save: {}", entries.join(", ")))?;
        self.saved = Some(j.clone());
        Ok(())
    }
}
