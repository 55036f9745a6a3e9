//! The namespace actions of a plan: making one (and its socket and cookie, from one visit),
//! and deleting one, with the processes that still hold it named, and the veth ends it leaves
//! elsewhere waited for (and deleted when the kernel is slow).

use super::{Exec, Made, LINGER};
use crate::lab::error::why;
use crate::lab::journal::{link_key, Owned};
use crate::lab::places::Fail;
use crate::lab::spec::{place_name, Where};

impl Exec<'_> {
    pub(super) fn create_netns(&mut self, name: &str, clear: bool) -> Result<(), Fail> {
        if clear && !self.k.netns_remove(name) {
            return Err(format!(
                "removing the empty file /run/netns/{name} failed (see the message above)"
            ));
        }
        match self.k.netns_add(name) {
            Made::Yes => {}
            Made::Stranded => {
                // add could not return to the original namespace: nothing after may run.
                return Err(format!(
                    "creating netns {name} left this process in another namespace; stopping"
                ));
            }
            Made::No => {
                // Nothing was made (add rolls itself back): the intent must not survive, or a
                // later destroy would remove a namespace of that name that is not nsctl's.
                self.unintend(&Owned::Netns {
                    name: name.to_string(),
                });
                return Err(format!(
                    "creating netns {name} failed (see the message above)"
                ));
            }
        }
        // The cookie that tells it from any later namespace of that name. Its socket is
        // opened when its turn to be configured comes, and closed after: holding one per
        // namespace from here on cost a thousand-namespace lab 20 MiB of socket buffers.
        let cookie = self.k.netns_cookie(name)?;
        let at = Some(name.to_string());
        if let Some(c) = cookie {
            self.j.netns_cookie.insert(name.to_string(), c);
        }
        // Its links are read when its turn comes (dirty): an empty entry for each new
        // namespace here held a table of 10,000 of them through the whole apply.
        self.dirty.insert(at);
        Ok(())
    }

    pub(super) fn del_netns(
        &mut self,
        name: &str,
        bound: bool,
        ends: &[(Where, String)],
    ) -> Result<(), Fail> {
        let held = if bound {
            self.k.netns_holders(name)
        } else {
            Vec::new()
        };
        if !held.is_empty() {
            // The namespace outlives its name while a process runs in it, and so would its
            // veths: the ends outside go now, which takes their peers inside with them.
            for (at, n) in ends {
                if let Ok(Some(ix)) = self.links(at).map(|p| p.links.get(n).map(|l| l.index)) {
                    self.k.open(at)?;
                    let _ = self.k.del_link(at, ix);
                    self.dirty.insert(at.clone());
                }
            }
        }
        if !self.k.netns_remove(name) {
            return Err(format!(
                "deleting netns {name} failed (see the message above)"
            ));
        }
        if !held.is_empty() {
            let who: Vec<String> = held
                .iter()
                .take(5)
                .map(|&p| format!("{p} ({})", self.k.comm(p)))
                .collect();
            // Its entries stay in the journal but the name: the namespace lives on unnamed
            // until those processes end, and the next destroy or apply finds the name gone.
            return Err(format!(
                "netns {name}: its name and veth pairs are removed, but the namespace lives on while process {} still runs in it; stop {} and run destroy again",
                who.join(", "),
                if held.len() == 1 { "it" } else { "them" }
            ));
        }
        self.deleted.push(name.to_string());
        self.k.close(&Some(name.to_string()));
        self.linger.extend(ends.iter().cloned());
        Ok(())
    }

    /// Wait (bounded) for the veth ends of deleted namespaces to leave their places as the
    /// kernel tears the namespaces down; delete any still there, so nothing nsctl made is
    /// left when the run ends.
    pub(super) fn wait_linger(&mut self) {
        let ends = std::mem::take(&mut self.linger);
        if ends.is_empty() {
            return;
        }
        let deadline = std::time::Instant::now() + LINGER;
        let mut left = ends;
        loop {
            let mut still = Vec::new();
            // Each place is read once per round.
            for (at, _) in &left {
                self.dirty.insert(at.clone());
            }
            for (at, n) in left {
                match self.links(&at) {
                    Ok(p) if p.links.contains_key(&n) => still.push((at, n)),
                    Ok(_) => {}
                    // The place itself is gone: so is the end.
                    Err(_) => {}
                }
            }
            left = still;
            if left.is_empty() || std::time::Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        for (at, n) in left {
            let ix = self
                .links(&at)
                .ok()
                .and_then(|p| p.links.get(&n).map(|l| l.index));
            if let (Some(ix), Ok(())) = (ix, self.k.open(&at)) {
                match self.k.del_link(&at, ix) {
                    // The kernel's own teardown removed it between the read and the delete.
                    Ok(())
                    | Err(crate::nl::Failure::Kernel(crate::nl::NlError {
                        errno: libc::ENODEV,
                        ..
                    })) => {}
                    Err(f) => {
                        self.t.fail(format!(
                            "deleting {n} ({}), left by a deleted namespace, failed: {}",
                            place_name(&at),
                            why(f)
                        ));
                        continue;
                    }
                }
            }
            self.j.forget(&Owned::Link {
                netns: at.clone(),
                name: n.clone(),
            });
        }
        // The ends that went by themselves leave lone entries (see Journal::forget_place).
        let lone: Vec<Owned> = self
            .j
            .objects
            .iter()
            .filter(|o| matches!(o, Owned::Link { netns, name } if self.obs.places.get(netns).is_some_and(|p| !p.links.contains_key(name)) && !self.j.pairs.contains_key(&link_key(netns, name)) && !self.lab.bridges.iter().any(|b| &b.at == netns && &b.name == name)))
            .cloned()
            .collect();
        self.j.forget_all(&lone);
    }
}
