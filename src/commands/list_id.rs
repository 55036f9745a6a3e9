//! `ip netns list-id [target-nsid N] [nsid N]`: the peers this netns has ids for.

use crate::commands::list::{entries, map_init, report};
use crate::ctx::{Ctx, Sock};
use crate::error::{Exit, Ret};
use crate::json::{Array, Val};
use crate::nl::nsid::{self, Record};
use crate::nl::Failure;
use crate::output::{bytes, err, flush, out};
use crate::parse::get_integer;

fn parse_value(key: &str, args: &[Vec<u8>], i: usize, seen: bool) -> Result<i32, Exit> {
    if seen {
        err(format!("Error: duplicate \"{key}\": \"{key}\" is the second value.\n").as_bytes());
        return Err(Exit(255));
    }
    let Some(v) = args.get(i) else {
        err(b"Command line is not complete. Try option \"help\"\n");
        return Err(Exit(255));
    };
    match get_integer(v) {
        None => {
            let m = bytes(&[
                b"Error: argument \"",
                v,
                b"\" is wrong: \"",
                key.as_bytes(),
                b"\" value is invalid\n",
            ]);
            err(&m);
            Err(Exit(255))
        }
        // 6.1 names the word after the value here (or "(null)"); nsctl names the value.
        Some(n) if n < 0 => {
            let m = bytes(&[
                b"Error: argument \"",
                v,
                b"\" is wrong: \"",
                key.as_bytes(),
                b"\" value should be >= 0\n",
            ]);
            err(&m);
            Err(Exit(255))
        }
        Some(n) => Ok(n),
    }
}

/// `ip netns list-id`.
pub fn list_id(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    map_init(ctx)?;
    let (mut target, mut id) = (None, None);
    let mut i = 0;
    while i < args.len() {
        if args[i] == b"target-nsid" {
            target = Some(parse_value("target-nsid", args, i + 1, target.is_some())?);
        } else if args[i] == b"nsid" {
            id = Some(parse_value("nsid", args, i + 1, id.is_some())?);
        } else {
            return crate::commands::usage();
        }
        i += 2;
    }
    let mut json = ctx.opts.json.then(|| Array::new(ctx.opts.pretty));
    let records = match id {
        Some(n) => {
            let (nl, sock) = ctx.sock(Sock::Nsid)?;
            match nsid::by_id(nl, sock, n, target) {
                Ok(r) => r,
                Err(e) => {
                    e.print();
                    return Ok(-2);
                }
            }
        }
        None => {
            let (nl, sock) = ctx.sock(Sock::Main)?;
            match nsid::dump(nl, sock, target) {
                Ok(r) => r,
                Err(Failure::Kernel(e)) => {
                    if let Some(a) = json.as_mut() {
                        out(&a.take());
                    }
                    e.print();
                    err(b"Dump terminated\n");
                    return Err(Exit(1));
                }
                Err(Failure::Send) => {
                    err(b"Cannot send dump request: Communication error on send\n");
                    return Err(Exit(1));
                }
            }
        }
    };
    for r in records {
        let name = name_of(ctx, &r)?;
        match json.as_mut() {
            Some(a) => {
                let mut f: Vec<(&str, Val<'_>)> = Vec::new();
                if r.nsid >= 0 {
                    f.push(("nsid", Val::Int(r.nsid.into())));
                }
                if let Some(c) = r.current.filter(|c| *c >= 0) {
                    f.push(("current-nsid", Val::Int(c.into())));
                }
                if let Some(n) = &name {
                    f.push(("name", Val::Str(n)));
                }
                a.object(&f);
                out(&a.take());
            }
            None => {
                let mut line = Vec::new();
                if r.nsid < 0 {
                    line.extend_from_slice(b"nsid unassigned ");
                } else {
                    line.extend_from_slice(format!("nsid {} ", r.nsid).as_bytes());
                }
                match r.current {
                    Some(c) if c < 0 => line.extend_from_slice(b"current-nsid unassigned "),
                    Some(c) => line.extend_from_slice(format!("current-nsid {c} ").as_bytes()),
                    None => {}
                }
                if let Some(n) = &name {
                    line.extend_from_slice(b"(iproute2 netns name: ");
                    line.extend_from_slice(n);
                    line.push(b')');
                }
                line.push(b'\n');
                out(&line);
            }
        }
        // 6.1 flushes after every record, so error lines land between records.
        flush();
    }
    if let Some(a) = json {
        out(&a.finish());
        flush();
    }
    Ok(0)
}

/// ip's name lookup for a record: the cache entry for the current-nsid (or the nsid), which
/// is then dropped from the cache; on a miss, a rescan of /run/netns by nsid.
fn name_of(ctx: &mut Ctx, r: &Record) -> Result<Option<Vec<u8>>, Exit> {
    let key = r.current.unwrap_or(r.nsid);
    if let Some(pos) = ctx.cache.iter().position(|(_, id)| *id == key) {
        return Ok(Some(ctx.cache.remove(pos).0));
    }
    let Some(names) = entries() else {
        return Ok(None);
    };
    for n in names {
        let l = ctx.lookup(&n)?;
        report(&l);
        if let Some(Ok(id)) = l {
            if id >= 0 && id == r.nsid {
                ctx.cache.push((n.clone(), id));
                return Ok(Some(n));
            }
        }
    }
    Ok(None)
}
