//! The only module that talks rtnetlink: sockets on a current-thread tokio runtime, requests
//! and dumps, and kernel errors in iproute2's words (`Error: <extack>.` or
//! `RTNETLINK answers: <strerror>`).

pub mod addr;
pub mod link;
pub mod names;
pub mod neigh;
pub mod nsid;
pub mod qdisc;
pub mod route;
pub mod sync;

use futures::StreamExt;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK_TLVS, NLM_F_CAPPED,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::AsyncSocket;
use tokio::runtime::Runtime;

use crate::output::err;

/// A kernel refusal, with the extended-ack text when the kernel gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NlError {
    pub errno: i32,
    pub msg: Option<String>,
}

impl NlError {
    /// iproute2's wording for a refused request.
    pub fn text(&self) -> String {
        match &self.msg {
            Some(m) if m.ends_with('.') => format!("Error: {m}\n"),
            Some(m) => format!("Error: {m}.\n"),
            None => format!(
                "RTNETLINK answers: {}\n",
                crate::error::strerror(self.errno)
            ),
        }
    }

    pub fn print(&self) {
        err(self.text().as_bytes());
    }
}

/// Why a request did not complete.
#[derive(Debug)]
pub enum Failure {
    /// The kernel answered with an error.
    Kernel(NlError),
    /// The request could not be sent.
    Send,
}

/// One rtnetlink socket, driven by a runtime owned by [`Netlink`].
#[derive(Clone)]
pub struct Socket {
    handle: rtnetlink::Handle,
}

/// An attribute value as a native-endian u32 (None when shorter).
pub fn attr_u32(v: &[u8]) -> Option<u32> {
    v.get(..4)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
}

/// A string attribute's bytes, up to its NUL.
pub fn attr_cstr(v: &[u8]) -> &[u8] {
    v.split(|&b| b == 0).next().unwrap_or_default()
}

/// The runtime and sockets of one nsctl process. The runtime is current-thread only, so every
/// socket stays in the network namespace of the thread that opened it.
pub struct Netlink {
    rt: Runtime,
}

impl Netlink {
    pub fn new() -> std::io::Result<Netlink> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        Ok(Netlink { rt })
    }

    /// Open a socket with extended acks on, and `NETLINK_GET_STRICT_CHK` when asked.
    pub fn open(&self, strict: bool) -> std::io::Result<Socket> {
        let _guard = self.rt.enter();
        let (mut conn, handle, _) = rtnetlink::new_connection()?;
        // Dumps can end in an error carried by NLMSG_DONE; the caller must see it.
        conn.set_forward_done(true);
        let sock = conn.socket_mut().socket_mut();
        sock.set_ext_ack(true)?;
        if strict {
            sock.set_netlink_get_strict_chk(true)?;
        }
        self.rt.spawn(conn);
        Ok(Socket { handle })
    }

    /// Send one request and collect every inner message of the answer. An error (or a dump
    /// that ends in an error) becomes [`Failure::Kernel`].
    pub fn request(
        &self,
        sock: &Socket,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, Failure> {
        let mut handle = sock.handle.clone();
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        nl.finalize();
        self.rt.block_on(async move {
            let mut stream = handle.request(nl).map_err(|_| Failure::Send)?;
            let mut out = Vec::new();
            while let Some(m) = stream.next().await {
                let hflags = m.header.flags;
                match m.payload {
                    NetlinkPayload::InnerMessage(inner) => out.push(inner),
                    NetlinkPayload::Error(e) => {
                        if let Some(code) = e.code {
                            let msg = error_extack(&e.header, hflags);
                            return Err(Failure::Kernel(NlError {
                                errno: -code.get(),
                                msg,
                            }));
                        }
                    }
                    NetlinkPayload::Done(d) if d.code < 0 => {
                        let msg = if hflags & NLM_F_ACK_TLVS != 0 {
                            extack_msg(&d.extended_ack)
                        } else {
                            None
                        };
                        return Err(Failure::Kernel(NlError {
                            errno: -d.code,
                            msg,
                        }));
                    }
                    _ => {}
                }
            }
            Ok(out)
        })
    }
}

/// The extended-ack text of an NLMSG_ERROR payload (after the error code): the echoed request
/// (only its header when NLM_F_CAPPED) followed by TLVs.
fn error_extack(payload: &[u8], flags: u16) -> Option<String> {
    if flags & NLM_F_ACK_TLVS == 0 || payload.len() < 16 {
        return None;
    }
    let echoed = if flags & NLM_F_CAPPED != 0 {
        16
    } else {
        let len = u32::from_ne_bytes(payload[0..4].try_into().ok()?) as usize;
        (len + 3) & !3
    };
    extack_msg(payload.get(echoed..)?)
}

/// Find NLMSGERR_ATTR_MSG (type 1) among netlink TLVs.
fn extack_msg(mut tlvs: &[u8]) -> Option<String> {
    while tlvs.len() >= 4 {
        let len = u16::from_ne_bytes([tlvs[0], tlvs[1]]) as usize;
        let kind = u16::from_ne_bytes([tlvs[2], tlvs[3]]) & 0x3fff;
        if len < 4 || len > tlvs.len() {
            return None;
        }
        if kind == 1 {
            let v = &tlvs[4..len];
            let v = v.split(|&b| b == 0).next().unwrap_or(v);
            return Some(String::from_utf8_lossy(v).into_owned());
        }
        tlvs = &tlvs[((len + 3) & !3).min(tlvs.len())..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tlv(kind: u16, val: &[u8]) -> Vec<u8> {
        let len = 4 + val.len();
        let mut v = (len as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(val);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn extack_after_capped_header() {
        let mut p = vec![0u8; 16];
        p.extend(tlv(2, &[0, 0, 0, 0]));
        p.extend(tlv(1, b"Peer netns reference is invalid\0"));
        let m = error_extack(&p, NLM_F_ACK_TLVS | NLM_F_CAPPED).unwrap();
        assert_eq!(m, "Peer netns reference is invalid");
        let e = NlError {
            errno: 22,
            msg: Some(m),
        };
        assert_eq!(e.text(), "Error: Peer netns reference is invalid.\n");
    }

    #[test]
    fn extack_after_full_echo() {
        let mut p = 24u32.to_ne_bytes().to_vec();
        p.resize(24, 0);
        p.extend(tlv(1, b"The specified nsid is already used.\0"));
        assert_eq!(
            error_extack(&p, NLM_F_ACK_TLVS).as_deref(),
            Some("The specified nsid is already used.")
        );
        assert_eq!(error_extack(&p, 0), None);
    }

    #[test]
    fn no_extack_is_rtnetlink_answers() {
        let e = NlError {
            errno: 1,
            msg: None,
        };
        assert_eq!(e.text(), "RTNETLINK answers: Operation not permitted\n");
    }
}
