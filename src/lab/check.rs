//! The lab's reachability checks as validated: `[[check]]` entries with their endpoints
//! resolved to places, devices and addresses (docs/topology.md, "Checks"). Running them is
//! `test.rs`; the packets are `probe.rs`.
//!
//! An endpoint is `NS` (a lab namespace: its first address in the file, IPv4 first), `NS/IF`
//! (that interface: the check leaves through it, from its address) or an address. `from`
//! must be in the lab; `to` may be any address, and when it is one of the lab's, a TCP check
//! finds or opens a listener there.

use std::net::IpAddr;
use std::time::Duration;

use super::file::{Check, Problem};
use super::spec::{IfSpec, Lab, Where};

/// What a check sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    Ping,
    Tcp(u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckSpec {
    /// The endpoints as written.
    pub from: String,
    pub to: String,
    /// Where the probe starts, the interface it is bound to, and its source address.
    pub at: Where,
    pub dev: Option<String>,
    pub src: Option<IpAddr>,
    pub dst: IpAddr,
    /// The lab place that holds `dst`, where a TCP check opens a listener if none is there.
    pub owner: Option<Where>,
    pub probe: Probe,
    /// Whether `to` must be reachable (else it must not be).
    pub reach: bool,
    pub timeout: Duration,
}

impl CheckSpec {
    /// `ping A -> B (10.0.0.3)`, `tcp A -> 10.0.0.3:80`.
    pub fn title(&self) -> String {
        let kind = match self.probe {
            Probe::Ping => "ping",
            Probe::Tcp(_) => "tcp",
        };
        let port = match self.probe {
            Probe::Tcp(p) => format!(":{p}"),
            Probe::Ping => String::new(),
        };
        let literal = self.to.parse::<IpAddr>().is_ok();
        let shown = if literal {
            String::new()
        } else {
            format!(" ({})", self.dst)
        };
        format!("{kind} {} -> {}{port}{shown}", self.from, self.to)
    }
}

/// The default time a check waits for an answer.
pub const TIMEOUT: f64 = 2.0;

/// One end of a check: the place, the interface when named, and the address when given.
struct End<'l> {
    at: Where,
    iface: Option<&'l IfSpec>,
    addr: Option<IpAddr>,
    /// The addresses the end stands for, in file order.
    addrs: Vec<IpAddr>,
}

fn end<'l>(lab: &'l Lab, text: &str, from: bool) -> Result<End<'l>, String> {
    if let Ok(a) = text.parse::<IpAddr>() {
        let holder = lab
            .all_interfaces()
            .find(|i| i.addrs.iter().any(|p| p.addr == Some(a)));
        return match holder {
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
        Some(i) => i.addrs.iter().filter_map(|p| p.addr).collect(),
        None => lab
            .interfaces(&at)
            .flat_map(|i| i.addrs.iter().filter_map(|p| p.addr))
            .collect(),
    };
    Ok(End {
        at,
        iface,
        addr: None,
        addrs,
    })
}

/// The address of `addrs` to use: of `family` when one is asked for, else IPv4 first.
fn pick(addrs: &[IpAddr], family: Option<bool>) -> Option<IpAddr> {
    match family {
        Some(v4) => addrs.iter().find(|a| a.is_ipv4() == v4).copied(),
        None => addrs
            .iter()
            .find(|a| a.is_ipv4())
            .or(addrs.first())
            .copied(),
    }
}

/// Validate one check against the lab.
fn resolve(lab: &Lab, c: &Check) -> Result<CheckSpec, (usize, String)> {
    let at = |s: &toml::Spanned<String>| s.span().start;
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
                at(&c.from),
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
    let from = end(lab, c.from.get_ref(), true).map_err(|m| (at(&c.from), m))?;
    let to = end(lab, c.to.get_ref(), false).map_err(|m| (at(&c.to), m))?;
    let family = from.addr.map(|a| a.is_ipv4());
    let dst = pick(&to.addrs, family).ok_or_else(|| {
        let fam = match family {
            Some(true) => "IPv4 address",
            Some(false) => "IPv6 address",
            None => "address",
        };
        (
            at(&c.to),
            format!(
                "\"{}\" has no {fam} in the file to check",
                c.to.get_ref().escape_debug()
            ),
        )
    })?;
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
    let owner = lab
        .all_interfaces()
        .find(|i| i.addrs.iter().any(|p| p.addr == Some(dst)))
        .map(|i| i.at.clone());
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
        let lab = super::super::spec::build(f, "t", false)
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
