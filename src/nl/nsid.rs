//! RTM_GETNSID / RTM_NEWNSID: the peer ids behind `ip netns list`, `set` and `list-id`.

use std::os::fd::RawFd;

use netlink_packet_core::{NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::nsid::{NsidAttribute, NsidMessage};
use netlink_packet_route::RouteNetlinkMessage;

use super::{Failure, Netlink, NlError, Socket};

/// One RTM_NEWNSID record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// NETNSA_NSID: -1 when unassigned.
    pub nsid: i32,
    /// NETNSA_CURRENT_NSID, present when a target nsid was given.
    pub current: Option<i32>,
}

fn msg(attrs: Vec<NsidAttribute>) -> NsidMessage {
    let mut m = NsidMessage::default();
    m.attributes = attrs;
    m
}

fn record(m: &RouteNetlinkMessage) -> Option<Record> {
    let RouteNetlinkMessage::NewNsId(m) = m else {
        return None;
    };
    let mut r = Record {
        nsid: -1,
        current: None,
    };
    for a in &m.attributes {
        match a {
            NsidAttribute::Id(v) => r.nsid = *v,
            NsidAttribute::CurrentNsid(v) => r.current = Some(*v),
            _ => {}
        }
    }
    Some(r)
}

fn kernel(f: Failure) -> NlError {
    match f {
        Failure::Kernel(e) => e,
        Failure::Send => NlError {
            errno: libc::ECOMM,
            msg: None,
        },
    }
}

/// The nsid this netns has for the namespace behind `fd` (-1 when none is assigned).
pub fn of_fd(nl: &Netlink, sock: &Socket, fd: RawFd) -> Result<i32, NlError> {
    let m = RouteNetlinkMessage::GetNsId(msg(vec![NsidAttribute::Fd(fd as u32)]));
    let answer = nl.request(sock, m, NLM_F_REQUEST).map_err(kernel)?;
    Ok(answer.iter().find_map(record).map(|r| r.nsid).unwrap_or(-1))
}

/// Assign `id` (-1: the kernel picks) to the namespace behind `fd`.
pub fn assign(nl: &Netlink, sock: &Socket, fd: RawFd, id: i32) -> Result<(), NlError> {
    let m = RouteNetlinkMessage::NewNsId(msg(vec![
        NsidAttribute::Fd(fd as u32),
        NsidAttribute::Id(id),
    ]));
    nl.request(sock, m, NLM_F_REQUEST | NLM_F_ACK)
        .map_err(kernel)
        .map(drop)
}

/// Look up one peer by its nsid, optionally as seen from the peer `target`.
pub fn by_id(
    nl: &Netlink,
    sock: &Socket,
    nsid: i32,
    target: Option<i32>,
) -> Result<Vec<Record>, NlError> {
    let mut attrs = vec![NsidAttribute::Id(nsid)];
    if let Some(t) = target {
        attrs.push(NsidAttribute::TargetNsid(t));
    }
    let m = RouteNetlinkMessage::GetNsId(msg(attrs));
    let answer = nl.request(sock, m, NLM_F_REQUEST).map_err(kernel)?;
    Ok(answer.iter().filter_map(record).collect())
}

/// Dump every peer, in kernel order.
pub fn dump(nl: &Netlink, sock: &Socket, target: Option<i32>) -> Result<Vec<Record>, Failure> {
    let attrs = target
        .map(|t| vec![NsidAttribute::TargetNsid(t)])
        .unwrap_or_default();
    let m = RouteNetlinkMessage::GetNsId(msg(attrs));
    let answer = nl.request(sock, m, NLM_F_REQUEST | NLM_F_DUMP)?;
    Ok(answer.iter().filter_map(record).collect())
}
