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
