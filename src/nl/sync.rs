//! Blocking rtnetlink dumps for observing labs: one plain socket per namespace, a request
//! and a read loop, no runtime. A lab's status reads three tables in each of a thousand
//! namespaces; through the async socket each dump costs a runtime round trip (task wake-ups
//! and an epoll wait), which was most of a status's time.

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

use super::names::RawNames;
use super::{Failure, NlError};

/// A blocking rtnetlink socket in the namespace of the thread that opened it.
pub struct Dumper {
    sock: Socket,
    seq: std::cell::Cell<u32>,
}

impl Dumper {
    pub fn open() -> std::io::Result<Dumper> {
        Dumper::open_with(true)
    }

    /// A dumper with `NETLINK_GET_STRICT_CHK` on or off (ip's batch mode has it off).
    pub fn open_with(strict: bool) -> std::io::Result<Dumper> {
        let mut sock = Socket::new(NETLINK_ROUTE)?;
        sock.bind_auto()?;
        if strict {
            sock.set_netlink_get_strict_chk(true)?;
        }
        sock.set_ext_ack(true)?;
        Ok(Dumper {
            sock,
            seq: std::cell::Cell::new(1),
        })
    }

    /// A dump of `req`, each message handed to `f` as soon as it is decoded. A decoded link
    /// message is about fifteen times the size of its bytes, so a caller that keeps only a
    /// few fields of each never holds the whole decoded dump (`show` on a hundred links
    /// would otherwise touch megabytes of fresh heap).
    pub fn each(
        &self,
        req: RouteNetlinkMessage,
        mut f: impl FnMut(RouteNetlinkMessage, RawNames),
    ) -> Result<(), Failure> {
        self.each_bytes(req, |m| decode(m, &mut f))
    }

    /// A dump of `req`, each message handed to `f` undecoded (header included), for a
    /// reader that takes a few attributes and skips the rest.
    pub fn each_bytes(
        &self,
        req: RouteNetlinkMessage,
        mut f: impl FnMut(&[u8]) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let seq = self.send(req, NLM_F_REQUEST | NLM_F_DUMP)?;
        self.until_done(seq, &mut f)
    }

    /// One request answered by one message (`RTM_GETLINK` of a name): that message, decoded
    /// with its names set aside, or None when the kernel only acknowledged. Through the async
    /// socket a reply the decoder cannot read (a name that is not UTF-8) is dropped, and the
    /// request waits for ever.
    pub fn get(
        &self,
        req: RouteNetlinkMessage,
    ) -> Result<Option<(RouteNetlinkMessage, RawNames)>, Failure> {
        let seq = self.send(req, NLM_F_REQUEST)?;
        let mut rx: Vec<u8> = Vec::with_capacity(1 << 16);
        loop {
            let mut got = None;
            let end = walk(self.recv(&mut rx)?, seq, &mut |m| {
                decode(m, &mut |x, raw| got = Some((x, raw)))
            })?;
            if got.is_some() || end {
                return Ok(got);
            }
        }
    }

    /// A request built by hand (`kind`, the message body after the netlink header) that the
    /// kernel acknowledges: Ok, or its error.
    pub fn ack(&self, kind: u16, flags: u16, body: &[u8]) -> Result<(), Failure> {
        const NLM_F_ACK: u16 = 4;
        let seq = self.send_raw(kind, NLM_F_REQUEST | NLM_F_ACK | flags, body)?;
        self.until_done(seq, &mut |_| Ok(()))
    }

    /// Read the answers to request `seq`, each message to `f`, until it is done (NLMSG_DONE
    /// or the ack), or the kernel's error.
    fn until_done(
        &self,
        seq: u32,
        f: &mut impl FnMut(&[u8]) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let mut rx: Vec<u8> = Vec::with_capacity(1 << 16);
        loop {
            if walk(self.recv(&mut rx)?, seq, f)? {
                return Ok(());
            }
        }
    }

    /// A dump of a request built by hand, each answer (header included) handed to `f`.
    pub fn dump_raw(
        &self,
        kind: u16,
        body: &[u8],
        mut f: impl FnMut(&[u8]) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let seq = self.send_raw(kind, NLM_F_REQUEST | NLM_F_DUMP, body)?;
        self.until_done(seq, &mut f)
    }

    fn send_raw(&self, kind: u16, flags: u16, body: &[u8]) -> Result<u32, Failure> {
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let mut buf = Vec::with_capacity(16 + body.len());
        buf.extend_from_slice(&((16 + body.len()) as u32).to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(body);
        self.sock.send(&buf, 0).map_err(errno)?;
        Ok(seq)
    }

    /// Send `req` with `flags`; its sequence number.
    fn send(&self, req: RouteNetlinkMessage, flags: u16) -> Result<u32, Failure> {
        let seq = self.seq.get();
        self.seq.set(seq.wrapping_add(1));
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = seq;
        let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(req));
        msg.finalize();
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut buf);
        self.sock.send(&buf, 0).map_err(errno)?;
        Ok(seq)
    }

    /// The next datagram.
    fn recv<'b>(&self, rx: &'b mut Vec<u8>) -> Result<&'b [u8], Failure> {
        rx.clear();
        let n = self.sock.recv(rx, 0).map_err(errno)?;
        Ok(&rx[..n.min(rx.len())])
    }
}

/// A socket error as a Failure.
fn errno(e: std::io::Error) -> Failure {
    Failure::Kernel(NlError {
        errno: e.raw_os_error().unwrap_or(libc::EIO),
        msg: None,
    })
}

/// Decode one whole message, its names that are not UTF-8 set aside first.
fn decode(m: &[u8], f: &mut impl FnMut(RouteNetlinkMessage, RawNames)) -> Result<(), Failure> {
    let cleaned = super::names::clean(m);
    let (parsed, raw) = match &cleaned {
        Some((copy, raw)) => (NetlinkMessage::deserialize(copy), raw.clone()),
        None => (NetlinkMessage::deserialize(m), RawNames::default()),
    };
    let parsed: NetlinkMessage<RouteNetlinkMessage> = parsed.map_err(|_| Failure::Send)?;
    if let NetlinkPayload::InnerMessage(i) = parsed.payload {
        f(i, raw);
    }
    Ok(())
}

/// Decode one datagram of a dump answer: its messages of sequence `seq` go to `out`, each
/// with the raw bytes of its names that were not UTF-8, one at a time. Ok(true) when the
/// dump ended (NLMSG_DONE, or an ack), a Failure when the kernel ended it with an error or
/// the bytes are not netlink messages. Never panics, whatever the bytes.
pub fn frames(
    buf: &[u8],
    seq: u32,
    out: &mut impl FnMut(RouteNetlinkMessage, RawNames),
) -> Result<bool, Failure> {
    walk(buf, seq, &mut |m| decode(m, out))
}

/// Walk one datagram: each whole message of sequence `seq` goes to `f`; Ok(true) when the
/// dump ended (NLMSG_DONE, or an ack), a Failure when the kernel ended it with an error or
/// the bytes are not netlink messages.
pub fn walk(
    buf: &[u8],
    seq: u32,
    f: &mut impl FnMut(&[u8]) -> Result<(), Failure>,
) -> Result<bool, Failure> {
    const NLMSG_NOOP: u16 = 1;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    let u32_at = |b: &[u8], i: usize| b.get(i..).and_then(super::attr_u32);
    let mut at = 0;
    while at < buf.len() {
        let part = &buf[at..];
        let len = u32_at(part, 0).ok_or(Failure::Send)? as usize;
        if len < 16 || len > part.len() {
            return Err(Failure::Send);
        }
        let kind = u16::from_ne_bytes([part[4], part[5]]);
        let mseq = u32_at(part, 8).ok_or(Failure::Send)?;
        at = at.saturating_add((len + 3) & !3);
        if mseq != seq {
            continue;
        }
        let msg = &part[..len];
        // The error code of DONE and ERROR: a negative errno, or 0.
        let code = || u32_at(msg, 16).map_or(0, |c| c as i32);
        match kind {
            NLMSG_NOOP => {}
            NLMSG_DONE | NLMSG_ERROR => {
                let c = code();
                if c < 0 {
                    return Err(Failure::Kernel(NlError {
                        errno: c.saturating_neg(),
                        msg: None,
                    }));
                }
                return Ok(true);
            }
            _ => f(msg)?,
        }
    }
    Ok(false)
}
