//! `netns_switch()` of iproute2's lib/namespace.c: enter a named netns on this thread and, for
//! `exec`, give the process a private mount namespace with the netns's own /sys and
//! `/etc/netns/NAME/*` files. Used by `nsctl exec` and (the netns part only) by `nsctl -n`.

use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

use nix::fcntl::OFlag;
use nix::mount::{MntFlags, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;

use super::{run_path, ETC_DIR, NAME_MAX};
use crate::error::{errstr, Reported};
use crate::output::err_errno;

/// Steps 1-2: open `/run/netns/NAME` and setns into it. No name validation, as in ip (`-n`
/// takes paths relative to the run directory); the file is only opened for reading.
pub fn enter_netns(name: &[u8]) -> Result<(), Reported> {
    let path = CString::new(run_path(name)).map_err(|_| Reported)?;
    // The fuzz targets and unit tests drive the option parser with any words: `-n` must not
    // move their thread into whatever namespace a generated path names.
    if cfg!(any(fuzzing, test)) {
        return Ok(());
    }
    let fd = match nix::fcntl::open(
        path.as_c_str(),
        // Never blocking on a FIFO planted there (see netns::open_ns_file).
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(e) => {
            err_errno(&[b"Cannot open network namespace \"", name, b"\": "], e);
            return Err(Reported);
        }
    };
    if let Err(e) = nix::sched::setns(fd.as_fd(), CloneFlags::CLONE_NEWNET) {
        err_errno(
            &[b"setting the network namespace \"", name, b"\" failed: "],
            e,
        );
        return Err(Reported);
    }
    Ok(())
}

/// The whole switch `exec` needs. Each failure of steps 1-6 stops at once, as in ip.
pub fn switch_for_exec(name: &[u8]) -> Result<(), Reported> {
    enter_netns(name)?;
    // A private mount namespace first, so that nothing below reaches the caller's mounts.
    if let Err(e) = nix::sched::unshare(CloneFlags::CLONE_NEWNS) {
        crate::eprint_ip!("unshare failed: {}\n", errstr(e));
        return Err(Reported);
    }
    if let Err(e) = nix::mount::mount(
        Some(c""),
        c"/",
        Some(c"none"),
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&std::ffi::CStr>,
    ) {
        crate::eprint_ip!("\"mount --make-rslave /\" failed: {}\n", errstr(e));
        return Err(Reported);
    }
    // A sysfs that shows this netns's devices. If the old /sys cannot be detached (some
    // containers), lay a read-only one over it when the old one was read-only.
    let mut flags = MsFlags::empty();
    if nix::mount::umount2(c"/sys", MntFlags::MNT_DETACH).is_err() {
        if let Ok(st) = nix::sys::statvfs::statvfs(c"/sys") {
            if st.flags().contains(nix::sys::statvfs::FsFlags::ST_RDONLY) {
                flags |= MsFlags::MS_RDONLY;
            }
        }
    }
    let src = CString::new(name).map_err(|_| Reported)?;
    if let Err(e) = nix::mount::mount(
        Some(src.as_c_str()),
        c"/sys",
        Some(c"sysfs"),
        flags,
        None::<&std::ffi::CStr>,
    ) {
        crate::eprint_ip!("mount of /sys failed: {}\n", errstr(e));
        return Err(Reported);
    }
    bind_etc(name);
    Ok(())
}

/// Bind each `/etc/netns/NAME/E` over `/etc/E`; failures are reported and skipped.
fn bind_etc(name: &[u8]) {
    if name.len() >= NAME_MAX {
        return;
    }
    let mut dir = ETC_DIR.as_bytes().to_vec();
    dir.push(b'/');
    dir.extend_from_slice(name);
    let Ok(entries) = std::fs::read_dir(std::ffi::OsStr::from_bytes(&dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let e = entry.file_name();
        let mut src = dir.clone();
        src.push(b'/');
        src.extend_from_slice(e.as_bytes());
        let mut dst = b"/etc/".to_vec();
        dst.extend_from_slice(e.as_bytes());
        let (Ok(csrc), Ok(cdst)) = (CString::new(src.clone()), CString::new(dst.clone())) else {
            continue;
        };
        if let Err(er) = nix::mount::mount(
            Some(csrc.as_c_str()),
            cdst.as_c_str(),
            Some(c"none"),
            MsFlags::MS_BIND,
            None::<&std::ffi::CStr>,
        ) {
            err_errno(&[b"Bind ", &src, b" -> ", &dst, b" failed: "], er);
        }
    }
}
