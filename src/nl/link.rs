//! RTM_{NEW,DEL,GET}LINK: the messages behind `ip link add/set/del/show`.

use netlink_packet_core::{NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use super::{Failure, Netlink, Socket};

/// Create a link (NLM_F_CREATE|NLM_F_EXCL): fails with EEXIST instead of changing one.
pub fn create(nl: &Netlink, sock: &Socket, msg: LinkMessage) -> Result<(), Failure> {
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
    nl.request(sock, RouteNetlinkMessage::NewLink(msg), flags)
        .map(drop)
}

/// Change an existing link: everything in `msg` is applied by one RTM_NEWLINK.
pub fn change(nl: &Netlink, sock: &Socket, msg: LinkMessage) -> Result<(), Failure> {
    nl.request(
        sock,
        RouteNetlinkMessage::NewLink(msg),
        NLM_F_REQUEST | NLM_F_ACK,
    )
    .map(drop)
}

pub fn delete(nl: &Netlink, sock: &Socket, index: u32) -> Result<(), Failure> {
    let mut msg = LinkMessage::default();
    msg.header.index = index;
    nl.request(
        sock,
        RouteNetlinkMessage::DelLink(msg),
        NLM_F_REQUEST | NLM_F_ACK,
    )
    .map(drop)
}

/// One link by name (any bytes, sent as they are), or None when the kernel has no such
/// device. On a blocking socket: the answer's names may be any bytes too, which the async
/// socket's decoder cannot read (it drops the answer and the request never ends).
pub fn by_name_bytes(d: &super::sync::Dumper, name: &[u8]) -> Result<Option<LinkMessage>, Failure> {
    let mut msg = LinkMessage::default();
    msg.attributes.push(ifname_attr(name));
    match d.get(RouteNetlinkMessage::GetLink(msg)) {
        Ok(Some((RouteNetlinkMessage::NewLink(l), _))) => Ok(Some(l)),
        Ok(_) => Ok(None),
        Err(Failure::Kernel(e)) if e.errno == libc::ENODEV => Ok(None),
        Err(e) => Err(e),
    }
}

/// The request of a link dump. Without `stats` the kernel is asked to leave the counters
/// out (RTEXT_FILTER_SKIP_STATS): less to build, copy and read for every link. Only in a dump
/// of every family: the inet6 link dump (`-6`) refuses any attribute with EINVAL. `extra`
/// are the kernel's dump filters (IFLA_MASTER, IFLA_LINKINFO{KIND}).
fn dump_request(
    family: Option<netlink_packet_route::AddressFamily>,
    stats: bool,
    extra: Vec<LinkAttribute>,
) -> RouteNetlinkMessage {
    let mut req = LinkMessage::default();
    if let Some(f) = family {
        req.header.interface_family = f;
    }
    if !stats && family.is_none() {
        use netlink_packet_route::link::LinkExtentMask;
        req.attributes
            .push(LinkAttribute::ExtMask(vec![LinkExtentMask::SkipStats]));
    }
    req.attributes.extend(extra);
    RouteNetlinkMessage::GetLink(req)
}

/// A link dump on a blocking socket, each RTM_NEWLINK message handed to `f` undecoded
/// (header included): `show` reads the few attributes it prints and skips the rest, which
/// is most of the bytes; names stay the bytes they are.
pub fn each_bytes(
    d: &super::sync::Dumper,
    family: Option<netlink_packet_route::AddressFamily>,
    stats: bool,
    extra: Vec<LinkAttribute>,
    mut f: impl FnMut(&[u8]),
) -> Result<(), Failure> {
    const RTM_NEWLINK: u16 = 16;
    d.each_bytes(dump_request(family, stats, extra), |m| {
        if m.get(4..6) == Some(&RTM_NEWLINK.to_ne_bytes()[..]) {
            f(m);
        }
        Ok(())
    })
}

/// The name attribute of a link message.
pub fn name_of(l: &LinkMessage) -> Option<&str> {
    l.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(n) => Some(n.as_str()),
        _ => None,
    })
}

/// IFLA_IFNAME carrying the name's bytes as they are. Interface names are bytes to the
/// kernel; one that is not UTF-8 is sent raw (NUL-terminated), never with U+FFFD in place
/// of its bytes, which would name another device.
pub fn ifname_attr(name: &[u8]) -> netlink_packet_route::link::LinkAttribute {
    use netlink_packet_route::link::LinkAttribute;
    match std::str::from_utf8(name) {
        Ok(s) => LinkAttribute::IfName(s.to_string()),
        Err(_) => {
            let mut v = name.to_vec();
            v.push(0);
            // IFLA_IFNAME
            LinkAttribute::Other(netlink_packet_core::DefaultNla::new(3, v))
        }
    }
}
