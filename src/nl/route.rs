//! RTM_{NEW,DEL,GET}ROUTE: the messages behind `ip route add/del/show`.

use netlink_packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{Failure, Netlink, Socket};

pub fn add(nl: &Netlink, sock: &Socket, msg: RouteMessage) -> Result<(), Failure> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    nl.request(sock, RouteNetlinkMessage::NewRoute(msg), flags)
        .map(drop)
}

/// Add, or replace what is there (NLM_F_CREATE|NLM_F_REPLACE, as `ip ... replace`): the way
/// labs converge, so an object changed by hand is put right instead of refused with EEXIST.
pub fn replace(nl: &Netlink, sock: &Socket, msg: RouteMessage) -> Result<(), Failure> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    nl.request(sock, RouteNetlinkMessage::NewRoute(msg), flags)
        .map(drop)
}

pub fn delete(nl: &Netlink, sock: &Socket, msg: RouteMessage) -> Result<(), Failure> {
    nl.request(
        sock,
        RouteNetlinkMessage::DelRoute(msg),
        NLM_F_REQUEST | NLM_F_ACK,
    )
    .map(drop)
}

pub fn dump(
    nl: &Netlink,
    sock: &Socket,
    family: AddressFamily,
) -> Result<Vec<RouteMessage>, Failure> {
    let mut req = RouteMessage::default();
    req.header.address_family = family;
    let answer = nl.request(
        sock,
        RouteNetlinkMessage::GetRoute(req),
        NLM_F_REQUEST | NLM_F_DUMP,
    )?;
    Ok(answer
        .into_iter()
        .filter_map(|m| match m {
            RouteNetlinkMessage::NewRoute(r) => Some(r),
            _ => None,
        })
        .collect())
}
