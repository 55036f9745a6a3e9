//! The directories nsctl keeps its own state in (/run/nsctl, /run/nsctl/labs, /run/nsctl/ssh)
//! and the files in them: one way in for every one of them, so that none is ever made loose,
//! reached through a symlink, or read when it is not a regular file.
//!
//! A directory is walked from a system directory the caller trusts (`/run`), one component at
//! a time: made with mkdirat when the caller will write there, opened with
//! openat(O_DIRECTORY|O_NOFOLLOW) so that a symlink planted in its place is refused instead of
//! followed, and checked on the open descriptor (fstat): a directory of the caller's that
//! neither group nor others may write. A directory this walk made is given its mode with
//! fchmod, so the umask does not matter. Everything after the walk is relative to the checked
//! descriptor, so a path that changes later cannot move the walk's result elsewhere.
//!
//! A file is looked at (fstatat, no follow) before it is opened: a FIFO, socket, device or
//! directory is refused in one line before any open, read or flock could block on it, and the
//! open itself (O_NOFOLLOW|O_NONBLOCK) is checked again on the descriptor.
//!
//! This module imports nothing from the rest of nsctl: the lab code and anything else with
//! state of its own build on it.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{geteuid, unlinkat, UnlinkatFlags};

/// The mode of a directory only its owner may use.
pub const PRIVATE: u32 = 0o700;

/// What to do with a directory that is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// Leave it missing: the caller only reads (observing never creates state).
    Absent,
    /// Make it with this mode (and every missing directory above it below the base).
    Make(u32),
}

/// A checked directory, open.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: String,
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

fn io(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

/// What a file type is called in a message.
fn kind(st: &FileStat) -> &'static str {
    match SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFREG => "regular file",
        SFlag::S_IFDIR => "directory",
        SFlag::S_IFLNK => "symlink",
        SFlag::S_IFIFO => "FIFO",
        SFlag::S_IFSOCK => "socket",
        SFlag::S_IFCHR => "character device",
        SFlag::S_IFBLK => "block device",
        _ => "file of unknown type",
    }
}

fn is(st: &FileStat, t: SFlag) -> bool {
    st.st_mode & SFlag::S_IFMT.bits() == t.bits()
}

/// Who a message tells the reader to give a directory to.
fn me_name() -> String {
    let me = geteuid();
    if me.is_root() {
        "root".into()
    } else {
        format!("uid {me}")
    }
}

/// Refuse anything but a directory of the caller's that group and others cannot write.
fn check_dir(fd: &OwnedFd, path: &str) -> std::io::Result<()> {
    let st = fstat(fd).map_err(io)?;
    if !is(&st, SFlag::S_IFDIR) {
        return Err(invalid(format!(
            "{path} is a {}, not a directory; remove it and run the command again",
            kind(&st)
        )));
    }
    if st.st_uid != geteuid().as_raw() || st.st_mode & 0o022 != 0 {
        let who = me_name();
        let chown = if who == "root" { "root" } else { "$(id -u)" };
        return Err(invalid(format!(
            "{path} is owned by uid {} with mode {:o}, so others could change what nsctl keeps there; make it {who}'s with mode 0700 (chown {chown} {path}; chmod 700 {path}) or remove it",
            st.st_uid,
            st.st_mode & 0o7777
        )));
    }
    Ok(())
}

/// Why `name` in `dir` could not be opened as a directory (ELOOP, ENOTDIR): what it is.
fn not_a_dir(dir: &OwnedFd, name: &str, path: &str) -> std::io::Error {
    let what = fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map(|st| kind(&st))
        .unwrap_or("file that is not a directory");
    invalid(format!(
        "{path} is a {what}, not a directory; nsctl never follows or replaces one there: remove it (rm {path}) and run the command again"
    ))
}

/// Why a file cannot be one of nsctl's: it is not a regular file.
fn not_a_file(st: &FileStat, path: &str) -> std::io::Error {
    invalid(format!(
        "{path} is a {}, not a file nsctl wrote; nsctl does not open it: remove it (rm {path}) and run the command again",
        kind(st)
    ))
}

const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

impl Dir {
    /// `base/rel`, checked at every component of `rel` (`base` is a system directory the caller
    /// trusts, such as `/run`). None when a component is missing and `missing` is
    /// [`Missing::Absent`]. Errors: the errno of a step (EACCES for a user who may not look),
    /// or a one-line refusal naming the component that is a symlink, not a directory, not the
    /// caller's or writable by others.
    pub fn open(base: &str, rel: &str, missing: Missing) -> std::io::Result<Option<Dir>> {
        let mut fd = nix::fcntl::open(
            base,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(io)?;
        let mut path = base.trim_end_matches('/').to_string();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            path.push('/');
            path.push_str(part);
            let made = match missing {
                Missing::Absent => None,
                Missing::Make(mode) => match mkdirat(&fd, part, Mode::from_bits_truncate(mode)) {
                    Ok(()) => Some(mode),
                    Err(Errno::EEXIST) => None,
                    Err(e) => return Err(io(e)),
                },
            };
            let next = match openat(&fd, part, DIR_FLAGS, Mode::empty()) {
                Ok(f) => f,
                Err(Errno::ENOENT) if missing == Missing::Absent => return Ok(None),
                Err(Errno::ELOOP | Errno::ENOTDIR) => return Err(not_a_dir(&fd, part, &path)),
                Err(e) => return Err(io(e)),
            };
            if let Some(mode) = made {
                // mkdirat applied the umask; the mode is the caller's, whatever the umask.
                fchmod(&next, Mode::from_bits_truncate(mode)).map_err(io)?;
            }
            check_dir(&next, &path)?;
            fd = next;
        }
        Ok(Some(Dir { fd, path }))
    }

    /// The directory's path, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn shown(&self, name: &str) -> String {
        format!("{}/{name}", self.path)
    }

    /// `name` here, if it exists, as a regular file of the caller's that group and others
    /// cannot write; `create` makes it (with that mode) when missing, and opens it for
    /// writing too. A symlink, FIFO, socket, device or directory is refused before it is
    /// opened, so nothing here blocks, and the open descriptor is checked again.
    pub fn open_file(&self, name: &str, create: Option<u32>) -> std::io::Result<Option<File>> {
        let shown = self.shown(name);
        match fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) if !is(&st, SFlag::S_IFREG) => return Err(not_a_file(&st, &shown)),
            Ok(_) => {}
            Err(Errno::ENOENT) if create.is_none() => return Ok(None),
            Err(Errno::ENOENT) => {}
            Err(e) => return Err(io(e)),
        }
        // O_NONBLOCK: should the file be swapped for a FIFO after the look above, the open
        // still returns at once (and the check below refuses it). Reads and locks of a
        // regular file do not heed the flag.
        let mut flags = OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        flags |= match create {
            Some(_) => OFlag::O_RDWR | OFlag::O_CREAT,
            None => OFlag::O_RDONLY,
        };
        let mode = Mode::from_bits_truncate(create.unwrap_or(0));
        let fd = match openat(&self.fd, name, flags, mode) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create.is_none() => return Ok(None),
            Err(Errno::ELOOP) => {
                return Err(invalid(format!(
                    "{shown} is a symlink, not a file nsctl wrote; nsctl does not follow it: remove it (rm {shown}) and run the command again"
                )))
            }
            Err(e) => return Err(io(e)),
        };
        let st = fstat(&fd).map_err(io)?;
        if !is(&st, SFlag::S_IFREG) {
            return Err(not_a_file(&st, &shown));
        }
        if st.st_uid != geteuid().as_raw() || st.st_mode & 0o022 != 0 {
            return Err(invalid(format!(
                "{shown} is not a file of nsctl's (owner uid {}, mode {:o}); remove it (rm {shown}) and run the command again",
                st.st_uid,
                st.st_mode & 0o7777
            )));
        }
        Ok(Some(File::from(fd)))
    }

    /// Write `name` whole, atomically: a fresh temp file beside it (`NAME.tmp`: O_EXCL,
    /// O_NOFOLLOW, mode 0600) filled by `fill`, fsync'd, and renamed over `name`.
    pub fn write_atomic(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let tmp = std::path::Path::new(name).with_extension("tmp");
        // A temp file left by a killed run (or planted): unlink never follows a symlink.
        self.remove(&tmp)?;
        let fd = openat(
            &self.fd,
            &tmp,
            OFlag::O_WRONLY
                | OFlag::O_CREAT
                | OFlag::O_EXCL
                | OFlag::O_NOFOLLOW
                | OFlag::O_NONBLOCK
                | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        )
        .map_err(io)?;
        let mut w = std::io::BufWriter::with_capacity(64 << 10, File::from(fd));
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        renameat(&self.fd, &tmp, &self.fd, name).map_err(io)
    }

    /// Remove `name` here (a missing one is fine; a directory is not removed).
    pub fn remove<P: ?Sized + nix::NixPath>(&self, name: &P) -> std::io::Result<()> {
        match unlinkat(&self.fd, name, UnlinkatFlags::NoRemoveDir) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    /// The names of the entries here that are UTF-8 (`.` and `..` left out).
    pub fn names(&self) -> std::io::Result<Vec<String>> {
        let d = nix::dir::Dir::openat(&self.fd, ".", DIR_FLAGS, Mode::empty()).map_err(io)?;
        let mut v = Vec::new();
        for e in d {
            let e = e.map_err(io)?;
            if let Ok(n) = e.file_name().to_str() {
                if n != "." && n != ".." {
                    v.push(n.to_string());
                }
            }
        }
        Ok(v)
    }

    /// The descriptor, for calls this type does not wrap.
    pub fn fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// A scratch directory under the system's temp dir, removed at the end.
    struct Scratch(std::path::PathBuf);

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let p = std::env::temp_dir().join(format!("nsctl-fsx-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o700)).unwrap();
            Scratch(p)
        }
        fn s(&self) -> &str {
            self.0.to_str().unwrap()
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn mode(p: &std::path::Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    /// Made 0700 whatever the umask: under umask 777, mkdir alone would make mode 000 (and
    /// `create_dir_all` under umask 000 made 777). The umask is the whole process's, and other
    /// tests run in threads beside this one: the work runs in a child of this test binary
    /// that runs only [`umask_child`].
    #[test]
    fn made_private_whatever_the_umask() {
        let t = Scratch::new("umask");
        let o = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["fsx::tests::umask_child", "--exact", "--test-threads=1"])
            .env("NSCTL_FSX_UMASK_DIR", &t.0)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(o.status.success() && out.contains("1 passed"), "{out}");
        assert_eq!(mode(&t.0.join("a")), 0o700);
        assert_eq!(mode(&t.0.join("a/b")), 0o700);
        // Looking does not make anything.
        assert!(Dir::open(t.s(), "c/d", Missing::Absent).unwrap().is_none());
        assert!(!t.0.join("c").exists());
    }

    /// [`made_private_whatever_the_umask`]'s child (does nothing when run on its own).
    #[test]
    fn umask_child() {
        let Some(dir) = std::env::var_os("NSCTL_FSX_UMASK_DIR") else {
            return;
        };
        nix::sys::stat::umask(Mode::from_bits_truncate(0o777));
        let base = dir.to_str().unwrap();
        let d = Dir::open(base, "a/b", Missing::Make(PRIVATE))
            .unwrap()
            .unwrap();
        assert_eq!(d.path(), format!("{base}/a/b"));
    }

    /// A symlink in place of a directory is refused, and what it points at is not touched.
    #[test]
    fn a_symlink_is_refused_and_its_target_untouched() {
        let t = Scratch::new("link");
        let target = t.0.join("elsewhere");
        std::fs::create_dir(&target).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(t.0.join("top")).unwrap();
        std::os::unix::fs::symlink(&target, t.0.join("top/ssh")).unwrap();
        for m in [Missing::Absent, Missing::Make(PRIVATE)] {
            let e = Dir::open(t.s(), "top/ssh", m).unwrap_err().to_string();
            assert!(e.contains("top/ssh is a symlink, not a directory"), "{e}");
            assert!(!e.contains('\n'));
        }
        assert_eq!(mode(&target), 0o755);
        assert!(std::fs::read_dir(&target).unwrap().next().is_none());
    }

    #[test]
    fn loose_or_foreign_directories_are_refused() {
        let t = Scratch::new("loose");
        std::fs::create_dir(t.0.join("x")).unwrap();
        std::fs::set_permissions(t.0.join("x"), std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = Dir::open(t.s(), "x", Missing::Make(PRIVATE))
            .unwrap_err()
            .to_string();
        assert!(e.contains("with mode 777"), "{e}");
        std::fs::write(t.0.join("f"), "").unwrap();
        let e = Dir::open(t.s(), "f", Missing::Absent)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a regular file, not a directory"), "{e}");
    }

    /// FIFOs, sockets, directories and symlinks are refused at once, without blocking.
    #[test]
    fn only_regular_files_are_opened() {
        let t = Scratch::new("files");
        let d = Dir::open(t.s(), "", Missing::Absent).unwrap().unwrap();
        nix::unistd::mkfifo(&t.0.join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        let _sock = std::os::unix::net::UnixListener::bind(t.0.join("sock")).unwrap();
        std::fs::create_dir(t.0.join("dir")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", t.0.join("link")).unwrap();
        for (name, what) in [
            ("fifo", "is a FIFO"),
            ("sock", "is a socket"),
            ("dir", "is a directory"),
            ("link", "is a symlink"),
        ] {
            for create in [None, Some(0o600)] {
                let e = d.open_file(name, create).unwrap_err().to_string();
                assert!(e.contains(what), "{name}: {e}");
            }
        }
        assert!(d.open_file("none", None).unwrap().is_none());
        d.write_atomic("j.json", |w| w.write_all(b"{}")).unwrap();
        assert_eq!(mode(&t.0.join("j.json")), 0o600);
        assert!(d.open_file("j.json", None).unwrap().is_some());
        assert!(d.open_file("j.lock", Some(0o600)).unwrap().is_some());
        let mut names = d.names().unwrap();
        names.sort();
        assert_eq!(names, ["dir", "fifo", "j.json", "j.lock", "link", "sock"]);
        d.remove("j.json").unwrap();
        d.remove("j.json").unwrap();
        assert!(d.open_file("j.json", None).unwrap().is_none());
    }
}
