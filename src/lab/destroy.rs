//! `nsctl destroy FILE`: remove exactly what the journal says nsctl created for the lab, in
//! reverse dependency order, and nothing else. Safe to run twice, and after a kill -9.

use std::path::Path;

use super::apply::{existing_namespaces, place_name, places, veth_owner};
use super::places::Places;
use super::report::Tally;
use super::spec::Lab;
use super::state::Owned;
use super::{nat, LabError};

pub fn run(path: &Path, dry: bool, json: bool) -> Result<i32, LabError> {
    let lab = super::load(path)?;
    let _lock = if dry {
        None
    } else {
        Some(super::lock(&lab.name)?)
    };
    let t = by_journal(&lab.name, &lab, dry)?;
    t.print(json, dry);
    Ok(if t.failed > 0 { 1 } else { 0 })
}

/// Remove every journaled object of `lab_name` that exists.
pub fn by_journal(lab_name: &str, lab: &Lab, dry: bool) -> Result<Tally, LabError> {
    let mut j = super::journal(lab_name)?;
    let mut t = Tally::new("destroy", lab_name, j.objects.len());
    let have_ns = existing_namespaces();
    let pl = Places::new().map_err(|m| LabError::new(1, m))?;
    let mut owned_ns: Vec<String> = Vec::new();
    let mut gone_ns: Vec<String> = Vec::new();
    for o in &j.objects {
        if let Owned::Netns { name } = o {
            // Before anything is removed: a namespace that cannot be told stops destroy.
            let ours = j.owns_netns(name, || pl.cookie_now(name)).map_err(|m| {
                LabError::new(
                    1,
                    format!("cannot tell whether netns {name} is still the one nsctl made: {m}; nothing was removed"),
                )
            })?;
            if ours {
                owned_ns.push(name.clone());
            } else {
                gone_ns.push(name.clone());
            }
        }
    }
    // A namespace someone deleted and made again under a journaled name is not nsctl's, and
    // nor is anything in it: those entries are dropped, untouched (the namespace is listed as
    // left alone below when the file names it).
    let objects: Vec<Owned> = j
        .objects
        .iter()
        .filter(|o| !gone_ns.iter().any(|n| super::state::in_netns(o, n)))
        .cloned()
        .collect();
    if !dry {
        for n in &gone_ns {
            j.forget_place(n);
        }
    }
    let total = objects.len();
    // Veth ends outside nsctl's namespaces that disappear with them.
    let mut linger: Vec<(Option<String>, String)> = Vec::new();
    let mut done = 0;
    // Links of the journal's names that are not the links nsctl made.
    let mut replaced: Vec<String> = Vec::new();
    // 1. NAT and host settings first, so nothing forwards for a half-removed lab.
    for o in objects.iter().rev() {
        match o {
            Owned::NftTable { .. } => {
                if dry {
                    if nat::current(lab_name)
                        .map_err(|m| LabError::new(1, m))?
                        .is_some()
                    {
                        t.lines
                            .push(format!("delete nft table ip {}", nat::table_name(lab_name)));
                        t.removed += 1;
                    }
                    continue;
                }
                // A failure keeps the entry, so the next destroy tries again.
                match nat::remove(lab_name) {
                    Ok(true) => {
                        t.removed += 1;
                        j.forget(o);
                    }
                    Ok(false) => j.forget(o),
                    Err(m) => t.fail(m),
                }
            }
            Owned::Sysctl { netns, key, old } => {
                if netns
                    .as_ref()
                    .map(|n| owned_ns.contains(n))
                    .unwrap_or(false)
                {
                    j.forget(o);
                    continue;
                }
                if dry {
                    t.lines
                        .push(format!("restore {key}={old} ({})", place_name(netns)));
                    t.removed += 1;
                    continue;
                }
                match pl.sysctl_set(netns, key, old) {
                    Ok(()) => {
                        t.removed += 1;
                        j.forget(o);
                    }
                    Err(m) => t.fail(m),
                }
            }
            _ => {}
        }
    }
    // 2. Adopted interfaces back to how they were; their addresses and nsctl's links
    //    outside its own namespaces removed.
    for o in objects.iter().rev() {
        if let Owned::Adopted {
            netns,
            name,
            up,
            mtu,
        } = o
        {
            if dry {
                t.lines.push(format!(
                    "restore {name} ({}) to {}",
                    place_name(netns),
                    if *up { "up" } else { "down" }
                ));
                continue;
            }
            match restore(&pl, netns, name, *up, *mtu) {
                Ok(()) => j.forget(o),
                Err(m) => t.fail(m),
            }
        }
    }
    // Routes that outlive the lab's links (in the host, or in namespaces nsctl did not
    // create); routes in nsctl's own namespaces go with them.
    for o in objects.iter().rev() {
        let Owned::Route { netns, route } = o else {
            continue;
        };
        let gone = netns
            .as_ref()
            .map(|n| owned_ns.contains(n) || !have_ns.contains(n))
            .unwrap_or(false);
        if gone {
            if !dry {
                j.forget(o);
            }
            continue;
        }
        if dry {
            t.lines
                .push(format!("delete route {route} ({})", place_name(netns)));
            t.removed += 1;
            continue;
        }
        match remove_route(&pl, netns, route) {
            Ok(removed) => {
                t.removed += usize::from(removed);
                j.forget(o);
            }
            // Kept in the journal: the next destroy tries again.
            Err(m) => t.fail(m),
        }
    }
    for o in objects.iter().rev() {
        let (netns, name, addr) = match o {
            Owned::Addr { netns, dev, addr } => (netns, dev, Some(addr)),
            Owned::Link { netns, name } => (netns, name, None),
            _ => continue,
        };
        done += 1;
        t.progress("links", done, total);
        // Delete from a place that outlives this destroy: a veth with an end in the host (or
        // in a namespace nsctl does not own) is removed there, so it is gone when destroy
        // returns instead of when the kernel gets round to cleaning up the namespace.
        let gone_with_ns = |n: &Option<String>| {
            n.as_ref()
                .map(|n| owned_ns.contains(n) || !have_ns.contains(n))
                .unwrap_or(false)
        };
        // A veth with an end in one of nsctl's namespaces goes with that namespace: the
        // kernel removes a namespace's devices in one batch, far faster than one deletion
        // per pair. The surviving end is waited for below, so destroy returns only when it
        // is gone.
        if let Some(v) = lab
            .veths
            .iter()
            .find(|v| addr.is_none() && v[0].at == *netns && v[0].name == *name)
        {
            if v.iter().any(|e| gone_with_ns(&e.at)) {
                for e in v.iter().filter(|e| !gone_with_ns(&e.at)) {
                    linger.push((e.at.clone(), e.name.clone()));
                }
                if !dry {
                    j.forget(o);
                }
                continue;
            }
        }
        if gone_with_ns(netns) {
            if !dry {
                j.forget(o);
            }
            continue;
        }
        let sock = pl.socket(netns).map_err(|m| LabError::new(1, m))?;
        let s = sock.as_ref().unwrap_or(pl.host());
        let link = crate::nl::link::by_name(&pl.nl, s, name)
            .map_err(|f| LabError::new(1, super::observe::why(f)))?;
        let Some(link) = link else {
            if !dry {
                j.forget(o);
            }
            continue;
        };
        if addr.is_none() && !j.owns_link(o, link.header.index) {
            // Deleted and made again by someone else since: not nsctl's any more.
            if !dry {
                j.forget(o);
            }
            replaced.push(format!("{name} ({})", place_name(netns)));
            continue;
        }
        if dry {
            match addr {
                Some(a) => t
                    .lines
                    .push(format!("delete {a} from {name} ({})", place_name(netns))),
                None => t
                    .lines
                    .push(format!("delete link {name} ({})", place_name(netns))),
            }
            t.removed += 1;
            continue;
        }
        let res = match addr {
            Some(a) => match crate::wiring::prefix::parse(a.as_bytes()) {
                Some(p) => crate::nl::addr::delete(
                    &pl.nl,
                    s,
                    crate::wiring::addr::message(p, link.header.index, false),
                ),
                None => Ok(()),
            },
            None => crate::nl::link::delete(&pl.nl, s, link.header.index),
        };
        match res {
            Ok(()) => {
                t.removed += 1;
                j.forget(o);
            }
            Err(crate::nl::Failure::Kernel(e))
                if (addr.is_some() && e.errno == libc::EADDRNOTAVAIL)
                    || e.errno == libc::ENODEV =>
            {
                j.forget(o);
            }
            // Kept in the journal: the next destroy tries again.
            Err(f) => t.fail(format!(
                "deleting {name} ({}) failed: {}",
                place_name(netns),
                super::observe::why(f)
            )),
        }
    }
    if !dry {
        j.save().map_err(|e| {
            LabError::new(
                1,
                format!("cannot write the journal: {}", crate::error::io_errstr(&e)),
            )
        })?;
    }
    // 3. Namespaces: their links, addresses and routes go with them.
    for (k, n) in owned_ns.iter().enumerate() {
        t.progress("namespaces", k, owned_ns.len());
        let o = Owned::Netns { name: n.clone() };
        if !have_ns.contains(n) {
            if !dry {
                j.forget(&o);
            }
            continue;
        }
        if dry {
            t.lines.push(format!("delete netns {n}"));
            t.removed += 1;
            continue;
        }
        let rc = crate::netns::lifecycle::remove(
            &mut crate::netns::sys::Real,
            &crate::netns::run_path(n.as_bytes()),
        );
        if rc == 0 {
            t.removed += 1;
            j.forget(&o);
        } else {
            t.fail(format!("deleting netns {n} failed (see the message above)"));
        }
    }
    t.progress("namespaces", owned_ns.len(), owned_ns.len());
    if !dry {
        wait_gone(&pl, &linger);
        j.save().map_err(|e| {
            LabError::new(
                1,
                format!("cannot write the journal: {}", crate::error::io_errstr(&e)),
            )
        })?;
    }
    // Objects the file names that exist but are not nsctl's: left alone, and said so.
    let mut left = Vec::new();
    for ns in &lab.namespaces {
        if have_ns.contains(&ns.name) && !owned_ns.contains(&ns.name) {
            left.push(format!("netns {}", ns.name));
        }
    }
    for at in places(lab).into_iter().filter(|p| p.is_none()) {
        let seen = super::observe::Seen::links(&pl, pl.host()).map_err(|m| LabError::new(1, m))?;
        for b in lab.bridges.iter().filter(|b| b.at == at) {
            if seen.links.contains_key(&b.name)
                && !objects.contains(&Owned::Link {
                    netns: None,
                    name: b.name.clone(),
                })
            {
                left.push(format!("bridge {} (host)", b.name));
            }
        }
        for v in &lab.veths {
            if v[0].at.is_none()
                && seen.links.contains_key(&v[0].name)
                && !objects.contains(&veth_owner(v))
            {
                left.push(format!("interface {} (host)", v[0].name));
            }
        }
    }
    left.extend(replaced.into_iter().map(|r| format!("link {r}")));
    for l in left {
        t.lines
            .push(format!("left alone (not created by nsctl): {l}"));
    }
    Ok(t)
}

/// Delete one journaled route; Ok(false) when it is already gone (with its device, say).
fn remove_route(pl: &Places, netns: &Option<String>, route: &str) -> Result<bool, String> {
    let fail = |why: String| {
        format!(
            "deleting route {route} ({}) failed: {why}",
            place_name(netns)
        )
    };
    // The journal holds the lab file's own words, which parsed when they were written.
    let rt = super::model::parse_route(route).map_err(fail)?;
    let sock = pl.socket(netns)?;
    let s = sock.as_ref().unwrap_or(pl.host());
    let oif = match &rt.dev {
        Some(d) => match crate::nl::link::by_name(&pl.nl, s, d).map_err(super::observe::why)? {
            Some(l) => Some(l.header.index),
            // Its device is gone, and the route with it.
            None => return Ok(false),
        },
        None => None,
    };
    let spec = crate::wiring::route::Spec {
        dst: rt.dst,
        via: rt.via,
        oif,
    };
    let m = crate::wiring::route::message(&spec, false);
    match crate::nl::route::delete(&pl.nl, s, m) {
        Ok(()) => Ok(true),
        Err(crate::nl::Failure::Kernel(e)) if e.errno == libc::ESRCH => Ok(false),
        Err(f) => Err(fail(super::observe::why(f))),
    }
}

/// Put an adopted interface's admin state and MTU back.
fn restore(
    pl: &Places,
    netns: &Option<String>,
    name: &str,
    up: bool,
    mtu: Option<u32>,
) -> Result<(), String> {
    use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
    let sock = pl.socket(netns)?;
    let s = sock.as_ref().unwrap_or(pl.host());
    let Some(l) = crate::nl::link::by_name(&pl.nl, s, name).map_err(super::observe::why)? else {
        return Ok(());
    };
    let mut m = LinkMessage::default();
    m.header.index = l.header.index;
    m.header.change_mask = LinkFlags::Up;
    if up {
        m.header.flags = LinkFlags::Up;
    }
    if let Some(x) = mtu {
        m.attributes.push(LinkAttribute::Mtu(x));
    }
    crate::nl::link::change(&pl.nl, s, m).map_err(|f| {
        format!(
            "restoring {name} ({}) failed: {}",
            place_name(netns),
            super::observe::why(f)
        )
    })
}

/// Wait (up to 10 s) until the kernel's namespace cleanup has removed `ends` from the host.
pub(super) fn wait_gone(pl: &Places, ends: &[(Option<String>, String)]) {
    let host: Vec<&str> = ends
        .iter()
        .filter(|(at, _)| at.is_none())
        .map(|(_, n)| n.as_str())
        .collect();
    wait_gone_at(pl, pl.host(), &host);
}

/// Wait (up to 10 s) until the links `names` are gone from the place `sock` lives in.
pub(super) fn wait_gone_at(pl: &Places, sock: &crate::nl::Socket, names: &[&str]) {
    if names.is_empty() {
        return;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        let Ok(seen) = super::observe::Seen::links(pl, sock) else {
            return;
        };
        if !names.iter().any(|n| seen.links.contains_key(*n)) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
