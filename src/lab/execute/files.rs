//! Carrying out the plan's file actions: /etc/netns/NAME/hosts written, removed, and the
//! directories nsctl made for them removed when empty (lab/hosts.rs). Each file is judged
//! again just before it is written over or removed: one that someone changed since the
//! plan looked is not touched.

use super::Exec;
use crate::lab::hosts::{self, Seen};
use crate::lab::journal::Owned;
use crate::lab::places::Fail;

impl Exec<'_> {
    /// The directories a phase's hosts files need that do not exist yet: journaled with
    /// the phase's intents, before any is made, so a kill -9 after mkdir still leaves them
    /// to destroy. A file taken back after the journal was lost brings back its directories
    /// too (they were made for it; removed only when empty).
    pub(super) fn dir_intents(&mut self, netns: &str, out: &mut Vec<Owned>) {
        let reclaim = !self.j.owns(&Owned::Hosts {
            netns: netns.to_string(),
        }) && matches!(self.obs.hosts.get(netns), Some(Seen::Written { .. }));
        let top = Owned::EtcDir { netns: None };
        if !out.contains(&top) && (reclaim || !self.k.hosts_dir_exists(None)) {
            out.push(top);
        }
        if reclaim || !self.k.hosts_dir_exists(Some(netns)) {
            out.push(Owned::EtcDir {
                netns: Some(netns.to_string()),
            });
        }
    }

    pub(super) fn write_hosts(&mut self, netns: &str) -> Result<(), Fail> {
        let dir = |n: Option<&str>| Owned::EtcDir {
            netns: n.map(str::to_string),
        };
        let ours = self.j.owns(&dir(None));
        self.k.hosts_make_dir(None, ours)?;
        let ours = self.j.owns(&dir(Some(netns)));
        self.k.hosts_make_dir(Some(netns), ours)?;
        let seen = self.k.hosts_seen(&self.lab.name, netns)?;
        if matches!(seen, Seen::Other | Seen::Odd(_)) {
            return Err(format!(
                "cannot write {}: it {} (it changed while apply ran); it was left as it is: look at it, then run apply again",
                hosts::path(netns),
                seen.why_not_ours(false)
            ));
        }
        let body = self.hosts_body.get_or_insert_with(|| self.lab.hosts_body());
        let text = super::super::hostsfile::header(&self.lab.name, netns, body.as_bytes()) + body;
        self.k.hosts_write(netns, &text)
    }

    /// Delete the file while it is still what nsctl wrote; otherwise it is someone's now:
    /// kept (with its directory), said so, and forgotten.
    pub(super) fn del_hosts(&mut self, netns: &str) -> Result<(), Fail> {
        match self.k.hosts_seen(&self.lab.name, netns)? {
            Seen::Absent => {}
            Seen::Written { .. } => self.k.hosts_remove(netns)?,
            seen => crate::output::err(
                format!(
                    "{} {}: kept {}: it {}, so it is not nsctl's to delete (nor its directory); nsctl forgets it: remove it by hand if nothing needs it\n",
                    self.t.verb,
                    self.lab.name,
                    hosts::path(netns),
                    seen.why_not_ours(true)
                )
                .as_bytes(),
            ),
        }
        self.j.forget(&Owned::Hosts {
            netns: netns.to_string(),
        });
        Ok(())
    }

    /// Not empty: someone else's files are in it, so it stays, and is theirs now.
    pub(super) fn remove_etc_dir(&mut self, netns: &Option<String>) -> Result<(), Fail> {
        self.k.hosts_remove_dir(netns.as_deref())?;
        self.j.forget(&Owned::EtcDir {
            netns: netns.clone(),
        });
        Ok(())
    }
}
