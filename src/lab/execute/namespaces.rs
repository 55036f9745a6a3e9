//! The namespace actions of a plan: making one (and its socket and cookie, from one visit),
//! and deleting one, with the processes that still hold it named, and the veth ends it leaves
//! elsewhere waited for (and deleted when the kernel is slow).

use std::collections::HashMap;

use super::{Exec, LINGER};
use crate::lab::error::why;
use crate::lab::journal::{link_key, Owned};
use crate::lab::places::Fail;
use crate::lab::spec::{place_name, Where};

impl Exec<'_> {
    pub(super) fn create_netns(&mut self, name: &str, clear: bool) -> Result<(), Fail> {
        let path = crate::netns::run_path(name.as_bytes());
        if clear && crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) != 0 {
            return Err(format!(
                "removing the empty file /run/netns/{name} failed (see the message above)"
            ));
        }
        let rc = crate::netns::lifecycle::create(
            &mut crate::netns::sys::Real,
            name.as_bytes(),
            crate::netns::lifecycle::Source::New,
        );
        match rc {
            Ok(0) => {}
            Err(crate::error::Exit(_)) => {
                // add could not return to the original namespace: nothing after may run.
                return Err(format!(
                    "creating netns {name} left this process in another namespace; stopping"
                ));
            }
            Ok(_) => {
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
        let cookie = self
            .pl
            .inside(name, crate::lab::places::netns_cookie_here)?
            .map_err(|e| {
                format!(
                    "cannot read the cookie of netns \"{name}\": {}",
                    crate::error::errstr(e)
                )
            })?;
        let at = Some(name.to_string());
        if let Some(c) = cookie {
            self.j.netns_cookie.insert(name.to_string(), c);
        }
        // Its links are read when its turn comes (dirty): an empty entry for each new
        // namespace here held a table of 10,000 of them through the whole apply.
        self.dirty.insert(at);
        Ok(())
    }

    /// The processes whose network namespace has inode `ino`.
    fn held_by(&mut self, ino: u64) -> Vec<u32> {
        let map = self.holders.get_or_insert_with(|| {
            let mut m: HashMap<u64, Vec<u32>> = HashMap::new();
            if let Ok(rd) = std::fs::read_dir("/proc") {
                for e in rd.flatten() {
                    let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                    else {
                        continue;
                    };
                    if let Ok(md) = std::fs::metadata(format!("/proc/{pid}/ns/net")) {
                        m.entry(std::os::unix::fs::MetadataExt::ino(&md))
                            .or_default()
                            .push(pid);
                    }
                }
            }
            m
        });
        let mut v = map.get(&ino).cloned().unwrap_or_default();
        v.retain(|&p| p != std::process::id());
        v
    }

    pub(super) fn del_netns(
        &mut self,
        name: &str,
        bound: bool,
        ends: &[(Where, String)],
    ) -> Result<(), Fail> {
        let path = crate::netns::run_path(name.as_bytes());
        let held = match (bound, crate::netns::ns_inode(name.as_bytes())) {
            (true, Ok(Some(ino))) => self.held_by(ino),
            _ => Vec::new(),
        };
        if !held.is_empty() {
            // The namespace outlives its name while a process runs in it, and so would its
            // veths: the ends outside go now, which takes their peers inside with them.
            for (at, n) in ends {
                if let Ok(Some(ix)) = self.links(at).map(|p| p.links.get(n).map(|l| l.index)) {
                    let s = self.sock(at)?;
                    let _ = crate::nl::link::delete(&self.pl.nl, &s, ix);
                    self.dirty.insert(at.clone());
                }
            }
        }
        if crate::netns::lifecycle::remove(&mut crate::netns::sys::Real, &path) != 0 {
            return Err(format!(
                "deleting netns {name} failed (see the message above)"
            ));
        }
        if !held.is_empty() {
            let who: Vec<String> = held
                .iter()
                .take(5)
                .map(|p| {
                    let comm = std::fs::read_to_string(format!("/proc/{p}/comm"))
                        .map(|s| s.trim().to_string())
                        .unwrap_or_default();
                    format!("{p} ({comm})")
                })
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
        self.socks.remove(&Some(name.to_string()));
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
            if let (Some(ix), Ok(s)) = (ix, self.sock(&at)) {
                match crate::nl::link::delete(&self.pl.nl, &s, ix) {
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
