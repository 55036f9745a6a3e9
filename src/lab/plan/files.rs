//! The plan for the lab's files in /etc: `/etc/netns/NAME/hosts` for each namespace
//! (hosts.rs). A namespace's hosts file counts with it: written or removed as part of making
//! or deleting the namespace, and on its own only when its text changes.

use super::{Kind, Op, Place, Planner};
use crate::lab::hostsfile::{path as hosts_path, Seen};
use crate::lab::journal::Owned;
use crate::lab::ownership::{self, File};

impl Planner<'_> {
    /// Write each wanted hosts file that is missing or differs; one that is there and is not
    /// what nsctl wrote (someone's own, edited since, a FIFO...) stops apply.
    pub(super) fn hosts(&mut self) {
        let lab = self.lab;
        for n in lab.hosts_namespaces() {
            let seen = self.obs.hosts.get(n).copied().unwrap_or(Seen::Absent);
            let at = Some(n.to_string());
            let path = hosts_path(n);
            let owned = Owned::Hosts {
                netns: n.to_string(),
            };
            let (kind, why) = match (ownership::hosts_file(&seen), seen) {
                (File::Foreign, _) => {
                    self.plan.strangers.push(path.clone());
                    self.plan.conflicts.push(format!(
                        "{path} {} (nsctl exec would show it as /etc/hosts in {n}); remove it, or set etc_hosts = false in the lab file",
                        seen.why_not_ours(self.j.owns(&owned))
                    ));
                    continue;
                }
                (File::Absent, _) => (Kind::Create, "missing"),
                (File::Ours, Seen::Written { current: true }) => {
                    if !self.j.owns(&owned) {
                        // Written for this lab by a run whose journal is gone: take it back.
                        self.host_last.push(Self::act(
                            Kind::Part,
                            Op::WriteHosts {
                                netns: n.to_string(),
                            },
                            format!("write {path}"),
                            "written by an earlier run of this lab",
                        ));
                    }
                    continue;
                }
                (File::Ours, _) => (Kind::Change, "its addresses differ from the lab's"),
            };
            let kind = if self.place(&at) == Place::New {
                Kind::Part
            } else {
                kind
            };
            self.host_last.push(Self::act(
                kind,
                Op::WriteHosts {
                    netns: n.to_string(),
                },
                format!("write {path}"),
                why,
            ));
        }
    }

    /// A journaled hosts file or directory the file no longer wants. A file that is no
    /// longer what nsctl wrote is kept: the executor says so and forgets it.
    pub(super) fn hosts_left(&mut self, o: &Owned) {
        // In constant time: a lab of thousands journals thousands of these.
        let lab = self.lab;
        let wanted = |n: &str| lab.hosts && lab.netns(n).is_some();
        match o {
            Owned::Hosts { netns } if !wanted(netns) => {
                let seen = self.obs.hosts.get(netns).copied().unwrap_or(Seen::Absent);
                let path = hosts_path(netns);
                let (kind, text, why): (_, _, std::borrow::Cow<str>) =
                    match ownership::hosts_file(&seen) {
                        File::Absent => {
                            self.plan.forget.push(o.clone());
                            return;
                        }
                        File::Foreign => (
                            Kind::Part,
                            format!("keep {path}"),
                            format!("it {}; nsctl forgets it", seen.why_not_ours(true)).into(),
                        ),
                        File::Ours => {
                            // Removed with its namespace when that goes too.
                            let with_ns = self.down[6].iter().any(
                                |a| matches!(&a.op, Op::DelNetns { name, .. } if name == netns),
                            );
                            let kind = if with_ns { Kind::Part } else { Kind::Remove };
                            (kind, format!("delete {path}"), self.left().into())
                        }
                    };
                self.down[0].push(Self::act(
                    kind,
                    Op::DelHosts {
                        netns: netns.clone(),
                    },
                    text,
                    why,
                ));
            }
            Owned::EtcDir { netns } => {
                let needed = match netns {
                    Some(n) => wanted(n),
                    None => lab.hosts && !lab.namespaces.is_empty(),
                };
                if !needed {
                    self.dirs_left.push(netns.clone());
                }
            }
            _ => {}
        }
    }

    /// The directories nsctl made that nothing needs any more, after the files in them:
    /// each namespace's, then /etc/netns.
    pub(super) fn remove_dirs(&mut self) {
        let mut dirs = std::mem::take(&mut self.dirs_left);
        dirs.sort_by_key(|d| d.is_none());
        for d in dirs {
            let shown = match &d {
                Some(n) => format!("{}/{n}", crate::netns::ETC_DIR),
                None => crate::netns::ETC_DIR.to_string(),
            };
            if !self.obs.etc_dirs.contains(&d) {
                self.plan.forget.push(Owned::EtcDir { netns: d });
                continue;
            }
            self.down[0].push(Self::act(
                Kind::Part,
                Op::RemoveEtcDir { netns: d },
                format!("remove directory {shown} (when empty)"),
                "nsctl made it for hosts files",
            ));
        }
    }
}
