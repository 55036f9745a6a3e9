//! `ip neigh add|change|replace|del ADDR [lladdr MAC] dev NAME [nud STATE] [router]
//! [proxy ADDR] [protocol P]`: entries of the neighbour (ARP/NDP) table, with ip's keywords,
//! defaults (state PERMANENT), messages and exit codes. `ip neigh show` is in show/neigh.rs.

use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::AddressFamily;

use super::link::lladdr;
use super::prefix::get_addr_of;
use super::{duparg, duparg2, ifindex, invarg, main_sock, next, nodev, rtnames};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::output::{bytes, err};
use crate::parse::{get_unsigned, matches};

use crate::nl::neigh::Op;

/// `nud_state_a2n`: a state's name, or a number that is one NUD bit below 0x100.
pub fn nud_state(w: &[u8]) -> Option<u16> {
    Some(match w {
        _ if matches(w, "permanent") => 0x80,
        _ if matches(w, "reachable") => 0x02,
        b"noarp" => 0x40,
        b"none" => 0x00,
        b"stale" => 0x04,
        b"incomplete" => 0x01,
        b"delay" => 0x08,
        b"probe" => 0x10,
        _ if matches(w, "failed") => 0x20,
        _ => {
            let n = get_unsigned(w)?;
            if n >= 0x100 || n & n.wrapping_sub(1) != 0 {
                return None;
            }
            n as u16
        }
    })
}

/// `ipneigh_modify`.
pub(super) fn modify(ctx: &mut Ctx, args: &[Vec<u8>], op: Op) -> Ret {
    let mut m = NeighbourMessage::default();
    m.header.state = NeighbourState::Permanent;
    let family = ctx.opts.family.map(|f| f == AddressFamily::Inet6);
    let mut flags = 0u8;
    let (mut dev, mut dst, mut lla) = (None::<Vec<u8>>, None, None::<Vec<u8>>);
    let mut dev_ok = false;
    let mut proto = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if matches(w, "lladdr") {
            let v = next(args, &mut i)?;
            if lla.is_some() {
                return Err(duparg("lladdr", v));
            }
            lla = Some(v.to_vec());
        } else if w == b"nud" {
            let v = next(args, &mut i)?;
            match nud_state(v) {
                Some(s) => m.header.state = NeighbourState::from(s),
                None => {
                    err(&bytes(&[
                        b"Error: argument \"",
                        v,
                        b"\" is wrong: nud state is bad\n",
                    ]));
                    return Err(Exit(255));
                }
            }
        } else if matches(w, "proxy") {
            let v = next(args, &mut i)?;
            if matches(v, "help") {
                return super::usage("neighbor");
            }
            if dst.is_some() {
                return Err(duparg("address", v));
            }
            dst = Some(get_addr_of(v, family)?);
            dev_ok = true;
            flags |= 0x08; // NTF_PROXY
        } else if w == b"router" {
            flags |= 0x80; // NTF_ROUTER
        } else if w == b"use" {
            flags |= 0x01; // NTF_USE
        } else if w == b"managed" || matches(w, "extern_learn") {
            return Err(super::unsupported("neigh", w, "."));
        } else if w == b"dev" {
            dev = Some(next(args, &mut i)?.to_vec());
            dev_ok = true;
        } else if matches(w, "protocol") {
            let v = next(args, &mut i)?;
            match rtnames::proto_a2n(v) {
                Some(p) => proto = Some(p),
                None => return Err(invarg("\"protocol\" value is invalid\n", v)),
            }
        } else {
            let mut w = if w == b"to" { next(args, &mut i)? } else { w };
            if matches(w, "help") {
                w = next(args, &mut i)?;
            }
            if dst.is_some() {
                return Err(duparg2("to", w));
            }
            dst = Some(get_addr_of(w, family)?);
        }
        i += 1;
    }
    let (true, Some(dst)) = (dev_ok, dst) else {
        err(b"Device and destination are required arguments.\n");
        return Err(Exit(255));
    };
    m.header.family = if dst.is_ipv6() {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    m.header.flags = NeighbourFlags::from_bits_retain(flags);
    if let Some(p) = proto {
        m.attributes
            .push(NeighbourAttribute::Protocol(RouteProtocol::from(p)));
    }
    m.attributes
        .push(NeighbourAttribute::Destination(match dst {
            std::net::IpAddr::V4(a) => NeighbourAddress::Inet(a),
            std::net::IpAddr::V6(a) => NeighbourAddress::Inet6(a),
        }));
    if let Some(l) = lla.filter(|l| l != b"null") {
        match lladdr(&l) {
            Ok(a) => m.attributes.push(NeighbourAttribute::LinkLayerAddress(a)),
            Err(part) => {
                err(&bytes(&[b"\"", &part, b"\" is invalid lladdr.\n"]));
                return Ok(-1);
            }
        }
    }
    if let Some(d) = &dev {
        match ifindex(ctx, d)? {
            Some(n) => m.header.ifindex = n,
            None => return nodev(d),
        }
    }
    let (nl, sock) = main_sock(ctx)?;
    match crate::nl::neigh::send(nl, sock, m, op) {
        Ok(()) => Ok(0),
        // ip exits with 2 here, which also ends a batch.
        Err(f) => {
            let _ = super::refused(f);
            Err(Exit(2))
        }
    }
}
