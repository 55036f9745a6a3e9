//! `nsctl destroy FILE` or `nsctl destroy --lab NAME`: execute the plan of an empty lab, so
//! exactly what the journal says nsctl made is removed, and nothing else. Namespaces go with
//! everything in them; their veth ends elsewhere are waited for (and deleted if the kernel is
//! slow); whatever cannot be removed stays in the journal and fails the run.

use std::path::Path;

use super::error::{exit, LabError};
use super::execute::{Exec, Real};
use super::places::Places;
use super::plan::{self, Kind};
use super::report::Tally;
use super::spec::{valid_lab_name, Lab};

pub fn run(
    file: Option<&Path>,
    name: Option<&str>,
    host: Option<&str>,
    dry: bool,
    json: bool,
) -> Result<i32, LabError> {
    let (name, desired) = match (file, name) {
        (Some(f), _) => {
            let lab = super::session::load_share(f, host)?;
            let j = super::session::journal(&lab.name)?;
            super::session::same_share(&j, &lab, &format!("destroy {}", f.display()))?;
            (lab.name.clone(), Some(lab))
        }
        (None, Some(n)) if valid_lab_name(n) => (n.to_string(), None),
        (None, None) => return Err(no_lab_given()),
        (None, n) => {
            return Err(LabError::new(
                exit::BAD_INPUT,
                format!(
                    "destroy: \"{}\" is not a lab name (1-32 letters, digits, '-' or '_'); nsctl status lists the applied labs",
                    n.unwrap_or("").escape_debug()
                ),
            ))
        }
    };
    if file.is_none() {
        applied(&name)?;
    }
    // Without a journal there is nothing of the lab's to remove: nothing is locked or made
    // (a destroy of a lab that was never applied leaves /run as it was), and the plan is the
    // empty one a dry run would print.
    let nothing = !dry && !has_journal(&name)?;
    let _lock = if dry || nothing {
        None
    } else {
        Some(super::session::lock(&name)?)
    };
    let pl = Places::new()?;
    let (mut t, left) = execute(&pl, &name, desired.as_ref(), dry || nothing)?;
    for l in left {
        let how = if l.starts_with("netns ") && !l.contains('"') {
            "adopted, not created by nsctl"
        } else {
            "not created by nsctl"
        };
        t.lines.push(format!("left alone ({how}): {l}"));
    }
    t.print(json, dry);
    Ok(if t.failed > 0 { exit::FAILED } else { exit::OK })
}

/// `destroy` with neither a file nor `--lab` (clap leaves the file optional so that this,
/// and not its generic "required arguments" text, is what the user reads).
fn no_lab_given() -> LabError {
    LabError::new(
        exit::BAD_INPUT,
        "destroy: which lab? give the lab file, or --lab NAME for a lab applied without its file (nsctl status lists the applied labs)",
    )
}

/// `--lab NAME` names a lab applied on this machine, or a one-line error (exit 2) that lists
/// the applied ones: a mistyped name must not pass for a lab already destroyed.
fn applied(name: &str) -> Result<(), LabError> {
    if has_journal(name)? {
        return Ok(());
    }
    let labs = super::journal::labs().unwrap_or_default();
    let which = if labs.is_empty() {
        "no lab is applied".to_string()
    } else {
        format!("the applied labs are {}", labs.join(", "))
    };
    Err(LabError::new(
        exit::BAD_INPUT,
        format!("destroy --lab {name}: no lab of that name is applied on this machine ({which}). Nothing was changed."),
    ))
}

/// The lab to observe for `destroy FILE`: without nft, a NAT table the journal does not hold
/// is left out (there is none of the lab's to remove, and nft is needed only to remove one),
/// so a lab that was never applied is "nothing to do" on a machine without nft.
fn observable<'a>(lab: &'a Lab, j: &super::journal::Journal) -> std::borrow::Cow<'a, Lab> {
    let table = super::journal::Owned::NftTable {
        family: "ip".into(),
        name: super::nat::table_name(&lab.name),
    };
    if lab.nat.is_empty() || super::nat::nft_available() || j.owns(&table) {
        return std::borrow::Cow::Borrowed(lab);
    }
    std::borrow::Cow::Owned(Lab {
        nat: Vec::new(),
        ..lab.clone()
    })
}

/// The lab's journal holds its NAT table and nft is not installed: nothing can be removed
/// in order (the table goes with the rest), so nothing is, and the exit is 4 (a missing tool).
fn nft_for_the_table(name: &str, j: &super::journal::Journal) -> Result<(), LabError> {
    let table = super::journal::Owned::NftTable {
        family: "ip".into(),
        name: super::nat::table_name(name),
    };
    if !j.owns(&table) || super::nat::nft_available() {
        return Ok(());
    }
    Err(LabError::new(
        exit::MISSING_TOOL,
        format!("destroy {name}: the lab's NAT table is removed with nft, and nft is not installed; install nftables (apt-get install nftables) and run destroy again. Nothing was removed."),
    ))
}

/// Whether lab `name` has a journal, or a one-line error.
fn has_journal(name: &str) -> Result<bool, LabError> {
    super::session::need_root()?;
    super::journal::exists(name).map_err(|e| {
        LabError::new(
            exit::FAILED,
            format!(
                "cannot read the journal of lab {name} in {}: {}",
                super::journal::DIR,
                super::error::describe(&e)
            ),
        )
    })
}

/// Remove everything journaled for lab `name` (only plan it when `dry`). With the lab's
/// file (`desired`), also say which objects it names exist but are not nsctl's.
pub fn execute(
    pl: &Places,
    name: &str,
    desired: Option<&Lab>,
    dry: bool,
) -> Result<(Tally, Vec<String>), LabError> {
    let j = super::session::journal(name)?;
    let empty = Lab {
        name: name.to_string(),
        ..Default::default()
    };
    nft_for_the_table(name, &j)?;
    let desired = desired.map(|lab| observable(lab, &j));
    let desired = desired.as_deref();
    let obs = super::observe::observe(desired.unwrap_or(&empty), &j, true).map_err(|m| {
        LabError::new(
            exit::FAILED,
            format!("destroy {name}: {m}; nothing was removed"),
        )
    })?;
    let p = plan::plan(&empty, &obs, &j, plan::Opts { adopt: false });
    let left = desired
        .map(|lab| plan::plan(lab, &obs, &j, plan::Opts { adopt: false }).strangers)
        .unwrap_or_default();
    let mut left = left;
    for o in &j.objects {
        if let super::journal::Owned::AdoptedNetns { name } = o {
            left.push(format!("netns {name}"));
        }
    }
    let mut t = Tally::new("destroy", name, j.objects.len());
    if dry {
        t.lines = p.actions.iter().map(|a| a.line()).collect();
        t.removed = p.count(Kind::Remove);
        return Ok((t, left));
    }
    let mut k = Real::new(pl);
    let out = Exec::new(&empty, &mut k, j, obs, t, true).run(p);
    let mut t = out.t;
    if let Err(e) = out.res {
        t.fail(e.msg);
    }
    Ok((t, left))
}
