//! The lab file checked and built: every rule of docs/topology.md's file format applied to
//! the file as written (file.rs) and its generated instances (generate.rs), each problem
//! reported at its FILE:LINE:COL, and the validated [`Lab`] built from what passes, with its
//! checks resolved (check.rs), its machines and VNIs (machines.rs), its shaping (shape.rs)
//! and every link's MAC. The types it builds are spec.rs's; this is the only way to them.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use super::file::{clean, LabFile, Place, Problem};
use super::generate::Instances;
use super::places::sysctl_path;
use super::spec::*;
use crate::wiring::prefix::{self, Prefix};

fn sysctl_value(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(if *b { "1" } else { "0" }.to_string()),
        _ => None,
    }
}
/// Whether the kernel has sysctl `key` for a place holding `ifs`. Keys of an interface the
/// lab has yet to create (`net.ipv4.conf.eth0.rp_filter`) are checked on `default`.
fn sysctl_exists(key: &str, ifs: &BTreeSet<&str>) -> bool {
    let parts: Vec<&str> = key.split('.').collect();
    let generic = match parts.as_slice() {
        ["net", fam @ ("ipv4" | "ipv6"), kind @ ("conf" | "neigh"), dev, rest @ ..]
            if ifs.contains(dev) && !rest.is_empty() =>
        {
            format!("net.{fam}.{kind}.default.{}", rest.join("."))
        }
        _ => key.to_string(),
    };
    std::path::Path::new(&sysctl_path(&generic)).is_file()
}
/// Routes the kernel makes on every IPv6 link: fe80::/64 (main table) and ff00::/8
/// (multicast, local table).
const KERNEL_V6: [(&str, &str); 2] = [
    ("fe80::/64", "for the link-local addresses"),
    ("ff00::/8", "for multicast"),
];
/// Why the kernel already makes a route to `dst` in a place holding `ifs`, if it does. Such
/// a route is the kernel's, not the lab's: setting it would replace the kernel's (its
/// replace matches the destination), and removing it when it leaves the file would leave the
/// place without a route to its own subnet.
fn kernel_route(dst: &Prefix, ifs: &[&IfSpec]) -> Option<String> {
    let net = network(dst)?;
    let same = |p: &Prefix| p.addr == net.addr && p.len == net.len;
    let shown = net.to_string();
    for (text, what) in KERNEL_V6 {
        if prefix::parse(text.as_bytes()).is_some_and(|p| same(&p)) {
            return Some(format!(
                "the kernel already makes the route to {shown} on every IPv6 link, {what}"
            ));
        }
    }
    ifs.iter().find_map(|i| {
        let a = i
            .addrs
            .iter()
            .find(|a| connected(a).is_some_and(|c| same(&c)))?;
        Some(format!(
            "the kernel already makes the route to {shown} for the address {a} on {}",
            i.name
        ))
    })
}
type Spanned<T> = toml::Spanned<T>;
/// [`IfSpec::pos`] of an interface declared at `decl` with `addresses`. A lab file holds at
/// most [`super::file::MAX_SIZE`] bytes, so an offset fits a u32.
fn file_pos(addresses: &[Spanned<String>], decl: usize) -> u32 {
    let at = addresses.first().map_or(decl, |a| a.span().start);
    u32::try_from(at).unwrap_or(u32::MAX)
}
/// The checks, with the problems they find.
struct Checker<'f> {
    file: &'f LabFile,
    problems: Vec<Problem>,
    /// (machine, place, interface name) of each interface so far, to catch duplicates (the
    /// machine tells the host namespaces of a lab across hosts apart).
    ifnames: BTreeSet<(Option<u16>, Where, String)>,
    /// `[hosts.NAME]`, and the machine of each namespace.
    machines: Vec<super::machines::Machine>,
    ns_host: HashMap<String, Option<u16>>,
    /// Whether sysctl keys are checked against /proc/sys (off in unit tests).
    probe: bool,
    /// Which entries a template made (generate.rs), and the one being checked: its name
    /// prefixes the messages about it (`h37: ...`).
    instances: &'f Instances,
    label: Option<String>,
}
impl<'f> Checker<'f> {
    fn bad(&mut self, at: usize, msg: String) {
        let msg = match &self.label {
            Some(l) => format!("{l}: {msg}"),
            None => msg,
        };
        self.problems.push(Problem { at, msg });
    }

    /// A text with control characters (NUL, newline, escape...) is refused wherever it is.
    fn text(&mut self, at: usize, what: &str, s: &str) -> bool {
        if clean(s) {
            return true;
        }
        self.bad(
            at,
            format!(
                "{what} \"{}\" holds a control character; use plain text",
                s.escape_debug()
            ),
        );
        false
    }

    /// A checker of `file` and its generated `instances`, with nothing found yet.
    fn new(file: &'f LabFile, instances: &'f Instances, probe: bool) -> Self {
        Checker {
            file,
            problems: Vec::new(),
            ifnames: BTreeSet::new(),
            machines: Vec::new(),
            ns_host: HashMap::new(),
            probe,
            instances,
            label: None,
        }
    }

    /// The lab's name: `name = "..."`, else `default_name` (the file's stem), checked.
    fn lab_name(&mut self, default_name: &str) -> String {
        let mut name = self.name();
        if self.file.name.is_none() {
            name = default_name.to_string();
            if name.is_empty() {
                self.bad(
                    0,
                    "a lab file read from standard input needs name = \"...\"".into(),
                );
            } else if !valid_lab_name(&name) {
                self.bad(0, format!("the file name gives the lab name \"{}\", which is not 1-32 letters, digits, '-' or '_'; set name = \"...\"", name.escape_debug()));
            }
        }
        name
    }

    /// `name = "..."` as written, checked; empty when the file has none.
    fn name(&mut self) -> String {
        let file = self.file;
        match &file.name {
            Some(n) => {
                if !valid_lab_name(n.get_ref()) {
                    self.bad(
                        n.span().start,
                        format!(
                            "lab name \"{}\" must be 1-32 letters, digits, '-' or '_'",
                            n.get_ref().escape_debug()
                        ),
                    );
                }
                n.get_ref().clone()
            }
            None => String::new(),
        }
    }

    /// `[hosts.NAME]`: names, underlay addresses (each machine its own), ssh targets.
    fn machines(&mut self) {
        // Machines are numbered in a u16, and each underlay is compared with the others'.
        const MAX_MACHINES: usize = 1000;
        let file = self.file;
        if let Some(m) = file.hosts.values().nth(MAX_MACHINES) {
            self.bad(
                m.span().start,
                format!(
                    "the file names {} hosts; a lab spans at most {MAX_MACHINES} machines",
                    file.hosts.len()
                ),
            );
        }
        let mut out: Vec<super::machines::Machine> = Vec::with_capacity(file.hosts.len());
        for (key, m) in file.hosts.iter().take(MAX_MACHINES) {
            if !super::machines::valid_host_name(key) {
                self.bad(
                    m.span().start,
                    format!(
                        "host name \"{}\" must be 1-32 letters, digits, '-' or '_', not starting with '-'",
                        key.escape_debug()
                    ),
                );
            }
            // Messages below name the host, which may be the bad name just refused.
            let name = &key.escape_debug().to_string();
            let u = &m.get_ref().underlay;
            let underlay = match u.get_ref().trim().parse::<IpAddr>() {
                Ok(a) if !a.is_unspecified() && !a.is_multicast() => a,
                _ => {
                    self.bad(
                        u.span().start,
                        format!(
                            "underlay \"{}\" of host {name} is not a unicast IPv4 or IPv6 address",
                            u.get_ref().escape_debug()
                        ),
                    );
                    IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
                }
            };
            if let Some(o) = out
                .iter()
                .find(|o| o.underlay == underlay && !underlay.is_unspecified())
            {
                self.bad(
                    u.span().start,
                    format!(
                        "hosts {} and {name} have the same underlay {underlay}; each machine needs its own",
                        o.name.escape_debug()
                    ),
                );
            }
            let ssh = match &m.get_ref().ssh {
                Some(s) => {
                    let t = s.get_ref();
                    if let Err(why) = super::machines::check_ssh_target(t) {
                        self.bad(
                            s.span().start,
                            format!(
                                "ssh \"{}\" of host {name} must be [USER@]HOST: {why}",
                                t.escape_debug()
                            ),
                        );
                    }
                    t.clone()
                }
                None => format!("root@{underlay}"),
            };
            out.push(super::machines::Machine {
                name: key.clone(),
                underlay,
                ssh,
            });
        }
        self.machines = out;
    }

    /// The machine `h` names; without a `host` key, the only machine (None when the file
    /// names none, or several: see [`Checker::needs_host`]).
    fn host(&mut self, h: &Option<Spanned<String>>) -> Option<u16> {
        let Some(s) = h else {
            return (self.machines.len() == 1).then_some(0);
        };
        match self.machines.iter().position(|m| &m.name == s.get_ref()) {
            Some(k) => Some(k as u16),
            None => {
                self.bad(
                    s.span().start,
                    format!(
                        "host \"{0}\" is not declared (add a [hosts.{0}] table with its underlay address)",
                        s.get_ref().escape_debug()
                    ),
                );
                None
            }
        }
    }

    /// With several machines, what does not say which one it is on is refused.
    fn needs_host(&mut self, pos: usize, what: &str) {
        if self.machines.len() > 1 {
            self.bad(
                pos,
                format!(
                    "{what} needs host = \"...\": the file names {} hosts",
                    self.machines.len()
                ),
            );
        }
    }

    /// The machine of something in `at` with `host` key `key`: its namespace's (which the
    /// key, if any, must name), or in a host namespace the one the key names (`what` says
    /// what needs it when there are several machines).
    fn machine_of(
        &mut self,
        at: &Where,
        key: &Option<Spanned<String>>,
        pos: usize,
        what: impl FnOnce() -> String,
    ) -> Option<u16> {
        match at {
            Some(n) => {
                let h = self.ns_host.get(n).copied().flatten();
                self.same_host(key, h, &format!("its netns {n}"));
                h
            }
            None => {
                if key.is_none() {
                    self.needs_host(pos, &what());
                }
                self.host(key)
            }
        }
    }

    /// A `host` key on what already has a machine (its namespace's, or its bridge's) must
    /// name that machine.
    fn same_host(&mut self, key: &Option<Spanned<String>>, has: Option<u16>, of: &str) {
        let Some(k) = key else { return };
        let said = self.host(key);
        if said.is_some() && said != has {
            let on = has
                .and_then(|h| self.machines.get(h as usize))
                .map_or("another host".to_string(), |m| format!("host {}", m.name));
            self.bad(
                k.span().start,
                format!("host = \"{}\", but {of} is on {on}", k.get_ref()),
            );
        }
    }

    fn namespaces_named(&mut self) {
        let file = self.file;
        for (name, ns) in &file.netns {
            self.label = self.instances.netns.get(name).cloned();
            let h = self.host(&ns.get_ref().host);
            if ns.get_ref().host.is_none() {
                self.needs_host(ns.span().start, &format!("netns \"{name}\""));
            }
            self.ns_host.insert(name.clone(), h);
            if self.text(ns.span().start, "netns name", name)
                && !crate::netns::is_valid_name(name.as_bytes())
            {
                self.bad(ns.span().start, format!("netns name \"{name}\" is not valid (no '/', not '.' or '..', at most 255 bytes)"));
            }
        }
        self.label = None;
    }

    fn place(&mut self, ns: &Option<Spanned<String>>) -> Where {
        let n = ns.as_ref()?;
        if !self.file.netns.contains_key(n.get_ref()) {
            self.bad(
                n.span().start,
                format!(
                    "netns \"{}\" is not declared (add a [netns.{}] table)",
                    n.get_ref().escape_debug(),
                    n.get_ref().escape_debug()
                ),
            );
        }
        Some(n.get_ref().clone())
    }

    fn addrs(&mut self, list: &[Spanned<String>]) -> Vec<Prefix> {
        let mut v = Vec::with_capacity(list.len());
        for a in list {
            let (at, s) = (a.span().start, a.get_ref());
            match prefix::parse(s.as_bytes()) {
                Some(p) if p.addr.is_some() && p.explicit_len => {
                    if v.contains(&p) {
                        self.bad(at, format!("address \"{s}\" is listed twice"));
                    } else {
                        v.push(p)
                    }
                }
                Some(p) if p.addr.is_some() => self.bad(
                    at,
                    format!("address \"{s}\" needs a prefix length, e.g. \"{s}/24\""),
                ),
                _ => self.bad(
                    at,
                    format!(
                        "\"{}\" is not an address with a prefix length (ADDR/PLEN)",
                        s.escape_debug()
                    ),
                ),
            }
        }
        v
    }

    fn mtu(&mut self, m: &Option<Spanned<u32>>) -> Option<u32> {
        let m = m.as_ref()?;
        if !(68..=65535).contains(m.get_ref()) {
            self.bad(
                m.span().start,
                format!("mtu {} is outside 68..65535", m.get_ref()),
            );
        }
        Some(*m.get_ref())
    }

    fn ifname(&mut self, at: &Where, host: Option<u16>, pos: usize, n: &str) {
        if !self.text(pos, "interface name", n) {
        } else if !crate::wiring::valid_ifname(n.as_bytes()) {
            self.bad(
                pos,
                format!("interface name \"{n}\" must be 1-15 bytes with no '/' or spaces"),
            );
        } else if n == "lo" {
            self.bad(
                pos,
                "\"lo\" exists in every namespace; choose another name".into(),
            );
        }
        let machine = if at.is_none() { host } else { None };
        if !self.ifnames.insert((machine, at.clone(), n.to_string())) {
            self.bad(
                pos,
                format!(
                    "two interfaces named \"{}\" in {}",
                    n.escape_debug(),
                    at.as_ref()
                        .map_or("the host".to_string(), |s| format!("netns \"{s}\""))
                ),
            );
        }
    }

    fn bridges(&mut self) -> Vec<IfSpec> {
        let file = self.file;
        let mut out = Vec::with_capacity(file.bridge.len());
        for (name, b) in &file.bridge {
            self.label = self.instances.bridge.get(name).cloned();
            let at = self.place(&b.get_ref().netns);
            let host = self.machine_of(&at, &b.get_ref().host, b.span().start, || {
                format!("bridge \"{name}\" of a host namespace")
            });
            self.ifname(&at, host, b.span().start, name);
            let addrs = self.addrs(&b.get_ref().addresses);
            let mtu = self.mtu(&b.get_ref().mtu);
            out.push(IfSpec {
                at,
                name: name.clone(),
                bridge: None,
                addrs,
                mtu,
                shape: None,
                host,
                tunnel: None,
                mac: [0; 6],
                pos: file_pos(&b.get_ref().addresses, b.span().start),
            });
        }
        self.label = None;
        out
    }

    fn veths(&mut self, bridges: &[IfSpec]) -> Vec<[IfSpec; 2]> {
        let file = self.file;
        let mut out = Vec::with_capacity(file.veth.len());
        for (k, v) in file.veth.iter().enumerate() {
            self.label = self.instances.veth.get(k).cloned().flatten();
            let ends = v.get_ref().ends.get_ref();
            let [a, b] = ends.as_slice() else {
                self.bad(
                    v.get_ref().ends.span().start,
                    format!("a veth has exactly 2 ends, not {}", ends.len()),
                );
                continue;
            };
            let mut end = |e: &Spanned<super::file::End>| {
                let pos = e.span().start;
                let e = e.get_ref();
                let at = self.place(&e.netns);
                let of_bridge = e
                    .bridge
                    .as_ref()
                    .and_then(|br| bridges.iter().find(|b| &b.name == br.get_ref()));
                let host = match of_bridge {
                    Some(b) if at.is_none() && b.at.is_none() => {
                        self.same_host(&e.host, b.host, &format!("its bridge {}", b.name));
                        b.host
                    }
                    _ => self.machine_of(&at, &e.host, pos, || {
                        "a veth end in a host namespace".into()
                    }),
                };
                self.ifname(&at, host, e.name.span().start, e.name.get_ref());
                if let Some(br) = &e.bridge {
                    match of_bridge {
                        None => self.bad(
                            br.span().start,
                            format!(
                                "bridge \"{}\" is not declared (add a [bridge.{}] table)",
                                br.get_ref().escape_debug(),
                                br.get_ref().escape_debug()
                            ),
                        ),
                        Some(b) if b.at != at => self.bad(
                            br.span().start,
                            format!(
                                "bridge \"{}\" is in another namespace than this end",
                                br.get_ref()
                            ),
                        ),
                        Some(_) => {}
                    }
                }
                let written = super::shape::Written {
                    rate: e.rate.as_ref(),
                    delay: e.delay.as_ref(),
                    jitter: e.jitter.as_ref(),
                    loss: e.loss.as_ref(),
                };
                let shape = match super::shape::build(&written) {
                    Ok(q) => q.map(Box::new),
                    Err(bad) => {
                        for (pos, msg) in bad {
                            self.bad(pos, msg);
                        }
                        None
                    }
                };
                IfSpec {
                    at,
                    name: e.name.get_ref().clone(),
                    bridge: e.bridge.as_ref().map(|b| b.get_ref().clone()),
                    addrs: self.addrs(&e.addresses),
                    mtu: self.mtu(&e.mtu),
                    shape,
                    host,
                    tunnel: None,
                    mac: [0; 6],
                    pos: file_pos(&e.addresses, pos),
                }
            };
            let (a, b) = (end(a), end(b));
            out.push([a, b]);
        }
        self.label = None;
        out
    }

    fn routes(&mut self, place: &Place, at: &Where, ifs: &[&IfSpec]) -> Vec<RouteSpec> {
        let mut v: Vec<RouteSpec> = Vec::new();
        for r in &place.routes {
            let (pos, text) = (r.span().start, r.get_ref());
            if !self.text(pos, "route", text) {
                continue;
            }
            let rs = match RouteSpec::parse(text) {
                Err(m) => {
                    self.bad(pos, format!("route \"{text}\": {m}"));
                    continue;
                }
                Ok(rs) => rs,
            };
            if let Some(why) = kernel_route(&rs.dst, ifs) {
                self.bad(
                    pos,
                    format!("route \"{text}\": {why}; take it out of the file"),
                );
                continue;
            }
            if let Some(gw) = rs.via {
                let reach = ifs
                    .iter()
                    .flat_map(|i| i.addrs.iter())
                    .any(|p| same_subnet(p, &gw));
                // A gateway may also sit behind a host interface nsctl does not manage.
                if !reach && at.is_some() {
                    self.bad(pos, format!("route \"{text}\": no interface in this namespace has an address in the same subnet as {gw}"));
                }
            }
            if let Some(d) = &rs.dev {
                if !crate::wiring::valid_ifname(d.as_bytes()) {
                    self.bad(pos, format!("route \"{text}\": bad interface name \"{d}\""));
                } else if at.is_some() && d != "lo" && !ifs.iter().any(|i| &i.name == d) {
                    self.bad(
                        pos,
                        format!("route \"{text}\": no interface \"{d}\" in this namespace"),
                    );
                }
            }
            if v.iter().any(|x| x.dst == rs.dst) {
                self.bad(
                    pos,
                    format!("route \"{text}\": another route here has the same destination"),
                );
                continue;
            }
            v.push(rs);
        }
        // One route is typical: no spare room in 10,000 namespaces' lists.
        v.shrink_to_fit();
        v
    }

    fn sysctls(&mut self, place: &Place, ifs: &[&IfSpec]) -> Vec<(String, String)> {
        let mut v = Vec::new();
        let names: BTreeSet<&str> = ifs.iter().map(|i| i.name.as_str()).collect();
        for (k, val) in &place.sysctl {
            let pos = val.span().start;
            if !self.text(pos, "sysctl", k) {
                continue;
            }
            if !valid_sysctl_key(k) {
                self.bad(pos, format!("sysctl \"{k}\" is not a net.* key"));
            } else if self.probe && !sysctl_exists(k, &names) {
                self.bad(
                    pos,
                    format!(
                        "sysctl \"{k}\" does not exist in this kernel (no {})",
                        sysctl_path(k)
                    ),
                );
            }
            match sysctl_value(val.get_ref()) {
                Some(s) if !self.text(pos, "sysctl value", &s) => {}
                Some(s) if s.is_empty() || s.len() > 4096 => {
                    self.bad(pos, format!("sysctl \"{k}\" needs a value of 1-4096 bytes"))
                }
                Some(s) => v.push((k.clone(), s)),
                None => self.bad(
                    pos,
                    format!("sysctl \"{k}\" needs a string, integer or boolean"),
                ),
            }
        }
        v
    }

    /// The VNI of each veth whose ends are on two machines (machines.rs), from the file's
    /// `vni = "A..B"` or the default range.
    fn vnis(&mut self, veths: &[[IfSpec; 2]], lab: &str) -> Vec<(u32, u32)> {
        let file = self.file;
        let range = match &file.vni {
            Some(v) if self.machines.is_empty() => {
                self.bad(
                    v.span().start,
                    "vni is for the links between hosts; the file names no [hosts]".into(),
                );
                return Vec::new();
            }
            Some(v) => match super::machines::parse_vnis(v.get_ref()) {
                Ok(r) => r,
                Err(m) => {
                    self.bad(v.span().start, m);
                    return Vec::new();
                }
            },
            None => super::machines::DEFAULT_VNIS,
        };
        let key = |e: &IfSpec| link_key(&e.at, &e.name);
        let (crossing, links): (Vec<u32>, Vec<(String, String)>) = veths
            .iter()
            .enumerate()
            .filter(|(_, v)| v[0].host.is_some() && v[1].host.is_some() && v[0].host != v[1].host)
            .map(|(k, v)| (k as u32, (key(&v[0]), key(&v[1]))))
            .unzip();
        match super::machines::allocate(lab, &links, range) {
            Some(ids) => crossing.into_iter().zip(ids).collect(),
            None => {
                self.bad(
                    file.vni.as_ref().map_or(0, |v| v.span().start),
                    format!(
                        "the VNI range {}..{} holds {} ids, and the file has {} links between hosts; widen it",
                        range.0,
                        range.1,
                        range.1 - range.0 + 1,
                        links.len()
                    ),
                );
                Vec::new()
            }
        }
    }

    fn nat(&mut self) -> Vec<(Prefix, Option<String>)> {
        let file = self.file;
        let mut nat = Vec::new();
        for n in &file.nat {
            let n = n.get_ref();
            let (pos, s) = (n.source.span().start, n.source.get_ref());
            let src = match prefix::parse(s.as_bytes()) {
                Some(p) if p.addr.is_some_and(|a| a.is_ipv4()) => p,
                _ => {
                    self.bad(
                        pos,
                        format!("nat source \"{}\" is not an IPv4 prefix", s.escape_debug()),
                    );
                    continue;
                }
            };
            if let Some(o) = &n.out {
                let (pos, s) = (o.span().start, o.get_ref());
                if self.text(pos, "nat out", s) && !crate::wiring::valid_ifname(s.as_bytes()) {
                    self.bad(
                        pos,
                        format!("interface name \"{s}\" must be 1-15 bytes with no '/' or spaces"),
                    );
                }
            }
            nat.push((src, n.out.as_ref().map(|o| o.get_ref().clone())));
        }
        nat
    }

    /// Each `[netns.NAME]` built and checked against its interfaces (`by_place`).
    fn namespaces(&mut self, by_place: &HashMap<&Where, Vec<&IfSpec>>) -> Vec<NsSpec> {
        let file = self.file;
        let instances = self.instances;
        let mut namespaces = Vec::with_capacity(file.netns.len());
        for (name, ns) in &file.netns {
            self.label = instances.netns.get(name).cloned();
            let at = Some(name.clone());
            let refs: Vec<&IfSpec> = by_place.get(&at).cloned().unwrap_or_default();
            namespaces.push(NsSpec {
                name: name.clone(),
                host: self.ns_host.get(name).copied().flatten(),
                lo: ns.get_ref().lo.unwrap_or(true),
                routes: self.routes(ns.get_ref(), &at, &refs),
                sysctls: self.sysctls(ns.get_ref(), &refs),
            });
        }
        self.label = None;
        namespaces
    }

    /// `[host]` may not set `lo`: nsctl never changes the host's loopback.
    fn host_lo(&mut self) {
        if self.file.host.lo.is_some() {
            self.bad(
                0,
                "[host] has no \"lo\" setting: nsctl never changes the host's loopback".into(),
            );
        }
    }

    /// Whether the lab's `count` namespaces get hosts files (`etc_hosts`, checked).
    fn etc_hosts(&mut self, count: usize) -> bool {
        match &self.file.etc_hosts {
            Some(h) if *h.get_ref() && count > super::hostsfile::MAX => {
                self.bad(
                    h.span().start,
                    format!(
                        "etc_hosts = true for {} namespaces: each hosts file lists every namespace, so that is {} lines; at most {} namespaces get them (set etc_hosts = false)",
                        count,
                        count * count,
                        super::hostsfile::MAX
                    ),
                );
                false
            }
            Some(h) => *h.get_ref(),
            None => count <= super::hostsfile::DEFAULT_MAX,
        }
    }
}
/// A template repeats its problem in every instance: three of them are listed per position,
/// then how many more there are.
fn at_most_three_per_place(problems: Vec<Problem>) -> Vec<Problem> {
    let mut out: Vec<Problem> = Vec::new();
    let mut run = 0usize;
    let mut more = 0usize;
    for p in problems {
        let same = out.last().is_some_and(|l| l.at == p.at);
        if !same {
            if more > 0 {
                let at = out.last().map_or(0, |l| l.at);
                out.push(Problem {
                    at,
                    msg: format!("... and {more} more like these from the same template"),
                });
            }
            run = 0;
            more = 0;
        }
        run += 1;
        if run <= 3 {
            out.push(p);
        } else {
            more += 1;
        }
    }
    if more > 0 {
        let at = out.last().map_or(0, |l| l.at);
        out.push(Problem {
            at,
            msg: format!("... and {more} more like these from the same template"),
        });
    }
    out
}
/// Check everything and build the lab, or return every problem found. `default_name` is the
/// file's stem; `probe` checks sysctl keys against this kernel's /proc/sys.
pub fn build(file: LabFile, default_name: &str, probe: bool) -> Result<Lab, Vec<Problem>> {
    build_generated(file, &Instances::default(), default_name, probe)
}
/// [`build`] of an expanded file: the messages about generated entries name the instance,
/// and at most three problems are listed per template position.
pub fn build_generated(
    file: LabFile,
    instances: &Instances,
    default_name: &str,
    probe: bool,
) -> Result<Lab, Vec<Problem>> {
    let mut c = Checker::new(&file, instances, probe);
    let name = c.lab_name(default_name);
    c.machines();
    c.namespaces_named();
    let bridges = c.bridges();
    let veths = c.veths(&bridges);
    let vnis = c.vnis(&veths, &name);
    let by_place = by_place(&bridges, &veths);
    let namespaces = c.namespaces(&by_place);
    let refs: Vec<&IfSpec> = by_place.get(&None).cloned().unwrap_or_default();
    let host_routes = c.routes(&file.host, &None, &refs);
    let host_sysctls = c.sysctls(&file.host, &refs);
    c.host_lo();
    let nat = c.nat();
    let hosts = c.etc_hosts(namespaces.len());
    let machines = std::mem::take(&mut c.machines);
    let problems = c.problems;
    drop(by_place);
    let lab = Lab {
        name,
        namespaces,
        host_sysctls,
        host_routes,
        bridges,
        veths,
        tunnels: Vec::new(),
        nat,
        checks: Vec::new(),
        hosts,
        machines,
        vnis,
        share: None,
        hosts_body: None,
        index: Index::default(),
    }
    .indexed();
    finish(lab, &file, instances, problems)
}
/// Each place's interfaces, grouped once (else 10,000 namespaces walk every interface each).
fn by_place<'a>(
    bridges: &'a [IfSpec],
    veths: &'a [[IfSpec; 2]],
) -> HashMap<&'a Where, Vec<&'a IfSpec>> {
    let mut by_place: HashMap<&Where, Vec<&IfSpec>> = HashMap::new();
    for i in bridges.iter().chain(veths.iter().flatten()) {
        by_place.entry(&i.at).or_default().push(i);
    }
    by_place
}
/// The lab given its MACs and checks, or every problem found, sorted by position.
fn finish(
    mut lab: Lab,
    file: &LabFile,
    instances: &Instances,
    mut problems: Vec<Problem>,
) -> Result<Lab, Vec<Problem>> {
    // Only a lab without problems gets MACs: each end takes the first derivation no end
    // before it has, so 100,000 ends of one name in one place (refused anyway) would hash
    // 5 billion times.
    if problems.is_empty() {
        super::machines::derive_macs(&mut lab);
    }
    match super::check::build(&lab, &file.check, &instances.check) {
        Ok(c) => lab.checks = c,
        Err(ps) => problems.extend(ps),
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.at);
        let generated = !instances.netns.is_empty()
            || !instances.bridge.is_empty()
            || instances.veth.iter().any(Option::is_some)
            || instances.check.iter().any(Option::is_some);
        return Err(if generated {
            at_most_three_per_place(problems)
        } else {
            problems
        });
    }
    Ok(lab)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match super::super::file::parse(text) {
            Err(p) => vec![p.msg],
            Ok(f) => match build(f, "t", false) {
                Ok(_) => vec![],
                Err(ps) => ps.into_iter().map(|p| p.msg).collect(),
            },
        }
    }

    #[test]
    fn control_characters_are_refused_everywhere() {
        for t in [
            "[netns.\"a\\u0000b\"]",
            "[netns.A]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\\u0000\" }, { name = \"h\" }]",
            "[[nat]]\nsource = \"10.0.0.0/24\"\nout = \"e\\u0000th\"",
            "[host]\nsysctl = { \"net.ipv4.ip_\\u0000forward\" = 1 }",
            "[host]\nsysctl = { \"net.ipv4.ip_forward\" = \"1\\n\" }",
            "[host]\nroutes = [\"default via 10.0.0.1\\u001b\"]",
        ] {
            let p = problems(t);
            assert!(
                p.iter().any(|m| m.contains("control character")),
                "{t}: {p:?}"
            );
        }
    }

    #[test]
    fn every_problem_is_reported() {
        let p = problems(
            "name = \"x y\"\n[netns.A]\nroutes = [\"default via 1.2.3.4\", \"bogus\"]\n[bridge.br0]\naddresses = [\"10.0.0.1\"]\nmtu = 10\n",
        );
        assert_eq!(p.len(), 5, "{p:?}");
    }

    #[test]
    fn a_good_lab_builds() {
        let t = "[netns.A]\nroutes = [\"default via 10.0.0.1\"]\n[bridge.br0]\naddresses = [\"10.0.0.1/24\"]\n[[veth]]\nends = [{ netns = \"A\", name = \"eth0\", addresses = [\"10.0.0.2/24\"] }, { name = \"va\", bridge = \"br0\" }]\n[[nat]]\nsource = \"10.0.0.0/24\"\n";
        let lab = build(super::super::file::parse(t).unwrap(), "t", false).unwrap();
        assert_eq!(
            lab.sysctls(&None),
            vec![(FORWARD.to_string(), "1".to_string())]
        );
        assert_eq!(lab.nets_v4().len(), 1);
        // The network on a NAT's out interface is the outside: masqueraded, not kept.
        let t2 = format!("{t}[[veth]]\nends = [{{ netns = \"A\", name = \"e1\", addresses = [\"10.9.0.2/24\"] }}, {{ name = \"up\", addresses = [\"10.9.0.1/24\"] }}]\n[[nat]]\nsource = \"10.0.0.0/24\"\nout = \"up\"\n");
        let lab = build(super::super::file::parse(&t2).unwrap(), "t", false).unwrap();
        assert_eq!(lab.nets_v4().len(), 1);
        assert_eq!(
            lab.routes(&Some("A".into()))[0].to_string(),
            "default via 10.0.0.1"
        );
    }

    #[test]
    fn sysctl_keys_are_plain() {
        assert!(valid_sysctl_key("net.ipv4.conf.eth0.rp_filter"));
        assert!(!valid_sysctl_key("kernel.core_pattern"));
        assert!(!valid_sysctl_key("net.ipv4..x"));
        assert!(!valid_sysctl_key("net.ipv4.a/b"));
        assert!(!valid_sysctl_key("net.ipv4.a b"));
    }

    fn lab(text: &str) -> Lab {
        build(super::super::file::parse(text).unwrap(), "t", false).unwrap()
    }

    /// B's veth end is written first (with an IPv6 address before its IPv4 one), then its
    /// bridges zz and aa; C's end holds an address that a bridge of D, written later, holds
    /// too.
    const ORDER: &str = "[netns.A]\n[netns.B]\n[netns.C]\n[netns.D]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"10.1.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"fd01::2/64\", \"10.1.0.2/24\"] }]\n[[veth]]\nends = [{ netns = \"C\", name = \"e\", addresses = [\"10.5.0.1/24\"] }, { netns = \"D\", name = \"e\" }]\n[bridge.zz]\nnetns = \"B\"\naddresses = [\"10.2.0.1/24\"]\n[bridge.aa]\nnetns = \"B\"\naddresses = [\"10.3.0.1/24\", \"fd03::1/64\"]\n[bridge.x]\nnetns = \"D\"\naddresses = [\"10.5.0.1/24\"]\n";

    #[test]
    fn a_places_addresses_are_in_file_order() {
        let lab = lab(ORDER);
        let b = Some("B".to_string());
        let all: Vec<String> = lab.addresses(&b).map(|p| p.to_string()).collect();
        assert_eq!(
            all,
            [
                "fd01::2/64",
                "10.1.0.2/24",
                "10.2.0.1/24",
                "10.3.0.1/24",
                "fd03::1/64"
            ]
        );
        let names: Vec<String> = lab.names(&b).iter().map(|a| a.to_string()).collect();
        assert_eq!(
            names,
            ["10.1.0.2", "10.2.0.1", "10.3.0.1", "fd01::2", "fd03::1"]
        );
        // The order links are made and configured in is unchanged: bridges first.
        let made: Vec<&str> = lab.interfaces(&b).map(|i| i.name.as_str()).collect();
        assert_eq!(made, ["aa", "zz", "e"]);
        // An address two places hold: the first holder in the file.
        let a: IpAddr = "10.5.0.1".parse().unwrap();
        assert_eq!(lab.holder(a).map(|i| i.at.clone()), Some(Some("C".into())));
        assert!(lab.holder("10.9.9.9".parse().unwrap()).is_none());
    }

    #[test]
    fn a_templates_instances_keep_their_order() {
        let text = "[netns.R]\n[netns.\"h{1..3}\"]\n[[veth]]\nfor = \"1..3\"\nends = [{ netns = \"R\", name = \"l{i}\", addresses = [\"10.0.{i}.1/24\"] }, { netns = \"h{i}\", name = \"e\", addresses = [\"10.0.{i}.2/24\"] }]\n[bridge.br]\nnetns = \"R\"\naddresses = [\"10.9.0.1/24\"]\n";
        let (f, instances) =
            super::super::generate::expand(super::super::file::parse(text).unwrap()).unwrap();
        let lab = build_generated(f, &instances, "t", false).unwrap();
        let r: Vec<String> = lab
            .addresses(&Some("R".into()))
            .map(|p| p.to_string())
            .collect();
        assert_eq!(
            r,
            ["10.0.1.1/24", "10.0.2.1/24", "10.0.3.1/24", "10.9.0.1/24"]
        );
    }

    #[test]
    fn routes_the_kernel_makes_are_refused() {
        let veth = "[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"10.9.0.1/30\", \"fd09::1/64\", \"fd0a::1/128\", \"10.8.0.1/32\", \"0.1.2.3/8\"] }, { netns = \"B\", name = \"e\", addresses = [\"10.9.0.2/30\"] }]\n[bridge.br]\naddresses = [\"192.0.2.1/24\"]\n";
        let refused = |at: &str, route: &str| {
            let r = |p: &str| match p == at {
                true => format!("routes = [\"{route}\"]\n"),
                false => String::new(),
            };
            let (a, b, h) = (r("A"), r("B"), r("host"));
            problems(&format!("[netns.A]\n{a}[netns.B]\n{b}[host]\n{h}{veth}"))
        };
        for (at, route, net, why) in [
            (
                "A",
                "10.9.0.0/30 via 10.9.0.2",
                "10.9.0.0/30",
                "for the address 10.9.0.1/30 on e",
            ),
            (
                "A",
                "10.9.0.0/30 dev e",
                "10.9.0.0/30",
                "for the address 10.9.0.1/30 on e",
            ),
            // Host bits set: the same network.
            (
                "A",
                "10.9.0.3/30 dev e",
                "10.9.0.0/30",
                "for the address 10.9.0.1/30 on e",
            ),
            (
                "A",
                "fd09::/64 dev e",
                "fd09::/64",
                "for the address fd09::1/64 on e",
            ),
            // An IPv6 /128 has its route; an IPv4 /32 (and 0.0.0.0/8) none.
            (
                "A",
                "fd0a::1/128 dev e",
                "fd0a::1/128",
                "for the address fd0a::1/128 on e",
            ),
            ("A", "fe80::/64 dev e", "fe80::/64", "on every IPv6 link"),
            (
                "B",
                "ff00::/8 dev e",
                "ff00::/8",
                "on every IPv6 link, for multicast",
            ),
            (
                "B",
                "10.9.0.0/30 via 10.9.0.1",
                "10.9.0.0/30",
                "for the address 10.9.0.2/30 on e",
            ),
            (
                "host",
                "192.0.2.0/24 dev br",
                "192.0.2.0/24",
                "for the address 192.0.2.1/24 on br",
            ),
        ] {
            let p = refused(at, route);
            let want =
                format!("route \"{route}\": the kernel already makes the route to {net} {why}");
            assert!(
                p.len() == 1
                    && p[0].starts_with(&want)
                    && p[0].ends_with("; take it out of the file"),
                "{at} {route}: {p:?}"
            );
        }
        for (at, route) in [
            ("A", "10.8.0.1/32 dev e"),
            ("A", "0.0.0.0/8 dev e"),
            ("A", "10.9.0.0/24 via 10.9.0.2"),
            ("A", "default via 10.9.0.2"),
            // Another place's subnet is no route of this one's.
            ("B", "fd09::/64 dev e"),
            ("host", "10.9.0.0/30 dev br"),
        ] {
            assert_eq!(refused(at, route), Vec::<String>::new(), "{at} {route}");
        }
    }
}
