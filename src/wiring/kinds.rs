//! The words after `type KIND` in `ip link add`: macvlan (`ip link add m0 link eth0 type
//! macvlan mode bridge`, iproute2's iplink_macvlan.c) and vxlan (`ip link add vx0 type vxlan
//! id 42 dstport 4789 remote 192.0.2.2`, iplink_vxlan.c), with ip's keywords (prefixes in
//! ip's order), messages, exit codes, and attributes in ip's order.

use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoMacVlan, InfoVxlan, MacVlanFlags, MacVlanMode};

use super::prefix::get_addr_of;
use super::{duparg2, ifindex, invarg, next};
use crate::ctx::Ctx;
use crate::error::Exit;
use crate::output::{bytes, err};
use crate::parse::{get_unsigned, matches};

/// What a kind's parser decided: the IFLA_INFO_DATA to send, or ip's return value (the
/// message is printed).
pub type Parsed = Result<Result<InfoData, i32>, Exit>;

const MACVLAN_USAGE: &str =
    "Usage: ... macvlan mode MODE [flag MODE_FLAG] MODE_OPTS [bcqueuelen BC_QUEUE_LEN]\n\
\n\
MODE: private | vepa | bridge | passthru | source\n\
MODE_FLAG: null | nopromisc | nodst\n\
MODE_OPTS: for mode \"source\":\n\
\tmacaddr { { add | del } <macaddr> | set [ <macaddr> [ <macaddr>  ... ] ] | flush }\n\
BC_QUEUE_LEN: Length of the rx queue for broadcast/multicast: [0-4294967295]\n";

const VXLAN_USAGE: &str = "Usage: ... vxlan id VNI\n\
\t\t[ { group | remote } IP_ADDRESS ]\n\
\t\t[ local ADDR ]\n\
\t\t[ ttl TTL ]\n\
\t\t[ tos TOS ]\n\
\t\t[ df DF ]\n\
\t\t[ flowlabel LABEL ]\n\
\t\t[ dev PHYS_DEV ]\n\
\t\t[ dstport PORT ]\n\
\t\t[ srcport MIN MAX ]\n\
\t\t[ [no]learning ]\n\
\t\t[ [no]proxy ]\n\
\t\t[ [no]rsc ]\n\
\t\t[ [no]l2miss ]\n\
\t\t[ [no]l3miss ]\n\
\t\t[ ageing SECONDS ]\n\
\t\t[ maxaddress NUMBER ]\n\
\t\t[ [no]udpcsum ]\n\
\t\t[ [no]udp6zerocsumtx ]\n\
\t\t[ [no]udp6zerocsumrx ]\n\
\t\t[ [no]remcsumtx ] [ [no]remcsumrx ]\n\
\t\t[ [no]external ] [ gbp ] [ gpe ]\n\
\t\t[ [no]vnifilter ]\n\
\n\
Where:\tVNI\t:= 0-16777215\n\
\tADDR\t:= { IP_ADDRESS | any }\n\
\tTOS\t:= { NUMBER | inherit }\n\
\tTTL\t:= { 1..255 | auto | inherit }\n\
\tDF\t:= { unset | set | inherit }\n\
\tLABEL := 0-1048575\n";

/// The options of `kind`, or None for a kind nsctl passes on without options.
pub fn parse(ctx: &mut Ctx, kind: &str, args: &[Vec<u8>]) -> Option<Parsed> {
    match kind {
        "macvlan" | "macvtap" => Some(macvlan(kind, args)),
        "vxlan" => Some(vxlan(ctx, args)),
        _ => None,
    }
}

/// A kind's usage after an error, on stderr; ip's parser then returns -1 (rc 1).
fn explain(usage: &str) -> Result<Result<InfoData, i32>, Exit> {
    err(usage.as_bytes());
    Ok(Err(-1))
}

/// A keyword ip has for this kind that nsctl does not implement (exit 255, nothing sent).
fn unsupported(kind: &str, word: &str) -> Exit {
    let cmd = format!("link {kind}");
    super::unsupported(&cmd, word.as_bytes(), "; try \"nsctl link help\".")
}

/// `macvlan_parse_opt`: mode, flag, nopromisc, nodst, bcqueuelen (macaddr is refused).
fn macvlan(kind: &str, args: &[Vec<u8>]) -> Parsed {
    let usage = MACVLAN_USAGE.replacen("macvlan", kind, 1);
    let mut data = Vec::new();
    let mut mode = None;
    let mut flags: Option<u16> = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if matches(w, "mode") {
            let v = next(args, &mut i)?;
            mode = Some(match v {
                b"private" => MacVlanMode::Private,
                b"vepa" => MacVlanMode::Vepa,
                b"bridge" => MacVlanMode::Bridge,
                b"passthru" => MacVlanMode::Passthrough,
                b"source" => MacVlanMode::Source,
                _ => {
                    err(&bytes(&[
                        b"Error: argument of \"mode\" must be \"private\", \"vepa\", \"bridge\", \
                          \"passthru\" or \"source\", not \"",
                        v,
                        b"\"\n",
                    ]));
                    return Ok(Err(-1));
                }
            });
        } else if matches(w, "flag") {
            let v = next(args, &mut i)?;
            flags = Some(match v {
                b"nopromisc" => 1,
                b"nodst" => 2,
                b"null" => 0,
                _ => {
                    err(&bytes(&[
                        b"Error: argument of \"flag\" must be \"nopromisc\", \"nodst\" or \
                          \"null\", not \"",
                        v,
                        b"\"\n",
                    ]));
                    return Ok(Err(-1));
                }
            });
        } else if matches(w, "macaddr") {
            return Err(unsupported(kind, "macaddr"));
        } else if matches(w, "nopromisc") {
            flags = Some(flags.unwrap_or(0) | 1);
        } else if matches(w, "nodst") {
            flags = Some(flags.unwrap_or(0) | 2);
        } else if matches(w, "bcqueuelen") {
            let v = next(args, &mut i)?;
            match get_unsigned(v) {
                Some(n) => data.push(InfoMacVlan::BcQueueLen(n)),
                None => {
                    err(&bytes(&[
                        b"Error: argument of \"bcqueuelen\" must be a positive integer \
                          [0-4294967295], not \"",
                        v,
                        b"\"\n",
                    ]));
                    return Ok(Err(-1));
                }
            }
        } else if matches(w, "help") {
            return explain(&usage);
        } else {
            err(&bytes(&[
                kind.as_bytes(),
                b": unknown option \"",
                w,
                b"\"?\n",
            ]));
            return explain(&usage);
        }
        i += 1;
    }
    if let Some(m) = mode {
        data.push(InfoMacVlan::Mode(m));
    }
    if let Some(f) = flags {
        if f & 1 != 0 && mode != Some(MacVlanMode::Passthrough) {
            err(format!("{kind}: nopromisc flag only valid in passthru mode\n").as_bytes());
            return explain(&usage);
        }
        data.push(InfoMacVlan::Flags(MacVlanFlags::from_bits_retain(f)));
    }
    Ok(Ok(InfoData::MacVlan(data)))
}

/// What one vxlan keyword does (ip's chain order decides what a prefix means).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Vx {
    Id,
    Group,
    Remote,
    Local,
    Dev,
    Ttl,
    DstPort,
    NoLearning,
    Learning,
    Help,
    /// A keyword of ip's that nsctl does not implement.
    Other,
}

/// `vxlan_parse_opt`'s chain, in its order.
const VXLAN_WORDS: &[(&str, Vx)] = &[
    ("id", Vx::Id),
    ("vni", Vx::Id),
    ("group", Vx::Group),
    ("remote", Vx::Remote),
    ("local", Vx::Local),
    ("dev", Vx::Dev),
    ("ttl", Vx::Ttl),
    ("hoplimit", Vx::Ttl),
    ("tos", Vx::Other),
    ("dsfield", Vx::Other),
    ("df", Vx::Other),
    ("label", Vx::Other),
    ("flowlabel", Vx::Other),
    ("ageing", Vx::Other),
    ("maxaddress", Vx::Other),
    ("port", Vx::Other),
    ("srcport", Vx::Other),
    ("dstport", Vx::DstPort),
    ("nolearning", Vx::NoLearning),
    ("learning", Vx::Learning),
    ("noproxy", Vx::Other),
    ("proxy", Vx::Other),
    ("norsc", Vx::Other),
    ("rsc", Vx::Other),
    ("nol2miss", Vx::Other),
    ("l2miss", Vx::Other),
    ("nol3miss", Vx::Other),
    ("l3miss", Vx::Other),
    ("udpcsum", Vx::Other),
    ("noudpcsum", Vx::Other),
    ("udp6zerocsumtx", Vx::Other),
    ("noudp6zerocsumtx", Vx::Other),
    ("udp6zerocsumrx", Vx::Other),
    ("noudp6zerocsumrx", Vx::Other),
    ("remcsumtx", Vx::Other),
    ("noremcsumtx", Vx::Other),
    ("remcsumrx", Vx::Other),
    ("noremcsumrx", Vx::Other),
    ("external", Vx::Other),
    ("noexternal", Vx::Other),
    ("gbp", Vx::Other),
    ("gpe", Vx::Other),
    ("help", Vx::Help),
];

/// ip's `check_duparg`: a keyword given twice is `duparg2(key, value)`.
fn dup(seen: &mut Vec<&'static str>, key: &'static str, v: &[u8]) -> Result<(), Exit> {
    if seen.contains(&key) {
        return Err(duparg2(key, v));
    }
    seen.push(key);
    Ok(())
}

/// `vxlan_parse_opt` for the keywords nsctl implements: id, group or remote, local, dev,
/// ttl, dstport, [no]learning. Attributes go out as ip orders them: those read in the loop
/// (link, ttl) in command-line order, then id, local, group, learning, port.
fn vxlan(ctx: &mut Ctx, args: &[Vec<u8>]) -> Parsed {
    let mut looped = Vec::new();
    let (mut id, mut local, mut daddr) = (None::<u32>, None::<IpAddr>, None::<IpAddr>);
    let (mut learning, mut dstport) = (true, None::<u16>);
    let mut seen: Vec<&'static str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        let found = VXLAN_WORDS.iter().find(|(k, _)| matches(w, k));
        match found.map(|&(k, a)| (k, a)) {
            Some((_, Vx::Id)) => {
                let v = next(args, &mut i)?;
                dup(&mut seen, "id", v)?;
                match get_unsigned(v).filter(|&n| n < 1 << 24) {
                    Some(n) => id = Some(n),
                    None => return Err(invarg("invalid id", v)),
                }
            }
            Some((_, a @ (Vx::Group | Vx::Remote))) => {
                let group = a == Vx::Group;
                let v = next(args, &mut i)?;
                if daddr.is_some_and(|d| d.is_multicast() != group) {
                    err(b"vxlan: both group and remote cannot be specified\n");
                    return Ok(Err(-1));
                }
                dup(&mut seen, if group { "group" } else { "remote" }, v)?;
                let a = get_addr_of(v, local.map(|l| l.is_ipv6()))?;
                if a.is_multicast() != group {
                    let what = if group {
                        "invalid group address"
                    } else {
                        "invalid remote address"
                    };
                    return Err(invarg(what, v));
                }
                daddr = Some(a);
            }
            Some((_, Vx::Local)) => {
                let v = next(args, &mut i)?;
                dup(&mut seen, "local", v)?;
                let a = get_addr_of(v, daddr.map(|d| d.is_ipv6()))?;
                if a.is_multicast() {
                    return Err(invarg("invalid local address", v));
                }
                local = Some(a);
            }
            Some((_, Vx::Dev)) => {
                let v = next(args, &mut i)?;
                dup(&mut seen, "dev", v)?;
                match ifindex(ctx, v)? {
                    Some(n) => looped.push(InfoVxlan::Link(n)),
                    None => {
                        // ip exits here: exit(nodev(dev)).
                        err(&bytes(&[b"Cannot find device \"", v, b"\"\n"]));
                        return Err(Exit(255));
                    }
                }
            }
            Some((_, Vx::Ttl)) => {
                let v = next(args, &mut i)?;
                dup(&mut seen, "ttl", v)?;
                match v {
                    b"inherit" => looped.push(InfoVxlan::TtlInheritFlag),
                    b"auto" => looped.push(InfoVxlan::Ttl(0)),
                    _ => match get_unsigned(v) {
                        Some(n) if n <= 255 => looped.push(InfoVxlan::Ttl(n as u8)),
                        Some(_) => return Err(invarg("TTL must be <= 255", v)),
                        None => return Err(invarg("invalid TTL", v)),
                    },
                }
            }
            Some((_, Vx::DstPort)) => {
                let v = next(args, &mut i)?;
                dup(&mut seen, "dstport", v)?;
                match get_unsigned(v).and_then(|n| u16::try_from(n).ok()) {
                    Some(p) => dstport = Some(p),
                    None => return Err(invarg("dst port", v)),
                }
            }
            Some((_, l @ (Vx::Learning | Vx::NoLearning))) => {
                // ip checks both spellings against one bit, naming the word twice.
                let word: &'static str = if l == Vx::Learning {
                    "learning"
                } else {
                    "nolearning"
                };
                if seen.contains(&"learning") {
                    return Err(duparg2(word, word.as_bytes()));
                }
                seen.push("learning");
                learning = l == Vx::Learning;
            }
            Some((_, Vx::Help)) => return explain(VXLAN_USAGE),
            Some((k, Vx::Other)) => return Err(unsupported("vxlan", k)),
            None => {
                err(&bytes(&[b"vxlan: unknown command \"", w, b"\"?\n"]));
                return explain(VXLAN_USAGE);
            }
        }
        i += 1;
    }
    let Some(id) = id else {
        err(b"vxlan: missing virtual network identifier\n");
        return Ok(Err(-1));
    };
    let has_dev = looped.iter().any(|a| matches!(a, InfoVxlan::Link(_)));
    if daddr.is_some_and(|d| d.is_multicast()) && !has_dev {
        err(b"vxlan: 'group' requires 'dev' to be specified\n");
        return Ok(Err(-1));
    }
    if dstport.is_none() {
        err(b"vxlan: destination port not specified\n\
              Will use Linux kernel default (non-standard value)\n\
              Use 'dstport 4789' to get the IANA assigned value\n\
              Use 'dstport 0' to get default and quiet this message\n");
    }
    let mut data = looped;
    data.push(InfoVxlan::Id(id));
    match local {
        Some(IpAddr::V4(a)) => data.push(InfoVxlan::Local(a)),
        Some(IpAddr::V6(a)) => data.push(InfoVxlan::Local6(a)),
        None => {}
    }
    match daddr {
        Some(IpAddr::V4(a)) => data.push(InfoVxlan::Group(a)),
        Some(IpAddr::V6(a)) => data.push(InfoVxlan::Group6(a)),
        None => {}
    }
    data.push(InfoVxlan::Learning(learning));
    if let Some(p) = dstport.filter(|&p| p != 0) {
        data.push(InfoVxlan::Port(p));
    }
    Ok(Ok(InfoData::Vxlan(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<Vec<u8>> {
        s.split_whitespace()
            .map(|x| x.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn vxlan_attributes_in_ips_order() {
        let mut ctx = Ctx::new(Default::default());
        let d = vxlan(
            &mut ctx,
            &w("id 42 dstport 4789 remote 192.0.2.2 local 192.0.2.1 ttl 64 nolearning"),
        );
        let Ok(Ok(InfoData::Vxlan(v))) = d else {
            panic!("not parsed");
        };
        assert_eq!(
            v,
            vec![
                InfoVxlan::Ttl(64),
                InfoVxlan::Id(42),
                InfoVxlan::Local("192.0.2.1".parse().unwrap()),
                InfoVxlan::Group("192.0.2.2".parse().unwrap()),
                InfoVxlan::Learning(false),
                InfoVxlan::Port(4789),
            ]
        );
    }

    #[test]
    fn vxlan_errors_like_ip() {
        let mut ctx = Ctx::new(Default::default());
        let mut rc = |s: &str| match vxlan(&mut ctx, &w(s)) {
            Ok(Ok(_)) => 0,
            Ok(Err(r)) => -r,
            Err(Exit(c)) => c,
        };
        assert_eq!(rc("id 16777216"), 255);
        assert_eq!(rc("dstport 4789"), 1);
        assert_eq!(rc("id 1 remote 192.0.2.2 group 239.1.1.1"), 1);
        assert_eq!(rc("id 1 group 192.0.2.2"), 255);
        assert_eq!(rc("id 1 remote 239.1.1.1"), 255);
        assert_eq!(rc("id 1 group 239.1.1.1"), 1);
        assert_eq!(rc("id 1 id 2"), 255);
        assert_eq!(rc("id 1 learning nolearning"), 255);
        assert_eq!(rc("id 1 ttl 256"), 255);
        assert_eq!(rc("id 1 tos 3"), 255);
        assert_eq!(rc("id 1 bogus"), 1);
        assert_eq!(rc("id 1 local 192.0.2.1 remote 2001:db8::2"), 1);
        assert_eq!(rc("id 1 dstport 0"), 0);
    }

    #[test]
    fn macvlan_modes_and_errors() {
        let ok = |s: &str| match macvlan("macvlan", &w(s)) {
            Ok(Ok(InfoData::MacVlan(v))) => Some(v),
            _ => None,
        };
        assert_eq!(
            ok("mode bridge"),
            Some(vec![InfoMacVlan::Mode(MacVlanMode::Bridge)])
        );
        assert_eq!(
            ok("m private"),
            Some(vec![InfoMacVlan::Mode(MacVlanMode::Private)])
        );
        assert_eq!(ok("mode Bridge"), None);
        assert_eq!(ok("mode vepa nopromisc"), None);
        assert!(ok("mode passthru nopromisc").is_some());
        assert_eq!(ok("link x"), None);
    }
}
