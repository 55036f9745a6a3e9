//! The lab's journal: what nsctl created (or is about to create) for a lab, kept in
//! /run/nsctl/labs/NAME.json. Intents are written *before* each phase creates anything, so a
//! kill -9 at any point leaves a journal that covers everything that might exist; destroy
//! removes exactly the journaled objects that exist, and nothing else.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub const DIR: &str = "/run/nsctl/labs";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owned {
    Netns {
        name: String,
    },
    /// A link nsctl created (a bridge, or a veth pair by one of its ends).
    Link {
        netns: Option<String>,
        name: String,
    },
    /// An nft table nsctl created.
    NftTable {
        family: String,
        name: String,
    },
    /// A sysctl nsctl changed, with the value to put back.
    Sysctl {
        netns: Option<String>,
        key: String,
        old: String,
    },
    /// An address nsctl added to an interface it did not create (adopted).
    Addr {
        netns: Option<String>,
        dev: String,
        addr: String,
    },
    /// A route nsctl added where it outlives the lab's own links and namespaces (the host, or
    /// a namespace nsctl did not create), in the lab file's words: `default via 10.0.0.1`.
    Route {
        netns: Option<String>,
        route: String,
    },
    /// An adopted interface nsctl changed: its admin state and MTU before, to put back.
    Adopted {
        netns: Option<String>,
        name: String,
        up: bool,
        mtu: Option<u32>,
    },
}

#[derive(Serialize, Deserialize, Debug, Default, Clone)]
pub struct Journal {
    pub lab: String,
    pub objects: Vec<Owned>,
    /// The cookie (SO_NETNS_COOKIE) of each namespace nsctl made, recorded once it exists: a
    /// namespace that someone deleted and made again under the same name is then not taken
    /// for nsctl's. A namespace without one is nsctl's by name alone.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub netns_cookie: std::collections::BTreeMap<String, u64>,
    /// The ifindex of each link nsctl made outside its own namespaces (a bridge, or the end
    /// that names a veth pair), under [`link_key`]: a link that someone deleted and made again
    /// under the same name is then not taken for nsctl's.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub link_index: std::collections::BTreeMap<String, u32>,
    /// The same objects, for constant-time `owns` in labs of thousands.
    #[serde(skip)]
    set: std::collections::HashSet<Owned>,
}

/// Hold the lab's lock (/run/nsctl/labs/NAME.lock) while the returned file lives, so two
/// applies or destroys of one lab never interleave their journal writes; a second one waits.
pub fn lock(lab: &str) -> std::io::Result<std::fs::File> {
    std::fs::create_dir_all(DIR)?;
    let f = std::fs::File::create(PathBuf::from(DIR).join(format!("{lab}.lock")))?;
    // SAFETY: flock only reads the descriptor, which `f` keeps open.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// The place (None: the host) of an entry that lives in one; None for namespaces and tables.
pub fn place(o: &Owned) -> Option<&Option<String>> {
    match o {
        Owned::Link { netns, .. }
        | Owned::Addr { netns, .. }
        | Owned::Route { netns, .. }
        | Owned::Sysctl { netns, .. }
        | Owned::Adopted { netns, .. } => Some(netns),
        Owned::Netns { .. } | Owned::NftTable { .. } => None,
    }
}

/// Whether `o` is netns `netns` itself or an entry that lives inside it.
pub fn in_netns(o: &Owned, netns: &str) -> bool {
    match o {
        Owned::Netns { name } => name == netns,
        o => place(o).is_some_and(|p| p.as_deref() == Some(netns)),
    }
}

/// The key of a link in [`Journal::link_index`]: NAME in the host, NETNS/NAME elsewhere (neither
/// kind of name can hold a `/`).
pub fn link_key(netns: &Option<String>, name: &str) -> String {
    match netns {
        None => name.to_string(),
        Some(n) => format!("{n}/{name}"),
    }
}

pub fn path(lab: &str) -> PathBuf {
    PathBuf::from(DIR).join(format!("{lab}.json"))
}

impl Journal {
    /// The journal of `lab`, or an empty one.
    pub fn load(lab: &str) -> std::io::Result<Journal> {
        match std::fs::read(path(lab)) {
            Ok(b) => {
                let mut j: Journal = serde_json::from_slice(&b)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                j.set = j.objects.iter().cloned().collect();
                Ok(j)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Journal {
                lab: lab.to_string(),
                ..Default::default()
            }),
            Err(e) => Err(e),
        }
    }

    pub fn owns(&self, o: &Owned) -> bool {
        self.set.contains(o)
    }

    /// Record intents, and persist them (write a temp file, fsync, rename) before returning.
    /// Ids recorded for these objects by an earlier run are dropped (see [`forget_ids`]).
    pub fn intend(&mut self, objs: impl IntoIterator<Item = Owned>) -> std::io::Result<()> {
        let objs: Vec<Owned> = objs.into_iter().collect();
        let ids = self.netns_cookie.len() + self.link_index.len();
        self.forget_ids(&objs);
        let mut changed = ids != self.netns_cookie.len() + self.link_index.len();
        for o in objs {
            if self.set.insert(o.clone()) {
                self.objects.push(o);
                changed = true;
            }
        }
        if changed {
            self.save()?;
        }
        Ok(())
    }

    pub fn forget(&mut self, o: &Owned) {
        if self.set.remove(o) {
            self.objects.retain(|x| x != o);
        }
        self.forget_ids([o]);
    }

    /// Whether `o` is journaled and, when it is a link whose ifindex was recorded, is still
    /// the link nsctl made (its ifindex now is `index`).
    pub fn owns_link(&self, o: &Owned, index: u32) -> bool {
        self.owns(o)
            && match o {
                Owned::Link { netns, name } => self
                    .link_index
                    .get(&link_key(netns, name))
                    .is_none_or(|&i| i == index),
                _ => true,
            }
    }

    /// Whether netns `name` is nsctl's: journaled and, when its cookie was recorded, still the
    /// namespace nsctl made. `now` gives the cookie of what is there now; None (no namespace
    /// behind the name, or a kernel without cookies) leaves nothing to mistake, so it counts.
    /// An error telling is passed on: guessing could delete someone else's namespace.
    pub fn owns_netns<E>(
        &self,
        name: &str,
        now: impl FnOnce() -> Result<Option<u64>, E>,
    ) -> Result<bool, E> {
        if !self.owns(&Owned::Netns {
            name: name.to_string(),
        }) {
            return Ok(false);
        }
        Ok(match self.netns_cookie.get(name) {
            Some(&c) => now()?.is_none_or(|x| x == c),
            None => true,
        })
    }

    /// Forget a namespace someone made again under a journaled name, and every entry in it:
    /// they all refer to the namespace nsctl made, which is gone. What is there now is then an
    /// ordinary foreign namespace.
    pub fn forget_place(&mut self, netns: &str) {
        let stale: Vec<Owned> = self
            .objects
            .iter()
            .filter(|o| in_netns(o, netns))
            .cloned()
            .collect();
        for o in &stale {
            self.forget(o);
        }
    }

    /// Forget the ids recorded for objects about to be made again, and persist that with
    /// their intents: a stale id would make nsctl's own new object look foreign.
    pub fn forget_ids<'a>(&mut self, objs: impl IntoIterator<Item = &'a Owned>) {
        for o in objs {
            match o {
                Owned::Netns { name } => {
                    self.netns_cookie.remove(name);
                }
                Owned::Link { netns, name } => {
                    self.link_index.remove(&link_key(netns, name));
                }
                _ => {}
            }
        }
    }

    pub fn save(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(DIR)?;
        let p = path(&self.lab);
        if self.objects.is_empty() {
            return match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let tmp = p.with_extension("json.tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &p)
    }
}
