//! `/run/netns` setup, shared by `ip netns add`, `attach` and `monitor`: create the directory,
//! then, under an flock, make it a shared mount point so namespace binds propagate.

use std::ffi::CStr;

use nix::errno::Errno;
use nix::fcntl::FlockArg;
use nix::mount::MsFlags;

use super::sys::Sys;
use crate::eprint_ip;
use crate::error::{errstr, Reported};

pub const RUN_DIR_C: &CStr = c"/run/netns";

/// `create_netns_dir()`: `mkdir /run/netns 0755`; an existing directory is fine.
pub fn create(sys: &mut dyn Sys) -> Result<(), Reported> {
    match sys.mkdir(RUN_DIR_C, 0o755) {
        Ok(()) | Err(Errno::EEXIST) => Ok(()),
        Err(e) => {
            eprint_ip!("mkdir /run/netns failed: {}\n", errstr(e));
            Err(Reported)
        }
    }
}

/// Make `/run/netns` a shared mount point, binding it onto itself the first time.
///
/// The flock keeps parallel first-time callers from stacking self-binds (iproute2 5.10's fix
/// for the mount explosion of Debian bug 949235). After the self-bind the directory is made
/// private and then shared again, so it starts a peer group of its own instead of joining
/// `/run`'s (iproute2 7.0's fix for doubled mounts under a shared `/run`).
pub fn make_shared(sys: &mut dyn Sys) -> Result<(), Reported> {
    let lock = match sys.open_dir(RUN_DIR_C) {
        Ok(fd) => fd,
        Err(e) => {
            eprint_ip!(
                "Cannot open netns runtime directory \"/run/netns\": {}\n",
                errstr(e)
            );
            return Err(Reported);
        }
    };
    let locked = match sys.flock(lock, FlockArg::LockExclusive) {
        Ok(()) => true,
        Err(e) => {
            eprint_ip!(
                "Warning: could not flock netns runtime directory \"/run/netns\": {}\n",
                errstr(e)
            );
            false
        }
    };
    let res = share_locked(sys);
    if locked {
        let _ = sys.flock(lock, FlockArg::Unlock);
    }
    sys.close(lock);
    res
}

fn share_locked(sys: &mut dyn Sys) -> Result<(), Reported> {
    let mut bound = false;
    loop {
        match sys.mount(
            Some(c""),
            RUN_DIR_C,
            Some(c"none"),
            MsFlags::MS_SHARED | MsFlags::MS_REC,
        ) {
            Ok(()) => return Ok(()),
            Err(Errno::EINVAL) if !bound => {}
            Err(e) => {
                eprint_ip!("mount --make-shared /run/netns failed: {}\n", errstr(e));
                return Err(Reported);
            }
        }
        // Not a mount point yet: bind it onto itself (recursively, so names already mounted
        // there by other tools stay visible).
        if let Err(e) = sys.mount(
            Some(RUN_DIR_C),
            RUN_DIR_C,
            Some(c"none"),
            MsFlags::MS_BIND | MsFlags::MS_REC,
        ) {
            eprint_ip!("mount --bind /run/netns /run/netns failed: {}\n", errstr(e));
            return Err(Reported);
        }
        if let Err(e) = sys.mount(
            Some(RUN_DIR_C),
            RUN_DIR_C,
            Some(c"none"),
            MsFlags::MS_PRIVATE | MsFlags::MS_REC,
        ) {
            eprint_ip!("mount --make-private /run/netns failed: {}\n", errstr(e));
            return Err(Reported);
        }
        bound = true;
    }
}
