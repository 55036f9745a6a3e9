//! The `nsctl` binary: argv as raw bytes in, ip-compatible exit status out.

use std::os::unix::ffi::OsStringExt;

fn main() {
    // Rust ignores SIGPIPE by default; ip does not, and `exec`'d commands would inherit the
    // ignored disposition (`nsctl exec x yes | head` would never end). Restore the default.
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args: Vec<Vec<u8>> = std::env::args_os().skip(1).map(|a| a.into_vec()).collect();
    std::process::exit(nsctl::cli::main(args));
}
