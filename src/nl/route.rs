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

/// Any route change as ip sends it: RTM_NEWROUTE (or RTM_DELROUTE) with `flags` besides
/// REQUEST|ACK.
pub fn send(
    nl: &Netlink,
    sock: &Socket,
    msg: RouteMessage,
    delete: bool,
    flags: u16,
) -> Result<(), Failure> {
    let m = if delete {
        RouteNetlinkMessage::DelRoute(msg)
    } else {
        RouteNetlinkMessage::NewRoute(msg)
    };
    nl.request(sock, m, NLM_F_REQUEST | NLM_F_ACK | flags)
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

/// `ip route show`'s dump: the kernel filters by table (RTA_TABLE) and device (RTA_OIF)
/// when the socket checks strictly, as ip's does.
pub fn dump_filtered(
    nl: &Netlink,
    sock: &Socket,
    family: AddressFamily,
    table: Option<u32>,
    oif: Option<u32>,
) -> Result<Vec<RouteMessage>, Failure> {
    use netlink_packet_route::route::RouteAttribute;
    let mut req = RouteMessage::default();
    req.header.address_family = family;
    if let Some(t) = table {
        req.attributes.push(RouteAttribute::Table(t));
    }
    if let Some(o) = oif {
        req.attributes.push(RouteAttribute::Oif(o));
    }
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

/// `ip route get`: one RTM_GETROUTE (REQUEST only) and the route the kernel answers.
pub fn get(
    nl: &Netlink,
    sock: &Socket,
    msg: RouteMessage,
) -> Result<Option<RouteMessage>, Failure> {
    let answer = nl.request(sock, RouteNetlinkMessage::GetRoute(msg), NLM_F_REQUEST)?;
    Ok(answer.into_iter().find_map(|m| match m {
        RouteNetlinkMessage::NewRoute(r) => Some(r),
        _ => None,
    }))
}
