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

/// Every address of the dumper's namespace, each handed to `f` as it is decoded, with the
/// raw bytes of a label that is not UTF-8 (the async socket's decoder would drop it).
pub fn each(
    d: &super::sync::Dumper,
    mut f: impl FnMut(AddressMessage, super::names::RawNames),
) -> Result<(), Failure> {
    let req = RouteNetlinkMessage::GetAddress(AddressMessage::default());
    d.each(req, |m, raw| {
        if let RouteNetlinkMessage::NewAddress(a) = m {
            f(a, raw)
        }
    })
}
