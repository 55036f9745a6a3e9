//! What every lab verb does before it plans: load and check the lab file (this machine's
//! share of it), take the lab's lock, read its journal, and refuse a run for another share or
//! without root. The verbs build on this; nothing below them imports it.

use super::error::{describe, exit, LabError};
use super::{fanout, file, generate, journal, machines, observe, spec, validate};

/// The lab of `path` as this machine builds it: the whole lab, or for a lab across hosts
/// the share of the machine `host` names, or else of the machine whose underlay address is
/// configured here (machines.rs).
pub fn load_share(path: &std::path::Path, host: Option<&str>) -> Result<spec::Lab, LabError> {
    load_share_from(path, host, true)
}

/// [`load_share`]; `streams` false for a path recorded in a journal (a pipe there is refused).
pub fn load_share_from(
    path: &std::path::Path,
    host: Option<&str>,
    streams: bool,
) -> Result<spec::Lab, LabError> {
    let lab = load_with(path, streams)?.1;
    let shown = path.display();
    let bad = |m: String| LabError::new(exit::BAD_INPUT, format!("{shown}: {m}"));
    if lab.machines.is_empty() {
        return match host {
            Some(h) => Err(bad(format!(
                "--host {h}, but the file names no hosts ([hosts.NAME] tables)"
            ))),
            None => Ok(lab),
        };
    }
    let m = match host {
        Some(h) => match lab.machines.iter().position(|m| m.name == h) {
            Some(k) => k as u16,
            None => {
                return Err(bad(format!(
                    "--host {h} is not one of the file's hosts ({})",
                    lab.machines
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        },
        None => {
            let here = observe::local_addresses()
                .map_err(|m| LabError::new(exit::FAILED, format!("{shown}: {m}")))?;
            machines::pick(&lab.machines, &here).map_err(bad)?
        }
    };
    Ok(machines::share(&lab, m))
}

/// `VERB --all-hosts FILE`: the command on every machine of a lab across hosts (fanout.rs).
pub fn all_hosts(
    verb: &'static str,
    flags: Vec<&'static str>,
    path: &std::path::Path,
    json: bool,
) -> Result<i32, LabError> {
    let (text, lab) = load_with_text(path)?;
    if lab.machines.is_empty() {
        return Err(LabError::new(
            exit::BAD_INPUT,
            format!(
                "{}: --all-hosts, but the file names no hosts ([hosts.NAME] tables)",
                path.display()
            ),
        ));
    }
    fanout::run(&fanout::Fanout {
        verb,
        flags,
        lab: &lab.name,
        machines: &lab.machines,
        text: &text,
        json,
    })
}

/// A journal holds one machine's share of a lab (or the whole lab of one machine): a run
/// for another share is refused before anything changes.
pub fn same_share(j: &journal::Journal, lab: &spec::Lab, what: &str) -> Result<(), LabError> {
    let want = lab.share_name();
    if j.is_empty() || j.host.as_deref() == want {
        return Ok(());
    }
    let held = match &j.host {
        Some(h) => format!("host {h}'s share"),
        None => "a lab of one machine".to_string(),
    };
    let asked = match want {
        Some(h) => format!("host {h}'s share"),
        None => "a lab of one machine".to_string(),
    };
    Err(LabError::new(
        exit::REFUSED,
        format!(
            "{what}: lab {} on this machine is {held}, and this run is for {asked}; run nsctl destroy --lab {} here first. Nothing was changed.",
            lab.name, lab.name
        ),
    ))
}

/// The lab verbs (but `graph` without `--live` and `--all-hosts`, which only run ssh) need
/// root: they enter and change network namespaces, and their journal in /run/nsctl is root's
/// alone. A user who is not root is told so in one line (exit 1) once the lab file is
/// checked (a file's mistakes are worth knowing without root) and before the journal or the
/// system is touched, instead of a "Permission denied" or an ownership complaint about
/// /run/nsctl.
pub fn need_root() -> Result<(), LabError> {
    let me = nix::unistd::geteuid();
    if me.is_root() {
        return Ok(());
    }
    Err(LabError::new(
        exit::FAILED,
        format!(
            "nsctl's lab commands need root (they change network namespaces and keep their journal in {}, which is root's alone), and this is uid {me}: run it as root, for example with sudo",
            journal::TOP
        ),
    ))
}

/// Take the lab's lock, or a one-line error. Only a verb that will write takes it: it makes
/// /run/nsctl and /run/nsctl/labs.
pub fn lock(lab: &str) -> Result<std::fs::File, LabError> {
    need_root()?;
    journal::lock(lab).map_err(|e| {
        LabError::new(
            exit::FAILED,
            format!(
                "cannot lock lab {lab} in {}: {}",
                journal::DIR,
                describe(&e)
            ),
        )
    })
}

/// The journal of a lab (empty when there is none), or a one-line error. Makes nothing.
pub fn journal(lab: &str) -> Result<journal::Journal, LabError> {
    need_root()?;
    journal::Journal::load(lab).map_err(|e| {
        LabError::new(
            exit::FAILED,
            format!(
                "cannot read the journal of lab {lab} in {}: {}",
                journal::DIR,
                describe(&e)
            ),
        )
    })
}

/// The journals of every other lab applied on this machine, for the ownership rule (a
/// journal that cannot be read is left out: it is that lab's problem, reported by its own
/// verbs, and says nothing of what this lab may use).
pub fn other_labs(lab: &str) -> Vec<journal::Journal> {
    journal::labs()
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n != lab)
        .filter_map(|n| journal::Journal::load(&n).ok())
        .collect()
}

/// Refuse (exit 3, nothing changed) when the lab's file names what another applied lab
/// made: `what` is the run (`apply lab.toml`).
pub fn not_another_labs(lab: &spec::Lab, what: &str) -> Result<(), LabError> {
    let claims = super::ownership::claims(lab, &other_labs(&lab.name));
    if claims.is_empty() {
        return Ok(());
    }
    Err(LabError::new(
        exit::REFUSED,
        format!(
            "{what}: refusing: {}. Nothing was changed.",
            super::ownership::claims_message(&claims)
        ),
    ))
}

/// Load and check a lab file; every problem is reported as FILE:LINE:COL: message.
pub fn load(path: &std::path::Path) -> Result<spec::Lab, LabError> {
    load_with(path, true).map(|(_, lab)| lab)
}

/// [`load`], with the file's text (which `--all-hosts` sends to every machine).
pub fn load_with_text(path: &std::path::Path) -> Result<(String, spec::Lab), LabError> {
    load_with(path, true)
}

/// [`load_with_text`]; `streams`: whether a pipe is read ([`file::read`]).
fn load_with(path: &std::path::Path, streams: bool) -> Result<(String, spec::Lab), LabError> {
    let shown = path.display().to_string();
    let bad = |m: String| LabError::new(exit::BAD_INPUT, m);
    let file::Text { text, stream } = match file::read(path, streams) {
        Ok(t) => t,
        Err(Err(why)) => return Err(bad(format!("{shown}: cannot read the lab file: {why}"))),
        Err(Ok((p, bytes))) => {
            // Not UTF-8: the position is in the bytes.
            let (l, c) = file::line_col(&bytes, p.at);
            return Err(bad(format!("{shown}:{l}:{c}: {}", p.msg)));
        }
    };
    // A file read from standard input or a pipe (`<(...)`, /dev/fd/63) has no name to
    // default the lab's to: its descriptor's number would name a lab the next run cannot find.
    let stem = if stream {
        String::new()
    } else {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let piped = stream && !file::is_stdin(path);
    let at = |p: &file::Problem| {
        let (l, c) = file::line_col(text.as_bytes(), p.at);
        format!("{shown}:{l}:{c}: {}", p.msg)
    };
    // Syntax errors stop here (there is no file to check); unknown keys are reported with
    // everything the checks find in the rest.
    let (mut problems, syntax) = file::precheck(&text);
    let report = |ps: &mut Vec<file::Problem>| {
        ps.sort_by_key(|p| p.at);
        bad(ps.iter().map(at).collect::<Vec<_>>().join("\n"))
    };
    if syntax {
        return Err(report(&mut problems));
    }
    let f = match file::parse(&text) {
        Ok(f) => f,
        Err(p) => {
            problems.push(p);
            return Err(report(&mut problems));
        }
    };
    // spec.rs words the missing name for standard input; a pipe is said as such (the checks
    // below then get a stand-in name, which never leaves this function: the run stops here).
    let stem = if piped && f.name.is_none() {
        problems.push(file::Problem {
            at: 0,
            msg: "a lab file read from a pipe needs name = \"...\": a pipe has no file name to give the lab its name; add name = \"...\" at the top".into(),
        });
        "pipe".to_string()
    } else {
        stem
    };
    let (f, instances) = match generate::expand(f) {
        Ok(x) => x,
        Err(ps) => {
            problems.extend(ps);
            return Err(report(&mut problems));
        }
    };
    match validate::build_generated(f, &instances, &stem, true) {
        Ok(lab) if problems.is_empty() => Ok((text, lab)),
        Ok(_) => Err(report(&mut problems)),
        Err(ps) => {
            problems.extend(ps);
            Err(report(&mut problems))
        }
    }
}
