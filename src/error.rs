//! Errors the way iproute2 prints them: `strerror` text, never Rust's `(os error N)`,
//! and an explicit "exit now" value for the places where ip calls `exit()`.

use std::ffi::CStr;

/// `exit(code)` in iproute2: ends the process (and a whole batch) at once.
///
/// Handlers return `Ok(ret)` for ip's `return ret` (the status becomes `(-ret) & 0xff`)
/// and `Err(Exit(code))` where ip calls `exit(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit(pub i32);

/// What a verb handler returns: ip's handler return value, or an immediate exit.
pub type Ret = Result<i32, Exit>;

/// A failure whose message has already been printed on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reported;

/// Map a handler return value to a process exit status, as `ip` does: `-(ret) & 0xff`.
pub fn status_of(ret: i32) -> i32 {
    (-ret) & 0xff
}

/// The C library's text for an errno value, e.g. `No such file or directory`.
pub fn strerror(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is a valid, writable buffer of the stated length; the XSI
    // `strerror_r` writes a NUL-terminated string into it and touches nothing else.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    CStr::from_bytes_until_nul(&buf)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|_| format!("Unknown error {errno}"))
}

/// `strerror` of an I/O error from std; an error that carries no errno (bad UTF-8, a
/// message of nsctl's own) gives its own text, never "Success".
pub fn io_errstr(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => strerror(n),
        None => e.to_string(),
    }
}

/// `strerror` of a nix errno.
pub fn errstr(e: nix::errno::Errno) -> String {
    strerror(e as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_has_no_rust_suffix() {
        assert_eq!(strerror(libc::ENOENT), "No such file or directory");
        assert_eq!(strerror(libc::EEXIST), "File exists");
        assert_eq!(strerror(libc::EBUSY), "Device or resource busy");
        assert!(!strerror(libc::EPERM).contains("os error"));
    }

    #[test]
    fn exit_status_matches_ip() {
        assert_eq!(status_of(0), 0);
        assert_eq!(status_of(-1), 1);
        assert_eq!(status_of(-2), 2);
        assert_eq!(status_of(1), 255);
    }
}
