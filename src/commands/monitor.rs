//! `ip netns monitor`: report names created in and removed from /run/netns.

use std::os::unix::ffi::OsStrExt;

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

use crate::error::{errstr, Ret};
use crate::netns::{rundir, sys::Real};
use crate::output::{err, flush, out};

pub fn monitor() -> Ret {
    let fd = match Inotify::init(InitFlags::IN_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => {
            err(format!("inotify_init failed: {}\n", errstr(e)).as_bytes());
            return Ok(-1);
        }
    };
    if rundir::create(&mut Real).is_err() {
        return Ok(-1);
    }
    if let Err(e) = fd.add_watch(
        crate::netns::RUN_DIR,
        AddWatchFlags::IN_CREATE | AddWatchFlags::IN_DELETE,
    ) {
        err(format!("inotify_add_watch failed: {}\n", errstr(e)).as_bytes());
        return Ok(-1);
    }
    loop {
        let events = match fd.read_events() {
            Ok(ev) => ev,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => {
                err(format!("read failed: {}\n", errstr(e)).as_bytes());
                return Ok(-1);
            }
        };
        for ev in events {
            let Some(name) = ev.name else { continue };
            let verb: &[u8] = if ev.mask.contains(AddWatchFlags::IN_CREATE) {
                b"add "
            } else if ev.mask.contains(AddWatchFlags::IN_DELETE) {
                b"delete "
            } else {
                continue;
            };
            let mut line = verb.to_vec();
            line.extend_from_slice(name.as_bytes());
            line.push(b'\n');
            out(&line);
            // 6.1 leaves these lines in a 4 KiB stdio buffer when stdout is a pipe, so a
            // killed monitor loses them; nsctl flushes each one.
            flush();
        }
    }
}
