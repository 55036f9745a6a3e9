//! `ip netns identify [PID]`: the name(s) bound to a process's network namespace.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use crate::error::{io_errstr, Ret};
use crate::output::{bytes, err, out};

pub fn identify(args: &[Vec<u8>]) -> Ret {
    if args.len() > 1 {
        err(b"extra arguments specified\n");
        return Ok(-1);
    }
    // "self" is only the default: an explicit `identify self` is not a pid, as in ip.
    let pid: &[u8] = match args.first() {
        None => b"self",
        Some(p) if p.iter().all(u8::is_ascii_digit) => p,
        Some(p) => {
            err(&bytes(&[b"Specified string '", p, b"' is not a pid\n"]));
            return Ok(-1);
        }
    };
    let path = bytes(&[b"/proc/", pid, b"/ns/net"]);
    let target = match std::fs::File::open(std::ffi::OsStr::from_bytes(&path)) {
        Ok(f) => f,
        Err(e) => {
            err(format!("Cannot open network namespace: {}\n", io_errstr(&e)).as_bytes());
            return Ok(-1);
        }
    };
    let st = match target.metadata() {
        Ok(m) => m,
        Err(e) => {
            err(format!("Stat of netns failed: {}\n", io_errstr(&e)).as_bytes());
            return Ok(-1);
        }
    };
    let mut found: Vec<u8> = Vec::new();
    match std::fs::read_dir(crate::netns::RUN_DIR) {
        Ok(dir) => {
            for e in dir.flatten() {
                let name = e.file_name();
                let p = crate::netns::run_path(name.as_bytes());
                // stat follows symlinks, as ip does; unreadable entries are skipped.
                if let Ok(m) = std::fs::metadata(std::ffi::OsStr::from_bytes(&p)) {
                    if m.dev() == st.dev() && m.ino() == st.ino() {
                        found = name.as_bytes().to_vec(); // the last match wins
                    }
                }
            }
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
        Err(e) => {
            // ip prints no space after the colon here.
            err(format!("Failed to open directory /run/netns:{}\n", io_errstr(&e)).as_bytes());
            return Ok(-1);
        }
    }
    found.push(b'\n');
    out(&found);
    Ok(0)
}
