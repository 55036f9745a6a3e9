//! Observation without root: a fake machine behind `observe::System` that answers from a
//! few namespaces held in memory (sequentially; the real survey is parallel) and logs every
//! question asked, and the unit tests of `observe_with` through it.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::hostsfile::Seen;
use super::observe::{Families, NsObs, PlaceObs, System};
use super::places::Fail;
use super::shares::Shares;
use super::survey::{in_netns, Found, Job};

/// A machine as observation sees it. Every question is logged, one line each:
/// `netns A deep keys=K v4`, `host v4`, `host sysctl K`, `nft LAB`, `hosts A`, `dir A`,
/// `shares`.
#[derive(Default)]
pub(crate) struct Machine {
    /// Bound namespaces: cookie and contents.
    pub ns: BTreeMap<String, (u64, PlaceObs)>,
    /// Names in /run/netns that are empty files.
    pub unbound: BTreeSet<String>,
    /// Namespaces whose contents cannot be read, with the reason.
    pub failing: BTreeMap<String, String>,
    pub host: PlaceObs,
    pub nat: BTreeMap<String, Vec<String>>,
    pub hosts: HashMap<String, Seen>,
    pub dirs: HashSet<Option<String>>,
    pub shares: Shares,
    pub log: RefCell<Vec<String>>,
}

/// What a read of `fam` and `keys` finds of `p`: only the sysctls asked for, routes only of
/// the families asked for, qdiscs only when asked (as the kernel dumps would).
fn visible(p: &PlaceObs, fam: Families, keys: &[String]) -> PlaceObs {
    let mut out = p.clone();
    out.sysctls.retain(|k, _| keys.contains(k));
    out.routes.retain(|r| {
        if r.dst.is_some_and(|d| d.is_ipv6()) {
            fam.v6
        } else {
            fam.v4
        }
    });
    if !fam.tc {
        out.qdiscs.clear();
    }
    out
}

fn fams(fam: Families) -> String {
    let mut s = String::new();
    for (on, name) in [(fam.v4, " v4"), (fam.v6, " v6"), (fam.tc, " tc")] {
        if on {
            s.push_str(name);
        }
    }
    s
}

impl Machine {
    fn note(&self, line: String) {
        self.log.borrow_mut().push(line);
    }

    fn one(&self, job: &Job) -> Result<Found, Fail> {
        let depth = if job.deep { "deep" } else { "shallow" };
        let keys = job.keys.join(",");
        self.note(format!(
            "netns {} {depth} keys={keys}{}",
            job.name,
            fams(job.fam)
        ));
        let mut found = Found {
            name: job.name.clone(),
            ns: None,
            place: None,
        };
        if let Some(why) = self.failing.get(&job.name) {
            return Err(in_netns(&job.name, why));
        }
        if self.unbound.contains(&job.name) {
            found.ns = Some(NsObs::Unbound);
        } else if let Some((cookie, p)) = self.ns.get(&job.name) {
            found.ns = Some(NsObs::Bound {
                cookie: Some(*cookie),
            });
            found.place = job.deep.then(|| visible(p, job.fam, &job.keys));
        }
        Ok(found)
    }
}

impl System for Machine {
    fn namespaces(&self, jobs: Vec<Job>) -> Result<Vec<Found>, Fail> {
        jobs.iter().map(|j| self.one(j)).collect()
    }
    fn host(&self, fam: Families) -> Result<PlaceObs, Fail> {
        self.note(format!("host{}", fams(fam)));
        Ok(visible(&self.host, fam, &[]))
    }
    fn host_sysctl(&self, key: &str) -> Option<String> {
        self.note(format!("host sysctl {key}"));
        self.host.sysctls.get(key).cloned()
    }
    fn nat(&self, lab: &str) -> Result<Option<Vec<String>>, Fail> {
        self.note(format!("nft {lab}"));
        Ok(self.nat.get(lab).cloned())
    }
    fn hosts(&self, _lab: &str, netns: &str, _want: Option<&str>) -> Result<Seen, Fail> {
        self.note(format!("hosts {netns}"));
        Ok(self.hosts.get(netns).copied().unwrap_or(Seen::Absent))
    }
    fn dir_exists(&self, netns: Option<&str>) -> bool {
        self.note(format!("dir {}", netns.unwrap_or("/")));
        self.dirs.contains(&netns.map(str::to_string))
    }
    fn shares(&self) -> std::io::Result<Shares> {
        self.note("shares".into());
        Ok(self.shares.clone())
    }
}

/// The tests of `observe_with` against the fake machine. (The whole file is test-only; the
/// attribute also tells the layering check (layers.rs) that what follows is tests, which
/// may use the plan above this layer.)
#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::journal::{Journal, Owned};
    use crate::lab::observe::{observe_with, LinkObs, RouteObs};
    use crate::lab::plan;
    use crate::lab::spec::{link_key, Lab};

    /// Two namespaces joined by a veth, a route and a sysctl in A, hosts files in both.
    const TWO: &str = r#"
name = "t"
[netns.A]
routes = ["10.9.0.0/24 via 10.0.0.2"]
sysctl = { "net.ipv4.ip_forward" = 1 }
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"] }, { netns = "B", name = "eth0", addresses = ["10.0.0.2/24"] }]
"#;

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().expect("an address")
    }

    /// A namespace with lo and eth0 (address `a`/24, and its `proto kernel` route).
    fn place(a: &str, net: &str) -> PlaceObs {
        let mut p = PlaceObs::default();
        for (name, index) in [("lo", 1), ("eth0", 2)] {
            let l = LinkObs {
                index,
                up: true,
                mtu: Some(1500),
                ..Default::default()
            };
            p.links.insert(name.into(), l);
        }
        p.addrs.insert(2, vec![(ip(a), 24), (ip("fe80::1"), 64)]);
        p.routes.push(RouteObs {
            dst: Some(ip(net)),
            len: 24,
            via: None,
            oif: Some(2),
            kernel: true,
        });
        p
    }

    /// The machine and journal a finished apply of TWO leaves, plus a namespace "other"
    /// that no lab names.
    fn converged(lab: &Lab) -> (Machine, Journal) {
        let mut m = Machine::default();
        let mut a = place("10.0.0.1", "10.0.0.0");
        a.routes.push(RouteObs {
            dst: Some(ip("10.9.0.0")),
            len: 24,
            via: Some(ip("10.0.0.2")),
            oif: None,
            kernel: false,
        });
        a.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
        m.ns.insert("A".into(), (1001, a));
        m.ns.insert("B".into(), (1002, place("10.0.0.2", "10.0.0.0")));
        m.ns.insert("other".into(), (1003, place("10.0.0.3", "10.0.0.0")));
        let mut j = Journal::parse("t", br#"{"lab":"t","objects":[]}"#).expect("a journal");
        for (n, cookie) in [("A", 1001), ("B", 1002)] {
            j.add(Owned::Netns { name: n.into() });
            j.netns_cookie.insert(n.into(), cookie);
        }
        j.add(Owned::Link {
            netns: Some("A".into()),
            name: "eth0".into(),
        });
        j.pair(
            link_key(&Some("A".into()), "eth0"),
            link_key(&Some("B".into()), "eth0"),
        );
        j.add(Owned::Sysctl {
            netns: Some("A".into()),
            key: "net.ipv4.ip_forward".into(),
            old: "0".into(),
        });
        for r in lab.routes(&Some("A".into())) {
            j.add(Owned::Route {
                netns: Some("A".into()),
                route: r.to_string(),
            });
        }
        for n in lab.hosts_namespaces() {
            m.hosts
                .insert(n.to_string(), Seen::Written { current: true });
            j.add(Owned::Hosts {
                netns: n.to_string(),
            });
        }
        (m, j)
    }

    fn plan_of(lab: &Lab, m: &Machine, j: &Journal) -> plan::Plan {
        let obs = observe_with(m, lab, j, false).expect("observed");
        plan::plan(lab, &obs, j, plan::Opts { adopt: false })
    }

    /// A converged machine observes as converged; one missing B's eth0 and A's route
    /// plans exactly those back.
    #[test]
    fn observe_of_a_converged_machine_plans_nothing_and_a_partial_one_its_gaps() {
        let lab = crate::lab::fixtures::lab(TWO);
        let (mut m, j) = converged(&lab);
        let p = plan_of(&lab, &m, &j);
        assert!(p.converged(), "{p:?}");

        let a = &mut m.ns.get_mut("A").expect("A").1;
        a.routes.retain(|r| r.kernel);
        let b = &mut m.ns.get_mut("B").expect("B").1;
        b.links.remove("eth0");
        b.addrs.remove(&2);
        let p = plan_of(&lab, &m, &j);
        let texts: Vec<String> = p
            .actions
            .iter()
            .map(|a| format!("{} ({})", a.text, a.why))
            .collect();
        let want = [
            "delete link eth0 (netns A) (its veth peer eth0 (netns B) is gone; the pair is made again)",
            "create veth eth0 (netns A) <-> eth0 (netns B) (missing)",
            "add 10.0.0.1/24 to eth0 (netns A) ()",
            "set route 10.9.0.0/24 via 10.0.0.2 (netns A) (missing)",
            "set eth0 up (netns B) ()",
            "add 10.0.0.2/24 to eth0 (netns B) ()",
        ];
        assert_eq!(texts, want);
    }

    /// A namespace the journal has but the machine lost is absent: no error, no name.
    #[test]
    fn a_vanished_journaled_namespace_is_absent_not_an_error() {
        let lab = crate::lab::fixtures::lab(TWO);
        let (mut m, j) = converged(&lab);
        m.ns.remove("B");
        let obs = observe_with(&m, &lab, &j, false).expect("observed");
        assert!(obs.names.contains_key("A"));
        assert!(!obs.names.contains_key("B"), "{:?}", obs.names);
        assert!(!obs.places.contains_key(&Some("B".into())));
        let p = plan::plan(&lab, &obs, &j, plan::Opts { adopt: false });
        assert!(p.conflicts.is_empty(), "{p:?}");
        assert!(
            p.actions.iter().any(|a| a.text.contains("netns B")),
            "{p:?}"
        );
    }

    /// An empty /run/netns file and a FIFO where a hosts file goes are reported as what
    /// they are, and the plan refuses the FIFO rather than writing through it.
    #[test]
    fn an_unbound_name_and_a_fifo_hosts_file_are_observed_as_such() {
        let lab = crate::lab::fixtures::lab(TWO);
        let (mut m, j) = converged(&lab);
        m.ns.remove("B");
        m.unbound.insert("B".into());
        m.hosts.insert("A".into(), Seen::Odd("a FIFO"));
        let obs = observe_with(&m, &lab, &j, false).expect("observed");
        assert_eq!(obs.names.get("B"), Some(&NsObs::Unbound));
        assert!(!obs.places.contains_key(&Some("B".into())));
        assert_eq!(obs.hosts.get("A"), Some(&Seen::Odd("a FIFO")));
        let p = plan::plan(&lab, &obs, &j, plan::Opts { adopt: false });
        let made = p.actions.iter().find(|a| a.text == "create netns B");
        let why = made.map(|a| a.why.to_string());
        assert_eq!(
            why.as_deref(),
            Some("an empty file, not a namespace: an add was interrupted"),
            "{p:?}"
        );
        assert_eq!(p.conflicts.len(), 1, "{p:?}");
        assert!(p.conflicts[0].starts_with("/etc/netns/A/hosts is a FIFO"));
    }

    /// One place that cannot be read fails the whole observation with one line naming it.
    #[test]
    fn a_read_failure_in_one_place_is_one_line_naming_it() {
        let lab = crate::lab::fixtures::lab(TWO);
        let (mut m, j) = converged(&lab);
        m.failing
            .insert("B".into(), "Permission denied (os error 13)".into());
        let e = observe_with(&m, &lab, &j, false).expect_err("B cannot be read");
        assert_eq!(e, "netns B: Permission denied (os error 13)");
        assert!(!e.contains('\n'));
        // Nothing past the namespaces was read.
        assert!(!m.log.borrow().iter().any(|l| l.starts_with("host")));
    }

    /// Observation asks only about what the lab and its journal name, reads deep only what
    /// the plan compares, and asks each place only for its own sysctls and route families.
    #[test]
    fn observation_reads_only_what_the_lab_and_journal_name() {
        let lab = crate::lab::fixtures::lab(TWO);
        let (m, mut j) = converged(&lab);
        // A namespace of the lab's own that left the file: its cookie is enough.
        j.add(Owned::Netns {
            name: "gone".into(),
        });
        j.add(Owned::EtcDir {
            netns: Some("A".into()),
        });
        observe_with(&m, &lab, &j, false).expect("observed");
        let want = [
            "netns A deep keys=net.ipv4.ip_forward v4",
            "netns B deep keys=",
            "netns gone shallow keys=",
            "host",
            "hosts A",
            "hosts B",
            "dir A",
            "shares",
        ];
        assert_eq!(*m.log.borrow(), want);

        // Destroying: the lab's own namespaces go whole, so none is read deep.
        m.log.borrow_mut().clear();
        let empty = Lab {
            name: "t".into(),
            ..Default::default()
        };
        observe_with(&m, &empty, &j, true).expect("observed");
        let want = [
            "netns A shallow keys=net.ipv4.ip_forward v4",
            "netns B shallow keys=",
            "netns gone shallow keys=",
            "host",
            "hosts A",
            "hosts B",
            "dir A",
            "shares",
        ];
        assert_eq!(*m.log.borrow(), want);
    }
}
