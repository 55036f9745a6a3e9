//! Names that resolve inside a lab: `/etc/netns/NAME/hosts` for each lab namespace, listing
//! every lab namespace's addresses. `ip netns exec` (and `nsctl exec`) binds that file over
//! /etc/hosts, so `nsctl exec A ping B` works by name.
//!
//! The files are journaled (`Owned::Hosts`, and `Owned::EtcDir` for a directory nsctl made),
//! kept in step with the file by apply and removed by destroy. A hosts file nsctl did not
//! write is never touched: apply refuses while one is in the way. What nsctl wrote carries
//! its own proof: the first line names the lab and the namespace and holds a checksum of
//! the rest, so a file edited since (or replaced, or not a file at all) is told apart with
//! or without the journal and the lab file, and is then someone else's.
//!
//! Every path is opened relative to a directory fd without following symlinks, since root
//! writes here; a file is looked at before it is opened and opened without blocking (a FIFO
//! planted there must not hang nsctl), and only a regular file of bounded size is read.

use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::spec::Lab;
use crate::netns::ETC_DIR;

/// Labs with more namespaces than this get hosts files only when the file asks
/// (`etc_hosts = true`): each file lists every namespace, so they grow with the square.
pub const DEFAULT_MAX: usize = 1000;
/// And never more than this many namespaces.
pub const MAX: usize = 2000;
/// The largest hosts file nsctl reads (and writes): a larger one is not nsctl's.
pub const MAX_BYTES: u64 = 64 << 20;

/// What is at /etc/netns/NAME/hosts, as far as one lab is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Absent,
    /// What nsctl wrote for this lab and namespace, unchanged since; `current` when it is
    /// also the text the lab wants now.
    Written {
        current: bool,
    },
    /// A regular file that is not (or no longer) what nsctl wrote for this lab: someone's
    /// own, another lab's, or edited since.
    Other,
    /// Not a regular file: what it is (`a FIFO`, `a directory`, ...).
    Odd(&'static str),
}

impl Seen {
    /// Why a file that is there is not the lab's, after its path; `journaled` when the
    /// journal says nsctl wrote it.
    pub fn why_not_ours(&self, journaled: bool) -> String {
        match self {
            Seen::Odd(what) => format!("is {what}, not a file nsctl wrote"),
            _ if journaled => "was changed since nsctl wrote it".to_string(),
            _ => "exists and nsctl did not write it".to_string(),
        }
    }
}

/// The first line of a file nsctl wrote for `lab`: a file that starts with it is the lab's
/// even when the journal lost it (/etc outlives /run across a reboot).
pub fn marker(lab: &str) -> String {
    format!("# nsctl lab {lab}: ")
}

/// Whether a namespace name can stand in /etc/hosts (a host name: letters, digits, `-`,
/// `.`, `_`). Other names are left out of the files.
pub fn host_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// The namespaces that get a hosts file.
pub fn namespaces(lab: &Lab) -> Vec<&str> {
    if !lab.hosts {
        return Vec::new();
    }
    lab.namespaces.iter().map(|n| n.name.as_str()).collect()
}

/// FNV-1a (64 bits) of the text after the header: it tells an edit from what nsctl wrote,
/// and is stable across builds (std's hasher is not). Not a defence against someone who
/// forges the line on purpose: only root writes here, and such a file claims to be nsctl's.
fn checksum(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The first line of `netns`'s hosts file, whose text after it is `body`.
pub fn header(lab: &str, netns: &str, body: &[u8]) -> String {
    format!(
        "{}/etc/hosts of netns {netns}, written by nsctl apply and removed by nsctl destroy unless edited (checksum {:016x})\n",
        marker(lab),
        checksum(body)
    )
}

/// The first line before checksums: such a file is taken as nsctl's while the rest has the
/// shape nsctl writes (see [`legacy_body`]).
fn legacy_header(lab: &str, netns: &str) -> String {
    format!(
        "{}/etc/hosts of netns {netns}, written by nsctl apply and removed by nsctl destroy\n",
        marker(lab)
    )
}

/// Whether `rest` is a body as nsctl writes it: the localhost lines, then `ADDRESS<TAB>NAME`
/// lines. Without a checksum this is all that can be told of a file written before them.
fn legacy_body(rest: &[u8]) -> bool {
    let Some(rest) = rest.strip_prefix(LOCALHOST.as_bytes()) else {
        return false;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return false;
    };
    let line = |l: &str| {
        l.split_once('\t')
            .is_some_and(|(a, n)| a.parse::<std::net::IpAddr>().is_ok() && host_name(n))
    };
    rest.is_empty() || (rest.ends_with('\n') && rest.lines().all(line))
}

/// The text of `netns`'s hosts file: its header, then the body every namespace shares
/// (apply writes the two parts, with the body made once).
#[cfg(test)]
pub fn content(lab: &Lab, netns: &str) -> String {
    let b = body(lab);
    header(&lab.name, netns, b.as_bytes()) + &b
}

/// What `have` (a regular file's bytes) is to `lab`: `Written` when its first line is the
/// one nsctl writes for this lab and namespace and the rest matches its checksum; `current`
/// when the rest is also `want` (the body the lab wants now; None: not asked).
pub fn judge(have: &[u8], lab: &str, netns: &str, want: Option<&str>) -> Seen {
    let Some(nl) = have.iter().position(|&c| c == b'\n') else {
        return Seen::Other;
    };
    let (first, rest) = have.split_at(nl + 1);
    if first == header(lab, netns, rest).as_bytes() {
        Seen::Written {
            current: want.is_some_and(|w| w.as_bytes() == rest),
        }
    } else if first == legacy_header(lab, netns).as_bytes() && legacy_body(rest) {
        // Rewritten with a checksum by the next apply that wants it.
        Seen::Written { current: false }
    } else {
        Seen::Other
    }
}

const LOCALHOST: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// What every namespace's file lists after its header: localhost, then each lab namespace's
/// addresses as [`Lab::names`] gives them (IPv4 first, each family in file order); in a
/// machine's share of a lab across hosts, the namespaces of every machine. Made once per
/// run: a lab of N namespaces writes N files of N lines.
pub fn body(lab: &Lab) -> String {
    if let Some(b) = &lab.hosts_body {
        return b.clone();
    }
    let mut s = String::from(LOCALHOST);
    for n in &lab.namespaces {
        if !host_name(&n.name) {
            continue;
        }
        for a in lab.names(&Some(n.name.clone())) {
            s.push_str(&format!("{a}\t{}\n", n.name));
        }
    }
    s
}

pub fn path(netns: &str) -> String {
    format!("{ETC_DIR}/{netns}/hosts")
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC
}

/// /etc/netns/NAME (or /etc/netns itself) as a directory fd; None when missing. A symlink
/// there is refused (ELOOP / ENOTDIR).
fn open_dir(netns: Option<&str>) -> Result<Option<OwnedFd>, Errno> {
    let top = match nix::fcntl::open(ETC_DIR, dir_flags(), Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(e),
    };
    match netns {
        None => Ok(Some(top)),
        Some(n) => match openat(top.as_fd(), n, dir_flags(), Mode::empty()) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::ENOENT) => Ok(None),
            Err(e) => Err(e),
        },
    }
}

/// What kind of thing a stat describes, when it is not a regular file.
fn odd(st: &FileStat) -> Option<&'static str> {
    let t = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
    Some(match t {
        SFlag::S_IFREG => return None,
        SFlag::S_IFIFO => "a FIFO",
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFLNK => "a symbolic link",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        _ => "not a regular file",
    })
}

/// A regular file's bytes, or what stands in the way.
enum Found {
    Absent,
    Text(Vec<u8>),
    Not(Seen),
}

/// `hosts` in `dir`: looked at before it is opened (opening a device can act on it), then
/// opened without following a symlink or blocking on a FIFO, and looked at again through
/// the fd (it may have been replaced in between). At most [`MAX_BYTES`] are read.
fn read_in(dir: BorrowedFd) -> Result<Found, Errno> {
    match fstatat(dir, "hosts", AtFlags::AT_SYMLINK_NOFOLLOW) {
        Err(Errno::ENOENT) => return Ok(Found::Absent),
        Err(e) => return Err(e),
        Ok(st) => {
            if let Some(what) = odd(&st) {
                return Ok(Found::Not(Seen::Odd(what)));
            }
        }
    }
    let flags = OFlag::O_RDONLY
        | OFlag::O_NOFOLLOW
        | OFlag::O_NONBLOCK
        | OFlag::O_NOCTTY
        | OFlag::O_CLOEXEC;
    let fd = match openat(dir, "hosts", flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(Found::Absent),
        Err(Errno::ELOOP) => return Ok(Found::Not(Seen::Odd("a symbolic link"))),
        Err(e) => return Err(e),
    };
    let st = fstat(&fd)?;
    if let Some(what) = odd(&st) {
        return Ok(Found::Not(Seen::Odd(what)));
    }
    if u64::try_from(st.st_size).map_or(true, |n| n > MAX_BYTES) {
        return Ok(Found::Not(Seen::Other));
    }
    let mut b = Vec::new();
    std::fs::File::from(fd)
        .take(MAX_BYTES + 1)
        .read_to_end(&mut b)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?;
    if b.len() as u64 > MAX_BYTES {
        return Ok(Found::Not(Seen::Other));
    }
    Ok(Found::Text(b))
}

/// What /etc/netns/NAME/hosts is to lab `lab` (see [`judge`]; `want`: the body the lab
/// wants now). Only the errors of reading a file that is there fail.
pub fn seen(lab: &str, netns: &str, want: Option<&str>) -> Result<Seen, String> {
    let fail = |e: Errno| format!("cannot read {}: {}", path(netns), crate::error::errstr(e));
    let Some(dir) = open_dir(Some(netns)).map_err(fail)? else {
        return Ok(Seen::Absent);
    };
    Ok(match read_in(dir.as_fd()).map_err(fail)? {
        Found::Absent => Seen::Absent,
        Found::Not(s) => s,
        Found::Text(b) => judge(&b, lab, netns, want),
    })
}

/// Whether a directory exists: /etc/netns (None) or /etc/netns/NAME.
pub fn dir_exists(netns: Option<&str>) -> bool {
    matches!(open_dir(netns), Ok(Some(_)))
}

fn shown(netns: Option<&str>) -> String {
    netns.map_or(ETC_DIR.to_string(), |n| format!("{ETC_DIR}/{n}"))
}

/// Make the directory /etc/netns (None) or /etc/netns/NAME, mode 0755 whatever the umask
/// (0700 would hide the hosts file from the namespace's unprivileged processes). The mode
/// is set on one nsctl made, or on one it journaled making (`ours`: a run killed between
/// mkdir and chmod), through its fd, never through a symlink.
pub fn make_dir(netns: Option<&str>, ours: bool) -> Result<(), String> {
    let fail = |e: Errno| format!("cannot make {}: {}", shown(netns), crate::error::errstr(e));
    let (parent, name) = match netns {
        None => (
            nix::fcntl::open("/etc", dir_flags(), Mode::empty()).map_err(fail)?,
            "netns",
        ),
        Some(n) => (
            open_dir(None)
                .map_err(fail)?
                .ok_or_else(|| fail(Errno::ENOENT))?,
            n,
        ),
    };
    let made = match mkdirat(parent.as_fd(), name, Mode::from_bits_truncate(0o755)) {
        Ok(()) => true,
        Err(Errno::EEXIST) => false,
        Err(e) => return Err(fail(e)),
    };
    if made || ours {
        let fd = openat(parent.as_fd(), name, dir_flags(), Mode::empty()).map_err(fail)?;
        fchmod(fd.as_fd(), Mode::from_bits_truncate(0o755)).map_err(fail)?;
    }
    Ok(())
}

/// Write the file whole, mode 0644 whatever the umask: a temp file next to it, then rename
/// over it.
pub fn write(netns: &str, text: &str) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: Errno| format!("cannot write {}: {}", path(netns), crate::error::errstr(e));
    if text.len() as u64 > MAX_BYTES {
        return Err(format!(
            "cannot write {}: {} bytes, more than the {MAX_BYTES} a hosts file may have; give the lab fewer addresses, or set etc_hosts = false",
            path(netns),
            text.len()
        ));
    }
    let dir = open_dir(Some(netns))
        .map_err(fail)?
        .ok_or_else(|| fail(Errno::ENOENT))?;
    const TMP: &str = ".hosts.nsctl";
    match unlinkat(dir.as_fd(), TMP, UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => {}
        Err(e) => return Err(fail(e)),
    }
    let fd = openat(
        dir.as_fd(),
        TMP,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o644),
    )
    .map_err(fail)?;
    fchmod(fd.as_fd(), Mode::from_bits_truncate(0o644)).map_err(fail)?;
    std::fs::File::from(fd)
        .write_all(text.as_bytes())
        .map_err(|e| {
            format!(
                "cannot write {}: {}",
                path(netns),
                crate::error::io_errstr(&e)
            )
        })?;
    renameat(dir.as_fd(), TMP, dir.as_fd(), "hosts").map_err(fail)
}

/// Remove the file (gone already is fine).
pub fn remove(netns: &str) -> Result<(), String> {
    let fail = |e: Errno| format!("cannot remove {}: {}", path(netns), crate::error::errstr(e));
    let Some(dir) = open_dir(Some(netns)).map_err(fail)? else {
        return Ok(());
    };
    match unlinkat(dir.as_fd(), "hosts", UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(fail(e)),
    }
}

/// Remove a directory nsctl made, when it is empty; Ok(false) when something else is in it
/// (someone's file: it stays, and so does the directory).
pub fn remove_dir(netns: Option<&str>) -> Result<bool, String> {
    let r = match netns {
        None => nix::fcntl::open("/etc", dir_flags(), Mode::empty())
            .and_then(|etc| unlinkat(etc.as_fd(), "netns", UnlinkatFlags::RemoveDir)),
        Some(n) => match open_dir(None) {
            Ok(Some(top)) => unlinkat(top.as_fd(), n, UnlinkatFlags::RemoveDir),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        },
    };
    match r {
        Ok(()) | Err(Errno::ENOENT) => Ok(true),
        Err(Errno::ENOTEMPTY | Errno::EEXIST) => Ok(false),
        Err(e) => Err(format!(
            "cannot remove {}: {}",
            shown(netns),
            crate::error::errstr(e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn abc() -> Lab {
        let t = "name = \"abc\"\n[netns.A]\n[netns.B]\n[netns.\"x y\"]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"fd00::1/64\", \"10.0.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"10.0.0.2/24\"] }]\n";
        super::super::validate::build(super::super::file::parse(t).unwrap(), "t", false).unwrap()
    }

    #[test]
    fn content_lists_every_namespace() {
        let lab = abc();
        let c = content(&lab, "A");
        assert!(c.starts_with(&marker("abc")));
        let lines: Vec<&str> = c.lines().skip(3).collect();
        assert_eq!(lines, ["10.0.0.1\tA", "fd00::1\tA", "10.0.0.2\tB"]);
        assert_eq!(namespaces(&lab), ["A", "B", "x y"]);
        assert!(!host_name("x y") && host_name("h-1.lab_2"));
    }

    #[test]
    fn addresses_are_listed_in_file_order() {
        // B's veth end is written before its bridges zz and aa: its names follow the file,
        // IPv4 first, not the bridges first (nor by their names).
        let t = "[netns.A]\n[netns.B]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"10.1.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"fd01::2/64\", \"10.1.0.2/24\"] }]\n[bridge.zz]\nnetns = \"B\"\naddresses = [\"10.2.0.1/24\"]\n[bridge.aa]\nnetns = \"B\"\naddresses = [\"10.3.0.1/24\"]\n";
        let lab = super::super::validate::build(super::super::file::parse(t).unwrap(), "t", false)
            .unwrap();
        let b = body(&lab);
        let lines: Vec<&str> = b.lines().skip(2).collect();
        assert_eq!(
            lines,
            [
                "10.1.0.1\tA",
                "10.1.0.2\tB",
                "10.2.0.1\tB",
                "10.3.0.1\tB",
                "fd01::2\tB"
            ]
        );
    }

    #[test]
    fn only_what_nsctl_wrote_is_written() {
        let lab = abc();
        let b = body(&lab);
        let c = content(&lab, "A");
        let want = Some(b.as_str());
        assert_eq!(
            judge(c.as_bytes(), "abc", "A", want),
            Seen::Written { current: true }
        );
        assert_eq!(
            judge(c.as_bytes(), "abc", "A", None),
            Seen::Written { current: false }
        );
        // Another lab's, another namespace's, an edited one, someone's own: not ours.
        assert_eq!(judge(c.as_bytes(), "abd", "A", want), Seen::Other);
        assert_eq!(judge(c.as_bytes(), "abc", "B", want), Seen::Other);
        let edited = c.clone() + "10.9.9.9\tintruder\n";
        assert_eq!(judge(edited.as_bytes(), "abc", "A", want), Seen::Other);
        let changed = c.replace("10.0.0.2", "10.0.0.3");
        assert_eq!(judge(changed.as_bytes(), "abc", "A", want), Seen::Other);
        assert_eq!(judge(b"admin\n", "abc", "A", want), Seen::Other);
        assert_eq!(judge(b"", "abc", "A", want), Seen::Other);
        // A file written before checksums: nsctl's while it has nsctl's shape.
        let old = legacy_header("abc", "A") + &b;
        assert_eq!(
            judge(old.as_bytes(), "abc", "A", want),
            Seen::Written { current: false }
        );
        let old = legacy_header("abc", "A") + &b + "admin\n";
        assert_eq!(judge(old.as_bytes(), "abc", "A", want), Seen::Other);
    }
}
