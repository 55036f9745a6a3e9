//! RTM_{NEW,DEL,GET}ADDR: the messages behind `ip addr add/del/show`.

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST};
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::RouteNetlinkMessage;

use super::{Failure, Netlink, Socket};

pub fn add(nl: &Netlink, sock: &Socket, msg: AddressMessage) -> Result<(), Failure> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    nl.request(sock, RouteNetlinkMessage::NewAddress(msg), flags)
        .map(drop)
}

/// Add, or replace what is there (NLM_F_CREATE|NLM_F_REPLACE, as `ip ... replace`): the way
/// labs converge, so an object changed by hand is put right instead of refused with EEXIST.
pub fn replace(nl: &Netlink, sock: &Socket, msg: AddressMessage) -> Result<(), Failure> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
    nl.request(sock, RouteNetlinkMessage::NewAddress(msg), flags)
        .map(drop)
}

pub fn delete(nl: &Netlink, sock: &Socket, msg: AddressMessage) -> Result<(), Failure> {
    nl.request(
        sock,
        RouteNetlinkMessage::DelAddress(msg),
        NLM_F_REQUEST | NLM_F_ACK,
    )
    .map(drop)
}

/// Every address of the dumper's namespace, with the raw bytes of labels that are not UTF-8
/// (the async socket's decoder would drop those addresses).
pub fn dump_raw(
    d: &super::sync::Dumper,
) -> Result<Vec<(AddressMessage, super::names::RawNames)>, Failure> {
    Ok(
        d.dump_raw(RouteNetlinkMessage::GetAddress(AddressMessage::default()))?
            .into_iter()
            .filter_map(|(m, raw)| match m {
                RouteNetlinkMessage::NewAddress(a) => Some((a, raw)),
                _ => None,
            })
            .collect(),
    )
}
