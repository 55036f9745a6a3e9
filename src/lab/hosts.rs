//! Names that resolve inside a lab: `/etc/netns/NAME/hosts` for each lab namespace, listing
//! every lab namespace's addresses. `ip netns exec` (and `nsctl exec`) binds that file over
//! /etc/hosts, so `nsctl exec A ping B` works by name.
//!
//! The files are journaled (`Owned::Hosts`, and `Owned::EtcDir` for a directory nsctl made),
//! kept in step with the file by apply and removed by destroy. A hosts file nsctl did not
//! write is never touched: apply refuses while one is in the way. Every path is opened
//! relative to a directory fd without following symlinks, since root writes here.

use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use nix::unistd::{unlinkat, UnlinkatFlags};

use super::spec::Lab;
use crate::netns::ETC_DIR;

/// Labs with more namespaces than this get hosts files only when the file asks
/// (`hosts = true`): each file lists every namespace, so they grow with the square.
pub const DEFAULT_MAX: usize = 1000;
/// And never more than this many namespaces.
pub const MAX: usize = 2000;

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

/// The first line of `netns`'s hosts file.
pub fn header(lab: &str, netns: &str) -> String {
    format!(
        "{}/etc/hosts of netns {netns}, written by nsctl apply and removed by nsctl destroy\n",
        marker(lab)
    )
}

/// The text of `netns`'s hosts file: its header, then the body every namespace shares
/// (apply writes the two parts, with the body made once).
#[cfg(test)]
pub fn content(lab: &Lab, netns: &str) -> String {
    header(&lab.name, netns) + &body(lab)
}

/// Whether `have` is `netns`'s file with this body.
pub fn is_current(have: &[u8], lab: &str, netns: &str, body: &str) -> bool {
    let h = header(lab, netns);
    have.len() == h.len() + body.len()
        && have.starts_with(h.as_bytes())
        && &have[h.len()..] == body.as_bytes()
}

/// What every namespace's file lists after its header: localhost, then each lab namespace's
/// addresses (its IPv4 ones first), in file order; in a machine's share of a lab across
/// hosts, the namespaces of every machine. Made once per run: a lab of N namespaces
/// writes N files of N lines.
pub fn body(lab: &Lab) -> String {
    if let Some(b) = &lab.hosts_body {
        return b.clone();
    }
    let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for n in &lab.namespaces {
        if !host_name(&n.name) {
            continue;
        }
        let at = Some(n.name.clone());
        let addrs: Vec<std::net::IpAddr> = lab
            .interfaces(&at)
            .flat_map(|i| i.addrs.iter().filter_map(|p| p.addr))
            .collect();
        for a in addrs
            .iter()
            .filter(|a| a.is_ipv4())
            .chain(addrs.iter().filter(|a| a.is_ipv6()))
        {
            s.push_str(&format!("{a}\t{}\n", n.name));
        }
    }
    s
}

pub fn path(netns: &str) -> String {
    format!("{ETC_DIR}/{netns}/hosts")
}

fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
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

/// What /etc/netns/NAME/hosts holds now; None when it does not exist.
pub fn read(netns: &str) -> Result<Option<Vec<u8>>, String> {
    let fail = |e: Errno| format!("cannot read {}: {}", path(netns), crate::error::errstr(e));
    let Some(dir) = open_dir(Some(netns)).map_err(fail)? else {
        return Ok(None);
    };
    let fd = match openat(
        dir.as_fd(),
        "hosts",
        OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::ENOENT) => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    let mut b = Vec::new();
    std::fs::File::from(fd)
        .take(64 << 20)
        .read_to_end(&mut b)
        .map_err(|e| {
            format!(
                "cannot read {}: {}",
                path(netns),
                crate::error::io_errstr(&e)
            )
        })?;
    Ok(Some(b))
}

/// Whether a directory exists: /etc/netns (None) or /etc/netns/NAME.
pub fn dir_exists(netns: Option<&str>) -> bool {
    matches!(open_dir(netns), Ok(Some(_)))
}

/// Make the directory /etc/netns (None) or /etc/netns/NAME, mode 0755.
pub fn make_dir(netns: Option<&str>) -> Result<(), String> {
    let r = match netns {
        None => nix::unistd::mkdir(ETC_DIR, Mode::from_bits_truncate(0o755)),
        Some(n) => match open_dir(None) {
            Ok(Some(top)) => mkdirat(top.as_fd(), n, Mode::from_bits_truncate(0o755)),
            Ok(None) => Err(Errno::ENOENT),
            Err(e) => Err(e),
        },
    };
    match r {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => Err(format!(
            "cannot make {}: {}",
            netns.map_or(ETC_DIR.to_string(), |n| format!("{ETC_DIR}/{n}")),
            crate::error::errstr(e)
        )),
    }
}

/// Write the file whole: a temp file next to it, then rename over it.
pub fn write(netns: &str, text: &str) -> Result<(), String> {
    use std::io::Write;
    let fail = |e: Errno| format!("cannot write {}: {}", path(netns), crate::error::errstr(e));
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
            netns.map_or(ETC_DIR.to_string(), |n| format!("{ETC_DIR}/{n}")),
            crate::error::errstr(e)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_lists_every_namespace() {
        let t = "name = \"abc\"\n[netns.A]\n[netns.B]\n[netns.\"x y\"]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"fd00::1/64\", \"10.0.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"10.0.0.2/24\"] }]\n";
        let lab =
            super::super::spec::build(super::super::file::parse(t).unwrap(), "t", false).unwrap();
        let c = content(&lab, "A");
        assert!(c.starts_with(&marker("abc")));
        let lines: Vec<&str> = c.lines().skip(3).collect();
        assert_eq!(lines, ["10.0.0.1\tA", "fd00::1\tA", "10.0.0.2\tB"]);
        assert_eq!(namespaces(&lab), ["A", "B", "x y"]);
        assert!(!host_name("x y") && host_name("h-1.lab_2"));
    }
}
