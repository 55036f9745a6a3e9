//! Standard output with C stdio's buffering, and unbuffered standard error.
//!
//! iproute2 writes through stdio: stdout is line-buffered on a terminal and block-buffered
//! (4096 bytes) otherwise, stderr is unbuffered. With `2>&1` that decides whether error lines
//! come before or between output lines, so nsctl reproduces it instead of using Rust's
//! always-line-buffered `std::io::stdout`.

use std::cell::RefCell;
use std::io::Write;

const BLOCK: usize = 4096;

struct Stdout {
    buf: Vec<u8>,
    tty: Option<bool>,
}

thread_local! {
    static OUT: RefCell<Stdout> = const { RefCell::new(Stdout { buf: Vec::new(), tty: None }) };
}

#[cfg(test)]
thread_local! {
    /// What unit tests wrote to stdout (1) and stderr (2): kept for the test to read with
    /// [`take_captured`], instead of reaching the terminal as noise.
    static CAPTURED: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The stdout and stderr this thread's test wrote since the last call.
#[cfg(test)]
pub fn take_captured() -> (Vec<u8>, Vec<u8>) {
    CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()))
}

#[cfg(test)]
fn write_fd(fd: i32, data: &[u8]) {
    CAPTURED.with(|c| {
        let mut c = c.borrow_mut();
        if fd == 1 { &mut c.0 } else { &mut c.1 }.extend_from_slice(data);
    });
}

#[cfg(not(test))]
fn write_fd(fd: i32, mut data: &[u8]) {
    // SAFETY: fds 1 and 2 stay open for the life of the process; we only borrow them.
    let fd = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(0) => return,
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => continue,
            // ip ignores short or failed writes to stdout/stderr; so do we.
            Err(_) => return,
        }
    }
}

/// Append bytes to stdout, flushing as stdio would.
pub fn out(data: &[u8]) {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        let tty = *o
            .tty
            .get_or_insert_with(|| nix::unistd::isatty(std::io::stdout()).unwrap_or(false));
        if o.buf.len() + data.len() > BLOCK && !o.buf.is_empty() {
            let buf = std::mem::take(&mut o.buf);
            write_fd(1, &buf);
        }
        o.buf.extend_from_slice(data);
        let flush = o.buf.len() >= BLOCK || (tty && data.contains(&b'\n'));
        if flush {
            let buf = std::mem::take(&mut o.buf);
            write_fd(1, &buf);
        }
    });
}

/// `fflush(stdout)`.
pub fn flush() {
    OUT.with(|o| {
        let buf = std::mem::take(&mut o.borrow_mut().buf);
        if !buf.is_empty() {
            write_fd(1, &buf);
        }
    });
}

/// One unbuffered write of a whole message to stderr.
pub fn err(data: &[u8]) {
    write_fd(2, data);
}

/// `fprintf(stderr, ...)` with a `format!` string; the text must carry its own newline.
#[macro_export]
macro_rules! eprint_ip {
    ($($arg:tt)*) => {
        $crate::output::err(format!($($arg)*).as_bytes())
    };
}

/// `fprintf(stderr, "...%s\n", strerror(e))` with raw bytes in the message: the parts, then
/// the errno's text.
pub fn err_errno(parts: &[&[u8]], e: nix::errno::Errno) {
    let mut m = bytes(parts);
    m.extend_from_slice(crate::error::errstr(e).as_bytes());
    m.push(b'\n');
    err(&m);
}

/// A byte string written into a `Vec`, used to build messages that carry raw names.
pub fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in parts {
        v.write_all(p).expect("writing to a Vec cannot fail");
    }
    v
}
