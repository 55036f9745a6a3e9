//! The lab's journal: what nsctl created (or is about to create) for a lab, kept in
//! /run/nsctl/labs/NAME.json. Intents are written *before* each phase creates anything, so a
//! kill -9 at any point leaves a journal that covers everything that might exist; destroy
//! removes exactly the journaled objects that exist, and nothing else.
//!
//! The journal decides what root deletes, so its directory and files are root's alone:
//! /run/nsctl and /run/nsctl/labs go through `fsx.rs` (made 0700 whatever the umask, by a
//! verb that writes only; refused when they are symlinks, not owned by the caller or writable
//! by others); files are opened without following symlinks and refused unless regular (a FIFO
//! would block); a journal larger than the largest lab needs is refused ([`MAX_ENTRIES`]);
//! every entry is checked again when it is loaded.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

use crate::fsx::{self, Dir, Missing};

pub use super::spec::{link_key, split_key};

pub const TOP: &str = "/run/nsctl";
pub const DIR: &str = "/run/nsctl/labs";

/// Journal entries one generated entry of a lab file can need: a veth its own entry, its
/// pair, the ifindexes of two ends and two shaped ends (6); a namespace its entry and cookie
/// and a few routes and sysctls. examples/fabric10k.toml needs 2.5 per entry.
const ENTRIES_PER: usize = 8;
/// At most this many entries (objects, cookies, ifindexes and pairs together) in a journal: a
/// lab file makes at most [`MAX_INSTANCES`](super::generate::MAX_INSTANCES) generated entries.
/// More is not a journal nsctl wrote, and is refused while it is parsed (900,000 entries once
/// made `status` take 9 s and 741 MB).
pub const MAX_ENTRIES: usize = ENTRIES_PER * super::generate::MAX_INSTANCES as usize;
/// Bytes per entry in the pretty-printed journal, on average: a namespace is 58, a route 110,
/// a cookie, an ifindex or a pair 20-30.
const ENTRY_BYTES: u64 = 84;
/// A journal larger than this (64 MiB) is refused before it is read.
pub const MAX_JOURNAL: u64 = MAX_ENTRIES as u64 * ENTRY_BYTES;

thread_local! {
    /// The entries a journal being parsed on this thread may still hold.
    static LEFT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Count one entry against [`LEFT`]; an error once it is spent.
fn spend<E: serde::de::Error>() -> Result<(), E> {
    LEFT.with(|l| match l.get().checked_sub(1) {
        Some(n) => {
            l.set(n);
            Ok(())
        }
        None => Err(E::custom("too many entries")),
    })
}

/// A field that may be absent (None), `null` (Some(None)) or a value.
fn recorded<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A list of entries, counted as it is read.
fn counted_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of entries")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Vec<T>, A::Error> {
            let mut v = Vec::new();
            while let Some(x) = a.next_element()? {
                spend()?;
                v.push(x);
            }
            Ok(v)
        }
    }
    d.deserialize_seq(V(std::marker::PhantomData))
}

/// A map of entries, counted as it is read.
fn counted_map<'de, D, K, T>(d: D) -> Result<BTreeMap<K, T>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    T: Deserialize<'de>,
{
    struct V<K, T>(std::marker::PhantomData<(K, T)>);
    impl<'de, K: Deserialize<'de> + Ord, T: Deserialize<'de>> serde::de::Visitor<'de> for V<K, T> {
        type Value = BTreeMap<K, T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a map of entries")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let mut m = BTreeMap::new();
            while let Some((k, x)) = a.next_entry()? {
                spend()?;
                m.insert(k, x);
            }
            Ok(m)
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

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
    /// An interface nsctl did not create but uses (`--adopt`): its admin state, MTU and
    /// bridge before, to put back. It is never deleted. (The lo of an adopted namespace is
    /// one once the lab brought it up.)
    Adopted {
        netns: Option<String>,
        name: String,
        up: bool,
        mtu: Option<u32>,
        /// The bridge it was in (`null`: none). Absent in journals written before it was
        /// recorded, and for lo: its bridge is then left as it is.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "recorded"
        )]
        master: Option<Option<String>>,
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
    #[serde(deserialize_with = "counted_list")]
    pub objects: Vec<Owned>,
    /// The cookie (SO_NETNS_COOKIE) of each namespace nsctl made, recorded once it exists: a
    /// namespace that someone deleted and made again under the same name is then not taken
    /// for nsctl's. A namespace without one is nsctl's by name alone.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "counted_map"
    )]
    pub netns_cookie: BTreeMap<String, u64>,
    /// The ifindex of each link nsctl made outside its own namespaces (a bridge, or either
    /// end of a veth pair), under [`link_key`].
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "counted_map"
    )]
    pub link_index: BTreeMap<String, u32>,
    /// For each veth pair (by the [`link_key`] of its first end), the other end.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "counted_map"
    )]
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

/// The journal's file name in [`DIR`].
fn file_name(lab: &str) -> String {
    format!("{lab}.json")
}

pub fn path(lab: &str) -> PathBuf {
    PathBuf::from(DIR).join(file_name(lab))
}

fn other(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

/// /run/nsctl, checked (fsx.rs): made 0700 when `make` (a verb that writes), else None when
/// it does not exist (a verb that only looks creates nothing).
pub fn top(make: bool) -> std::io::Result<Option<Dir>> {
    Dir::open("/run", "nsctl", missing(make))
}

/// /run/nsctl/labs, likewise.
pub fn dir(make: bool) -> std::io::Result<Option<Dir>> {
    Dir::open("/run", "nsctl/labs", missing(make))
}

fn missing(make: bool) -> Missing {
    if make {
        Missing::Make(fsx::PRIVATE)
    } else {
        Missing::Absent
    }
}

/// What a writer made a moment ago: None only when it vanished since (ENOENT).
fn made<T>(x: std::io::Result<Option<T>>) -> std::io::Result<T> {
    x?.ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))
}

/// Hold an exclusive flock on `name` in `dir` (made 0600 if missing) while the returned file
/// lives. A FIFO, socket or device there is refused before it could block (fsx.rs).
pub fn flock(dir: &Dir, name: &str) -> std::io::Result<std::fs::File> {
    let f = made(dir.open_file(name, Some(0o600)))?;
    // SAFETY: flock only reads the descriptor, which `f` keeps open.
    let rc = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&f), libc::LOCK_EX) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(f)
}

/// Hold the lab's lock (/run/nsctl/labs/NAME.lock) while the returned file lives, so two
/// applies or destroys of one lab never interleave their journal writes; a second one waits.
/// Only a verb that will write takes it, and it makes the directories.
pub fn lock(lab: &str) -> std::io::Result<std::fs::File> {
    flock(&made(dir(true))?, &format!("{lab}.lock"))
}

/// A file of nsctl's in `dir`, at most `max` bytes; None when it does not exist. Its size is
/// read from the descriptor first, so a file too large is refused before any of it is read.
pub fn read_private(dir: &Dir, name: &str, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    let Some(f) = dir.open_file(name, None)? else {
        return Ok(None);
    };
    let len = f.metadata()?.len();
    let too_big = |len: u64| {
        other(format!(
            "{}/{name} is {len} bytes, more than the {} MiB of the journal of the largest lab a file can describe; nsctl did not write it: move it away, then remove what is left by hand",
            dir.path(),
            max >> 20
        ))
    };
    if len > max {
        return Err(too_big(len));
    }
    let mut b = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut b)?;
    if b.len() as u64 > max {
        return Err(too_big(b.len() as u64));
    }
    Ok(Some(b))
}

/// Whether lab `lab` has a journal (without making anything).
pub fn exists(lab: &str) -> std::io::Result<bool> {
    match dir(false)? {
        None => Ok(false),
        Some(d) => Ok(d.open_file(&file_name(lab), None)?.is_some()),
    }
}

/// The names of the labs that have a journal.
pub fn labs() -> std::io::Result<Vec<String>> {
    let Some(d) = dir(false)? else {
        return Ok(Vec::new());
    };
    let mut v: Vec<String> = d
        .names()?
        .into_iter()
        .filter_map(|n| n.strip_suffix(".json").map(str::to_string))
        .filter(|n| super::spec::valid_lab_name(n))
        .collect();
    v.sort();
    Ok(v)
}

impl Journal {
    /// The journal of `lab`, or an empty one. Every entry is checked: a journal that fails is
    /// refused rather than acted on.
    pub fn load(lab: &str) -> std::io::Result<Journal> {
        let empty = || Journal {
            lab: lab.to_string(),
            ..Default::default()
        };
        let Some(d) = dir(false)? else {
            return Ok(empty());
        };
        let Some(b) = read_private(&d, &file_name(lab), MAX_JOURNAL)? else {
            return Ok(empty());
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
        Self::parse_within(lab, b, MAX_ENTRIES)
    }

    /// [`Journal::parse`] of a journal of at most `max` entries (objects, cookies, ifindexes
    /// and pairs), counted as they are read: one more stops the parse there.
    fn parse_within(lab: &str, b: &[u8], max: usize) -> Result<Journal, String> {
        LEFT.with(|l| l.set(max));
        let r = serde_json::from_slice::<Journal>(b);
        let spent = LEFT.with(|l| l.replace(usize::MAX)) == 0;
        let mut j = match r {
            Ok(j) => j,
            Err(_) if spent => {
                return Err(format!(
                    "it holds more than {max} entries, more than the largest lab a file can describe needs ({} generated entries, {ENTRIES_PER} journal entries each)",
                    super::generate::MAX_INSTANCES
                ))
            }
            Err(e) => return Err(e.to_string()),
        };
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
                    if let Owned::Adopted {
                        master: Some(Some(b)),
                        ..
                    } = o
                    {
                        ifname(b)?;
                    }
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

    /// Persist: only a verb that writes (and holds the lab's lock) saves.
    pub fn save(&self) -> std::io::Result<()> {
        let d = made(dir(true))?;
        let name = file_name(&self.lab);
        if self.objects.is_empty() {
            return d.remove(name.as_str());
        }
        d.write_atomic(&name, |w| {
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

    /// Entries are counted as they are read, across the list and the maps: one more than
    /// the cap stops the parse with a message that says so.
    #[test]
    fn entries_beyond_the_cap_are_refused_while_parsing() {
        let t = r#"{"lab":"t","objects":[{"kind":"netns","name":"A"},{"kind":"netns","name":"B"}],"netns_cookie":{"A":1},"pairs":{"A/x":"y"}}"#;
        assert!(Journal::parse_within("t", t.as_bytes(), 4).is_ok());
        let e = Journal::parse_within("t", t.as_bytes(), 3).unwrap_err();
        assert!(e.starts_with("it holds more than 3 entries"), "{e}");
        // The budget is the parse's own: the next parse starts afresh.
        assert!(Journal::parse_within("t", t.as_bytes(), 4).is_ok());
        assert!(j("{\"lab\":\"t\",\"objects\":[]}").is_ok());
        assert_eq!(MAX_ENTRIES, 800_000);
        assert_eq!(MAX_JOURNAL >> 20, 64);
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
