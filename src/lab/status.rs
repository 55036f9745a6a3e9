//! `nsctl status FILE [-j]`: per object, present, missing or different (and whether it is
//! nsctl's). Exit 0 when the lab is converged, 1 when it is not.

use std::path::Path;

use super::apply::{existing_namespaces, interfaces, places, route_text, veth_owner};
use super::observe::Seen;
use super::places::Places;
use super::state::Owned;
use super::{nat, LabError};
use crate::json::{Array, Val};
use crate::output::out;

struct Row {
    object: String,
    state: &'static str,
    detail: String,
}

pub fn run(path: &Path, json: bool) -> Result<i32, LabError> {
    let lab = super::load(path)?;
    let j = super::journal(&lab.name)?;
    let pl = Places::new().map_err(|m| LabError::new(1, m))?;
    let mut have_ns = existing_namespaces();
    // A name that is an empty file is reported as such below; nothing can be inside it.
    let unbound: Vec<String> = have_ns
        .iter()
        .filter(|n| crate::netns::is_unbound(n.as_bytes()))
        .cloned()
        .collect();
    let mut rows = Vec::new();
    let mut row = |object: String, state: &'static str, detail: String| {
        rows.push(Row {
            object,
            state,
            detail,
        })
    };
    let replaced = super::apply::replaced_namespaces(&lab, &j, &pl, &have_ns)?;
    for ns in &lab.namespaces {
        let owned = j.owns(&Owned::Netns {
            name: ns.name.clone(),
        }) && !replaced.contains(&ns.name);
        match (have_ns.contains(&ns.name), owned) {
            (true, _) if unbound.contains(&ns.name) => row(
                format!("netns {}", ns.name),
                "different",
                "an empty file, not a namespace: an add was interrupted".into(),
            ),
            (true, true) => row(format!("netns {}", ns.name), "present", String::new()),
            (true, false) => row(
                format!("netns {}", ns.name),
                "present",
                "not created by nsctl".into(),
            ),
            (false, _) => row(format!("netns {}", ns.name), "missing", String::new()),
        }
    }
    for n in unbound {
        have_ns.remove(&n);
    }
    for at in places(&lab) {
        let place = at
            .as_ref()
            .map(|n| format!("netns {n}"))
            .unwrap_or_else(|| "host".into());
        let ifs = interfaces(&lab, &at);
        let routes = lab.routes(&at);
        if ifs.is_empty() && routes.is_empty() {
            continue;
        }
        if at.as_ref().map(|n| !have_ns.contains(n)).unwrap_or(false) {
            for i in ifs {
                row(
                    format!("interface {} ({place})", i.name),
                    "missing",
                    String::new(),
                );
            }
            for r in routes {
                row(
                    format!("route {} ({place})", route_text(r)),
                    "missing",
                    String::new(),
                );
            }
            continue;
        }
        let sock = pl.socket(&at).map_err(|m| LabError::new(1, m))?;
        let seen =
            Seen::all(&pl, sock.as_ref().unwrap_or(pl.host())).map_err(|m| LabError::new(1, m))?;
        for i in ifs {
            let name = format!("interface {} ({place})", i.name);
            let Some(st) = seen.links.get(&i.name) else {
                row(name, "missing", String::new());
                continue;
            };
            let mut diffs = Vec::new();
            if !st.up {
                diffs.push("down".to_string());
            }
            if let Some(b) = &i.bridge {
                if seen
                    .links
                    .get(b)
                    .map(|bs| Some(bs.index) != st.master)
                    .unwrap_or(true)
                {
                    diffs.push(format!("not in bridge {b}"));
                }
            }
            if let Some(m) = i.mtu {
                if st.mtu != Some(m) {
                    diffs.push(format!("mtu {} instead of {m}", st.mtu.unwrap_or(0)));
                }
            }
            for a in &i.addrs {
                if !seen.has_addr(st.index, a.addr.expect("checked"), a.len) {
                    diffs.push(format!("no address {}/{}", a.addr.expect("checked"), a.len));
                }
            }
            let own_link = j.owns_link(
                &Owned::Link {
                    netns: at.clone(),
                    name: i.name.clone(),
                },
                st.index,
            );
            // nsctl's bridges are born with multicast snooping off and switched on at the end
            // of apply; off means an apply was interrupted there.
            if own_link && st.snooping == Some(false) {
                diffs.push("multicast snooping off".into());
            }
            // Nothing in a namespace someone made again under a journaled name is nsctl's.
            let in_replaced = at.as_ref().is_some_and(|n| replaced.contains(n));
            let ours = !in_replaced
                && (own_link
                    || lab.veths.iter().any(|v| {
                        v.iter().any(|e| e.at == at && e.name == i.name) && j.owns(&veth_owner(v))
                    }));
            let state = if diffs.is_empty() {
                "present"
            } else {
                "different"
            };
            if !ours {
                diffs.push("not created by nsctl".into());
            }
            row(name, state, diffs.join(", "));
        }
        for r in routes {
            let oif = r
                .dev
                .as_ref()
                .and_then(|d| seen.links.get(d))
                .map(|l| l.index);
            let ok = seen.routes.iter().any(|x| {
                x.dst == r.dst.addr
                    && x.len == r.dst.len
                    && x.via == r.via
                    && (r.dev.is_none() || x.oif == oif)
            });
            row(
                format!("route {} ({place})", route_text(r)),
                if ok { "present" } else { "missing" },
                String::new(),
            );
        }
    }
    // Sysctls: each namespace's (when it exists) and the host's.
    let mut sysctls: Vec<(super::spec::Where, String, String)> = Vec::new();
    for ns in lab.namespaces.iter().filter(|n| have_ns.contains(&n.name)) {
        sysctls.extend(
            ns.sysctls
                .iter()
                .map(|(k, v)| (Some(ns.name.clone()), k.clone(), v.clone())),
        );
    }
    sysctls.extend(
        lab.host_sysctls
            .iter()
            .map(|(k, v)| (None, k.clone(), v.clone())),
    );
    for (at, k, want) in sysctls {
        let place = at
            .as_ref()
            .map(|n| format!("netns {n}"))
            .unwrap_or_else(|| "host".into());
        match pl.sysctl_get(&at, &k) {
            Ok(v) if v == want => row(format!("sysctl {k} ({place})"), "present", String::new()),
            Ok(v) => row(
                format!("sysctl {k} ({place})"),
                "different",
                format!("{v} instead of {want}"),
            ),
            Err(m) => row(format!("sysctl {k} ({place})"), "missing", m),
        }
    }
    if !lab.nat.is_empty() {
        let name = format!("nat table ip {}", nat::table_name(&lab.name));
        match nat::converged(&lab.name, &lab.nat) {
            Ok(Some(true)) => row(name, "present", String::new()),
            Ok(Some(false)) => row(name, "different", "rules differ from the file".into()),
            Ok(None) => row(name, "missing", String::new()),
            Err(m) => row(name, "missing", m),
        }
    }
    let converged = rows.iter().all(|r| r.state == "present");
    if json {
        let mut a = Array::new(false);
        for r in &rows {
            a.object(&[
                ("object", Val::Str(r.object.as_bytes())),
                ("state", Val::Str(r.state.as_bytes())),
                ("detail", Val::Str(r.detail.as_bytes())),
            ]);
        }
        out(&a.finish());
    } else {
        for r in &rows {
            let d = if r.detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.detail)
            };
            out(format!("{}: {}{d}\n", r.object, r.state).as_bytes());
        }
        let n = rows.iter().filter(|r| r.state != "present").count();
        out(format!(
            "status {}: {}\n",
            lab.name,
            if converged {
                "converged".to_string()
            } else {
                format!("{n} of {} objects missing or different", rows.len())
            }
        )
        .as_bytes());
    }
    Ok(if converged { 0 } else { 1 })
}
