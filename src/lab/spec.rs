//! The lab as nsctl will build it: names resolved, addresses parsed, and every semantic rule
//! checked (with positions) before anything touches the system.

use std::collections::BTreeSet;
use std::net::IpAddr;

use super::model::{parse_route, LabFile, Problem, RouteSpec};
use crate::wiring::prefix::{self, Prefix};

/// Where an interface or setting lives: None is the host (the namespace nsctl runs in).
pub type Where = Option<String>;

#[derive(Debug, Clone)]
pub struct NsSpec {
    pub name: String,
    pub lo: bool,
    pub sysctls: Vec<(String, String)>,
    pub routes: Vec<RouteSpec>,
}

#[derive(Debug, Clone)]
pub struct IfSpec {
    pub at: Where,
    pub name: String,
    pub bridge: Option<String>,
    pub addrs: Vec<Prefix>,
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Lab {
    pub name: String,
    pub namespaces: Vec<NsSpec>,
    pub host_sysctls: Vec<(String, String)>,
    pub host_routes: Vec<RouteSpec>,
    pub bridges: Vec<IfSpec>,
    pub veths: Vec<[IfSpec; 2]>,
    pub nat: Vec<(Prefix, Option<String>)>,
}

impl Lab {
    pub fn routes(&self, at: &Where) -> &[RouteSpec] {
        match at {
            None => &self.host_routes,
            Some(n) => self
                .namespaces
                .iter()
                .find(|s| &s.name == n)
                .map(|s| s.routes.as_slice())
                .unwrap_or(&[]),
        }
    }
}

fn valid_lab_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 32
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
}

fn sysctl_value(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Boolean(b) => Some(if *b { "1" } else { "0" }.to_string()),
        _ => None,
    }
}

fn valid_sysctl_key(k: &str) -> bool {
    k.starts_with("net.")
        && k.split('.')
            .all(|p| !p.is_empty() && p != ".." && !p.contains('/'))
}

/// Check everything and build the lab, or return every problem found.
pub fn build(file: LabFile, default_name: &str) -> Result<Lab, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut bad = |at: usize, msg: String| problems.push(Problem { at, msg });
    let name = match &file.name {
        Some(n) => {
            if !valid_lab_name(n.get_ref()) {
                bad(
                    n.span().start,
                    format!(
                        "lab name \"{}\" must be 1-32 letters, digits, '-' or '_'",
                        n.get_ref()
                    ),
                );
            }
            n.get_ref().clone()
        }
        None => default_name.to_string(),
    };
    if file.name.is_none() && !valid_lab_name(&name) {
        bad(0, format!("the file name gives the lab name \"{name}\", which is not 1-32 letters, digits, '-' or '_'; set name = \"...\""));
    }
    let declared: BTreeSet<&str> = file.netns.keys().map(|s| s.as_str()).collect();
    // Interfaces per place, to catch duplicates: (place, name) -> first position.
    let mut ifnames: BTreeSet<(Where, String)> = BTreeSet::new();
    let check_place =
        |ns: &Option<toml::Spanned<String>>, bad: &mut dyn FnMut(usize, String)| -> Where {
            match ns {
                None => None,
                Some(n) => {
                    if !declared.contains(n.get_ref().as_str()) {
                        bad(
                            n.span().start,
                            format!(
                                "netns \"{}\" is not declared (add a [netns.{}] table)",
                                n.get_ref(),
                                n.get_ref()
                            ),
                        );
                    }
                    Some(n.get_ref().clone())
                }
            }
        };
    let addrs_of =
        |list: &[toml::Spanned<String>], bad: &mut dyn FnMut(usize, String)| -> Vec<Prefix> {
            let mut v = Vec::new();
            for a in list {
                match prefix::parse(a.get_ref().as_bytes()) {
                    Some(p) if p.addr.is_some() && p.explicit_len => v.push(p),
                    Some(p) if p.addr.is_some() => bad(
                        a.span().start,
                        format!(
                            "address \"{}\" needs a prefix length, e.g. \"{}/24\"",
                            a.get_ref(),
                            a.get_ref()
                        ),
                    ),
                    _ => bad(
                        a.span().start,
                        format!(
                            "\"{}\" is not an address with a prefix length (ADDR/PLEN)",
                            a.get_ref()
                        ),
                    ),
                }
            }
            v
        };
    let mtu_of =
        |m: &Option<toml::Spanned<u32>>, bad: &mut dyn FnMut(usize, String)| -> Option<u32> {
            let m = m.as_ref()?;
            if !(68..=65535).contains(m.get_ref()) {
                bad(
                    m.span().start,
                    format!("mtu {} is outside 68..65535", m.get_ref()),
                );
            }
            Some(*m.get_ref())
        };
    let mut iface =
        |at: &Where, name: &toml::Spanned<String>, bad: &mut dyn FnMut(usize, String)| {
            let n = name.get_ref();
            if !crate::wiring::valid_ifname(n.as_bytes()) {
                bad(
                    name.span().start,
                    format!("interface name \"{n}\" must be 1-15 bytes with no '/' or spaces"),
                );
            } else if n == "lo" {
                bad(
                    name.span().start,
                    "\"lo\" exists in every namespace; choose another name".into(),
                );
            }
            let key = (at.clone(), n.clone());
            if !ifnames.insert(key) {
                let place = at
                    .as_deref()
                    .map(|s| format!("netns \"{s}\""))
                    .unwrap_or("the host".into());
                bad(
                    name.span().start,
                    format!("two interfaces named \"{n}\" in {place}"),
                );
            }
        };

    for (name, ns) in &file.netns {
        if !crate::netns::is_valid_name(name.as_bytes()) {
            bad(ns.span().start, format!("netns name \"{name}\" is not valid (no '/', not '.' or '..', at most 255 bytes)"));
        }
    }
    let mut bridges = Vec::new();
    for (bname, b) in &file.bridge {
        let at = check_place(&b.get_ref().netns, &mut bad);
        let spanned_name = toml::Spanned::new(b.span(), bname.clone());
        iface(&at, &spanned_name, &mut bad);
        let addrs = addrs_of(&b.get_ref().addresses, &mut bad);
        let mtu = mtu_of(&b.get_ref().mtu, &mut bad);
        bridges.push(IfSpec {
            at,
            name: bname.clone(),
            bridge: None,
            addrs,
            mtu,
        });
    }
    let mut veths = Vec::new();
    for v in &file.veth {
        let ends = v.get_ref().ends.get_ref();
        if ends.len() != 2 {
            bad(
                v.get_ref().ends.span().start,
                format!("a veth has exactly 2 ends, not {}", ends.len()),
            );
            continue;
        }
        let mut out = Vec::new();
        for e in ends {
            let e = e.get_ref();
            let at = check_place(&e.netns, &mut bad);
            iface(&at, &e.name, &mut bad);
            if let Some(br) = &e.bridge {
                match bridges.iter().find(|b| &b.name == br.get_ref()) {
                    None => bad(
                        br.span().start,
                        format!(
                            "bridge \"{}\" is not declared (add a [bridge.{}] table)",
                            br.get_ref(),
                            br.get_ref()
                        ),
                    ),
                    Some(b) if b.at != at => bad(
                        br.span().start,
                        format!(
                            "bridge \"{}\" is in another namespace than this end",
                            br.get_ref()
                        ),
                    ),
                    Some(_) => {}
                }
            }
            let addrs = addrs_of(&e.addresses, &mut bad);
            let mtu = mtu_of(&e.mtu, &mut bad);
            out.push(IfSpec {
                at,
                name: e.name.get_ref().clone(),
                bridge: e.bridge.as_ref().map(|b| b.get_ref().clone()),
                addrs,
                mtu,
            });
        }
        let b = out.pop().expect("two ends");
        let a = out.pop().expect("two ends");
        veths.push([a, b]);
    }
    // Every address configured in a place, for route reachability.
    let addrs_in = |at: &Where| -> Vec<Prefix> {
        bridges
            .iter()
            .chain(veths.iter().flatten())
            .filter(|i| &i.at == at)
            .flat_map(|i| i.addrs.clone())
            .collect()
    };
    let ifs_in = |at: &Where| -> BTreeSet<String> {
        bridges
            .iter()
            .chain(veths.iter().flatten())
            .filter(|i| &i.at == at)
            .map(|i| i.name.clone())
            .collect()
    };
    let routes_of = |place: &super::model::Place,
                     at: &Where,
                     bad: &mut dyn FnMut(usize, String)|
     -> Vec<RouteSpec> {
        let mut v = Vec::new();
        for r in &place.routes {
            match parse_route(r.get_ref()) {
                Err(m) => bad(r.span().start, format!("route \"{}\": {m}", r.get_ref())),
                Ok(rs) => {
                    if let Some(gw) = rs.via {
                        let reach = addrs_in(at).iter().any(|p| same_subnet(p, &gw));
                        // A gateway may also sit behind a host interface nsctl does not manage.
                        if !reach && at.is_some() {
                            bad(r.span().start, format!("route \"{}\": no interface in this namespace has an address in the same subnet as {gw}", r.get_ref()));
                        }
                    }
                    if let Some(d) = &rs.dev {
                        if at.is_some() && d != "lo" && !ifs_in(at).contains(d) {
                            bad(
                                r.span().start,
                                format!(
                                    "route \"{}\": no interface \"{d}\" in this namespace",
                                    r.get_ref()
                                ),
                            );
                        }
                    }
                    v.push(rs);
                }
            }
        }
        v
    };
    let sysctls_of = |place: &super::model::Place,
                      bad: &mut dyn FnMut(usize, String)|
     -> Vec<(String, String)> {
        let mut v = Vec::new();
        for (k, val) in &place.sysctl {
            if !valid_sysctl_key(k) {
                bad(
                    val.span().start,
                    format!("sysctl \"{k}\" is not a net.* key"),
                );
            }
            match sysctl_value(val.get_ref()) {
                Some(s) => v.push((k.clone(), s)),
                None => bad(
                    val.span().start,
                    format!("sysctl \"{k}\" needs a string, integer or boolean"),
                ),
            }
        }
        v
    };
    let mut namespaces = Vec::new();
    for (name, ns) in &file.netns {
        let at = Some(name.clone());
        let routes = routes_of(ns.get_ref(), &at, &mut bad);
        let sysctls = sysctls_of(ns.get_ref(), &mut bad);
        namespaces.push(NsSpec {
            name: name.clone(),
            lo: ns.get_ref().lo.unwrap_or(true),
            sysctls,
            routes,
        });
    }
    let host_routes = routes_of(&file.host, &None, &mut bad);
    let host_sysctls = sysctls_of(&file.host, &mut bad);
    if file.host.lo.is_some() {
        bad(
            0,
            "[host] has no \"lo\" setting: nsctl never changes the host's loopback".into(),
        );
    }
    let mut nat = Vec::new();
    for n in &file.nat {
        let n = n.get_ref();
        let src = match prefix::parse(n.source.get_ref().as_bytes()) {
            Some(p) if p.addr.map(|a| a.is_ipv4()).unwrap_or(false) => p,
            _ => {
                bad(
                    n.source.span().start,
                    format!(
                        "nat source \"{}\" is not an IPv4 prefix",
                        n.source.get_ref()
                    ),
                );
                continue;
            }
        };
        if let Some(o) = &n.out {
            if !crate::wiring::valid_ifname(o.get_ref().as_bytes()) {
                bad(
                    o.span().start,
                    format!("interface name \"{}\" must be 1-15 bytes", o.get_ref()),
                );
            }
        }
        nat.push((src, n.out.as_ref().map(|o| o.get_ref().clone())));
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.at);
        return Err(problems);
    }
    Ok(Lab {
        name,
        namespaces,
        host_sysctls,
        host_routes,
        bridges,
        veths,
        nat,
    })
}

/// Is `gw` inside the subnet of `p`?
pub fn same_subnet(p: &Prefix, gw: &IpAddr) -> bool {
    match (p.addr, gw) {
        (Some(IpAddr::V4(a)), IpAddr::V4(g)) => {
            let mask = if p.len == 0 {
                0
            } else {
                u32::MAX << (32 - p.len as u32)
            };
            (u32::from(a) & mask) == (u32::from(*g) & mask)
        }
        (Some(IpAddr::V6(a)), IpAddr::V6(g)) => {
            let mask = if p.len == 0 {
                0
            } else {
                u128::MAX << (128 - p.len as u32)
            };
            (u128::from(a) & mask) == (u128::from(*g) & mask)
        }
        _ => false,
    }
}
