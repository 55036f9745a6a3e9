//! `nsctl apply FILE`: observe, plan, and execute the plan (`--dry-run` prints it instead).
//! A first apply that fails is rolled back whole; a later one stops at the failure and the
//! next run converges.

use std::path::Path;

use super::error::{exit, LabError};
use super::execute::{Exec, Real};
use super::nat;
use super::places::Places;
use super::plan::{self, Kind};
use super::report::Tally;

pub struct Opts {
    pub dry_run: bool,
    pub adopt: bool,
    pub json: bool,
}

/// Seconds since the epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub fn run(lab: &super::spec::Lab, path: &Path, o: Opts) -> Result<i32, LabError> {
    let shown = path.display();
    tools(lab, &shown)?;
    let _lock = if o.dry_run {
        None
    } else {
        Some(super::session::lock(&lab.name)?)
    };
    let j = super::session::journal(&lab.name)?;
    super::session::same_share(&j, lab, &format!("apply {shown}"))?;
    super::session::not_another_labs(lab, &format!("apply {shown}"))?;
    let pl = Places::new()?;
    let obs = super::observe::observe(lab, &j, false).map_err(|m| {
        LabError::new(
            exit::FAILED,
            format!("apply {shown}: {m}; nothing was changed"),
        )
    })?;
    let p = plan::plan(lab, &obs, &j, plan::Opts { adopt: o.adopt });
    refusals(&p, &shown, o.adopt)?;
    let objects = lab.namespaces.len() + lab.bridges.len() + lab.veths.len();
    let mut t = Tally::new("apply", &lab.name, objects);
    t.unchanged = p.unchanged;
    if o.dry_run {
        t.lines = p.actions.iter().map(|a| a.line()).collect();
        t.created = p.count(Kind::Create);
        t.changed = p.count(Kind::Change);
        t.removed = p.count(Kind::Remove);
        t.print(o.json, true);
        return Ok(exit::OK);
    }
    let was_empty = j.is_empty();
    let mut j = j;
    if !p.actions.is_empty() || j.file.is_none() {
        // A file read from standard input or a pipe has no path to record.
        j.file = super::file::recordable(path);
        j.applied = Some(now());
    }
    j.host = lab.share_name().map(str::to_string);
    let mut k = Real::new(&pl);
    let out = Exec::new(lab, &mut k, j, obs, t, false).run(p);
    finish(lab, &pl, out.t, out.res, was_empty, &shown, o.json)
}

/// What the lab needs of this machine before anything is read: nft for NAT, the qdiscs
/// of its shaped links.
fn tools(lab: &super::spec::Lab, shown: &std::path::Display) -> Result<(), LabError> {
    if !lab.nat.is_empty() && !nat::nft_available() {
        return Err(LabError::new(
            exit::MISSING_TOOL,
            format!("apply {shown}: the lab asks for NAT, which needs nft, and nft is not installed; install nftables (apt-get install nftables) and run apply again. Nothing was changed."),
        ));
    }
    if let Some(why) = super::shape::missing(lab) {
        return Err(LabError::new(
            exit::MISSING_TOOL,
            format!("apply {shown}: {why}. Nothing was changed."),
        ));
    }
    Ok(())
}

/// A plan that may not run: objects in the way, or foreign ones without `--adopt`.
fn refusals(p: &plan::Plan, shown: &std::path::Display, adopt: bool) -> Result<(), LabError> {
    if !p.conflicts.is_empty() {
        return Err(LabError::new(
            exit::REFUSED,
            format!(
                "apply {shown}: refusing: {}. Nothing was changed.",
                p.conflicts.join("; ")
            ),
        ));
    }
    if !p.foreign.is_empty() && !adopt {
        return Err(LabError::new(
            exit::REFUSED,
            format!(
                "apply {shown}: refusing to take over what nsctl did not create: {}; rename them in the file, remove them, or run apply --adopt to use them as they are (nsctl will never delete them). Nothing was changed.",
                p.foreign.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The run's outcome: the summary, or the failure with what was done about it (a lab that
/// did not exist before this run is rolled back whole).
fn finish(
    lab: &super::spec::Lab,
    pl: &Places,
    mut t: Tally,
    res: Result<(), LabError>,
    was_empty: bool,
    shown: &std::path::Display,
    json: bool,
) -> Result<i32, LabError> {
    match res {
        Ok(()) => {
            t.print(json, false);
            Ok(if t.failed > 0 { exit::FAILED } else { exit::OK })
        }
        Err(e) if was_empty && !pl.lost() => {
            let tail = match super::destroy::execute(pl, &lab.name, None, false) {
                Ok((u, _)) if u.failed == 0 => {
                    "everything this run created was removed again".to_string()
                }
                Ok((u, _)) => format!(
                    "and rolling back failed too: {}; run nsctl destroy {shown}",
                    u.lines.join("; ")
                ),
                Err(u) => format!(
                    "and rolling back failed too: {}; run nsctl destroy {shown}",
                    u.msg
                ),
            };
            t.fail(e.msg.clone());
            Err(LabError::new(
                e.code,
                format!("apply {shown}: {}; {tail}", e.msg),
            ))
        }
        Err(e) => {
            t.fail(e.msg.clone());
            t.lines.clear();
            t.print(json, false);
            Err(LabError::new(
                e.code,
                format!(
                    "apply {shown}: {}; run apply again to converge, or nsctl destroy {shown}",
                    e.msg
                ),
            ))
        }
    }
}
