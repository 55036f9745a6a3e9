//! `nsctl status FILE [-j]`: the plan apply would carry out, as a diff (exit 0 exactly when
//! it is empty and nothing is in the way); `nsctl status --nodes FILE` the lab node by node
//! (nodes.rs); `nsctl status` alone lists the applied labs from their journals.

use std::path::Path;

use super::error::{exit, LabError};
use super::plan::{self, Plan};
use crate::json::{Array, Val};
use crate::output::out;

/// Observe and plan `path`'s lab, read-only: nothing is made, not even /run/nsctl.
/// `recorded`: the path comes from a journal, not the user (a pipe there is refused).
fn plan_of(
    path: &Path,
    host: Option<&str>,
    recorded: bool,
) -> Result<(super::spec::Lab, Plan), LabError> {
    let lab = super::session::load_share_from(path, host, !recorded)?;
    let j = super::session::journal(&lab.name)?;
    super::session::same_share(&j, &lab, &format!("status {}", path.display()))?;
    let obs = super::observe::observe(&lab, &j, false)?;
    let p = plan::plan(&lab, &obs, &j, plan::Opts { adopt: false });
    Ok((lab, p))
}

pub fn run(path: &Path, host: Option<&str>, json: bool) -> Result<i32, LabError> {
    let (lab, p) = plan_of(path, host, false)?;
    if json {
        let mut a = Array::new(false);
        let w = a.writer();
        w.start_object();
        w.field("lab", Val::Str(lab.name.as_bytes()));
        w.field("converged", Val::Bool(p.converged()));
        w.field("unchanged", Val::Int(p.unchanged as i64));
        let lines: Vec<String> = p.actions.iter().map(|a| a.line()).collect();
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        w.str_array("changes", &refs);
        let refs: Vec<&str> = p.foreign.iter().map(|s| s.as_str()).collect();
        w.str_array("foreign", &refs);
        let refs: Vec<&str> = p.conflicts.iter().map(|s| s.as_str()).collect();
        w.str_array("conflicts", &refs);
        w.end_object();
        let s = a.finish();
        out(&s[1..s.len() - 2]);
        out(b"\n");
    } else {
        let mut text = String::new();
        for a in &p.actions {
            text += &a.line();
            text.push('\n');
        }
        for f in &p.foreign {
            text += &format!("present, not created by nsctl: {f}\n");
        }
        for c in &p.conflicts {
            text += &format!("in the way: {c}\n");
        }
        if p.converged() {
            text += &format!("status {}: converged\n", lab.name);
        } else {
            text += &format!(
                "status {}: not converged: {} to do, {} in the way ({} unchanged)\n",
                lab.name,
                p.actions.len(),
                p.foreign.len() + p.conflicts.len(),
                p.unchanged
            );
        }
        out(text.as_bytes());
    }
    Ok(if p.converged() {
        exit::OK
    } else {
        exit::FAILED
    })
}

/// `nsctl status --nodes FILE`: the lab node by node (nodes.rs), from the same observation
/// as [`run`]; exit 0 exactly when every namespace and interface is as the file says.
pub fn nodes(path: &Path, host: Option<&str>, json: bool) -> Result<i32, LabError> {
    let lab = super::session::load_share_from(path, host, true)?;
    let j = super::session::journal(&lab.name)?;
    super::session::same_share(&j, &lab, &format!("status --nodes {}", path.display()))?;
    let obs = super::observe::observe(&lab, &j, false)?;
    drop(j);
    let nodes = super::nodes::nodes(&lab, &obs);
    drop(obs);
    let ok = nodes.iter().all(super::nodes::Node::ok);
    if json {
        out(&super::nodes::json(&lab, &nodes, ok));
    } else {
        out(super::nodes::table(&nodes).as_bytes());
    }
    Ok(if ok { exit::OK } else { exit::FAILED })
}

/// `2026-11-30 05:20:01` (UTC) for seconds since the epoch.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

struct Row {
    lab: String,
    objects: usize,
    applied: String,
    state: String,
    file: String,
}

/// Every lab with a journal: name, objects, when applied, converged or not, its file.
pub fn list(json: bool) -> Result<i32, LabError> {
    super::session::need_root()?;
    let names = super::journal::labs().map_err(|e| {
        LabError::new(
            exit::FAILED,
            format!(
                "cannot list {}: {}",
                super::journal::DIR,
                super::error::describe(&e)
            ),
        )
    })?;
    let mut rows = Vec::new();
    let mut all = true;
    for n in names {
        let mut j = match super::session::journal(&n) {
            Ok(j) => j,
            Err(e) => {
                // One damaged journal does not hide the other labs.
                all = false;
                rows.push(Row {
                    lab: n,
                    objects: 0,
                    applied: String::new(),
                    state: format!("unknown ({})", e.msg),
                    file: String::new(),
                });
                continue;
            }
        };
        // Only what the table shows is kept: planning loads the journal again, and a large
        // one is not held twice.
        let (objects, applied) = (j.objects.len(), j.applied);
        let (file, host) = (j.file.take(), j.host.take());
        drop(j);
        let state = match &file {
            None => "unknown (no file recorded)".to_string(),
            Some(f) => match plan_of(Path::new(f), host.as_deref(), true) {
                Ok((lab, _)) if lab.name != n => {
                    format!("unknown ({f} now describes lab {})", lab.name)
                }
                Ok((_, p)) if p.converged() => "converged".into(),
                Ok((_, p)) => format!(
                    "not converged ({} to do, {} in the way)",
                    p.actions.len(),
                    p.foreign.len() + p.conflicts.len()
                ),
                Err(e) => format!("unknown ({})", e.msg.lines().next().unwrap_or_default()),
            },
        };
        all &= state == "converged";
        rows.push(Row {
            lab: n,
            objects,
            applied: applied.map(utc).unwrap_or_default(),
            state,
            file: file.unwrap_or_default(),
        });
    }
    if json {
        let mut a = Array::new(false);
        for r in &rows {
            a.object(&[
                ("lab", Val::Str(r.lab.as_bytes())),
                ("objects", Val::Int(r.objects as i64)),
                ("applied", Val::Str(r.applied.as_bytes())),
                ("state", Val::Str(r.state.as_bytes())),
                ("file", Val::Str(r.file.as_bytes())),
            ]);
        }
        out(&a.finish());
    } else if rows.is_empty() {
        out(b"no labs are applied\n");
    } else {
        let w = rows.iter().map(|r| r.lab.len()).max().unwrap_or(3).max(3);
        let mut text = format!(
            "{:<w$}  {:>7}  {:<19}  {}\n",
            "LAB", "OBJECTS", "APPLIED (UTC)", "STATE / FILE"
        );
        for r in &rows {
            text += &format!(
                "{:<w$}  {:>7}  {:<19}  {}  {}\n",
                r.lab, r.objects, r.applied, r.state, r.file
            );
        }
        out(text.as_bytes());
    }
    Ok(if all { exit::OK } else { exit::FAILED })
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_796_014_801), "2026-11-30 05:00:01");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00");
    }
}
