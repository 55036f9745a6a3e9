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

pub use super::hostsfile::path;
pub use super::hostsfile::Seen;
use super::hostsfile::{judge, MAX_BYTES};
use crate::netns::ETC_DIR;

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
