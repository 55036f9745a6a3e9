//! `ip netns list` (also `show`, `lst`, and bare `ip netns`), and ip's nsid cache.

use std::os::unix::ffi::OsStrExt;

use crate::ctx::{Ctx, Lookup};
use crate::error::Ret;
use crate::json::{Array, Val};
use crate::output::out;

/// The entries of /run/netns in raw readdir order (never sorted), or None if it can't be read.
pub fn entries() -> Option<Vec<Vec<u8>>> {
    let dir = std::fs::read_dir(crate::netns::RUN_DIR).ok()?;
    Some(
        dir.flatten()
            .map(|e| e.file_name().as_bytes().to_vec())
            .collect(),
    )
}

/// Each name in /run/netns with the answer to its nsid lookup.
pub type Fresh = Vec<(Vec<u8>, Lookup)>;

/// Print a lookup's kernel error, as ip's netlink helper does.
pub fn report(l: &Lookup) {
    if let Some(Err(e)) = l {
        e.print();
    }
}

/// `netns_map_init`: once per process, look up every name, printing each kernel error, and
/// remember names that have an nsid. Returns the fresh lookups when it ran now, so a caller
/// that needs the same answers can reuse them instead of asking the kernel again.
pub fn map_init(ctx: &mut Ctx) -> Result<Option<Fresh>, crate::error::Exit> {
    if ctx.cache_done {
        return Ok(None);
    }
    let Some(names) = entries() else {
        return Ok(None);
    };
    let mut fresh = Vec::with_capacity(names.len());
    for name in names {
        let l = ctx.lookup(&name)?;
        report(&l);
        if let Some(Ok(id)) = l {
            if id >= 0 {
                ctx.cache.push((name.clone(), id));
            }
        }
        fresh.push((name, l));
    }
    ctx.cache_done = true;
    Ok(Some(fresh))
}

/// `ip netns list`.
pub fn list(ctx: &mut Ctx) -> Ret {
    let fresh = map_init(ctx)?;
    // ip reads the directory a second time here and asks the kernel again; when the cache
    // pass just did that, its answers (and their error lines) are replayed instead.
    let rows = match fresh {
        Some(rows) => rows,
        None => {
            let Some(names) = entries() else { return Ok(0) };
            let mut rows = Vec::with_capacity(names.len());
            for n in names {
                let l = ctx.lookup(&n)?;
                rows.push((n, l));
            }
            rows
        }
    };
    let mut json = ctx.opts.json.then(|| Array::new(ctx.opts.pretty));
    let mut text = Vec::new();
    for (name, l) in &rows {
        report(l);
        let id = match l {
            Some(Ok(id)) if *id >= 0 => Some(*id),
            _ => None,
        };
        match json.as_mut() {
            Some(a) => match id {
                Some(id) => a.object(&[("name", Val::Str(name)), ("id", Val::Int(id.into()))]),
                None => a.object(&[("name", Val::Str(name))]),
            },
            None => {
                text.extend_from_slice(name);
                if let Some(id) = id {
                    text.extend_from_slice(format!(" (id: {id})").as_bytes());
                }
                text.push(b'\n');
                out(&text);
                text.clear();
            }
        }
    }
    if let Some(a) = json {
        out(&a.finish());
        crate::output::flush();
    }
    Ok(0)
}
