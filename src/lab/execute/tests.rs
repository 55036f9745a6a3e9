//! The executor without root: real plans carried out against the recording fake
//! (`fake.rs`), whose log holds every effect in order, journal saves included.

use super::fake::Recorder;
use super::Exec;
use crate::lab::journal::{Journal, Owned};
use crate::lab::observe::Observed;
use crate::lab::plan::{self, Plan};
use crate::lab::report::Tally;
use crate::lab::spec::Lab;

/// Two namespaces, a veth pair between them, an address on each end, and a route.
const TWO: &str = r#"
name = "two"
[netns.A]
routes = ["10.9.0.0/24 via 10.0.0.2"]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"] }, { netns = "B", name = "eth0", addresses = ["10.0.0.2/24"] }]
"#;

fn lab(text: &str) -> Lab {
    let f = crate::lab::file::parse(text).expect("parses");
    crate::lab::validate::build(f, "t", false).expect("valid")
}

fn journal(name: &str) -> Journal {
    let text = format!(r#"{{"lab":"{name}","objects":[]}}"#);
    Journal::parse(name, text.as_bytes()).expect("an empty journal")
}

/// Plan `lab` against what the fake holds, and carry it out. The journal the run ends
/// with, and its error if it stopped.
fn run(
    lab: &Lab,
    k: &mut Recorder,
    j: Journal,
    keep_going: bool,
) -> (Journal, Tally, Result<(), String>) {
    let obs = k.observed();
    let p = plan::plan(lab, &obs, &j, plan::Opts { adopt: false });
    assert!(p.conflicts.is_empty() && p.foreign.is_empty(), "{p:?}");
    execute(lab, k, j, obs, p, keep_going)
}

fn execute(
    lab: &Lab,
    k: &mut Recorder,
    j: Journal,
    obs: Observed,
    p: Plan,
    keep_going: bool,
) -> (Journal, Tally, Result<(), String>) {
    let verb = if keep_going { "destroy" } else { "apply" };
    let t = Tally::new(verb, &lab.name, 0);
    let out = Exec::new(lab, k, j, obs, t, keep_going).run(p);
    (out.j, out.t, out.res.map_err(|e| e.msg))
}

fn empty(name: &str) -> Lab {
    Lab {
        name: name.into(),
        ..Default::default()
    }
}

/// Where `line` (a whole log line) is in the log.
fn at(k: &Recorder, line: &str) -> usize {
    k.log
        .iter()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("no {line:?} in\n{}", k.log.join("\n")))
}

/// Each phase's intents are on disk before its first act; namespaces come before the veth
/// between them, the veth before the addresses on its ends, addresses before the route
/// through them; the journal saved last holds everything made.
#[test]
fn apply_journals_intents_before_acts_in_phase_order() {
    let lab = lab(TWO);
    let mut k = Recorder::default();
    let (j, t, r) = run(&lab, &mut k, journal("two"), false);
    assert_eq!(r, Ok(()), "{}", k.log.join("\n"));
    assert_eq!(t.failed, 0);
    let log = k.log.join("\n");

    // The namespaces' intents, then the namespaces.
    let ns_intent = at(&k, "journal save: netns A, netns B");
    assert!(ns_intent < at(&k, "netns add A"), "{log}");
    assert!(at(&k, "netns add A") < at(&k, "netns add B"), "{log}");
    // The veth's intent comes after the namespaces are made (its phase), before the veth.
    let veth_intent = at(&k, "journal save: netns A, netns B, link A/eth0");
    let veth = at(&k, "veth add A/eth0 B/eth0");
    assert!(
        at(&k, "netns add B") < veth_intent && veth_intent < veth,
        "{log}"
    );
    // Configuration: the route's intent, then lo, addresses, and the route last in A.
    let route_intent = at(
        &k,
        "journal save: netns A, netns B, link A/eth0, route A 10.9.0.0/24 via 10.0.0.2",
    );
    let addr = at(&k, "addr add A/eth0 10.0.0.1/24");
    let route = at(&k, "route set A 10.9.0.0/24 via 10.0.0.2");
    assert!(
        veth < route_intent && route_intent < addr && addr < route,
        "{log}"
    );
    assert!(at(&k, "link set A/lo up") < addr, "{log}");
    // The hosts files' entries (and their directories') are saved before any is made.
    let files_intent = k
        .first("journal save: netns A, netns B, link A/eth0, route A 10.9.0.0/24 via 10.0.0.2, etc-dir /")
        .expect("the files' intents");
    assert!(
        route < files_intent && files_intent < at(&k, "hosts mkdir /"),
        "{log}"
    );
    assert!(at(&k, "hosts mkdir A") < at(&k, "hosts write A"), "{log}");
    // Every netlink act of a phase follows that phase's save: no act before the first save.
    let first_act = k.log.iter().position(|l| !l.starts_with("journal save"));
    assert!(first_act > Some(ns_intent), "{log}");

    // What the run ends with, in the journal and on "disk".
    for o in [
        Owned::Netns { name: "A".into() },
        Owned::Netns { name: "B".into() },
        Owned::Link {
            netns: Some("A".into()),
            name: "eth0".into(),
        },
    ] {
        assert!(j.owns(&o), "{o:?} not journaled: {log}");
    }
    let saved = k.saved.as_ref().expect("saved");
    assert_eq!(saved.objects, j.objects);
    assert_eq!(saved.netns_cookie.len(), 2, "the cookies are recorded");
    assert_eq!(
        k.log.last().map(String::as_str),
        k.lines("journal save").last().copied()
    );
}

/// A failure midway stops apply at once: nothing after it is tried, the error names what
/// failed, the failed veth's intent is dropped again, and the journal on disk still holds
/// the namespaces made (so the rollback, a destroy of that journal, removes them).
#[test]
fn apply_stops_at_a_failure_midway_and_the_journal_covers_what_was_made() {
    let lab = lab(TWO);
    let mut k = Recorder::failing("veth add", 0, libc::EEXIST);
    let (j, t, r) = run(&lab, &mut k, journal("two"), false);
    let log = k.log.join("\n");
    let e = r.expect_err("apply stops");
    assert!(
        e.starts_with("creating veth eth0 (netns A) <-> eth0 (netns B) failed"),
        "{e}"
    );
    assert_eq!(t.failed, 0, "the stopping error is returned, not tallied");
    // The failed act is the last act: no address, route or lo was tried after it.
    let failed = at(&k, "veth add A/eth0 B/eth0 = File exists");
    let after: Vec<&String> = k.log[failed + 1..]
        .iter()
        .filter(|l| !l.starts_with("journal save"))
        .collect();
    assert!(after.is_empty(), "acts after the failure: {after:?}\n{log}");
    assert!(
        k.lines("addr add").is_empty() && k.lines("route set").is_empty(),
        "{log}"
    );
    // The journal on disk: the namespaces, not the veth that was never made.
    let saved = k.saved.clone().expect("saved");
    let names: Vec<&Owned> = saved.objects.iter().collect();
    assert_eq!(
        names,
        [
            &Owned::Netns { name: "A".into() },
            &Owned::Netns { name: "B".into() }
        ],
        "{log}"
    );
    assert_eq!(saved.objects, j.objects);

    // The rollback apply runs on a first apply's failure: destroy what the journal holds.
    let (j, t, r) = run(&empty("two"), &mut k, saved, true);
    assert_eq!(r, Ok(()));
    assert_eq!(t.failed, 0);
    assert!(j.objects.is_empty(), "{:?}", j.objects);
    assert_eq!(k.observed().names.len(), 0, "the namespaces are gone");
}

/// destroy goes on after a failure: each is tallied, everything else is still removed, and
/// what could not be removed stays journaled (to try again).
#[test]
fn destroy_goes_on_after_failures_and_keeps_what_stayed() {
    let lab = lab(TWO);
    let mut k = Recorder::default();
    let (j, _, r) = run(&lab, &mut k, journal("two"), false);
    assert_eq!(r, Ok(()));
    k.log.clear();
    k.fail = vec![("netns remove A".into(), 0, libc::EBUSY)];
    let (j, t, r) = run(&empty("two"), &mut k, j, true);
    let log = k.log.join("\n");
    assert_eq!(r, Ok(()), "destroy does not stop: {log}");
    assert_eq!(t.failed, 1, "{:?}", t.lines);
    assert!(
        t.lines[0].starts_with("deleting netns A failed"),
        "{:?}",
        t.lines
    );
    // B was still removed after A failed, and is forgotten; A stays journaled.
    assert!(at(&k, "netns remove A = Device or resource busy") < at(&k, "netns remove B"));
    assert!(!j.owns(&Owned::Netns { name: "B".into() }), "{log}");
    assert!(j.owns(&Owned::Netns { name: "A".into() }), "{log}");
    let saved = k.saved.clone().expect("saved");
    assert_eq!(saved.objects, j.objects);
}

/// A destroy through the fake leaves an empty journal (the file removed) and an empty
/// machine: the journal forgets exactly what is removed.
#[test]
fn destroy_forgets_everything_it_removes() {
    let lab = lab(TWO);
    let mut k = Recorder::default();
    let (j, _, r) = run(&lab, &mut k, journal("two"), false);
    assert_eq!(r, Ok(()));
    assert!(!j.objects.is_empty());
    k.log.clear();
    let (j, t, r) = run(&empty("two"), &mut k, j, true);
    let log = k.log.join("\n");
    assert_eq!(r, Ok(()), "{log}");
    assert_eq!(t.failed, 0, "{:?}", t.lines);
    assert!(j.objects.is_empty(), "{:?}\n{log}", j.objects);
    assert!(j.netns_cookie.is_empty() && j.pairs.is_empty(), "{j:?}");
    assert_eq!(
        k.log.last().map(String::as_str),
        Some("journal save: "),
        "{log}"
    );
    assert!(k.saved.as_ref().is_some_and(|s| s.objects.is_empty()));
    let obs = k.observed();
    assert!(obs.names.is_empty(), "{log}");
    // Nothing is left in the host either: no link, no hosts file, no directory.
    assert!(obs.places.values().all(|p| p.links.is_empty()), "{log}");
    assert!(obs.hosts.is_empty() && obs.etc_dirs.is_empty(), "{log}");
    // The hosts files go before their directories, /etc/netns itself last.
    assert!(at(&k, "hosts remove A") < at(&k, "hosts rmdir A"), "{log}");
    assert!(at(&k, "hosts rmdir B") < at(&k, "hosts rmdir /"), "{log}");
}

/// A veth with an end in the host: its ifindex is recorded once made (it lives outside the
/// lab's namespaces), and destroy, deleting the namespace, sees the host end go with it and
/// forgets the pair, its index and everything else.
#[test]
fn a_host_end_is_recorded_and_forgotten_with_its_namespace() {
    let lab = lab(r#"
name = "edge"
etc_hosts = false
[netns.A]
[[veth]]
ends = [{ netns = "A", name = "eth0", addresses = ["10.0.0.1/24"] }, { name = "veth-a", addresses = ["10.0.0.2/24"] }]
"#);
    let mut k = Recorder::default();
    let (j, _, r) = run(&lab, &mut k, journal("edge"), false);
    let log = k.log.join("\n");
    assert_eq!(r, Ok(()), "{log}");
    assert_eq!(j.link_index.len(), 1, "the host end's index: {j:?}");
    // The index is on disk too, saved after the veth was made.
    let saved = k.saved.clone().expect("saved");
    assert_eq!(saved.link_index, j.link_index);
    // Made from the host (the end outside), and its index saved before anything else runs.
    let veth = at(&k, "veth add host/veth-a A/eth0");
    assert_eq!(
        k.log[veth + 1],
        "journal save: netns A, link A/eth0",
        "{log}"
    );
    assert!(veth < at(&k, "addr add host/veth-a 10.0.0.2/24"), "{log}");
    k.log.clear();
    let (j, t, r) = run(&empty("edge"), &mut k, j, true);
    let log = k.log.join("\n");
    assert_eq!((r, t.failed), (Ok(()), 0), "{log}");
    assert!(
        j.objects.is_empty() && j.link_index.is_empty() && j.pairs.is_empty(),
        "{j:?}"
    );
    assert_eq!(k.log, ["netns remove A", "journal save: "], "{log}");
    assert!(k.observed().places.values().all(|p| p.links.is_empty()));
}
