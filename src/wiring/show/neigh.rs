//! `ip neigh show [dev NAME] [nud STATE|all] [proxy]`: iproute2 6.1's `print_neigh`.

use netlink_packet_route::neighbour::{NeighbourAddress, NeighbourAttribute, NeighbourMessage};
use netlink_packet_route::AddressFamily;

use super::link::{hex_addr, Links};
use super::Text;
use crate::ctx::Ctx;
use crate::error::{Exit, Ret};
use crate::json::{Array, Val};
use crate::output::{bytes, err};
use crate::parse::matches;
use crate::wiring::neigh::nud_state;
use crate::wiring::next;
use crate::wiring::rtnames::proto_n2a;

const STATES: &[(u16, &str)] = &[
    (0x01, "INCOMPLETE"),
    (0x02, "REACHABLE"),
    (0x04, "STALE"),
    (0x08, "DELAY"),
    (0x10, "PROBE"),
    (0x20, "FAILED"),
    (0x40, "NOARP"),
    (0x80, "PERMANENT"),
];

/// `ip neigh show`.
pub fn neighbours(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    if ctx.opts.stats > 0 || ctx.opts.brief {
        err(b"nsctl: -s and -br are not supported by nsctl neigh show.\n");
        return Err(Exit(255));
    }
    let mut dev = None;
    // Shown states: all but NOARP (and NONE), unless `nud` says.
    let mut state: u32 = 0xff & !0x40;
    let mut given = false;
    let mut proxy = false;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        if w == b"dev" {
            let v = next(args, &mut i)?;
            if dev.is_some() {
                return Err(crate::wiring::duparg("dev", v));
            }
            dev = Some(v.to_vec());
        } else if w == b"nud" {
            let v = next(args, &mut i)?;
            if !given {
                given = true;
                state = 0;
            }
            let s = match nud_state(v) {
                Some(s) => u32::from(s),
                None if v == b"all" => !0,
                None => {
                    err(&bytes(&[
                        b"Error: argument \"",
                        v,
                        b"\" is wrong: nud state is bad\n",
                    ]));
                    return Err(Exit(255));
                }
            };
            state |= if s == 0 { 0x100 } else { s };
        } else if w == b"proxy" {
            proxy = true;
        } else if matches(w, "help") {
            return crate::wiring::usage("neighbor");
        } else {
            let takes = "\"dev NAME\", \"nud STATE\" and \"proxy\"";
            return Err(super::refuse("neigh show", takes, w));
        }
        i += 1;
    }
    let links = Links::load(ctx, None)?;
    let index = match super::dev_index(&links, &dev) {
        Ok(i) => i,
        Err(rc) => return Ok(rc),
    };
    let family = ctx.opts.family;
    let mut all = Vec::new();
    let dump = crate::nl::neigh::each(ctx.dumper()?, family, index, |n| all.push(n));
    if let Err(f) = dump {
        let _ = crate::wiring::refused(f);
        err(b"Dump terminated\n");
        return Err(Exit(1));
    }
    let (json, pretty) = (ctx.opts.json, ctx.opts.pretty);
    let mut a = Array::new(pretty);
    let mut text = Text::default();
    for n in &all {
        if !shown(n, family, index, state, proxy) {
            continue;
        }
        print(
            n,
            &links,
            index.is_some(),
            json.then_some(&mut a),
            &mut text,
        );
    }
    super::finish(json, a, text)
}

/// `print_neigh`'s filters.
fn shown(
    n: &NeighbourMessage,
    family: Option<AddressFamily>,
    index: Option<u32>,
    state: u32,
    proxy: bool,
) -> bool {
    let h = &n.header;
    let flags = h.flags.bits();
    let nud = u32::from(u16::from(h.state));
    if family.is_some_and(|f| f != h.family) || index.is_some_and(|i| i != h.ifindex) {
        return false;
    }
    if proxy && flags & 0x08 == 0 {
        return false;
    }
    !(state & nud == 0
        && flags & 0x08 == 0
        && flags & 0x10 == 0
        && (nud != 0 || state & 0x100 == 0))
}

fn print(
    n: &NeighbourMessage,
    links: &Links,
    dev_filtered: bool,
    json: Option<&mut Array>,
    t: &mut Text,
) {
    let h = &n.header;
    let (mut dst, mut ll, mut proto) = (None, None, None);
    for at in &n.attributes {
        match at {
            NeighbourAttribute::Destination(d) => {
                dst = Some(match d {
                    NeighbourAddress::Inet(a) => a.to_string(),
                    NeighbourAddress::Inet6(a) => a.to_string(),
                    NeighbourAddress::Other(v) => hex_addr(v),
                    other => format!("{other:?}"),
                })
            }
            NeighbourAttribute::LinkLayerAddress(l) => ll = Some(hex_addr(l)),
            NeighbourAttribute::Protocol(p) => proto = Some(u8::from(*p)).filter(|&p| p != 0),
            _ => {}
        }
    }
    let flags = h.flags.bits();
    let marks: Vec<&str> = [
        (0x80u8, "router"),
        (0x08, "proxy"),
        (0x10, "extern_learn"),
        (0x20, "offload"),
    ]
    .iter()
    .filter(|(b, _)| flags & b != 0)
    .map(|&(_, s)| s)
    .collect();
    let nud = u16::from(h.state);
    let states: Vec<&str> = STATES
        .iter()
        .filter(|(b, _)| nud & b != 0)
        .map(|&(_, s)| s)
        .collect();
    let dev = (!dev_filtered && h.ifindex != 0).then(|| links.name_of(h.ifindex));
    match json {
        Some(a) => {
            let w = a.writer();
            w.start_object();
            if let Some(d) = &dst {
                w.field("dst", Val::Str(d.as_bytes()));
            }
            if let Some(d) = &dev {
                w.field("dev", Val::Str(d));
            }
            if let Some(l) = &ll {
                w.field("lladdr", Val::Str(l.as_bytes()));
            }
            for m in &marks {
                w.field(m, Val::Null);
            }
            if nud != 0 {
                w.str_array("state", &states);
            }
            if let Some(p) = proto {
                w.field("protocol", Val::Str(proto_n2a(p).as_bytes()));
            }
            w.end_object();
        }
        None => {
            if let Some(d) = &dst {
                *t += format!("{d} ");
            }
            if let Some(d) = &dev {
                *t += "dev ";
                *t += d;
                *t += " ";
            }
            if let Some(l) = &ll {
                *t += format!("lladdr {l} ");
            }
            for m in marks.iter().chain(&states) {
                *t += format!("{m} ");
            }
            if let Some(p) = proto {
                *t += format!("proto {} ", proto_n2a(p));
            }
            *t += "\n";
        }
    }
}
