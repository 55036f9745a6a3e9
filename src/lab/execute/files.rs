//! Carrying out the plan's file actions: /etc/netns/NAME/hosts written, removed, and the
//! directories nsctl made for them removed when empty (lab/hosts.rs).

use super::Exec;
use crate::lab::hosts;
use crate::lab::journal::Owned;
use crate::lab::places::Fail;

impl Exec<'_> {
    /// The directories a phase's hosts files need that do not exist yet: journaled with
    /// the phase's intents, before any is made, so a kill -9 after mkdir still leaves them
    /// to destroy.
    pub(super) fn dir_intents(&self, netns: &str, out: &mut Vec<Owned>) {
        let top = Owned::EtcDir { netns: None };
        if !out.contains(&top) && !hosts::dir_exists(None) {
            out.push(top);
        }
        if !hosts::dir_exists(Some(netns)) {
            out.push(Owned::EtcDir {
                netns: Some(netns.to_string()),
            });
        }
    }

    pub(super) fn write_hosts(&mut self, netns: &str) -> Result<(), Fail> {
        hosts::make_dir(None)?;
        hosts::make_dir(Some(netns))?;
        let body = self.hosts_body.get_or_insert_with(|| hosts::body(self.lab));
        hosts::write(netns, &(hosts::header(&self.lab.name, netns) + body))
    }

    pub(super) fn del_hosts(&mut self, netns: &str) -> Result<(), Fail> {
        hosts::remove(netns)?;
        self.j.forget(&Owned::Hosts {
            netns: netns.to_string(),
        });
        Ok(())
    }

    /// Not empty: someone else's files are in it, so it stays, and is theirs now.
    pub(super) fn remove_etc_dir(&mut self, netns: &Option<String>) -> Result<(), Fail> {
        hosts::remove_dir(netns.as_deref())?;
        self.j.forget(&Owned::EtcDir {
            netns: netns.clone(),
        });
        Ok(())
    }
}
