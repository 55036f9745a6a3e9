//! The packets of a reachability check, sent from the calling thread's network namespace:
//! ICMP echoes over a raw socket (what `ping -i 0.2 -w T [-I DEV]` does, stopping at the
//! first answer) and TCP connects with a deadline (what `nc -z -w T` does, with a fresh
//! connect now and then until one is answered), plus the listener a TCP check opens at its
//! target when nothing listens there, and the loop that accepts on it. The caller (test.rs) puts the thread in the right
//! namespace first: a socket belongs to the namespace of the thread that creates it.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    self, sockopt, AddressFamily, MsgFlags, SockFlag, SockProtocol, SockType, SockaddrStorage,
};

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Reached,
    /// Not reached, and why (`no answer in 2 s`, `Connection refused`, ...).
    Unreached(String),
    /// The probe could not be made (no such device, not permitted, ...).
    Error(String),
}

fn errtext(e: Errno) -> String {
    crate::error::errstr(e)
}

/// The time left until `end`, for poll (at least 1 ms while any is left).
fn left(end: Instant) -> Option<PollTimeout> {
    let now = Instant::now();
    if now >= end {
        return None;
    }
    let ms = (end - now).as_millis().clamp(1, i32::MAX as u128) as i32;
    PollTimeout::try_from(ms).ok()
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s} s")
    }
}

/// A non-blocking socket of `dst`'s family, bound to `dev` and `src` when given.
fn open(
    dst: IpAddr,
    ty: SockType,
    proto: Option<SockProtocol>,
    dev: Option<&str>,
    src: Option<IpAddr>,
) -> Result<OwnedFd, String> {
    let fam = if dst.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let fd = socket::socket(
        fam,
        ty,
        SockFlag::SOCK_CLOEXEC | SockFlag::SOCK_NONBLOCK,
        proto,
    )
    .map_err(|e| format!("cannot open a socket: {}", errtext(e)))?;
    if let Some(d) = dev {
        socket::setsockopt(&fd, sockopt::BindToDevice, &std::ffi::OsString::from(d))
            .map_err(|e| format!("cannot bind to device {d}: {}", errtext(e)))?;
    }
    if let Some(s) = src {
        let sa = SockaddrStorage::from(SocketAddr::new(s, 0));
        socket::bind(fd.as_raw_fd(), &sa)
            .map_err(|e| format!("cannot send from {s}: {}", errtext(e)))?;
    }
    Ok(fd)
}

/// The internet checksum (RFC 1071) of an ICMPv4 message.
pub fn checksum(b: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in b.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        sum += w as u32;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request: type, code 0, checksum (ICMPv4 only: the kernel fills ICMPv6's), id,
/// sequence, and a payload naming nsctl.
pub fn echo_request(v4: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut m = vec![if v4 { 8 } else { 128 }, 0, 0, 0];
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(b"nsctl test probe");
    if v4 {
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// What an ICMP message received on the raw socket says about echo `id`: Some(None) for its
/// reply from `dst`, Some(Some(why)) for an error about it, None when it is about something
/// else. An ICMPv4 socket gets the IP header first; an ICMPv6 one does not.
pub fn answer(
    v4: bool,
    pkt: &[u8],
    from: Option<IpAddr>,
    dst: IpAddr,
    id: u16,
) -> Option<Option<String>> {
    let icmp = if v4 {
        let ihl = (*pkt.first()? & 0x0f) as usize * 4;
        pkt.get(ihl..)?
    } else {
        pkt
    };
    let (ty, code) = (*icmp.first()?, *icmp.get(1)?);
    let ours = |m: &[u8]| m.get(4..6) == Some(&id.to_be_bytes()[..]);
    let reply = if v4 { 0 } else { 129 };
    if ty == reply {
        return (ours(icmp) && from == Some(dst)).then_some(None);
    }
    // An error quotes the offending packet: its IP header, then our echo's first 8 bytes.
    let why = match (v4, ty, code) {
        (true, 3, 0) | (false, 1, 0) => "network unreachable",
        (true, 3, 1) | (false, 1, 3) => "host unreachable",
        (true, 3, 3) | (false, 1, 4) => "port unreachable",
        (true, 3, 9 | 10 | 13) | (false, 1, 1) => "administratively prohibited",
        (true, 3, _) | (false, 1, _) => "destination unreachable",
        (true, 11, _) | (false, 3, _) => "time to live exceeded",
        _ => return None,
    };
    let quoted = icmp.get(8..)?;
    let inner = if v4 {
        let ihl = (*quoted.first()? & 0x0f) as usize * 4;
        quoted.get(ihl..)?
    } else {
        quoted.get(40..)?
    };
    let echo = if v4 { 8 } else { 128 };
    (inner.first() == Some(&echo) && ours(inner)).then(|| Some(why.to_string()))
}

/// The gap between a check's echoes, and before its first fresh TCP connect: a lost packet
/// (a loaded machine drops some, in softnet) costs this long, not the check. 200 ms is the
/// shortest interval ping(8) allows a user.
const RETRY: Duration = Duration::from_millis(200);

/// At most this many TCP connects of one check are in flight; after the last, the kernel's
/// own SYN retransmissions on each go on until the deadline.
pub const TCP_TRIES: usize = 6;

/// How long after one echo the next goes: [`RETRY`], or a fifth of a shorter timeout, so that
/// even a 0.1 s check sends five.
fn echo_gap(timeout: Duration) -> Duration {
    RETRY.min(timeout / 5).max(Duration::from_millis(1))
}

/// An echo every [`echo_gap`] until a reply or an error comes back, or `timeout` passes.
/// Only silence is retried: an ICMP error (or a local route's refusal) is the path's answer,
/// and a retry would only delay it. More echoes cannot make a broken path look reachable:
/// only a reply from `dst` to this check's id counts.
pub fn ping(
    dst: IpAddr,
    src: Option<IpAddr>,
    dev: Option<&str>,
    id: u16,
    timeout: Duration,
) -> Outcome {
    let v4 = dst.is_ipv4();
    let proto = if v4 {
        SockProtocol::Icmp
    } else {
        SockProtocol::IcmpV6
    };
    let fd = match open(dst, SockType::Raw, Some(proto), dev, src) {
        Ok(fd) => fd,
        Err(e) => return Outcome::Error(e),
    };
    let to = SockaddrStorage::from(SocketAddr::new(dst, 0));
    let end = Instant::now() + timeout;
    let mut seq: u16 = 0;
    let gap = echo_gap(timeout);
    let mut next_send = Instant::now();
    let mut buf = [0u8; 1500];
    loop {
        if Instant::now() >= next_send {
            seq = seq.wrapping_add(1);
            let m = echo_request(v4, id, seq);
            match socket::sendto(fd.as_raw_fd(), &m, &to, MsgFlags::empty()) {
                Ok(_) => {}
                Err(
                    e @ (Errno::ENETUNREACH | Errno::EHOSTUNREACH | Errno::EACCES | Errno::EPERM),
                ) => return Outcome::Unreached(errtext(e)),
                // A full queue on a loaded machine: this echo is lost, the next may go.
                Err(Errno::EAGAIN | Errno::ENOBUFS | Errno::EINTR) => {}
                Err(e) => return Outcome::Error(format!("cannot send: {}", errtext(e))),
            }
            next_send += gap;
        }
        let until = end.min(next_send);
        let Some(wait) = left(until) else {
            if Instant::now() >= end {
                return Outcome::Unreached(format!("no answer in {}", seconds(timeout)));
            }
            continue;
        };
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, wait) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Outcome::Error(format!("poll: {}", errtext(e))),
        }
        // Drain what came: replies to other checks' echoes are on this socket too.
        loop {
            match socket::recvfrom::<SockaddrStorage>(fd.as_raw_fd(), &mut buf) {
                Ok((n, from)) => {
                    let from = from.and_then(|a| {
                        a.as_sockaddr_in()
                            .map(|s| IpAddr::V4(s.ip()))
                            .or_else(|| a.as_sockaddr_in6().map(|s| IpAddr::V6(s.ip())))
                    });
                    match answer(v4, &buf[..n], from, dst, id) {
                        Some(None) => return Outcome::Reached,
                        Some(Some(why)) => return Outcome::Unreached(why),
                        None => {}
                    }
                }
                Err(Errno::EAGAIN) => break,
                Err(Errno::EINTR) => {}
                // An ICMP error queued on the socket itself (a local route's rejection).
                Err(e @ (Errno::ENETUNREACH | Errno::EHOSTUNREACH)) => {
                    return Outcome::Unreached(errtext(e))
                }
                Err(e) => return Outcome::Error(format!("cannot receive: {}", errtext(e))),
            }
        }
    }
}

/// How a connect began: at once (its result), or under way.
enum Begun {
    Done(Outcome),
    Pending(OwnedFd),
}

/// Start a non-blocking connect to `to` from a fresh socket.
fn begin(dst: IpAddr, to: &SockaddrStorage, src: Option<IpAddr>, dev: Option<&str>) -> Begun {
    let fd = match open(dst, SockType::Stream, None, dev, src) {
        Ok(fd) => fd,
        Err(e) => return Begun::Done(Outcome::Error(e)),
    };
    match socket::connect(fd.as_raw_fd(), to) {
        Ok(()) => Begun::Done(Outcome::Reached),
        Err(Errno::EINPROGRESS) => Begun::Pending(fd),
        Err(e) => Begun::Done(Outcome::Unreached(errtext(e))),
    }
}

/// The result of a connect that poll says is finished.
fn finished(fd: &OwnedFd) -> Outcome {
    match socket::getsockopt(fd, sockopt::SocketError) {
        Ok(0) => Outcome::Reached,
        Ok(e) => Outcome::Unreached(errtext(Errno::from_raw(e))),
        Err(e) => Outcome::Error(format!(
            "cannot read the connection's result: {}",
            errtext(e)
        )),
    }
}

/// A TCP connection to dst:port within `timeout`. A lost SYN or SYN-ACK would otherwise
/// cost the kernel's first retransmission timeout (1 s, half the default check), so a fresh
/// connect starts [`RETRY`] after the first, each later one twice as long after the one
/// before, at most [`TCP_TRIES`] in all; the first to be answered decides. Only silence is
/// retried: a refusal (RST) or an ICMP error is the target's answer, and a retry would only
/// delay it (an accept queue that overflows drops the SYN, it does not refuse it).
pub fn tcp(
    dst: IpAddr,
    port: u16,
    src: Option<IpAddr>,
    dev: Option<&str>,
    timeout: Duration,
) -> Outcome {
    let to = SockaddrStorage::from(SocketAddr::new(dst, port));
    let end = Instant::now() + timeout;
    let mut tries: Vec<OwnedFd> = Vec::new();
    let mut next_try = Instant::now();
    let mut gap = RETRY;
    loop {
        if tries.len() < TCP_TRIES && Instant::now() >= next_try {
            match begin(dst, &to, src, dev) {
                Begun::Pending(fd) => tries.push(fd),
                Begun::Done(o) => match o {
                    // A retry that fails at once (no descriptor or local port left): the
                    // connects under way go on, and they decide.
                    Outcome::Unreached(_) | Outcome::Error(_) if !tries.is_empty() => {
                        next_try = end
                    }
                    o => return o,
                },
            }
            next_try = next_try.max(Instant::now() + gap);
            gap = gap.checked_mul(2).unwrap_or(gap);
        }
        let until = if tries.len() < TCP_TRIES {
            end.min(next_try)
        } else {
            end
        };
        let Some(wait) = left(until) else {
            if Instant::now() >= end {
                return Outcome::Unreached(format!("no answer in {}", seconds(timeout)));
            }
            continue;
        };
        let mut fds: Vec<PollFd> = tries
            .iter()
            .map(|f| PollFd::new(f.as_fd(), PollFlags::POLLOUT))
            .collect();
        match poll(&mut fds, wait) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => {}
            Err(e) => return Outcome::Error(format!("poll: {}", errtext(e))),
        }
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        if let Some((_, fd)) = fds.iter().zip(&tries).find(|(f, _)| ready(f)) {
            return finished(fd);
        }
    }
}

/// A listener on addr:port, or None when something already listens there (it answers the
/// check instead). The kernel completes the handshake by itself, but each connection then
/// waits in the accept queue until accepted: [`serve`] must accept while checks run, or the
/// queue fills and later checks' handshakes go unanswered.
pub fn listen(addr: IpAddr, port: u16) -> Result<Option<OwnedFd>, String> {
    let fd = open(addr, SockType::Stream, None, None, None)?;
    // Linux refuses a second bind next to a listening socket even with SO_REUSEADDR, which
    // lets the listener rebind a port in TIME_WAIT from an earlier run.
    socket::setsockopt(&fd, sockopt::ReuseAddr, &true)
        .map_err(|e| format!("cannot set SO_REUSEADDR: {}", errtext(e)))?;
    let sa = SockaddrStorage::from(SocketAddr::new(addr, port));
    match socket::bind(fd.as_raw_fd(), &sa) {
        Ok(()) => {}
        Err(Errno::EADDRINUSE) => return Ok(None),
        Err(e) => {
            return Err(format!(
                "cannot listen on {}: {}",
                SocketAddr::new(addr, port),
                errtext(e)
            ))
        }
    }
    // The largest queue the kernel allows (net.core.somaxconn caps it): a burst of checks
    // waits there until serve() catches up.
    socket::listen(&fd, socket::Backlog::MAXCONN).map_err(|e| {
        format!(
            "cannot listen on {}: {}",
            SocketAddr::new(addr, port),
            errtext(e)
        )
    })?;
    Ok(Some(fd))
}

/// Why [`accept_all`] stopped short of an empty queue.
#[derive(Debug, PartialEq, Eq)]
enum Drained {
    /// The queue is empty (or the listener is gone): poll again.
    Empty,
    /// Out of descriptors or memory: accepting again at once would fail the same way.
    Starved,
}

/// Accept and close every connection waiting on the non-blocking listener `l`.
fn accept_all(l: BorrowedFd) -> Drained {
    loop {
        match socket::accept4(l.as_raw_fd(), SockFlag::SOCK_CLOEXEC) {
            // SAFETY: accept4 just returned this descriptor, and nothing else owns it; the
            // OwnedFd closes it at once (a FIN: the check has its answer already).
            Ok(c) => drop(unsafe { OwnedFd::from_raw_fd(c) }),
            // A connection that went away while queued, or a signal: take the next one.
            Err(Errno::ECONNABORTED | Errno::EINTR | Errno::EPROTO) => {}
            Err(Errno::EMFILE | Errno::ENFILE | Errno::ENOBUFS | Errno::ENOMEM) => {
                return Drained::Starved
            }
            Err(_) => return Drained::Empty,
        }
    }
}

/// Accept and close what comes to `listeners` until `stop` is readable or closed (its
/// writer dropped). Runs on a thread of its own: a socket answers in the namespace it was
/// made in, whichever thread accepts. A listener that cannot accept for want of
/// descriptors is left out (its queue still holds [`listen`]'s backlog) rather than polled
/// in a busy loop.
pub fn serve(listeners: &[BorrowedFd], stop: BorrowedFd) {
    let mut fds: Vec<PollFd> = listeners
        .iter()
        .map(|l| PollFd::new(*l, PollFlags::POLLIN))
        .collect();
    fds.push(PollFd::new(stop, PollFlags::POLLIN));
    loop {
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return,
        }
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        if fds.last().is_some_and(ready) {
            return;
        }
        for (f, l) in fds.iter_mut().zip(listeners) {
            if ready(f) && accept_all(*l) == Drained::Starved {
                f.set_events(PollFlags::empty());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoes_repeat_within_every_timeout() {
        // The default 2 s sends ten echoes, where one a second sent two.
        assert_eq!(echo_gap(Duration::from_secs(2)), Duration::from_millis(200));
        assert_eq!(
            echo_gap(Duration::from_secs(60)),
            Duration::from_millis(200)
        );
        // The shortest timeout still sends five.
        assert_eq!(
            echo_gap(Duration::from_millis(100)),
            Duration::from_millis(20)
        );
        assert_eq!(echo_gap(Duration::ZERO), Duration::from_millis(1));
    }

    #[test]
    fn echo_requests_are_well_formed() {
        let m = echo_request(true, 0x1234, 7);
        assert_eq!(&m[..8], &[8, 0, m[2], m[3], 0x12, 0x34, 0, 7]);
        // A message with its checksum in place sums to zero.
        assert_eq!(checksum(&m), 0);
        assert_eq!(checksum(&[0x45, 0x00, 0x00, 0x73]), !(0x4500u16 + 0x0073));
        let m6 = echo_request(false, 1, 1);
        assert_eq!(&m6[..4], &[128, 0, 0, 0]);
    }

    #[test]
    fn answers_are_matched_to_their_echo() {
        let dst: IpAddr = "10.0.0.3".parse().unwrap();
        let mut ip = vec![0x45u8; 1];
        ip.extend_from_slice(&[0; 19]);
        let mut reply = ip.clone();
        reply.extend_from_slice(&[0, 0, 0, 0, 0x12, 0x34, 0, 1]);
        assert_eq!(answer(true, &reply, Some(dst), dst, 0x1234), Some(None));
        assert_eq!(answer(true, &reply, Some(dst), dst, 0x9999), None);
        let other: IpAddr = "10.0.0.9".parse().unwrap();
        assert_eq!(answer(true, &reply, Some(other), dst, 0x1234), None);
        // Host unreachable, quoting our echo.
        let mut err = ip.clone();
        err.extend_from_slice(&[3, 1, 0, 0, 0, 0, 0, 0]);
        err.extend_from_slice(&ip);
        err.extend_from_slice(&[8, 0, 0, 0, 0x12, 0x34, 0, 1]);
        assert_eq!(
            answer(true, &err, Some(other), dst, 0x1234),
            Some(Some("host unreachable".into()))
        );
        // Truncated or empty packets are nobody's.
        for n in 0..err.len() - 1 {
            let _ = answer(true, &err[..n], None, dst, 0x1234);
            let _ = answer(false, &err[..n], None, dst, 0x1234);
        }
        let d6: IpAddr = "fd00::1".parse().unwrap();
        assert_eq!(
            answer(false, &[129, 0, 0, 0, 0, 5, 0, 1], Some(d6), d6, 5),
            Some(None)
        );
    }
}
