//! Labs across machines (docs/topology.md, "Labs across hosts"): the file's `[hosts.NAME]`
//! tables, the VXLAN link that stands for a veth whose two ends are on different machines,
//! the VNI each such link gets (derived from the file alone, so every machine agrees without
//! talking to the others), the MAC address of every link a lab makes (derived the same way),
//! and one machine's share of the lab, which `apply --host NAME` builds like any
//! single-machine lab.

use std::collections::HashSet;
use std::net::IpAddr;

use super::spec::{IfSpec, Lab};
pub use super::spec::{Machine, Tunnel};

/// The IANA port of VXLAN, which every tunnel of a lab uses.
pub const VXLAN_PORT: u16 = 4789;

/// The VNIs a lab picks from unless its file says `vni = "A..B"`.
pub const DEFAULT_VNIS: (u32, u32) = (4096, 16_777_215);

/// A machine's name (`[hosts.NAME]`): it goes to each machine as `--host NAME` in the
/// command ssh runs there, so it is a plain word that no shell or option parser reads as
/// more: 1-32 letters, digits, '-' or '_', not starting with '-'.
pub fn valid_host_name(n: &str) -> bool {
    super::spec::valid_lab_name(n) && !n.starts_with('-')
}

/// `ssh = "[USER@]HOST"`, checked: ssh gets it as its destination, and `%h` and `%r` in a
/// ProxyCommand or Match exec put its parts into a shell command. USER is a portable user
/// name (letters, digits, '.', '_', '-', not starting with '-', at most 32); HOST is a host
/// name or an ssh_config alias (labels of letters, digits, '-' and '_', joined by '.', none
/// starting with '-', at most 253) or an IPv4 or IPv6 address (IPv6 without brackets, as
/// ssh takes it). Err: what is wrong, for a message.
pub fn check_ssh_target(t: &str) -> Result<(), String> {
    let (user, host) = match t.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, t),
    };
    if let Some(u) = user {
        let ok = !u.is_empty()
            && u.len() <= 32
            && !u.starts_with('-')
            && u.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c));
        if !ok {
            return Err(format!(
                "user \"{}\" is not a plain user name (letters, digits, '.', '_', '-', not starting with '-')",
                u.escape_debug()
            ));
        }
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        if inner.parse::<std::net::Ipv6Addr>().is_ok() {
            return Err(format!(
                "host \"{}\": ssh takes an IPv6 address without brackets ({inner})",
                host.escape_debug()
            ));
        }
    }
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && l.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    // A trailing dot (a fully qualified name) leaves one empty label at the end.
    let name = host.strip_suffix('.').unwrap_or(host);
    if host.len() <= 253 && name.split('.').all(label) {
        Ok(())
    } else {
        Err(format!(
            "host \"{}\" is not a host name (letters, digits, '-', '_' and dots, not starting with '-') or an IP address",
            host.escape_debug()
        ))
    }
}

/// Give every link the lab makes its MAC address ([`IfSpec::mac`]), derived from the file
/// alone: a locally administered unicast address (first octet `xxxxxx10`) from a hash of the
/// lab's name, the link's place (a namespace, or the host of one machine) and its name.
///
/// A namespace made again (a range edit takes it out of the file and puts it back), or a
/// link deleted and made again, comes back with the MACs it had: its neighbours' ARP and NDP
/// entries, and the bridges' forwarding entries, still hold, where new random MACs left them
/// pointing at addresses that are gone until they expire (ping failed for tens of seconds).
/// A bridge gets one too: left to itself it takes the lowest MAC among its ports, and
/// changes whenever that port leaves or a lower one joins.
///
/// Two links of one lab with the same MAC would break each other (in one bridge, or across
/// machines over VXLAN): a MAC given already is derived again with a counter, in file order
/// (the bridges, then both ends of each veth), so the first link keeps its address. Called
/// once on the whole lab, before a machine's share is cut from it, so every machine derives
/// the same MACs.
pub fn derive_macs(lab: &mut Lab) {
    let Lab {
        name,
        machines,
        bridges,
        veths,
        ..
    } = lab;
    let machine = |i: &IfSpec| {
        i.host
            .and_then(|h| machines.get(h as usize))
            .map(|m| m.name.as_str())
    };
    let ends = bridges.iter_mut().chain(veths.iter_mut().flatten());
    assign_macs(ends, |i, round| {
        mac(name, &i.at, machine(i), &i.name, round)
    });
}

/// Give each of `ends`, in order, the first of `derive(end, 0)`, `derive(end, 1)`, ... that
/// no end before it has.
fn assign_macs<'a>(
    ends: impl Iterator<Item = &'a mut IfSpec>,
    derive: impl Fn(&IfSpec, u32) -> [u8; 6],
) {
    let mut used: HashSet<[u8; 6]> = HashSet::new();
    for e in ends {
        let first = derive(e, 0);
        // 2^46 addresses: a lab's few thousand links find a free one in a round or two.
        e.mac = (0..=u32::MAX)
            .map(|round| if round == 0 { first } else { derive(e, round) })
            .find(|m| used.insert(*m))
            .unwrap_or(first);
    }
}

/// The MAC of link `name` in `at` (on `machine`, for the host of a lab across machines),
/// derived for the `round`-th time. Round 0 of a namespace's link hashes what earlier
/// versions hashed for a vxlan end (`LAB`, `mac`, `NETNS/NAME`), so those keep their MACs.
fn mac(lab: &str, at: &Option<String>, machine: Option<&str>, name: &str, round: u32) -> [u8; 6] {
    let mut h = Fnv::new();
    h.part(lab.as_bytes());
    h.part(b"mac");
    match (at, machine) {
        (Some(ns), _) => {
            h.bytes(ns.as_bytes());
            h.bytes(b"/");
            h.part(name.as_bytes());
        }
        (None, None) => h.part(name.as_bytes()),
        // The host of each machine is a place of its own; an empty part first (no namespace
        // is named "") keeps it apart from every `NETNS/NAME`.
        (None, Some(m)) => {
            h.part(b"");
            h.part(m.as_bytes());
            h.part(name.as_bytes());
        }
    }
    if round > 0 {
        h.part(round.to_string().as_bytes());
    }
    let b = h.0.to_be_bytes();
    [(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]]
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
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// A part of the input, ended by a 0 byte (which no part holds).
    fn part(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
        self.bytes(&[0]);
    }
}

/// [`Fnv`] of `parts`.
fn fnv(parts: &[&str]) -> u64 {
    let mut h = Fnv::new();
    for p in parts {
        h.part(p.as_bytes());
    }
    h.0
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
        hosts_body: lab.hosts.then(|| lab.hosts_body()),
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
    use crate::lab::fixtures::{lab, MULTI};

    #[test]
    fn ssh_targets_are_user_at_host() {
        for good in [
            "root@192.0.2.1",
            "192.0.2.1",
            "root@fd00::1",
            "admin.x_y-z@lab-h1.example.org",
            "h1",
            "my_alias",
            "root@h1.",
        ] {
            assert_eq!(check_ssh_target(good), Ok(()), "{good}");
        }
        for (bad, why) in [
            ("root@-oProxyCommand=touch${IFS}x", "not a host name"),
            ("-oProxyCommand=x", "not a host name"),
            ("root@$(touch x)", "not a host name"),
            ("root@h1;touch x", "not a host name"),
            ("root@`id`", "not a host name"),
            ("root@h1 x", "not a host name"),
            ("root@", "not a host name"),
            ("", "not a host name"),
            ("root@.", "not a host name"),
            ("root@h1.-x", "not a host name"),
            ("root@a..b", "not a host name"),
            ("root@h1%h", "not a host name"),
            ("root@[fd00::1]", "without brackets (fd00::1)"),
            ("-l@h1", "not a plain user name"),
            ("$(id)@h1", "not a plain user name"),
            ("a;b@h1", "not a plain user name"),
            ("@h1", "not a plain user name"),
            ("a@b@h1", "not a plain user name"),
            ("r\u{301}oot@h1", "not a plain user name"),
        ] {
            let e = check_ssh_target(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(check_ssh_target(&format!("root@{}", "a.".repeat(127))).is_err());
        assert!(check_ssh_target(&format!("{}@h1", "a".repeat(33))).is_err());
    }

    #[test]
    fn host_names_are_plain_words() {
        for good in ["h1", "rack_2-b", "H"] {
            assert!(valid_host_name(good), "{good}");
        }
        let long = "x".repeat(33);
        for bad in [
            "--adopt", "-j", "--", "-", "", "a b", "a;b", "$(x)", "a.b", &long,
        ] {
            assert!(!valid_host_name(bad), "{bad}");
        }
    }

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

    /// Each link of the lab: (place, name, machine) -> MAC.
    fn macs(l: &Lab) -> Vec<(String, [u8; 6])> {
        l.all_interfaces()
            .map(|i| {
                let at = super::super::spec::place_name(&i.at);
                (format!("{} ({at}) {:?}", i.name, i.host), i.mac)
            })
            .collect()
    }

    /// Lab "m": bridge br0 in the host, and namespaces n0.. each with a port on it.
    fn star(n: usize) -> Lab {
        let mut t = String::from("name = \"m\"\n[bridge.br0]\n");
        for k in 0..n {
            t += &format!(
                "[netns.n{k}]\n[[veth]]\nends = [{{ netns = \"n{k}\", name = \"eth0\" }}, {{ name = \"v{k}\", bridge = \"br0\" }}]\n"
            );
        }
        lab(&t)
    }

    #[test]
    fn every_link_has_a_stable_local_unicast_mac_of_its_own() {
        let l = star(3);
        let m = macs(&l);
        assert_eq!(m.len(), 7);
        for (what, mac) in &m {
            // Locally administered (bit 1 of the first octet), unicast (bit 0 clear).
            assert_eq!(mac[0] & 0x03, 0x02, "{what}: {mac:02x?}");
        }
        let distinct: HashSet<[u8; 6]> = m.iter().map(|(_, x)| *x).collect();
        assert_eq!(distinct.len(), m.len(), "{m:02x?}");
        // The same file gives the same MACs; a range that grows keeps the old links' MACs
        // (a namespace taken out of the file and put back gets its own again).
        assert_eq!(macs(&star(3)), m);
        assert_eq!(macs(&star(5))[..7], m[..]);
        // Another lab's links differ.
        let other = lab(&format!("name = \"n\"\n{}", "[bridge.br0]\n"));
        assert_ne!(other.bridges[0].mac, l.bridges[0].mac);
        // Round 0 of a namespace's link is what a vxlan end had before.
        assert_eq!(mac("m", &Some("n0".into()), None, "eth0", 0), {
            let h = fnv(&["m", "mac", "n0/eth0"]).to_be_bytes();
            [(h[0] & 0xfc) | 0x02, h[1], h[2], h[3], h[4], h[5]]
        });
    }

    #[test]
    fn each_machines_host_is_a_place_of_its_own_and_shares_keep_the_macs() {
        let l = lab(MULTI);
        let m = macs(&l);
        let distinct: HashSet<[u8; 6]> = m.iter().map(|(_, x)| *x).collect();
        assert_eq!(distinct.len(), m.len(), "{m:02x?}");
        // "v" in the host of h1 and "v" in the host of h2 are two links: two MACs, each its
        // own derivation (not the second round of one).
        let v: Vec<[u8; 6]> = l
            .veths
            .iter()
            .flatten()
            .filter(|e| e.name == "v")
            .map(|e| e.mac)
            .collect();
        assert_eq!(v[0], mac("multi", &None, Some("h1"), "v", 0));
        assert_eq!(v[1], mac("multi", &None, Some("h2"), "v", 0));
        // Each machine's share makes its links, and its tunnel ends, with the whole lab's MACs.
        for h in 0..2 {
            let s = share(&l, h);
            for i in s.all_interfaces() {
                let whole = l
                    .all_interfaces()
                    .find(|w| w.at == i.at && w.name == i.name && w.host == i.host)
                    .expect("in the whole lab");
                assert_eq!(i.mac, whole.mac, "{} on {h}", i.name);
            }
            assert_eq!(s.tunnels.len(), 1);
        }
    }

    #[test]
    fn a_mac_given_already_is_derived_again_in_file_order() {
        let l = star(3);
        let mut ends: Vec<IfSpec> = l.all_interfaces().cloned().collect();
        // Every link's first round gives one MAC: the first link keeps it, each later one
        // takes its next round that is free, the same way every time.
        let same = [0x02, 0, 0, 0, 0, 1];
        let derive = |i: &IfSpec, round: u32| {
            if round == 0 {
                same
            } else {
                mac("m", &i.at, None, &i.name, round)
            }
        };
        assign_macs(ends.iter_mut(), derive);
        assert_eq!(ends[0].mac, same);
        for e in &ends[1..] {
            assert_eq!(e.mac, mac("m", &e.at, None, &e.name, 1), "{}", e.name);
        }
        // Round 1 of two links collides as well: the later one goes on to round 2.
        let mut two: Vec<IfSpec> = ends[..3].to_vec();
        let derive = |i: &IfSpec, round: u32| match round {
            0 | 1 => [0x02, 0, 0, 0, 0, round as u8],
            _ => mac("m", &i.at, None, &i.name, round),
        };
        assign_macs(two.iter_mut(), derive);
        let again = |v: &mut Vec<IfSpec>| {
            assign_macs(v.iter_mut(), derive);
            v.iter().map(|e| e.mac).collect::<Vec<_>>()
        };
        assert_eq!(two[0].mac, [0x02, 0, 0, 0, 0, 0]);
        assert_eq!(two[1].mac, [0x02, 0, 0, 0, 0, 1]);
        assert_eq!(two[2].mac, mac("m", &two[2].at, None, &two[2].name, 2));
        let first = two.iter().map(|e| e.mac).collect::<Vec<_>>();
        assert_eq!(again(&mut two), first);
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
