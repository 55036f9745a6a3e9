//! Named network namespaces: the run directory, name rules, and the syscall sequences
//! behind `ip netns add/attach/delete` and the namespace switch of `exec`.
//! Everything here is synchronous and runs on the main thread, before any async runtime.

pub mod lifecycle;
pub mod rundir;
pub mod switch;
pub mod sys;

/// `NETNS_RUN_DIR` of Debian's iproute2 build; it appears literally in messages.
pub const RUN_DIR: &str = "/run/netns";
/// `NETNS_ETC_DIR`.
pub const ETC_DIR: &str = "/etc/netns";
/// Linux `NAME_MAX`.
pub const NAME_MAX: usize = 255;

/// iproute2's `is_valid_netns_name`: non-empty, at most NAME_MAX bytes, no `/`, not `.`/`..`.
pub fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= NAME_MAX
        && !name.contains(&b'/')
        && name != b"."
        && name != b".."
}

/// `/run/netns/NAME` as raw bytes.
pub fn run_path(name: &[u8]) -> Vec<u8> {
    let mut p = Vec::with_capacity(RUN_DIR.len() + 1 + name.len());
    p.extend_from_slice(RUN_DIR.as_bytes());
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

/// Open a namespace file (`/run/netns/NAME`, or a path ip's lookups take) for reading, as ip
/// does, but never blocking: a FIFO planted there would hang a plain open for ever. With
/// O_NONBLOCK a FIFO, like any file that holds no namespace, opens and then fails where ip's
/// would (setns or NSID lookups say "Invalid argument"); O_NOCTTY keeps a terminal planted
/// there from becoming nsctl's. `nofollow`: refuse a symlink in the last component.
pub fn open_ns_file(path: &[u8], nofollow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let follow = if nofollow { libc::O_NOFOLLOW } else { 0 };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC | follow)
        .open(std::ffi::OsStr::from_bytes(path))
}

/// The inode of the namespace bound at `/run/netns/NAME` (what `ls -i` and `ip netns
/// identify` compare): Ok(None) when the name is a file but not a namespace, Err when it
/// cannot be opened (no such name). Symlinks are not followed.
pub fn ns_inode(name: &[u8]) -> std::io::Result<Option<u64>> {
    use std::os::unix::fs::MetadataExt;
    let f = open_ns_file(&run_path(name), true)?;
    let fs = nix::sys::statfs::fstatfs(&f).map_err(std::io::Error::from)?;
    if fs.filesystem_type() != nix::sys::statfs::NSFS_MAGIC {
        return Ok(None);
    }
    Ok(Some(f.metadata()?.ino()))
}

/// The path ip opens for a name in list/set lookups: the name itself when it holds a `/`,
/// otherwise `/run/netns/NAME`.
pub fn lookup_path(name: &[u8]) -> Vec<u8> {
    if name.contains(&b'/') {
        name.to_vec()
    } else {
        run_path(name)
    }
}

/// The names in /run/netns for `-all delete` and `-all exec`, in readdir order. A missing
/// directory is an empty list; any other error is reported as ip does and gives Err.
/// Whether `/run/netns` is a symlink. ip follows one; nsctl refuses to act through it (the
/// run directory must be a directory: a link would take deletes and binds elsewhere).
pub fn run_dir_is_link() -> bool {
    std::fs::symlink_metadata(RUN_DIR).is_ok_and(|m| m.file_type().is_symlink())
}

pub fn run_dir_for_all() -> Result<Vec<Vec<u8>>, crate::error::Reported> {
    use std::os::unix::ffi::OsStrExt;
    if run_dir_is_link() {
        crate::output::err(
            format!(
                "Failed to open directory /run/netns: {}\n",
                crate::error::strerror(libc::ELOOP)
            )
            .as_bytes(),
        );
        return Err(crate::error::Reported);
    }
    match std::fs::read_dir(RUN_DIR) {
        Ok(d) => Ok(d
            .flatten()
            .map(|e| e.file_name().as_bytes().to_vec())
            .collect()),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Vec::new()),
        Err(e) => {
            let m = crate::error::strerror(e.raw_os_error().unwrap_or(0));
            crate::output::err(format!("Failed to open directory /run/netns: {m}\n").as_bytes());
            Err(crate::error::Reported)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name(b"ns1"));
        assert!(is_valid_name(b"sp ace"));
        assert!(is_valid_name(b"-dash"));
        assert!(is_valid_name("über".as_bytes()));
        assert!(is_valid_name(b"t\tb"));
        assert!(is_valid_name(b"..."));
        assert!(is_valid_name(&[b'b'; 255]));
        assert!(!is_valid_name(&[b'c'; 256]));
        assert!(!is_valid_name(b""));
        assert!(!is_valid_name(b"."));
        assert!(!is_valid_name(b".."));
        assert!(!is_valid_name(b"a/b"));
        assert!(!is_valid_name(b"../x"));
    }

    #[test]
    fn paths() {
        assert_eq!(run_path(b"x"), b"/run/netns/x");
        assert_eq!(lookup_path(b"x"), b"/run/netns/x");
        assert_eq!(lookup_path(b"/proc/1/ns/net"), b"/proc/1/ns/net");
    }
}
