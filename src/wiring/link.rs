//! `ip link add|set|del|show`: create, change and remove links, in ip's grammar.
//!
//! Equivalent to: `ip link add veth0 type veth peer name eth0 netns mario`. The veth peer is
//! born inside its namespace (IFLA_NET_NS_FD in the peer's own message), so its name never
//! meets the host's links, and the pair is created or refused as one.

use std::os::fd::AsRawFd;

use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};

use super::{
    duparg, duparg2, ifindex, invarg, main_sock, netns_ref, next, nodev, text, valid_ifname,
    NetnsRef,
};
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::output::{bytes, err};
use crate::parse::{get_integer, matches};

/// Keywords ip accepts that nsctl does not implement: refused with a clear message instead
/// of being taken for a device name.
const UNSUPPORTED: &[&str] = &[
    "index",
    "broadcast",
    "brd",
    "txqueuelen",
    "qlen",
    "txqlen",
    "xdp",
    "xdpgeneric",
    "xdpdrv",
    "xdpoffload",
    "multicast",
    "allmulticast",
    "promisc",
    "trailers",
    "arp",
    "carrier",
    "vf",
    "vrf",
    "dynamic",
    "alias",
    "group",
    "mode",
    "state",
    "numtxqueues",
    "numrxqueues",
    "addrgenmode",
    "link-netns",
    "link-netnsid",
    "protodown",
    "protodown_reason",
    "gso_max_size",
    "gso_max_segs",
    "gro_max_size",
    "alias",
];

/// What one `ip link` argument list asks for (iproute2's `iplink_parse`).
#[derive(Default)]
pub struct Spec {
    pub up: Option<bool>,
    pub name: Option<Vec<u8>>,
    pub dev: Option<Vec<u8>>,
    pub address: Option<Vec<u8>>,
    pub mtu: Option<u32>,
    pub netns: Option<NetnsRef>,
    /// Some(0) is `nomaster`.
    pub master: Option<u32>,
    pub kind: Option<Vec<u8>>,
    /// `link DEV`: the lower device of a macvlan (resolved by `add` only, as ip does).
    pub link: Option<Vec<u8>>,
    /// The words after `type KIND`.
    pub type_args: Vec<Vec<u8>>,
}

/// C's `sscanf("%x")` on one part: optional space, sign and `0x`, then hex digits as far as
/// they go (the rest of the part is ignored, as in C).
fn scan_hex(part: &[u8]) -> Option<i64> {
    let mut p = part.trim_ascii_start();
    let neg = match p.first() {
        Some(b'-') => {
            p = &p[1..];
            true
        }
        Some(b'+') => {
            p = &p[1..];
            false
        }
        _ => false,
    };
    if p.len() > 2 && (p.starts_with(b"0x") || p.starts_with(b"0X")) && p[2].is_ascii_hexdigit() {
        p = &p[2..];
    }
    let digits = p.iter().take_while(|c| c.is_ascii_hexdigit()).count();
    if digits == 0 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in &p[..digits] {
        v = (v << 4 | i64::from((c as char).to_digit(16)?)) & 0xffff_ffff;
    }
    // %x stores into an int: the low 32 bits, as a signed value.
    let v = v as u32 as i32 as i64;
    Some(if neg { -v } else { v })
}

/// ip's `ll_addr_a2n`: an IPv4 address (4 bytes) when the word holds a `.`, else hex bytes
/// separated by `:`. On a bad part, ip's message names that part: `"zz" is invalid lladdr.`
/// and Err carries it.
pub fn lladdr(word: &[u8]) -> Result<Vec<u8>, Vec<u8>> {
    if word.contains(&b'.') {
        return match std::str::from_utf8(word)
            .ok()
            .and_then(super::prefix::parse_ip)
        {
            Some(std::net::IpAddr::V4(a)) => Ok(a.octets().to_vec()),
            _ => Err(word.to_vec()),
        };
    }
    let mut out = Vec::new();
    // MAX_ADDR_LEN: ip reads at most 32 bytes.
    for part in word.split(|&c| c == b':').take(32) {
        match scan_hex(part) {
            Some(v @ 0..=255) => out.push(v as u8),
            _ => return Err(part.to_vec()),
        }
    }
    Ok(out)
}

/// [`lladdr`], quietly.
pub fn parse_lladdr(word: &[u8]) -> Option<Vec<u8>> {
    lladdr(word).ok()
}

/// Parse ip link arguments. `create`: for `add` (and a veth peer).
pub fn parse(ctx: &mut Ctx, args: &[Vec<u8>], create: bool) -> Result<Result<Spec, i32>, Exit> {
    let mut s = Spec::default();
    // ip compares the name and dev pointers: true while dev came from `name`.
    let mut same = false;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"up" {
            s.up = Some(true);
        } else if w == b"down" {
            s.up = Some(false);
        } else if w == b"name" {
            let v = next(args, &mut i)?;
            if s.name.is_some() {
                return Err(duparg("name", v));
            }
            if !valid_ifname(v) {
                return Err(invarg("\"name\" not a valid ifname", v));
            }
            s.name = Some(v.to_vec());
            if s.dev.is_none() {
                s.dev = Some(v.to_vec());
                same = true;
            }
        } else if matches(w, "link") {
            // Any prefix (`l`, `li`), as in ip; the last one wins.
            s.link = Some(next(args, &mut i)?.to_vec());
        } else if matches(w, "address") {
            let v = next(args, &mut i)?;
            match lladdr(v) {
                Ok(a) => s.address = Some(a),
                Err(part) => {
                    err(&bytes(&[b"\"", &part, b"\" is invalid lladdr.\n"]));
                    return Ok(Err(-1));
                }
            }
        } else if w == b"mtu" {
            let v = next(args, &mut i)?;
            if s.mtu.is_some() {
                return Err(duparg("mtu", v));
            }
            // ip reads an int and sends it as it is: -1 goes to the kernel as 4294967295,
            // which refuses it ("mtu less than device minimum").
            match get_integer(v) {
                Some(m) => s.mtu = Some(m as u32),
                None => return Err(invarg("Invalid \"mtu\" value\n", v)),
            }
        } else if w == b"netns" {
            let v = next(args, &mut i)?;
            if s.netns.is_some() {
                return Err(duparg("netns", v));
            }
            match netns_ref(v) {
                Some(r) => s.netns = Some(r),
                None => return Err(invarg("Invalid \"netns\" value\n", v)),
            }
        } else if matches(w, "master") {
            let v = next(args, &mut i)?;
            match ifindex(ctx, v)? {
                Some(idx) => s.master = Some(idx),
                None => return Err(invarg("Device does not exist\n", v)),
            }
        } else if matches(w, "nomaster") {
            s.master = Some(0);
        } else if matches(w, "type") {
            let v = next(args, &mut i)?;
            s.kind = Some(v.to_vec());
            s.type_args = args[i + 1..].to_vec();
            break;
        } else if UNSUPPORTED.iter().any(|k| w == k.as_bytes()) {
            return Err(super::unsupported("link", w, "; try \"nsctl link help\"."));
        } else {
            if matches(w, "help") {
                return Err(super::usage("link").unwrap_err());
            }
            let v = if w == b"dev" { next(args, &mut i)? } else { w };
            if s.dev.is_some() && !same {
                return Err(duparg2("dev", v));
            }
            if v.is_empty()
                || v.len() >= 128
                || v.iter().any(|&c| c == b'/' || c.is_ascii_whitespace())
            {
                return Err(invarg("\"dev\" not a valid ifname", v));
            }
            s.dev = Some(v.to_vec());
            same = false;
        }
        i += 1;
    }
    // ip: a lone name or dev is both; equal strings are one.
    if s.name.is_none() {
        s.name = s.dev.clone();
        same = true;
    } else if s.dev.is_none() || s.name == s.dev {
        s.dev = s.name.clone();
        same = true;
    }
    if create && !same {
        err(b"both \"name\" and \"dev\" cannot be used when creating devices.\n");
        return Err(Exit(255));
    }
    if !create && same {
        // `set dev X` (or `set name X`) names the device; it is not a rename.
        s.name = None;
    }
    Ok(Ok(s))
}

fn base_message(s: &Spec) -> LinkMessage {
    let mut m = LinkMessage::default();
    if let Some(up) = s.up {
        m.header.change_mask = LinkFlags::Up;
        if up {
            m.header.flags = LinkFlags::Up;
        }
    }
    if let Some(a) = &s.address {
        m.attributes.push(LinkAttribute::Address(a.clone()));
    }
    if let Some(mtu) = s.mtu {
        m.attributes.push(LinkAttribute::Mtu(mtu));
    }
    match &s.netns {
        Some(NetnsRef::Fd(fd)) => m.attributes.push(LinkAttribute::NetNsFd(fd.as_raw_fd())),
        Some(NetnsRef::Pid(p)) => m.attributes.push(LinkAttribute::NetNsPid(*p)),
        None => {}
    }
    if let Some(master) = s.master {
        m.attributes.push(LinkAttribute::Controller(master));
    }
    m
}

/// `ip link add`.
pub(super) fn add(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let s = match parse(ctx, args, true)? {
        Ok(s) => s,
        Err(rc) => return Ok(rc),
    };
    let Some(kind) = s.kind.clone() else {
        err(b"Not enough information: \"type\" argument is required\n");
        return Ok(-1);
    };
    let mut m = base_message(&s);
    if let Some(link) = &s.link {
        match ifindex(ctx, link)? {
            Some(n) => m.attributes.push(LinkAttribute::Link(n)),
            None => return nodev(link),
        }
    }
    if let Some(name) = &s.name {
        m.attributes.push(crate::nl::link::ifname_attr(name));
    }
    let kind_s = text(&kind);
    let mut info = vec![LinkInfo::Kind(InfoKind::from(kind_s.as_str()))];
    // Keeps the peer's namespace fd open until the request is sent.
    let mut _peer_spec = None;
    if kind_s == "veth" && !s.type_args.is_empty() {
        if s.type_args[0] != b"peer" {
            return super::usage("link");
        }
        let peer = match parse(ctx, &s.type_args[1..], true)? {
            Ok(p) => p,
            Err(rc) => return Ok(rc),
        };
        if peer.kind.is_some() {
            return Err(duparg("type", b"type"));
        }
        let mut pm = base_message(&peer);
        if let Some(n) = &peer.name {
            pm.attributes.push(crate::nl::link::ifname_attr(n));
        }
        info.push(LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(pm))));
        _peer_spec = Some(peer);
    } else if let Some(parsed) = (!s.type_args.is_empty())
        .then(|| super::kinds::parse(ctx, &kind_s, &s.type_args))
        .flatten()
    {
        match parsed? {
            Ok(data) => info.push(LinkInfo::Data(data)),
            Err(rc) => return Ok(rc),
        }
    } else if let Some(first) = s.type_args.first() {
        if matches(first, "help") {
            return super::usage("link");
        }
        err(&bytes(&[
            b"Garbage instead of arguments \"",
            first,
            b" ...\". Try \"nsctl link help\".\n",
        ]));
        return Ok(-1);
    }
    m.attributes.push(LinkAttribute::LinkInfo(info));
    let (nl, sock) = main_sock(ctx)?;
    super::done(crate::nl::link::create(nl, sock, m))
}

/// `ip link set`: every change in one RTM_NEWLINK, as ip sends it.
pub(super) fn set(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let s = match parse(ctx, args, false)? {
        Ok(s) => s,
        Err(rc) => return Ok(rc),
    };
    if s.kind.is_some() {
        err(b"nsctl: \"type\" cannot be changed; delete and add the link instead.\n");
        return Err(Exit(255));
    }
    let Some(dev) = s.dev.clone() else {
        err(b"Not enough information: \"dev\" argument is required.\n");
        return Err(Exit(255));
    };
    let Some(index) = ifindex(ctx, &dev)? else {
        return nodev(&dev);
    };
    // ip checks a new link-layer address against the device's own length first.
    if let Some(a) = &s.address {
        let have = crate::nl::link::by_name_bytes(ctx.dumper()?, &dev)
            .ok()
            .flatten()
            .and_then(|l| {
                l.attributes.into_iter().find_map(|x| match x {
                    LinkAttribute::Address(v) => Some(v.len()),
                    _ => None,
                })
            });
        if let Some(halen) = have.filter(|&h| h != a.len()) {
            err(format!(
                "Invalid address length {} - must be {halen} bytes\n",
                a.len()
            )
            .as_bytes());
            return Ok(-1);
        }
    }
    let mut m = base_message(&s);
    m.header.index = index;
    if let Some(name) = &s.name {
        m.attributes.push(crate::nl::link::ifname_attr(name));
    }
    let (nl, sock) = main_sock(ctx)?;
    super::done(crate::nl::link::change(nl, sock, m))
}

/// `ip link del [dev] NAME`.
pub(super) fn del(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let s = match parse(ctx, args, false)? {
        Ok(s) => s,
        Err(rc) => return Ok(rc),
    };
    let Some(dev) = s.dev.clone() else {
        err(b"Not enough information: \"dev\" argument is required.\n");
        return Err(Exit(255));
    };
    let Some(index) = ifindex(ctx, &dev)? else {
        return nodev(&dev);
    };
    let (nl, sock) = main_sock(ctx)?;
    super::done(crate::nl::link::delete(nl, sock, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lladdr() {
        assert_eq!(
            parse_lladdr(b"02:00:00:00:00:01"),
            Some(vec![2, 0, 0, 0, 0, 1])
        );
        assert_eq!(parse_lladdr(b"2:a:b"), Some(vec![2, 10, 11]));
        assert_eq!(parse_lladdr(b"zz:00"), None);
        assert_eq!(parse_lladdr(b"020:00"), Some(vec![0x20, 0]));
        assert_eq!(super::lladdr(b"00:11:zz"), Err(b"zz".to_vec()));
        assert_eq!(super::lladdr(b"0011"), Ok(vec![0x11]));
        assert_eq!(super::lladdr(b"1g:0x1f"), Ok(vec![1, 0x1f]));
        assert_eq!(super::lladdr(b"-1"), Err(b"-1".to_vec()));
        assert_eq!(super::lladdr(b"10.0.0.1"), Ok(vec![10, 0, 0, 1]));
        assert_eq!(parse_lladdr(b""), None);
    }
}
