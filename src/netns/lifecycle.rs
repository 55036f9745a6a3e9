//! `ip netns add NAME`, `ip netns attach NAME PID` and `ip netns delete NAME`: the syscall
//! sequences, their messages, and the rollback of a half-made name.

use std::ffi::CString;

use nix::mount::MntFlags;
use nix::mount::MsFlags;

use super::{run_path, rundir, sys::Sys};
use crate::error::{errstr, Exit, Reported, Ret};
use crate::output::err_errno;
use nix::errno::Errno;

/// Where the new name's namespace comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A fresh namespace made by `unshare(CLONE_NEWNET)` (`add`).
    New,
    /// The namespace of a running process (`attach`).
    Pid(i32),
}

fn cpath(p: &[u8]) -> CString {
    // Command-line words cannot hold NUL bytes, so neither can paths built from them.
    CString::new(p).expect("paths from argv contain no NUL")
}

/// Create `/run/netns/NAME` bound to a namespace. Returns ip's handler value.
pub fn create(sys: &mut dyn Sys, name: &[u8], source: Source) -> Ret {
    let path = run_path(name);
    let cpath = cpath(&path);
    if !sys.run_dir_ready() {
        if rundir::create(sys).is_err() || rundir::make_shared(sys).is_err() {
            return Ok(-1);
        }
        sys.set_run_dir_ready();
    } else if sys.run_dir_is_link() {
        // Set up once, then replaced by a symlink (mid-batch, mid-lab): not followed.
        crate::eprint_ip!(
            "Cannot open netns runtime directory \"/run/netns\": {}\n",
            errstr(Errno::ELOOP)
        );
        return Ok(-1);
    }
    match sys.create_excl(&cpath) {
        Ok(fd) => sys.close(fd),
        Err(e) => {
            err_errno(&[b"Cannot create namespace file \"", &path, b"\": "], e);
            return Ok(-1);
        }
    }
    match source {
        Source::New => add_new(sys, &path, &cpath),
        Source::Pid(pid) => {
            let proc = format!("/proc/{pid}/ns/net");
            if let Err(e) = bind(sys, &proc, &cpath) {
                err_errno(
                    &[b"Bind ", proc.as_bytes(), b" -> ", &path, b" failed: "],
                    e,
                );
                if let Err(e) = sys.unlink(&cpath) {
                    err_errno(&[b"Cannot remove namespace file \"", &path, b"\": "], e);
                }
                return Ok(-1);
            }
            Ok(0)
        }
    }
}

fn bind(sys: &mut dyn Sys, src: &str, target: &CString) -> Result<(), nix::errno::Errno> {
    let src = CString::new(src).expect("no NUL");
    sys.mount(Some(&src), target, Some(c"none"), MsFlags::MS_BIND)
}

/// This thread's netns file. On the main thread that is /proc/self/ns/net (what ip binds, and
/// a shorter path walk than thread-self, which adds up over a 2,000-line batch); on any other
/// thread /proc/self would name the main thread's namespace, so /proc/thread-self is used.
pub fn own_netns_path() -> &'static std::ffi::CStr {
    if nix::unistd::gettid() == nix::unistd::getpid() {
        c"/proc/self/ns/net"
    } else {
        c"/proc/thread-self/ns/net"
    }
}

/// `add`: unshare a new netns on this thread, bind it, and return to the original one.
fn add_new(sys: &mut dyn Sys, path: &[u8], cpath: &CString) -> Ret {
    let own = own_netns_path();
    let saved = match sys.open_ro(own) {
        Ok(fd) => fd,
        Err(e) => {
            crate::eprint_ip!("Cannot open init namespace: {}\n", errstr(e));
            return Err(Exit(1));
        }
    };
    let made = match sys.unshare_net() {
        Ok(()) => bind(sys, &own.to_string_lossy(), cpath).map_err(|e| {
            err_errno(&[b"Bind /proc/self/ns/net -> ", path, b" failed: "], e);
            Reported
        }),
        Err(e) => {
            let name = &path[super::RUN_DIR.len() + 1..];
            err_errno(
                &[
                    b"Failed to create a new network namespace \"",
                    name,
                    b"\": ",
                ],
                e,
            );
            Err(Reported)
        }
    };
    if let Err(e) = sys.setns_net(saved) {
        crate::eprint_ip!("setns: {}\n", errstr(e));
        return Err(Exit(1));
    }
    sys.close(saved);
    if made.is_err() {
        // Roll back only the name this call created (6.1 with -all deleted every name).
        remove(sys, path);
        return Ok(-1);
    }
    Ok(0)
}

/// `netns_delete` for one name: detach the bind (result ignored), then unlink the file.
/// UMOUNT_NOFOLLOW keeps a symlink planted in /run/netns from unmounting anything elsewhere.
pub fn remove(sys: &mut dyn Sys, path: &[u8]) -> i32 {
    // A /run/netns that is itself a symlink would take the unmount and the unlink into its
    // target (NOFOLLOW covers only the last component).
    if sys.run_dir_is_link() {
        err_errno(
            &[b"Cannot remove namespace file \"", path, b"\": "],
            Errno::ELOOP,
        );
        return -1;
    }
    detach_and_unlink(sys, path)
}

/// [`remove`] once the run directory is known not to be a symlink.
fn detach_and_unlink(sys: &mut dyn Sys, path: &[u8]) -> i32 {
    let c = cpath(path);
    let _ = sys.umount2(&c, MntFlags::MNT_DETACH | MntFlags::UMOUNT_NOFOLLOW);
    if let Err(e) = sys.unlink(&c) {
        err_errno(&[b"Cannot remove namespace file \"", path, b"\": "], e);
        return -1;
    }
    0
}

/// `-all delete`: every entry in readdir order, stopping at the first failure; rc 0 anyway.
pub fn remove_all(sys: &mut dyn Sys) -> Ret {
    let Ok(names) = super::run_dir_for_all() else {
        return Ok(-1);
    };
    // run_dir_for_all refused a symlinked run directory: one check serves every name.
    for name in names {
        if detach_and_unlink(sys, &run_path(&name)) != 0 {
            break;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netns::sys::fake::Recorder;
    use nix::errno::Errno;

    const SHARE: &str = "mount  /run/netns none MS_REC | MS_SHARED";

    #[test]
    fn first_add_order() {
        let mut calls_ok = Recorder::default();
        assert_eq!(create(&mut calls_ok, b"mario", Source::New), Ok(0));
        // Unit tests run on helper threads, so the namespace file is /proc/thread-self's.
        let own = own_netns_path().to_str().unwrap();
        assert_eq!(
            calls_ok.calls,
            vec![
                "mkdir /run/netns 755",
                "open_dir /run/netns",
                "flock 101 EX",
                SHARE,
                "flock 101 UN",
                "close 101",
                "create_excl /run/netns/mario",
                "close 102",
                &format!("open_ro {own}"),
                "unshare NEWNET",
                &format!("mount {own} /run/netns/mario none MS_BIND"),
                "setns 103",
                "close 103",
            ]
        );
    }

    #[test]
    fn not_a_mount_point_gets_self_bind_then_private_then_shared() {
        let mut r = Recorder::failing(SHARE, 0, Errno::EINVAL);
        let res = rundir::make_shared(&mut r);
        // With a permanent EINVAL the second attempt must give up (no endless bind loop).
        assert!(res.is_err());
        assert_eq!(
            r.calls,
            vec![
                "open_dir /run/netns",
                "flock 101 EX",
                "mount  /run/netns none MS_REC | MS_SHARED = EINVAL",
                "mount /run/netns /run/netns none MS_BIND | MS_REC",
                "mount /run/netns /run/netns none MS_REC | MS_PRIVATE",
                "mount  /run/netns none MS_REC | MS_SHARED = EINVAL",
                "flock 101 UN",
                "close 101",
            ]
        );
    }

    #[test]
    fn failed_bind_rolls_back_only_this_name_and_restores_netns() {
        let own = own_netns_path().to_str().unwrap();
        let mut r = Recorder::failing(&format!("mount {own}"), 0, Errno::EPERM);
        assert_eq!(create(&mut r, b"x", Source::New), Ok(-1));
        let tail: Vec<_> = r.calls[r.calls.len() - 5..].to_vec();
        assert_eq!(
            tail,
            vec![
                &format!("mount {own} /run/netns/x none MS_BIND = EPERM"),
                "setns 103",
                "close 103",
                "umount2 /run/netns/x MNT_DETACH | UMOUNT_NOFOLLOW",
                "unlink /run/netns/x",
            ]
        );
    }

    #[test]
    fn a_symlinked_run_dir_is_not_followed() {
        let mut r = Recorder::linked();
        crate::output::take_captured();
        assert_eq!(remove(&mut r, b"/run/netns/x"), -1);
        assert_eq!(create(&mut r, b"y", Source::New), Ok(-1));
        assert!(r.calls.is_empty(), "{:?}", r.calls);
        assert_eq!(
            crate::output::take_captured().1,
            b"Cannot remove namespace file \"/run/netns/x\": Too many levels of symbolic links\n\
              Cannot open netns runtime directory \"/run/netns\": Too many levels of symbolic links\n"
        );
    }

    #[test]
    fn failed_unshare_restores_and_removes() {
        let mut r = Recorder::failing("unshare", 0, Errno::ENOMEM);
        crate::output::take_captured();
        assert_eq!(create(&mut r, b"x", Source::New), Ok(-1));
        assert_eq!(
            crate::output::take_captured().1,
            b"Failed to create a new network namespace \"x\": Cannot allocate memory\n"
        );
        assert!(r.calls.iter().any(|c| c == "setns 103"));
        assert_eq!(r.calls.last().unwrap(), "unlink /run/netns/x");
        assert!(!r.calls.iter().any(|c| c.starts_with("mount /proc")));
    }

    #[test]
    fn duplicate_name_creates_nothing_and_removes_nothing() {
        let mut r = Recorder::failing("create_excl", 0, Errno::EEXIST);
        crate::output::take_captured();
        assert_eq!(create(&mut r, b"x", Source::New), Ok(-1));
        assert_eq!(
            crate::output::take_captured().1,
            b"Cannot create namespace file \"/run/netns/x\": File exists\n"
        );
        assert!(r
            .calls
            .last()
            .unwrap()
            .starts_with("create_excl /run/netns/x = EEXIST"));
        assert!(!r
            .calls
            .iter()
            .any(|c| c.starts_with("unlink") || c.starts_with("unshare")));
    }

    #[test]
    fn attach_binds_proc_pid_and_unlinks_on_failure() {
        let mut r = Recorder::failing("mount /proc/999999", 0, Errno::ENOENT);
        assert_eq!(create(&mut r, b"at1", Source::Pid(999999)), Ok(-1));
        assert_eq!(r.calls.last().unwrap(), "unlink /run/netns/at1");
        assert!(!r
            .calls
            .iter()
            .any(|c| c.starts_with("unshare") || c.starts_with("umount")));
    }

    #[test]
    fn mkdir_failure_stops_before_any_mount() {
        let mut r = Recorder::failing("mkdir", 0, Errno::EACCES);
        assert_eq!(create(&mut r, b"x", Source::New), Ok(-1));
        assert_eq!(r.calls.len(), 1);
    }

    #[test]
    fn flock_failure_is_only_a_warning() {
        let mut r = Recorder::failing("flock", 0, Errno::ENOLCK);
        assert_eq!(create(&mut r, b"x", Source::New), Ok(0));
        assert!(!r.calls.iter().any(|c| c == "flock 101 UN"));
    }

    #[test]
    fn delete_detaches_then_unlinks() {
        let mut r = Recorder::default();
        assert_eq!(remove(&mut r, b"/run/netns/x"), 0);
        assert_eq!(
            r.calls,
            vec![
                "umount2 /run/netns/x MNT_DETACH | UMOUNT_NOFOLLOW",
                "unlink /run/netns/x"
            ]
        );
        let mut r = Recorder::failing("unlink", 0, Errno::EBUSY);
        assert_eq!(remove(&mut r, b"/run/netns/x"), -1);
    }
}

#[cfg(test)]
mod thread_tests {
    #[test]
    fn helper_threads_use_thread_self() {
        assert_eq!(
            std::thread::spawn(super::own_netns_path).join().unwrap(),
            c"/proc/thread-self/ns/net"
        );
    }
}
