//! The `nsctl` binary: argv as raw bytes in, ip-compatible exit status out.
//!
//! `no_main`: nsctl skips Rust's runtime start-up (stack-guard probing through
//! /proc/self/maps, the SIGSEGV handler, the fd poll). That keeps a single command as cheap
//! as ip's, and leaves SIGPIPE at its default, which `exec`'d commands inherit
//! (`nsctl exec x yes | head` must end).
#![no_main]

use std::ffi::{c_char, c_int, CStr};

/// # Safety
/// Called by the C runtime with the process's `argc`/`argv`.
#[no_mangle]
pub unsafe extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
    // Make sure fds 0-2 exist: if nsctl were started with one closed, the next file it opens
    // (a lab journal, say) would take that number and receive messages meant for stderr.
    for fd in 0..3 {
        // SAFETY: fcntl(F_GETFD) only inspects the descriptor; open returns a new fd or -1,
        // and with 0-2 probed in order the lowest free number is the one that was missing.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
    }
    let args: Vec<Vec<u8>> = (1..argc as isize)
        // SAFETY: the C runtime passes argc valid, NUL-terminated strings in argv.
        .map(|i| {
            unsafe { CStr::from_ptr(*argv.offset(i)) }
                .to_bytes()
                .to_vec()
        })
        .collect();
    nsctl::cli::main(args)
}
