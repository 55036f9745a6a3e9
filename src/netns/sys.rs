//! The narrow set of syscalls behind `ip netns add/attach/delete`, behind a trait so the call
//! order and the rollback can be unit-tested without root against a recording fake.

use std::ffi::CStr;
use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::fcntl::{FlockArg, OFlag};
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

/// The syscalls namespace creation and deletion need.
pub trait Sys {
    fn mkdir(&mut self, path: &CStr, mode: u32) -> Result<(), Errno>;
    /// `open(path, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC)`.
    fn open_dir(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    fn flock(&mut self, fd: RawFd, arg: FlockArg) -> Result<(), Errno>;
    fn mount(
        &mut self,
        src: Option<&CStr>,
        target: &CStr,
        fstype: Option<&CStr>,
        flags: MsFlags,
    ) -> Result<(), Errno>;
    fn umount2(&mut self, target: &CStr, flags: MntFlags) -> Result<(), Errno>;
    /// `open(path, O_RDONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0)`: a mode-000 file.
    fn create_excl(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    /// `open(path, O_RDONLY|O_CLOEXEC)` of a namespace file.
    fn open_ro(&mut self, path: &CStr) -> Result<RawFd, Errno>;
    fn unshare_net(&mut self) -> Result<(), Errno>;
    fn setns_net(&mut self, fd: RawFd) -> Result<(), Errno>;
    fn unlink(&mut self, path: &CStr) -> Result<(), Errno>;
    fn close(&mut self, fd: RawFd);
    /// Whether this process has already made /run/netns a shared mount point. Only [`Real`]
    /// remembers it; the fake never does, so every unit test sees the whole sequence.
    fn run_dir_ready(&self) -> bool {
        false
    }
    fn set_run_dir_ready(&mut self) {}
    /// Whether /run/netns is a symlink (checked before every delete, and before each add
    /// after the first, since a directory replaced by a link would be followed).
    fn run_dir_is_link(&mut self) -> bool {
        false
    }
}

/// The real kernel.
pub struct Real;

/// Set once /run/netns is a shared mount point. A batch of 2,000 adds, or a lab, then skips
/// the mkdir, flock and recursive make-shared that each add would repeat: the recursive
/// make-shared walks every namespace bind already under /run/netns, so repeating it makes a
/// batch quadratic. Nothing in nsctl unmounts /run/netns itself.
static RUN_DIR_READY: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Sys for Real {
    fn run_dir_ready(&self) -> bool {
        RUN_DIR_READY.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn set_run_dir_ready(&mut self) {
        RUN_DIR_READY.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn run_dir_is_link(&mut self) -> bool {
        super::run_dir_is_link()
    }

    fn mkdir(&mut self, path: &CStr, mode: u32) -> Result<(), Errno> {
        nix::unistd::mkdir(path, Mode::from_bits_truncate(mode))
    }

    fn open_dir(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        nix::fcntl::open(path, flags, Mode::empty()).map(into_raw)
    }

    fn flock(&mut self, fd: RawFd, arg: FlockArg) -> Result<(), Errno> {
        let op = match arg {
            FlockArg::LockExclusive => libc::LOCK_EX,
            FlockArg::Unlock => libc::LOCK_UN,
            _ => libc::LOCK_SH,
        };
        // SAFETY: flock only reads the fd number; an invalid fd yields EBADF.
        Errno::result(unsafe { libc::flock(fd, op) }).map(drop)
    }

    fn mount(
        &mut self,
        src: Option<&CStr>,
        target: &CStr,
        fstype: Option<&CStr>,
        flags: MsFlags,
    ) -> Result<(), Errno> {
        nix::mount::mount(src, target, fstype, flags, None::<&CStr>)
    }

    fn umount2(&mut self, target: &CStr, flags: MntFlags) -> Result<(), Errno> {
        nix::mount::umount2(target, flags)
    }

    fn create_excl(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        let flags =
            OFlag::O_RDONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        nix::fcntl::open(path, flags, Mode::empty()).map(into_raw)
    }

    fn open_ro(&mut self, path: &CStr) -> Result<RawFd, Errno> {
        nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty()).map(into_raw)
    }

    fn unshare_net(&mut self) -> Result<(), Errno> {
        nix::sched::unshare(CloneFlags::CLONE_NEWNET)
    }

    fn setns_net(&mut self, fd: RawFd) -> Result<(), Errno> {
        // SAFETY: the fd was opened by us and is still open; setns only reads it.
        let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        nix::sched::setns(fd, CloneFlags::CLONE_NEWNET)
    }

    fn unlink(&mut self, path: &CStr) -> Result<(), Errno> {
        nix::unistd::unlink(path)
    }

    fn close(&mut self, fd: RawFd) {
        // SAFETY: the fd came from one of the open calls above and is closed exactly once.
        unsafe { libc::close(fd) };
    }
}

fn into_raw(fd: std::os::fd::OwnedFd) -> RawFd {
    std::os::fd::IntoRawFd::into_raw_fd(fd)
}

/// A recording fake: every call is logged as one line, and any call can be made to fail.
#[cfg(test)]
pub mod fake {
    use super::*;

    #[derive(Default)]
    pub struct Recorder {
        pub calls: Vec<String>,
        /// (call prefix, how many matching calls succeed first, errno)
        pub fail: Vec<(String, usize, Errno)>,
        next_fd: RawFd,
        /// Pretend /run/netns is a symlink (and that the run directory is set up).
        pub link: bool,
    }

    impl Recorder {
        /// A fake whose /run/netns is a symlink.
        pub fn linked() -> Self {
            Recorder {
                link: true,
                ..Default::default()
            }
        }

        pub fn failing(prefix: &str, after: usize, e: Errno) -> Self {
            Recorder {
                fail: vec![(prefix.to_string(), after, e)],
                ..Default::default()
            }
        }

        fn log(&mut self, call: String) -> Result<(), Errno> {
            let mut res = Ok(());
            for (prefix, after, e) in self.fail.iter_mut() {
                if call.starts_with(prefix.as_str()) {
                    if *after == 0 {
                        res = Err(*e);
                    } else {
                        *after -= 1;
                    }
                }
            }
            let line = match res {
                Ok(()) => call,
                Err(e) => format!("{call} = {e:?}"),
            };
            self.calls.push(line);
            res
        }

        fn fd(&mut self) -> RawFd {
            self.next_fd += 1;
            100 + self.next_fd
        }
    }

    fn s(c: &CStr) -> String {
        c.to_string_lossy().into_owned()
    }

    /// `MsFlags(MS_BIND | MS_REC)` -> `MS_BIND | MS_REC`.
    fn bits(dbg: String) -> String {
        match (dbg.find('('), dbg.rfind(')')) {
            (Some(a), Some(b)) if a < b => dbg[a + 1..b].replace('"', ""),
            _ => dbg,
        }
    }

    impl Sys for Recorder {
        fn run_dir_ready(&self) -> bool {
            self.link
        }
        fn run_dir_is_link(&mut self) -> bool {
            self.link
        }
        fn mkdir(&mut self, path: &CStr, mode: u32) -> Result<(), Errno> {
            self.log(format!("mkdir {} {mode:o}", s(path)))
        }
        fn open_dir(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.log(format!("open_dir {}", s(path)))?;
            Ok(self.fd())
        }
        fn flock(&mut self, fd: RawFd, arg: FlockArg) -> Result<(), Errno> {
            let op = if matches!(arg, FlockArg::Unlock) {
                "UN"
            } else {
                "EX"
            };
            self.log(format!("flock {fd} {op}"))
        }
        fn mount(
            &mut self,
            src: Option<&CStr>,
            target: &CStr,
            fstype: Option<&CStr>,
            flags: MsFlags,
        ) -> Result<(), Errno> {
            self.log(format!(
                "mount {} {} {} {}",
                src.map(s).unwrap_or_default(),
                s(target),
                fstype.map(s).unwrap_or_default(),
                bits(format!("{flags:?}"))
            ))
        }
        fn umount2(&mut self, target: &CStr, flags: MntFlags) -> Result<(), Errno> {
            self.log(format!(
                "umount2 {} {}",
                s(target),
                bits(format!("{flags:?}"))
            ))
        }
        fn create_excl(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.log(format!("create_excl {}", s(path)))?;
            Ok(self.fd())
        }
        fn open_ro(&mut self, path: &CStr) -> Result<RawFd, Errno> {
            self.log(format!("open_ro {}", s(path)))?;
            Ok(self.fd())
        }
        fn unshare_net(&mut self) -> Result<(), Errno> {
            self.log("unshare NEWNET".into())
        }
        fn setns_net(&mut self, fd: RawFd) -> Result<(), Errno> {
            self.log(format!("setns {fd}"))
        }
        fn unlink(&mut self, path: &CStr) -> Result<(), Errno> {
            self.log(format!("unlink {}", s(path)))
        }
        fn close(&mut self, fd: RawFd) {
            let _ = self.log(format!("close {fd}"));
        }
    }
}
