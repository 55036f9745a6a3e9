//! The lab's reachability checks as validated: `[[check]]` entries with their endpoints
//! resolved to places, devices and addresses (docs/topology.md, "Checks"). Running them is
//! `test.rs`; the packets are `probe.rs`.
//!
//! An endpoint is `NS` (a lab namespace: its first address in the file, IPv4 first, of a
//! family both ends have: `Lab::names`), `NS/IF` (that interface: the check leaves through it,
//! from its address) or an address. `from` must be in the lab; `to` may be any address, and
//! when it is one of the lab's, a TCP check finds or opens a listener there.

use std::net::IpAddr;
use std::time::Duration;

use super::file::{Check, Problem};
use super::spec::{ipv4_first, IfSpec, Lab, Where};
pub use super::spec::{CheckSpec, Probe};

/// The default time a check waits for an answer.
pub const TIMEOUT: f64 = 2.0;

/// One end of a check: the place, the interface when named, and the address when given.
struct End<'l> {
    at: Where,
    iface: Option<&'l IfSpec>,
    addr: Option<IpAddr>,
    /// The addresses the end stands for: IPv4 first, each family in file order
    /// ([`Lab::names`]).
    addrs: Vec<IpAddr>,
}

fn end<'l>(lab: &'l Lab, text: &str, from: bool) -> Result<End<'l>, String> {
    if let Ok(a) = text.parse::<IpAddr>() {
        return match lab.holder(a) {
            Some(i) => Ok(End {
                at: i.at.clone(),
                iface: None,
                addr: Some(a),
                addrs: vec![a],
            }),
            None if from => Err(format!(
                "from \"{text}\": no interface of the lab has this address; name a namespace (NS or NS/IF) or one of the lab's addresses"
            )),
            None => Ok(End {
                at: None,
                iface: None,
                addr: Some(a),
                addrs: vec![a],
            }),
        };
    }
    let (ns, ifname) = match text.split_once('/') {
        Some((n, i)) => (n, Some(i)),
        None => (text, None),
    };
    if lab.netns(ns).is_none() {
        return Err(format!(
            "\"{}\" is not a namespace of the lab, NS/IF or an address",
            text.escape_debug()
        ));
    }
    let at = Some(ns.to_string());
    let iface = match ifname {
        None => None,
        Some(n) => Some(lab.interfaces(&at).find(|i| i.name == n).ok_or_else(|| {
            format!(
                "\"{}\": netns {ns} has no interface \"{}\" in the file",
                text.escape_debug(),
                n.escape_debug()
            )
        })?),
    };
    let addrs = match iface {
        Some(i) => ipv4_first(i.addrs.iter().filter_map(|p| p.addr)),
        None => lab.names(&at),
    };
    Ok(End {
        at,
        iface,
        addr: None,
        addrs,
    })
}

/// "IPv4" or "IPv6".
fn family(a: &IpAddr) -> &'static str {
    if a.is_ipv4() {
        "IPv4"
    } else {
        "IPv6"
    }
}

/// What a check sends and expects: its probe, whether `to` must be reachable, its timeout.
fn probe(c: &Check) -> Result<(Probe, bool, f64), (usize, String)> {
    let probe = match (&c.ping, &c.tcp) {
        (Some(p), Some(_)) if *p.get_ref() => {
            return Err((
                p.span().start,
                "a check is ping = true or tcp = PORT, not both".into(),
            ))
        }
        (_, Some(t)) => match u16::try_from(*t.get_ref()) {
            Ok(p) if p > 0 => Probe::Tcp(p),
            _ => {
                return Err((
                    t.span().start,
                    format!("tcp port {} is outside 1..65535", t.get_ref()),
                ))
            }
        },
        (Some(p), None) if *p.get_ref() => Probe::Ping,
        (Some(p), None) => {
            return Err((
                p.span().start,
                "ping = false checks nothing; say ping = true or tcp = PORT".into(),
            ))
        }
        (None, None) => {
            return Err((
                c.from.span().start,
                "a check needs ping = true or tcp = PORT".into(),
            ))
        }
    };
    let reach = match &c.expect {
        None => true,
        Some(e) => match e.get_ref().as_str() {
            "reachable" => true,
            "unreachable" => false,
            other => {
                return Err((
                    e.span().start,
                    format!(
                        "expect \"{}\" is not \"reachable\" or \"unreachable\"",
                        other.escape_debug()
                    ),
                ))
            }
        },
    };
    let timeout = match &c.timeout {
        None => TIMEOUT,
        Some(t) if (0.1..=60.0).contains(t.get_ref()) => *t.get_ref(),
        Some(t) => {
            return Err((
                t.span().start,
                format!("timeout {} is outside 0.1..60 seconds", t.get_ref()),
            ))
        }
    };
    Ok((probe, reach, timeout))
}

/// The address a check targets: the first of `to`'s (IPv4 first) of a family `from` has an
/// address of, since a probe needs a source of its target's family. A loopback or
/// unspecified target is the place's own `lo`, which needs none of the file's.
fn target(c: &Check, from: &End, to: &End) -> Result<IpAddr, (usize, String)> {
    let local = |a: &IpAddr| a.is_loopback() || a.is_unspecified();
    let sends = |a: &IpAddr| local(a) || from.addrs.iter().any(|s| s.is_ipv4() == a.is_ipv4());
    if let Some(dst) = to.addrs.iter().find(|a| sends(a)) {
        return Ok(*dst);
    }
    let (f, t) = (
        c.from.get_ref().escape_debug(),
        c.to.get_ref().escape_debug(),
    );
    let at = c.to.span().start;
    let msg = match (from.addrs.first(), to.addrs.first()) {
        (_, None) => format!("\"{t}\" has no address in the file to check"),
        (None, Some(_)) => {
            return Err((
                c.from.span().start,
                format!("\"{f}\" has no address in the file to send from; give it one"),
            ))
        }
        // An address to send from is one family.
        (Some(s), Some(_)) if from.addr.is_some() => {
            format!("\"{t}\" has no {} address in the file to check", family(s))
        }
        (Some(s), Some(d)) if to.addr.is_some() => format!(
            "\"{f}\" has no {} address in the file to send to {d} from; give it one, or check an {} address",
            family(d),
            family(s)
        ),
        // Each end is of one family, and not the other's.
        (Some(s), Some(d)) => format!(
            "\"{f}\" has only {} addresses and \"{t}\" only {} ones: they share no address family; give both an address of one family",
            family(s),
            family(d)
        ),
    };
    Err((at, msg))
}

/// Validate one check against the lab.
fn resolve(lab: &Lab, c: &Check) -> Result<CheckSpec, (usize, String)> {
    let at = |s: &toml::Spanned<String>| s.span().start;
    let (probe, reach, timeout) = probe(c)?;
    let from = end(lab, c.from.get_ref(), true).map_err(|m| (at(&c.from), m))?;
    let to = end(lab, c.to.get_ref(), false).map_err(|m| (at(&c.to), m))?;
    let dst = target(c, &from, &to)?;
    let src = match (from.addr, from.iface) {
        (Some(a), _) => Some(a),
        (None, Some(i)) => Some(
            i.addrs
                .iter()
                .filter_map(|p| p.addr)
                .find(|a| a.is_ipv4() == dst.is_ipv4())
                .ok_or_else(|| {
                    (
                        at(&c.from),
                        format!(
                            "\"{}\" has no address of {}'s family to send from",
                            c.from.get_ref().escape_debug(),
                            dst
                        ),
                    )
                })?,
        ),
        (None, None) => None,
    };
    if src.is_some_and(|s| s.is_ipv4() != dst.is_ipv4()) {
        return Err((
            at(&c.to),
            format!("{} and {dst} are not of one family", c.from.get_ref()),
        ));
    }
    // A namespace named as `to` holds the address (another may hold the same one: isolated
    // namespaces reuse addresses); an address given as such, its first holder in the file.
    let owner = match to.addr {
        None => Some(to.at.clone()),
        Some(_) => lab.holder(dst).map(|i| i.at.clone()),
    };
    Ok(CheckSpec {
        from: c.from.get_ref().clone(),
        to: c.to.get_ref().clone(),
        at: from.at,
        dev: from.iface.map(|i| i.name.clone()),
        src,
        dst,
        owner,
        probe,
        reach,
        timeout: Duration::from_secs_f64(timeout),
    })
}

/// Every check of the file, or its problems (each prefixed with its instance when a
/// template made it).
pub fn build(
    lab: &Lab,
    checks: &[toml::Spanned<Check>],
    labels: &[Option<String>],
) -> Result<Vec<CheckSpec>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (k, c) in checks.iter().enumerate() {
        match resolve(lab, c.get_ref()) {
            Ok(s) => out.push(s),
            Err((at, msg)) => {
                let msg = match labels.get(k).cloned().flatten() {
                    Some(l) => format!("{l}: {msg}"),
                    None => msg,
                };
                problems.push(Problem { at, msg });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAB: &str = "[bridge.br0]\naddresses = [\"10.0.0.1/24\"]\n[netns.A]\n[netns.B]\n[[veth]]\nends = [{ netns = \"A\", name = \"eth0\", addresses = [\"fd00::2/64\", \"10.0.0.2/24\"] }, { name = \"va\", bridge = \"br0\" }]\n[[veth]]\nends = [{ netns = \"B\", name = \"eth0\", addresses = [\"10.0.0.3/24\"] }, { name = \"vb\", bridge = \"br0\" }]\n";

    fn checks(extra: &str) -> Result<Vec<CheckSpec>, Vec<String>> {
        let f = super::super::file::parse(&format!("{LAB}{extra}")).map_err(|p| vec![p.msg])?;
        let checks = f.check.clone();
        let lab = super::super::validate::build(f, "t", false)
            .map_err(|ps| ps.into_iter().map(|p| p.msg).collect::<Vec<_>>())?;
        build(&lab, &checks, &[]).map_err(|ps| ps.into_iter().map(|p| p.msg).collect())
    }

    #[test]
    fn endpoints_resolve() {
        let c = checks("[[check]]\nfrom = \"A\"\nto = \"B\"\nping = true\n[[check]]\nfrom = \"A/eth0\"\nto = \"10.0.0.1\"\ntcp = 80\nexpect = \"unreachable\"\ntimeout = 1\n[[check]]\nfrom = \"fd00::2\"\nto = \"A\"\nping = true\n[[check]]\nfrom = \"10.0.0.1\"\nto = \"192.0.2.9\"\ntcp = 22\n").unwrap();
        assert_eq!(c[0].title(), "ping A -> B (10.0.0.3)");
        assert_eq!((c[0].at.as_deref(), c[0].src), (Some("A"), None));
        assert_eq!(c[0].owner, Some(Some("B".into())));
        assert_eq!(c[1].title(), "tcp A/eth0 -> 10.0.0.1:80");
        assert_eq!(c[1].dev.as_deref(), Some("eth0"));
        assert_eq!(c[1].src, Some("10.0.0.2".parse().unwrap()));
        assert_eq!((c[1].reach, c[1].owner.clone()), (false, Some(None)));
        assert_eq!(c[1].timeout, Duration::from_secs(1));
        // From an IPv6 address, to the namespace's IPv6 address; from the host's bridge.
        assert_eq!(c[2].dst, "fd00::2".parse::<IpAddr>().unwrap());
        assert_eq!((c[3].at.clone(), c[3].owner.clone()), (None, None));
    }

    #[test]
    fn ipv6_targets_take_brackets_before_their_port() {
        let c = checks("[[check]]\nfrom = \"A\"\nto = \"::\"\ntcp = 1\n[[check]]\nfrom = \"fd00::2\"\nto = \"fd00::2\"\ntcp = 80\n[[check]]\nfrom = \"A\"\nto = \"fd00::2\"\nping = true\n[[check]]\nfrom = \"A\"\nto = \"10.0.0.3\"\ntcp = 22\n").unwrap();
        assert_eq!(c[0].title(), "tcp A -> [::]:1");
        assert_eq!(c[1].title(), "tcp fd00::2 -> [fd00::2]:80");
        assert_eq!(c[2].title(), "ping A -> fd00::2");
        assert_eq!(c[3].title(), "tcp A -> 10.0.0.3:22");
    }

    #[test]
    fn a_named_target_is_where_its_listener_goes() {
        // A and C hold the same address: a check to C opens its listener in C.
        let c = checks("[netns.C]\n[[veth]]\nends = [{ netns = \"C\", name = \"a\", addresses = [\"10.0.0.2/24\"] }, { netns = \"C\", name = \"b\" }]\n[[check]]\nfrom = \"C\"\nto = \"C\"\ntcp = 80\n[[check]]\nfrom = \"B\"\nto = \"10.0.0.2\"\ntcp = 80\n").unwrap();
        assert_eq!(c[0].dst, "10.0.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(c[0].owner, Some(Some("C".into())));
        // An address given as such: its first holder in the file.
        assert_eq!(c[1].owner, Some(Some("A".into())));
    }

    /// Checks against a lab of its own.
    fn checks_in(lab: &str, extra: &str) -> Result<Vec<CheckSpec>, Vec<String>> {
        let f = super::super::file::parse(&format!("{lab}{extra}")).map_err(|p| vec![p.msg])?;
        let checks = f.check.clone();
        let lab = super::super::validate::build(f, "t", false)
            .map_err(|ps| ps.into_iter().map(|p| p.msg).collect::<Vec<_>>())?;
        build(&lab, &checks, &[]).map_err(|ps| ps.into_iter().map(|p| p.msg).collect())
    }

    #[test]
    fn a_named_target_is_its_first_address_in_the_file() {
        // B's veth end is written before its bridge: B is 10.1.0.2, not the bridge's
        // 10.2.0.1. 10.5.0.1 is C's end's, written before D's bridge that holds it too.
        let lab = "[netns.A]\n[netns.B]\n[netns.C]\n[netns.D]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"10.1.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"10.1.0.2/24\"] }]\n[[veth]]\nends = [{ netns = \"C\", name = \"e\", addresses = [\"10.5.0.1/24\"] }, { netns = \"D\", name = \"e\" }]\n[bridge.lan]\nnetns = \"B\"\naddresses = [\"10.2.0.1/24\"]\n[bridge.x]\nnetns = \"D\"\naddresses = [\"10.5.0.1/24\"]\n";
        let c = checks_in(lab, "[[check]]\nfrom = \"A\"\nto = \"B\"\nping = true\n[[check]]\nfrom = \"A\"\nto = \"10.5.0.1\"\ntcp = 80\n[[check]]\nfrom = \"10.5.0.1\"\nto = \"A\"\nping = true\n").unwrap();
        assert_eq!(c[0].title(), "ping A -> B (10.1.0.2)");
        assert_eq!(c[1].owner, Some(Some("C".into())));
        assert_eq!(c[2].at, Some("C".into()));
    }

    #[test]
    fn endpoints_must_share_a_family() {
        let lab = "[netns.a]\n[netns.b]\n[netns.c]\n[netns.n]\n[[veth]]\nends = [{ netns = \"a\", name = \"e\", addresses = [\"fd00::1/64\"] }, { netns = \"b\", name = \"e\", addresses = [\"10.0.0.2/24\"] }]\n[[veth]]\nends = [{ netns = \"c\", name = \"e\", addresses = [\"10.0.1.1/24\", \"fd00::3/64\"] }, { netns = \"n\", name = \"e\" }]\n";
        let check = |from: &str, to: &str| {
            checks_in(
                lab,
                &format!("[[check]]\nfrom = \"{from}\"\nto = \"{to}\"\nping = true\n"),
            )
        };
        for (from, to, want) in [
            ("a", "b", "\"a\" has only IPv6 addresses and \"b\" only IPv4 ones: they share no address family; give both an address of one family"),
            ("b", "a", "\"b\" has only IPv4 addresses and \"a\" only IPv6 ones"),
            ("a/e", "b/e", "\"a/e\" has only IPv6 addresses and \"b/e\" only IPv4 ones"),
            ("a", "10.0.0.2", "\"a\" has no IPv4 address in the file to send to 10.0.0.2 from; give it one, or check an IPv6 address"),
            ("a", "192.0.2.1", "\"a\" has no IPv4 address in the file to send to 192.0.2.1 from"),
            ("fd00::1", "b", "\"b\" has no IPv6 address in the file to check"),
            ("n", "b", "\"n\" has no address in the file to send from; give it one"),
            ("b", "n", "\"n\" has no address in the file to check"),
        ] {
            let got = check(from, to).unwrap_err();
            assert!(got.len() == 1 && got[0].starts_with(want), "{from} -> {to}: {got:?}");
        }
        // The family both have, though IPv4 comes first; a place's own lo needs none.
        let dst = |from: &str, to: &str| check(from, to).map(|c| c[0].dst.to_string());
        assert_eq!(dst("a", "c"), Ok("fd00::3".into()));
        assert_eq!(dst("c", "a"), Ok("fd00::1".into()));
        assert_eq!(dst("b", "c"), Ok("10.0.1.1".into()));
        assert_eq!(dst("a", "127.0.0.1"), Ok("127.0.0.1".into()));
        assert_eq!(dst("n", "::"), Ok("::".into()));
    }

    #[test]
    fn bad_checks_are_explained() {
        for (text, want) in [
            (
                "from = \"A\"\nto = \"B\"\n",
                "needs ping = true or tcp = PORT",
            ),
            (
                "from = \"A\"\nto = \"B\"\nping = true\ntcp = 1\n",
                "not both",
            ),
            (
                "from = \"A\"\nto = \"B\"\ntcp = 70000\n",
                "outside 1..65535",
            ),
            (
                "from = \"X\"\nto = \"B\"\nping = true\n",
                "not a namespace of the lab",
            ),
            (
                "from = \"A/eth9\"\nto = \"B\"\nping = true\n",
                "no interface \"eth9\"",
            ),
            (
                "from = \"1.2.3.4\"\nto = \"B\"\nping = true\n",
                "no interface of the lab",
            ),
            (
                "from = \"A\"\nto = \"B\"\nping = true\nexpect = \"maybe\"\n",
                "\"reachable\" or",
            ),
            (
                "from = \"A\"\nto = \"B\"\nping = true\ntimeout = 0\n",
                "outside 0.1..60",
            ),
            (
                "from = \"fd00::2\"\nto = \"B\"\nping = true\n",
                "has no IPv6 address",
            ),
        ] {
            let got = checks(&format!("[[check]]\n{text}")).unwrap_err();
            assert!(got.iter().any(|m| m.contains(want)), "{text}: {got:?}");
        }
    }
}
