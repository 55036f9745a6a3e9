//! Labs across machines (docs/topology.md, "Labs across hosts"): the file's `[hosts.NAME]`
//! tables, the VXLAN link that stands for a veth whose two ends are on different machines,
//! the VNI each such link gets (derived from the file alone, so every machine agrees without
//! talking to the others), and one machine's share of the lab, which `apply --host NAME`
//! builds like any single-machine lab.

use std::collections::HashSet;
use std::net::IpAddr;

use super::spec::{IfSpec, Lab};

/// The IANA port of VXLAN, which every tunnel of a lab uses.
pub const VXLAN_PORT: u16 = 4789;

/// The VNIs a lab picks from unless its file says `vni = "A..B"`.
pub const DEFAULT_VNIS: (u32, u32) = (4096, 16_777_215);

/// One machine of the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    pub name: String,
    /// The address the other machines reach this one at.
    pub underlay: IpAddr,
    /// How `--all-hosts` reaches it (`root@UNDERLAY` unless the file says).
    pub ssh: String,
}

/// A veth end whose other end is on another machine: a vxlan link in the end's place, its
/// UDP socket in the machine's host namespace, sending to the other machine's underlay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    pub vni: u32,
    /// This machine's underlay address, and the other's.
    pub local: IpAddr,
    pub remote: IpAddr,
    /// The other end, as messages name it: `eth0 (netns B) on h2`.
    pub peer: String,
    /// The link's MAC address, derived from the file: when one machine makes its end again
    /// (after a destroy, or a crash), the other's neighbour entries still hold, instead of
    /// pointing at a MAC that is gone until they expire.
    pub mac: [u8; 6],
}

/// A locally administered unicast MAC address for the lab's end `key` (`NETNS/NAME`).
pub fn mac(lab: &str, key: &str) -> [u8; 6] {
    let h = fnv(&[lab, "mac", key]).to_be_bytes();
    [(h[0] & 0xfc) | 0x02, h[1], h[2], h[3], h[4], h[5]]
}

/// `vni = "A..B"`: whole numbers in 1..16777215, A <= B.
pub fn parse_vnis(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("vni \"{text}\" is not a range A..B of VXLAN ids (1..16777215, A <= B)");
    let (a, b) = text.trim().split_once("..").ok_or_else(bad)?;
    let a: u32 = a.trim().parse().map_err(|_| bad())?;
    let b: u32 = b.trim().parse().map_err(|_| bad())?;
    if a == 0 || a > b || b > DEFAULT_VNIS.1 {
        return Err(bad());
    }
    Ok((a, b))
}

/// 64-bit FNV-1a: a stable hash, the same on every machine and in every build.
fn fnv(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for &b in p.as_bytes().iter().chain(std::iter::once(&0u8)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// The VNI of each link between machines, in file order. Each link starts at a place in the
/// range given by a hash of the lab's name and its two ends, and takes the next free id from
/// there: ids do not shift when links are added or removed elsewhere in the file, and two
/// labs rarely meet on the same id. None when the range holds fewer ids than links.
pub fn allocate(lab: &str, links: &[(String, String)], range: (u32, u32)) -> Option<Vec<u32>> {
    let size = u64::from(range.1 - range.0) + 1;
    if links.len() as u64 > size {
        return None;
    }
    let mut used: HashSet<u32> = HashSet::with_capacity(links.len());
    let mut out = Vec::with_capacity(links.len());
    for (a, b) in links {
        let mut k = fnv(&[lab, a, b]) % size;
        loop {
            let vni = range.0 + k as u32;
            if used.insert(vni) {
                out.push(vni);
                break;
            }
            k = (k + 1) % size;
        }
    }
    Some(out)
}

/// How messages name an end: `eth0 (netns B) on h2`.
fn end_name(e: &IfSpec, machines: &[Machine]) -> String {
    let on = e
        .host
        .and_then(|h| machines.get(h as usize))
        .map_or(String::new(), |m| format!(" on {}", m.name));
    format!("{} ({}){on}", e.name, super::spec::place_name(&e.at))
}

/// Machine `m`'s share of `lab`: its namespaces and bridges, the veths whose two ends it
/// holds, and a tunnel for each end it holds of a veth that crosses to another machine. The
/// host settings (`[host]`, NAT) apply on every machine; checks run from where they start.
pub fn share(lab: &Lab, m: u16) -> Lab {
    let mine = |h: Option<u16>| h == Some(m);
    let namespaces: Vec<_> = lab
        .namespaces
        .iter()
        .filter(|n| mine(n.host))
        .cloned()
        .collect();
    let local: HashSet<&str> = namespaces.iter().map(|n| n.name.as_str()).collect();
    let bridges = lab
        .bridges
        .iter()
        .filter(|b| mine(b.host))
        .cloned()
        .collect();
    let mut veths = Vec::new();
    let mut tunnels = Vec::new();
    for (k, v) in lab.veths.iter().enumerate() {
        match (mine(v[0].host), mine(v[1].host)) {
            (true, true) => veths.push(v.clone()),
            (false, false) => {}
            (a, _) => {
                let (here, there) = if a { (&v[0], &v[1]) } else { (&v[1], &v[0]) };
                let addr = |h: Option<u16>| {
                    h.and_then(|h| lab.machines.get(h as usize))
                        .map(|x| x.underlay)
                };
                let (Some(local), Some(remote)) = (addr(here.host), addr(there.host)) else {
                    continue;
                };
                // `vnis` is in veth order.
                let Ok(at) = lab.vnis.binary_search_by_key(&(k as u32), |(i, _)| *i) else {
                    continue;
                };
                let vni = lab.vnis[at];
                let mut end = here.clone();
                end.tunnel = Some(Box::new(Tunnel {
                    vni: vni.1,
                    local,
                    remote,
                    peer: end_name(there, &lab.machines),
                    mac: mac(&lab.name, &super::journal::link_key(&here.at, &here.name)),
                }));
                tunnels.push(end);
            }
        }
    }
    let checks = lab
        .checks
        .iter()
        .filter(|c| c.at.as_ref().is_none_or(|n| local.contains(n.as_str())))
        .cloned()
        .collect();
    Lab {
        name: lab.name.clone(),
        namespaces,
        host_sysctls: lab.host_sysctls.clone(),
        host_routes: lab.host_routes.clone(),
        bridges,
        veths,
        tunnels,
        nat: lab.nat.clone(),
        checks,
        hosts: lab.hosts,
        machines: lab.machines.clone(),
        vnis: Vec::new(),
        share: Some(m),
        // Names resolve across machines: every machine's namespaces are in each file.
        hosts_body: lab.hosts.then(|| super::hosts::body(lab)),
        index: Default::default(),
    }
    .indexed()
}

/// Which machine of the lab this one is: the one whose underlay address is configured here
/// (`addrs`: this machine's addresses). An error names what was found.
pub fn pick(machines: &[Machine], addrs: &[IpAddr]) -> Result<u16, String> {
    let here: Vec<usize> = (0..machines.len())
        .filter(|&k| addrs.contains(&machines[k].underlay))
        .collect();
    let all = || {
        machines
            .iter()
            .map(|m| format!("{} {}", m.name, m.underlay))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match here.as_slice() {
        [k] => Ok(*k as u16),
        [] => Err(format!(
            "no underlay address of the file's hosts ({}) is configured on this machine; pass --host NAME",
            all()
        )),
        many => Err(format!(
            "the underlay addresses of several hosts are configured on this machine ({}); pass --host NAME",
            many.iter()
                .map(|&k| machines[k].name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnis_are_stable_and_distinct() {
        let l = |a: &str, b: &str| (a.to_string(), b.to_string());
        let links = vec![
            l("A/eth0", "B/eth0"),
            l("A/eth1", "C/eth0"),
            l("/vd", "B/e2"),
        ];
        let v = allocate("lab", &links, DEFAULT_VNIS).unwrap();
        assert_eq!(v, allocate("lab", &links, DEFAULT_VNIS).unwrap());
        assert_eq!(v.iter().collect::<HashSet<_>>().len(), 3);
        assert!(v.iter().all(|x| (4096..=16_777_215).contains(x)));
        // A link added in front does not move the others.
        let mut more = vec![l("X/e", "Y/e")];
        more.extend(links.clone());
        let w = allocate("lab", &more, DEFAULT_VNIS).unwrap();
        assert_eq!(&w[1..], &v[..]);
        // A range of three holds three links, and not four.
        let small = allocate("lab", &links, (10, 12)).unwrap();
        let mut s = small.clone();
        s.sort();
        assert_eq!(s, vec![10, 11, 12]);
        assert!(allocate("lab", &more, (10, 12)).is_none());
    }

    #[test]
    fn macs_are_unicast_local_and_stable() {
        let a = mac("lab", "A/eth0");
        assert_eq!(a, mac("lab", "A/eth0"));
        assert_ne!(a, mac("lab", "B/eth0"));
        assert_ne!(a, mac("other", "A/eth0"));
        assert_eq!(a[0] & 0x03, 0x02, "{a:02x?}");
    }

    #[test]
    fn vni_ranges() {
        assert_eq!(parse_vnis("100..199"), Ok((100, 199)));
        assert_eq!(parse_vnis(" 7 .. 7 "), Ok((7, 7)));
        for bad in ["0..10", "5..4", "1..16777216", "x", "1-2", ""] {
            assert!(parse_vnis(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_local_machine_is_found_by_its_underlay() {
        let m = |n: &str, a: &str| Machine {
            name: n.into(),
            underlay: a.parse().unwrap(),
            ssh: String::new(),
        };
        let ms = [m("h1", "192.0.2.1"), m("h2", "2001:db8::2")];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(pick(&ms, &[ip("127.0.0.1"), ip("2001:db8::2")]), Ok(1));
        let none = pick(&ms, &[ip("10.0.0.1")]).unwrap_err();
        assert!(none.contains("h1 192.0.2.1, h2 2001:db8::2"), "{none}");
        let both = pick(&ms, &[ip("192.0.2.1"), ip("2001:db8::2")]).unwrap_err();
        assert!(both.contains("(h1, h2)"), "{both}");
    }
}
