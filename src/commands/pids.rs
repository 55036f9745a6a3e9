//! `ip netns pids NAME`: the processes whose network namespace is NAME.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;

use crate::error::{io_errstr, Ret};
use crate::output::{err, out};

pub fn pids(args: &[Vec<u8>]) -> Ret {
    let Some(name) = args.first() else {
        err(b"No netns name specified\n");
        return Ok(-1);
    };
    if args.len() > 1 {
        err(b"extra arguments specified\n");
        return Ok(-1);
    }
    let path = crate::netns::run_path(name);
    let st = match crate::netns::open_ns_file(&path, false) {
        Err(e) => {
            err(format!("Cannot open network namespace: {}\n", io_errstr(&e)).as_bytes());
            return Ok(-1);
        }
        Ok(f) => match f.metadata() {
            Ok(m) => m,
            Err(e) => {
                err(format!("Stat of netns failed: {}\n", io_errstr(&e)).as_bytes());
                return Ok(-1);
            }
        },
    };
    let dir = match std::fs::read_dir("/proc/") {
        Ok(d) => d,
        Err(e) => {
            err(format!("Open of /proc failed: {}\n", io_errstr(&e)).as_bytes());
            return Ok(-1);
        }
    };
    let mut path = Vec::with_capacity(32);
    for e in dir.flatten() {
        let pid = e.file_name();
        let pid = pid.as_bytes();
        if pid.is_empty() || !pid.iter().all(u8::is_ascii_digit) {
            continue;
        }
        path.clear();
        path.extend_from_slice(b"/proc/");
        path.extend_from_slice(pid);
        path.extend_from_slice(b"/ns/net");
        if let Ok(m) = std::fs::metadata(std::ffi::OsStr::from_bytes(&path)) {
            if m.dev() == st.dev() && m.ino() == st.ino() {
                let mut line = pid.to_vec();
                line.push(b'\n');
                out(&line);
            }
        }
    }
    Ok(0)
}
