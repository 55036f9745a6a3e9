//! RTM_{NEW,DEL,GET}NEIGH: the messages behind `ip neigh add/change/replace/del/show`.

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NLM_F_REQUEST};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::RouteNetlinkMessage;

use super::{Failure, Netlink, Socket};

/// ip's neighbour verbs that change the table, and their NLM flags (with REQUEST|ACK).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Change,
    Replace,
    Delete,
}

/// A change to the neighbour table, with ip's flags for `op`.
pub fn send(nl: &Netlink, sock: &Socket, msg: NeighbourMessage, op: Op) -> Result<(), Failure> {
    let (m, flags) = match op {
        Op::Add => (
            RouteNetlinkMessage::NewNeighbour(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        ),
        Op::Change => (RouteNetlinkMessage::NewNeighbour(msg), NLM_F_REPLACE),
        Op::Replace => (
            RouteNetlinkMessage::NewNeighbour(msg),
            NLM_F_CREATE | NLM_F_REPLACE,
        ),
        Op::Delete => (RouteNetlinkMessage::DelNeighbour(msg), 0),
    };
    nl.request(sock, m, NLM_F_REQUEST | NLM_F_ACK | flags)
        .map(drop)
}

/// Every neighbour entry of `family` (all with None), or of one device, each handed to `f`.
pub fn each(
    d: &super::sync::Dumper,
    family: Option<netlink_packet_route::AddressFamily>,
    ifindex: Option<u32>,
    mut f: impl FnMut(NeighbourMessage),
) -> Result<(), Failure> {
    use netlink_packet_route::neighbour::NeighbourAttribute;
    let mut req = NeighbourMessage::default();
    if let Some(fam) = family {
        req.header.family = fam;
    }
    if let Some(i) = ifindex {
        req.attributes.push(NeighbourAttribute::IfIndex(i));
    }
    d.each(RouteNetlinkMessage::GetNeighbour(req), |m, _| {
        if let RouteNetlinkMessage::NewNeighbour(n) = m {
            f(n)
        }
    })
}
