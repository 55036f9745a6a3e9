//! The one ownership rule: is this object the lab's? Every verb (apply, destroy, status,
//! dry runs) asks here and nowhere else.
//!
//! - A **namespace** is the lab's when the journal has it and, once its cookie
//!   (SO_NETNS_COOKIE, never reused by the kernel) was recorded, it is still that namespace.
//!   One deleted and made again by someone else under the name is *replaced*. An empty file
//!   under a journaled name is an add that was killed half-way: the lab's.
//! - A **link** in one of the lab's own namespaces is the lab's. Elsewhere (the host, an
//!   adopted namespace) it is the lab's when the journal has it (a bridge, or either end of
//!   a veth pair) and its ifindex is the one recorded when it was made.
//! - What `--adopt` took is *adopted*: used, restored by destroy, never deleted.
//! - A **hosts file** in /etc/netns is the lab's while it is still what nsctl wrote for the
//!   lab: its first line names the lab and the namespace and holds the checksum of the rest
//!   (hosts.rs), journal or not. One edited since, or not a regular file, is someone else's.
//! - What another applied lab's journal has is *that lab's*: never foreign, never adopted
//!   (taking it would leave the other lab "not converged"), named with its lab in messages.
//! - Everything else is *foreign*, and left alone.

use super::journal::{link_key, Journal, Owned};
use super::observe::{NsObs, Observed};
use super::spec::{Lab, Where};

/// An object this lab's file names that another applied lab made: its words, and the lab's
/// name and file (as its journal recorded them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub what: String,
    pub lab: String,
    pub file: Option<String>,
}

/// What `lab` would make or use that the journals of `others` (every other applied lab)
/// hold: its namespaces, and its links outside them (in the host or an adopted namespace).
/// Links inside another lab's namespace are found through the namespace.
pub fn claims(lab: &Lab, others: &[Journal]) -> Vec<Claim> {
    let mut out = Vec::new();
    for j in others.iter().filter(|j| j.lab != lab.name) {
        let mut claim = |what: String| {
            out.push(Claim {
                what,
                lab: j.lab.clone(),
                file: j.file.clone(),
            })
        };
        for n in lab.namespaces.iter().map(|n| &n.name) {
            if j.owns(&Owned::Netns { name: n.clone() }) {
                claim(format!("netns \"{n}\""));
            }
        }
        for i in lab.all_interfaces() {
            let outside = match &i.at {
                None => true,
                Some(n) => lab.netns(n).is_none(),
            };
            if outside && j.claims_link(&i.at, &i.name) {
                claim(format!(
                    "interface \"{}\" ({})",
                    i.name,
                    super::spec::place_name(&i.at)
                ));
            }
        }
    }
    out
}

/// The refusal for [`claims`], one line: whose each object is, and what to do (never
/// `--adopt`: another lab's objects are not to be taken).
pub fn claims_message(claims: &[Claim]) -> String {
    let mut by_lab: Vec<(&str, Option<&str>, Vec<&str>)> = Vec::new();
    for c in claims {
        match by_lab.iter_mut().find(|(l, _, _)| *l == c.lab) {
            Some((_, _, v)) => v.push(&c.what),
            None => by_lab.push((&c.lab, c.file.as_deref(), vec![&c.what])),
        }
    }
    by_lab
        .iter()
        .map(|(l, f, what)| {
            let from = f.map(|f| format!(", applied from {f}")).unwrap_or_default();
            format!(
                "{} belong{} to lab {l}{from}: destroy that lab first (nsctl destroy --lab {l}) or rename them in this file",
                what.join(", "),
                if what.len() == 1 { "s" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whose is a file nsctl writes in /etc?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum File {
    Absent,
    Ours,
    Foreign,
}

/// A hosts file is the lab's while it is what nsctl wrote for it (even when the journal
/// has lost it: /etc outlives /run). Anything else there, journaled or not, is someone
/// else's, and never touched: edited since, another lab's, or not a regular file.
pub fn hosts_file(seen: &super::hosts::Seen) -> File {
    use super::hosts::Seen;
    match seen {
        Seen::Absent => File::Absent,
        Seen::Written { .. } => File::Ours,
        Seen::Other | Seen::Odd(_) => File::Foreign,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Netns {
    /// No such name; `journaled` when the journal still has it.
    Absent {
        journaled: bool,
    },
    /// The lab's (possibly an empty file left by a killed add: `bound` false).
    Ours {
        bound: bool,
    },
    Adopted,
    /// Journaled, but someone deleted it and made another under the name.
    Replaced,
    /// Not the lab's (`bound` false: an empty file).
    Foreign {
        bound: bool,
    },
}

pub fn netns(j: &Journal, obs: &Observed, name: &str) -> Netns {
    let journaled = j.owns(&Owned::Netns {
        name: name.to_string(),
    });
    match obs.names.get(name) {
        None => Netns::Absent { journaled },
        Some(NsObs::Unbound) if journaled => Netns::Ours { bound: false },
        Some(NsObs::Unbound) => Netns::Foreign { bound: false },
        Some(NsObs::Bound { cookie }) if journaled => {
            if j.owns_netns(name, *cookie) {
                Netns::Ours { bound: true }
            } else {
                Netns::Replaced
            }
        }
        Some(NsObs::Bound { .. })
            if j.owns(&Owned::AdoptedNetns {
                name: name.to_string(),
            }) =>
        {
            Netns::Adopted
        }
        Some(NsObs::Bound { .. }) => Netns::Foreign { bound: true },
    }
}

/// Whether links in `at` are the lab's by place alone: `at` is one of its own namespaces.
pub fn own_place(j: &Journal, obs: &Observed, at: &Where) -> bool {
    at.as_ref()
        .is_some_and(|n| matches!(netns(j, obs, n), Netns::Ours { .. }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ours,
    /// Adopted, with its state before (to put back).
    Adopted {
        up: bool,
        mtu: Option<u32>,
    },
    Foreign,
}

/// Whose is the link `name` in `at` whose ifindex is now `index`? `adopted` looks up an
/// Adopted entry (the plan indexes the journal once).
pub fn link(
    j: &Journal,
    obs: &Observed,
    adopted: impl Fn(&Where, &str) -> Option<(bool, Option<u32>)>,
    at: &Where,
    name: &str,
    index: u32,
) -> Link {
    if own_place(j, obs, at) {
        return Link::Ours;
    }
    if let Some((up, mtu)) = adopted(at, name) {
        return Link::Adopted { up, mtu };
    }
    if j.claims_link(at, name)
        && j.link_index
            .get(&link_key(at, name))
            .is_none_or(|&i| i == index)
    {
        return Link::Ours;
    }
    Link::Foreign
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::observe::PlaceObs;

    fn journal(text: &str) -> Journal {
        Journal::parse("t", text.as_bytes()).unwrap()
    }

    #[test]
    fn namespaces_by_cookie() {
        let j = journal(
            r#"{"lab":"t","objects":[{"kind":"netns","name":"A"},{"kind":"netns","name":"E"},{"kind":"adopted_netns","name":"D"}],"netns_cookie":{"A":7}}"#,
        );
        let mut obs = Observed::default();
        obs.names
            .insert("A".into(), NsObs::Bound { cookie: Some(7) });
        obs.names
            .insert("B".into(), NsObs::Bound { cookie: Some(9) });
        obs.names.insert("E".into(), NsObs::Unbound);
        obs.names
            .insert("D".into(), NsObs::Bound { cookie: Some(3) });
        assert_eq!(netns(&j, &obs, "A"), Netns::Ours { bound: true });
        assert_eq!(netns(&j, &obs, "B"), Netns::Foreign { bound: true });
        assert_eq!(netns(&j, &obs, "E"), Netns::Ours { bound: false });
        assert_eq!(netns(&j, &obs, "D"), Netns::Adopted);
        assert_eq!(netns(&j, &obs, "C"), Netns::Absent { journaled: false });
        obs.names
            .insert("A".into(), NsObs::Bound { cookie: Some(8) });
        assert_eq!(netns(&j, &obs, "A"), Netns::Replaced);
    }

    /// The review's case: a veth's second end in the host, deleted and made again by hand
    /// under the same name, is foreign for every verb (its ifindex differs).
    #[test]
    fn links_by_ifindex_for_both_ends() {
        let j = journal(
            r#"{"lab":"t","objects":[{"kind":"netns","name":"A"},{"kind":"link","netns":"A","name":"eth0"}],"pairs":{"A/eth0":"vh"},"link_index":{"vh":12}}"#,
        );
        let mut obs = Observed::default();
        obs.names.insert("A".into(), NsObs::Bound { cookie: None });
        obs.places.insert(None, PlaceObs::default());
        let none = |_: &Where, _: &str| None;
        assert_eq!(link(&j, &obs, none, &None, "vh", 12), Link::Ours);
        assert_eq!(link(&j, &obs, none, &None, "vh", 13), Link::Foreign);
        assert_eq!(link(&j, &obs, none, &None, "other", 1), Link::Foreign);
        assert_eq!(
            link(&j, &obs, none, &Some("A".into()), "eth0", 99),
            Link::Ours
        );
        let adopted = |_: &Where, n: &str| (n == "other").then_some((true, None));
        assert_eq!(
            link(&j, &obs, adopted, &None, "other", 1),
            Link::Adopted {
                up: true,
                mtu: None
            }
        );
    }
}
