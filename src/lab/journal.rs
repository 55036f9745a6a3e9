//! The lab's journal: what nsctl created (or is about to create) for a lab, kept in
//! /run/nsctl/labs/NAME.json. Intents are written *before* each phase creates anything, so a
//! kill -9 at any point leaves a journal that covers everything that might exist; destroy
//! removes exactly the journaled objects that exist, and nothing else.
//!
//! The journal decides what root deletes, so its directory and files are root's alone:
//! /run/nsctl and /run/nsctl/labs are made 0700 and refused when they are symlinks, not
//! owned by the caller or writable by others; files are opened without following symlinks;
//! every entry is checked again when it is loaded.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const TOP: &str = "/run/nsctl";
pub const DIR: &str = "/run/nsctl/labs";
/// A journal larger than this is not one nsctl wrote (a 10,000-namespace lab is ~2 MiB).
const MAX_JOURNAL: u64 = 64 << 20;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Owned {
    Netns {
        name: String,
    },
    /// A link nsctl created (a bridge, or a veth pair by its first end; the other end is in
    /// [`Journal::pairs`]).
    Link {
        netns: Option<String>,
        name: String,
    },
    /// An nft table nsctl created.
    NftTable {
        family: String,
        name: String,
    },
    /// A sysctl nsctl changed, with the value to put back. In the host the value belongs to
    /// the shared register (see `shares.rs`), which several labs may hold.
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
    /// A route nsctl added, in the lab file's words: `default via 10.0.0.1`.
    Route {
        netns: Option<String>,
        route: String,
    },
    /// An interface nsctl did not create but uses (`--adopt`): its admin state and MTU
    /// before, to put back. It is never deleted.
    Adopted {
        netns: Option<String>,
        name: String,
        up: bool,
        mtu: Option<u32>,
    },
    /// A namespace nsctl did not create but uses (`--adopt`). It is never deleted.
    AdoptedNetns {
        name: String,
    },
    /// A root qdisc nsctl set on a link (shape.rs); it goes with the link.
    Shaped {
        netns: Option<String>,
        dev: String,
    },
    /// /etc/netns/NAME/hosts, written by nsctl (hosts.rs).
    Hosts {
        netns: String,
    },
    /// A directory nsctl made for hosts files: /etc/netns/NAME, or /etc/netns itself (None).
    EtcDir {
        netns: Option<String>,
    },
}

#[derive(Serialize, Deserialize, Debug, Default, Clone)]
pub struct Journal {
    pub lab: String,
    /// The lab file last applied (absolute), for `nsctl status` without a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// When it was last applied (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<u64>,
    /// The machine whose share of a lab across hosts this is (`apply --host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    pub objects: Vec<Owned>,
    /// The cookie (SO_NETNS_COOKIE) of each namespace nsctl made, recorded once it exists: a
    /// namespace that someone deleted and made again under the same name is then not taken
    /// for nsctl's. A namespace without one is nsctl's by name alone.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub netns_cookie: BTreeMap<String, u64>,
    /// The ifindex of each link nsctl made outside its own namespaces (a bridge, or either
    /// end of a veth pair), under [`link_key`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub link_index: BTreeMap<String, u32>,
    /// For each veth pair (by the [`link_key`] of its first end), the other end.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pairs: BTreeMap<String, String>,
    /// Where each object is in `objects`, for constant-time `owns` in labs of thousands.
    #[serde(skip)]
    set: Positions,
    /// The second ends of `pairs`, for constant-time claims.
    #[serde(skip)]
    peers: HashSet<String>,
}

/// The positions of a journal's objects by their hash, chained where hashes collide: the
/// entries themselves are held once (a second copy of each, in a set, was 3 MB per 10,000).
#[derive(Debug, Default, Clone)]
struct Positions {
    /// The last object with each hash.
    head: HashMap<u64, u32, BuildHasherDefault<Spread>>,
    /// For each object, the one before it with the same hash (`END`: none).
    next: Vec<u32>,
    /// Each object's hash, so positions are rebuilt after a removal without hashing again.
    hashes: Vec<u64>,
}

const END: u32 = u32::MAX;

/// The keys of `Positions::head` are SipHash values already: used as they are.
#[derive(Default)]
struct Spread(u64);

impl Hasher for Spread {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// Remove the items at `gone` (sorted, each once) in one pass; the others keep their order.
fn remove_at<T>(v: &mut Vec<T>, gone: &[usize]) {
    let mut at = 0;
    let mut next = gone.iter().peekable();
    v.retain(|_| {
        let keep = next.next_if_eq(&&at).is_none();
        at += 1;
        keep
    });
}

fn hash_of(o: &Owned) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    o.hash(&mut h);
    h.finish()
}

impl Positions {
    fn of(objects: &[Owned]) -> Positions {
        let mut p = Positions::default();
        p.head.reserve(objects.len());
        for (i, o) in objects.iter().enumerate() {
            p.link(hash_of(o), i);
        }
        p
    }

    fn link(&mut self, h: u64, i: usize) {
        // A journal of more than 4 billion entries is refused by its size long before.
        let i = u32::try_from(i).unwrap_or(END - 1);
        self.next.push(self.head.insert(h, i).unwrap_or(END));
        self.hashes.push(h);
    }

    fn find_hashed(&self, objects: &[Owned], h: u64, o: &Owned) -> Option<usize> {
        let mut i = self.head.get(&h).copied().unwrap_or(END);
        while let Some(x) = objects.get(i as usize) {
            if x == o {
                return Some(i as usize);
            }
            i = self.next.get(i as usize).copied().unwrap_or(END);
        }
        None
    }

    fn position(&self, objects: &[Owned], o: &Owned) -> Option<usize> {
        self.find_hashed(objects, hash_of(o), o)
    }

    fn find(&self, objects: &[Owned], o: &Owned) -> bool {
        self.position(objects, o).is_some()
    }

    /// Push `o` unless it is there already; whether it was pushed.
    fn add(&mut self, objects: &mut Vec<Owned>, o: Owned) -> bool {
        let h = hash_of(&o);
        if self.find_hashed(objects, h, &o).is_some() {
            return false;
        }
        self.link(h, objects.len());
        objects.push(o);
        true
    }

    /// The objects at `gone` (sorted, each once) were removed from the list: the others move up.
    fn remove(&mut self, gone: &[usize]) {
        let mut hashes = std::mem::take(&mut self.hashes);
        remove_at(&mut hashes, gone);
        self.head.clear();
        self.next.clear();
        for (i, h) in hashes.into_iter().enumerate() {
            self.link(h, i);
        }
    }
}

/// The place (None: the host) of an entry that lives in one; None for namespaces and tables.
pub fn place(o: &Owned) -> Option<&Option<String>> {
    match o {
        Owned::Link { netns, .. }
        | Owned::Addr { netns, .. }
        | Owned::Route { netns, .. }
        | Owned::Sysctl { netns, .. }
        | Owned::Adopted { netns, .. }
        | Owned::Shaped { netns, .. } => Some(netns),
        // Files in /etc outlive the namespace they are named after.
        Owned::Netns { .. }
        | Owned::NftTable { .. }
        | Owned::AdoptedNetns { .. }
        | Owned::Hosts { .. }
        | Owned::EtcDir { .. } => None,
    }
}

/// Whether `o` is netns `netns` itself or an entry that lives inside it.
pub fn in_netns(o: &Owned, netns: &str) -> bool {
    match o {
        Owned::Netns { name } | Owned::AdoptedNetns { name } => name == netns,
        o => place(o).is_some_and(|p| p.as_deref() == Some(netns)),
    }
}

/// The key of a link: NAME in the host, NETNS/NAME elsewhere (neither name can hold a `/`).
pub fn link_key(netns: &Option<String>, name: &str) -> String {
    match netns {
        None => name.to_string(),
        Some(n) => format!("{n}/{name}"),
    }
}

/// The place and name of a [`link_key`].
pub fn split_key(key: &str) -> (Option<String>, String) {
    match key.split_once('/') {
        Some((n, l)) => (Some(n.to_string()), l.to_string()),
        None => (None, key.to_string()),
    }
}

pub fn path(lab: &str) -> PathBuf {
    PathBuf::from(DIR).join(format!("{lab}.json"))
}

fn other(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

/// Make `dir` (0700) if it is missing, and refuse it unless it is a real directory of the
/// caller's that nobody else can write. Umask does not matter: the mode is set explicitly.
fn safe_dir(dir: &str) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let m = std::fs::symlink_metadata(dir)?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if m.file_type().is_symlink() || !m.is_dir() {
        return Err(other(format!(
            "{dir} is not a directory (a symlink or a file); remove it and run the command again"
        )));
    }
    if m.uid() != me || m.mode() & 0o022 != 0 {
        return Err(other(format!(
            "{dir} is owned by uid {} with mode {:o}, so others could edit what nsctl deletes; make it root's with mode 0700 (chown root {dir}; chmod 700 {dir}) or remove it",
            m.uid(),
            m.mode() & 0o7777
        )));
    }
    Ok(())
}

/// /run/nsctl and /run/nsctl/labs, made and checked.
pub fn dirs() -> std::io::Result<()> {
    safe_dir(TOP)?;
    safe_dir(DIR)
}

/// Open (creating, 0600) a file in a checked directory without following a symlink there.
pub fn open_private(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p)
}

/// Hold an exclusive flock on `p` while the returned file lives.
pub fn flock(p: &Path) -> std::io::Result<std::fs::File> {
    let f = open_private(p)?;
    // SAFETY: flock only reads the descriptor, which `f` keeps open.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Hold the lab's lock (/run/nsctl/labs/NAME.lock) while the returned file lives, so two
/// applies or destroys of one lab never interleave their journal writes; a second one waits.
pub fn lock(lab: &str) -> std::io::Result<std::fs::File> {
    dirs()?;
    flock(&PathBuf::from(DIR).join(format!("{lab}.lock")))
}

/// Write `data` to `p` atomically: a fresh temp file (O_EXCL, O_NOFOLLOW, 0600), fsync,
/// rename over `p`.
pub fn write_atomic(p: &Path, data: &[u8]) -> std::io::Result<()> {
    write_atomic_with(p, |f| f.write_all(data))
}

/// [`write_atomic`] of what `fill` writes: a journal of 10,000 namespaces streams its JSON
/// to the file instead of building megabytes of it in memory first.
pub fn write_atomic_with(
    p: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = p.with_extension("tmp");
    // A temp file left by a killed run (or planted): unlink never follows a symlink.
    match std::fs::remove_file(&tmp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)?;
    let mut w = std::io::BufWriter::with_capacity(64 << 10, f);
    fill(&mut w)?;
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()?;
    std::fs::rename(&tmp, p)
}

/// Read a file of nsctl's without following a symlink; None when it does not exist.
pub fn read_private(p: &Path) -> std::io::Result<Option<Vec<u8>>> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p);
    let f = match f {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let m = f.metadata()?;
    // SAFETY: geteuid has no preconditions.
    if !m.is_file() || m.uid() != unsafe { libc::geteuid() } || m.mode() & 0o022 != 0 {
        return Err(other(format!(
            "{} is not a regular file of nsctl's (owner uid {}, mode {:o})",
            p.display(),
            m.uid(),
            m.mode() & 0o7777
        )));
    }
    let mut b = Vec::new();
    f.take(MAX_JOURNAL + 1).read_to_end(&mut b)?;
    if b.len() as u64 > MAX_JOURNAL {
        return Err(other(format!("{} is larger than 64 MiB", p.display())));
    }
    Ok(Some(b))
}

/// The names of the labs that have a journal.
pub fn labs() -> std::io::Result<Vec<String>> {
    let rd = match std::fs::read_dir(DIR) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut v: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().into_string().ok()?;
            n.strip_suffix(".json").map(str::to_string)
        })
        .filter(|n| super::spec::valid_lab_name(n))
        .collect();
    v.sort();
    Ok(v)
}

impl Journal {
    /// The journal of `lab`, or an empty one. Every entry is checked: a journal that fails is
    /// refused rather than acted on.
    pub fn load(lab: &str) -> std::io::Result<Journal> {
        dirs()?;
        let Some(b) = read_private(&path(lab))? else {
            return Ok(Journal {
                lab: lab.to_string(),
                ..Default::default()
            });
        };
        let j = Self::parse(lab, &b).map_err(|m| {
            other(format!(
                "{} is damaged ({m}); move it away, then remove what is left of the lab by hand",
                path(lab).display()
            ))
        })?;
        Ok(j)
    }

    /// Parse and check a journal's bytes.
    pub fn parse(lab: &str, b: &[u8]) -> Result<Journal, String> {
        let mut j: Journal = serde_json::from_slice(b).map_err(|e| e.to_string())?;
        if j.lab != lab {
            return Err(format!("it names lab \"{}\"", j.lab.escape_debug()));
        }
        j.check()?;
        j.set = Positions::of(&j.objects);
        j.peers = j.pairs.values().cloned().collect();
        Ok(j)
    }

    /// Every name, key and text in the journal as the lab file's checks would allow it.
    fn check(&self) -> Result<(), String> {
        use super::file::clean;
        let ns = |n: &str| {
            if crate::netns::is_valid_name(n.as_bytes()) && clean(n) {
                Ok(())
            } else {
                Err(format!("bad netns name \"{}\"", n.escape_debug()))
            }
        };
        let place = |p: &Option<String>| p.as_deref().map_or(Ok(()), ns);
        let ifname = |n: &str| {
            if crate::wiring::valid_ifname(n.as_bytes()) && clean(n) {
                Ok(())
            } else {
                Err(format!("bad interface name \"{}\"", n.escape_debug()))
            }
        };
        let key = |k: &str| {
            if super::spec::valid_sysctl_key(k) {
                Ok(())
            } else {
                Err(format!("\"{}\" is not a net.* sysctl", k.escape_debug()))
            }
        };
        if let Some(h) = &self.host {
            if !super::spec::valid_lab_name(h) {
                return Err(format!("bad host name \"{}\"", h.escape_debug()));
            }
        }
        for o in &self.objects {
            match o {
                Owned::Netns { name }
                | Owned::AdoptedNetns { name }
                | Owned::Hosts { netns: name } => ns(name)?,
                Owned::EtcDir { netns } => place(netns)?,
                Owned::Link { netns, name }
                | Owned::Adopted { netns, name, .. }
                | Owned::Shaped { netns, dev: name } => {
                    place(netns)?;
                    ifname(name)?;
                }
                Owned::NftTable { family, name } => {
                    if family != "ip" || *name != super::nat::table_name(&self.lab) {
                        return Err(format!("an nft table {family} {name} of another lab"));
                    }
                }
                Owned::Sysctl { netns, key: k, old } => {
                    place(netns)?;
                    key(k)?;
                    if !clean(old) || old.len() > 4096 {
                        return Err(format!("bad value for sysctl {k}"));
                    }
                }
                Owned::Addr { netns, dev, addr } => {
                    place(netns)?;
                    ifname(dev)?;
                    if crate::wiring::prefix::parse(addr.as_bytes())
                        .is_none_or(|p| p.addr.is_none())
                    {
                        return Err(format!("bad address \"{}\"", addr.escape_debug()));
                    }
                }
                Owned::Route { netns, route } => {
                    place(netns)?;
                    let r = super::spec::RouteSpec::parse(route)
                        .map_err(|m| format!("bad route \"{}\": {m}", route.escape_debug()))?;
                    if let Some(d) = &r.dev {
                        ifname(d)?;
                    }
                }
            }
        }
        for k in self
            .netns_cookie
            .keys()
            .chain(self.link_index.keys())
            .chain(self.pairs.keys())
            .chain(self.pairs.values())
        {
            let (p, n) = split_key(k);
            place(&p)?;
            if !self.netns_cookie.contains_key(k) {
                ifname(&n)?;
            }
        }
        Ok(())
    }

    pub fn owns(&self, o: &Owned) -> bool {
        self.set.find(&self.objects, o)
    }

    /// Whether the journal has the link at `netns`/`name` as nsctl's: a bridge or the first
    /// end of a pair by its entry, the second end through [`Journal::pairs`].
    pub fn claims_link(&self, netns: &Option<String>, name: &str) -> bool {
        self.owns(&Owned::Link {
            netns: netns.clone(),
            name: name.to_string(),
        }) || self.peers.contains(&link_key(netns, name))
    }

    /// Record a veth pair's second end.
    pub fn pair(&mut self, first: String, second: String) {
        self.peers.insert(second.clone());
        self.pairs.insert(first, second);
    }

    /// Record intents, and persist them (write a temp file, fsync, rename) before returning.
    /// Ids recorded for these objects by an earlier run are dropped (see [`forget_ids`]).
    pub fn intend(&mut self, objs: impl IntoIterator<Item = Owned>) -> std::io::Result<()> {
        let objs: Vec<Owned> = objs.into_iter().collect();
        let ids = self.netns_cookie.len() + self.link_index.len();
        self.forget_ids(&objs);
        let mut changed = ids != self.netns_cookie.len() + self.link_index.len();
        for o in objs {
            changed |= self.set.add(&mut self.objects, o);
        }
        if changed {
            self.save()?;
        }
        Ok(())
    }

    /// Add entries without saving (the caller saves once for many).
    pub fn add(&mut self, o: Owned) {
        self.set.add(&mut self.objects, o);
    }

    pub fn forget(&mut self, o: &Owned) {
        self.forget_all(std::slice::from_ref(o));
    }

    /// Forget many entries at once (one pass over the list).
    pub fn forget_all(&mut self, os: &[Owned]) {
        let mut gone: Vec<usize> = os
            .iter()
            .filter_map(|o| self.set.position(&self.objects, o))
            .collect();
        if !gone.is_empty() {
            gone.sort_unstable();
            gone.dedup();
            remove_at(&mut self.objects, &gone);
            self.set.remove(&gone);
        }
        for o in os {
            if let Owned::Link { netns, name } = o {
                if let Some(p) = self.pairs.remove(&link_key(netns, name)) {
                    self.peers.remove(&p);
                    self.link_index.remove(&p);
                }
            }
        }
        self.forget_ids(os);
    }

    /// Whether netns `name` is nsctl's: journaled and, when its cookie was recorded, still the
    /// namespace nsctl made (`now` is the cookie of what is there now, if anything).
    pub fn owns_netns(&self, name: &str, now: Option<u64>) -> bool {
        self.owns(&Owned::Netns {
            name: name.to_string(),
        }) && match self.netns_cookie.get(name) {
            Some(&c) => now.is_none_or(|x| x == c),
            None => true,
        }
    }

    /// Forget a namespace someone made again under a journaled name, and every entry in it:
    /// they all refer to the namespace nsctl made, which is gone.
    ///
    /// A veth end outside it whose peer was inside stays the lab's, as a link of its own:
    /// the kernel may still be tearing the old namespace down, and that end must go before
    /// the pair is made again.
    pub fn forget_place(&mut self, netns: &str) {
        self.forget_places(&[netns.to_string()]);
    }

    /// [`Journal::forget_place`] for many namespaces, in one pass over the journal.
    pub fn forget_places(&mut self, names: &[String]) {
        if names.is_empty() {
            return;
        }
        let gone: HashSet<&str> = names.iter().map(|s| s.as_str()).collect();
        let inside = |k: &str| k.split_once('/').is_some_and(|(n, _)| gone.contains(n));
        // Pairs with exactly one end inside: the outside end lives on alone.
        let split: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(a, b)| inside(a) != inside(b))
            .map(|(a, b)| (a.clone(), b.clone()))
            .collect();
        for (a, b) in &split {
            self.pairs.remove(a);
            self.peers.remove(b);
            let outside = if inside(a) { b } else { a };
            let (at, name) = split_key(outside);
            self.add(Owned::Link { netns: at, name });
        }
        let stale: Vec<Owned> = self
            .objects
            .iter()
            .filter(|o| match o {
                Owned::Netns { name } | Owned::AdoptedNetns { name } => {
                    gone.contains(name.as_str())
                }
                o => place(o).is_some_and(|p| p.as_deref().is_some_and(|n| gone.contains(n))),
            })
            .cloned()
            .collect();
        self.forget_all(&stale);
        self.link_index.retain(|k, _| !inside(k));
        for n in names {
            self.netns_cookie.remove(n);
        }
    }

    /// Forget the ids recorded for objects about to be made again: a stale id would make
    /// nsctl's own new object look foreign.
    pub fn forget_ids<'a>(&mut self, objs: impl IntoIterator<Item = &'a Owned>) {
        for o in objs {
            match o {
                Owned::Netns { name } => {
                    self.netns_cookie.remove(name);
                }
                Owned::Link { netns, name } => {
                    let k = link_key(netns, name);
                    self.link_index.remove(&k);
                    if let Some(p) = self.pairs.get(&k) {
                        let p = p.clone();
                        self.link_index.remove(&p);
                    }
                }
                _ => {}
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// Persist (a journal comes from [`Journal::load`], which checked the directories).
    pub fn save(&self) -> std::io::Result<()> {
        let p = path(&self.lab);
        if self.objects.is_empty() {
            return match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        write_atomic_with(&p, |w| {
            serde_json::to_writer_pretty(w, self).map_err(std::io::Error::other)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(text: &str) -> Result<Journal, String> {
        Journal::parse("t", text.as_bytes())
    }

    /// Entries are found by hash and then compared, so two that share a hash are both found,
    /// and forgetting one keeps the others' positions right.
    #[test]
    fn positions_find_every_entry() {
        let link = |n: &str| Owned::Link {
            netns: None,
            name: n.into(),
        };
        let objects = vec![link("a"), link("b"), link("c")];
        let mut p = Positions::default();
        for i in 0..3 {
            p.link(7, i); // one hash for all three
        }
        for (i, o) in objects.iter().enumerate() {
            assert_eq!(p.find_hashed(&objects, 7, o), Some(i));
        }
        assert_eq!(p.find_hashed(&objects, 7, &link("d")), None);
        assert_eq!(p.find_hashed(&objects, 8, &link("a")), None);
        let mut j = j(r#"{"lab":"t","objects":[]}"#).unwrap();
        for n in ["a", "b", "c", "a"] {
            j.add(link(n));
        }
        assert_eq!(j.objects.len(), 3);
        j.forget(&link("a"));
        assert!(!j.owns(&link("a")) && j.owns(&link("b")) && j.owns(&link("c")));
        j.add(link("a"));
        assert!(j.owns(&link("a")) && j.objects.len() == 3);
        j.forget_all(&[link("b"), link("x"), link("b"), link("a")]);
        assert_eq!(j.objects, vec![link("c")]);
        assert!(j.owns(&link("c")) && !j.owns(&link("a")) && !j.owns(&link("b")));
        j.add(link("b"));
        assert_eq!(j.objects, vec![link("c"), link("b")]);
        assert!(j.owns(&link("b")) && j.owns(&link("c")));
    }

    #[test]
    fn tampered_entries_are_refused() {
        let ok = r#"{"lab":"t","objects":[{"kind":"sysctl","netns":null,"key":"net.ipv4.ip_forward","old":"0"}]}"#;
        assert!(j(ok).is_ok());
        for bad in [
            r#"{"lab":"t","objects":[{"kind":"sysctl","netns":null,"key":"kernel.core_pattern","old":"|/x"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"sysctl","netns":null,"key":"net.ipv4.x/../../../kernel","old":"0"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"netns","name":"../etc"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"netns","name":"a\u0000b"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"link","netns":null,"name":"a b"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"nft_table","family":"ip","name":"filter"}]}"#,
            r#"{"lab":"t","objects":[{"kind":"route","netns":null,"route":"default via nowhere"}]}"#,
            r#"{"lab":"other","objects":[]}"#,
            r#"{"lab":"t","objects":[],"link_index":{"x/y/z":1}}"#,
            "not json",
        ] {
            assert!(j(bad).is_err(), "accepted {bad}");
        }
    }

    #[test]
    fn pairs_claim_both_ends_and_forget_drops_both() {
        let mut j = j(r#"{"lab":"t","objects":[]}"#).unwrap();
        let first = Owned::Link {
            netns: Some("A".into()),
            name: "eth0".into(),
        };
        j.add(first.clone());
        j.pair(link_key(&Some("A".into()), "eth0"), link_key(&None, "vh"));
        j.link_index.insert("vh".into(), 7);
        assert!(j.claims_link(&None, "vh"));
        assert!(j.claims_link(&Some("A".into()), "eth0"));
        assert!(!j.claims_link(&None, "eth0"));
        j.forget(&first);
        assert!(!j.claims_link(&None, "vh"));
        assert!(j.link_index.is_empty());
    }

    #[test]
    fn cookies_decide_netns_ownership() {
        let mut j = j(r#"{"lab":"t","objects":[{"kind":"netns","name":"A"}]}"#).unwrap();
        assert!(j.owns_netns("A", Some(5)));
        j.netns_cookie.insert("A".into(), 5);
        assert!(j.owns_netns("A", Some(5)));
        assert!(j.owns_netns("A", None));
        assert!(!j.owns_netns("A", Some(6)));
        assert!(!j.owns_netns("B", None));
    }
}
