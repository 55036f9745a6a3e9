//! `nsctl apply|destroy|status FILE`: whole labs from one TOML file (docs/topology.md),
//! converged on every run, crash-safe through a journal, and never touching objects nsctl
//! did not create.
//!
//! Exit codes (nsctl's own convention, docs/topology.md): 0 done (status: converged),
//! 1 a change failed (status: not converged), 2 bad command line or lab file,
//! 3 refused: objects nsctl did not create are in the way, 4 a required tool is missing.

pub mod apply;
pub mod configure;
pub mod destroy;
pub mod model;
pub mod nat;
pub mod observe;
pub mod places;
pub mod report;
pub mod spec;
pub mod state;
pub mod status;

use clap::Parser;

use crate::error::Ret;
use crate::output::err;

/// A failure of a lab command: one line, and the exit code.
#[derive(Debug)]
pub struct LabError {
    pub code: i32,
    pub msg: String,
}

impl LabError {
    pub fn new(code: i32, msg: impl Into<String>) -> LabError {
        LabError {
            code,
            msg: msg.into(),
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "nsctl apply",
    about = "Build or converge the lab a TOML file describes"
)]
struct ApplyArgs {
    /// Print the plan without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Use existing objects nsctl did not create (they are never deleted).
    #[arg(long)]
    adopt: bool,
    /// Print the summary as JSON.
    #[arg(short, long)]
    json: bool,
    file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(
    name = "nsctl destroy",
    about = "Remove everything nsctl created for a lab, and nothing else"
)]
struct DestroyArgs {
    #[arg(long)]
    dry_run: bool,
    #[arg(short, long)]
    json: bool,
    file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(
    name = "nsctl status",
    about = "Say per object whether it is present, missing or different"
)]
struct StatusArgs {
    #[arg(short, long)]
    json: bool,
    file: std::path::PathBuf,
}

/// The lab commands are whole words (no abbreviations), so they never shadow a netns verb.
pub fn is_lab_command(word: &[u8]) -> bool {
    matches!(word, b"apply" | b"destroy" | b"status")
}

/// Take the lab's lock, or a one-line error.
pub fn lock(lab: &str) -> Result<std::fs::File, LabError> {
    state::lock(lab).map_err(|e| {
        LabError::new(
            1,
            format!(
                "cannot lock lab {lab} in {}: {}",
                state::DIR,
                crate::error::io_errstr(&e)
            ),
        )
    })
}

/// The journal of a lab, or a one-line error.
pub fn journal(lab: &str) -> Result<state::Journal, LabError> {
    state::Journal::load(lab).map_err(|e| {
        LabError::new(
            1,
            format!(
                "cannot read the journal of lab {lab} in {}: {}",
                state::DIR,
                crate::error::io_errstr(&e)
            ),
        )
    })
}

/// Load and check a lab file; every problem is reported as FILE:LINE:COL: message.
pub fn load(path: &std::path::Path) -> Result<spec::Lab, LabError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        LabError::new(
            2,
            format!(
                "{shown}: cannot read the lab file: {}",
                crate::error::io_errstr(&e)
            ),
        )
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let at = |p: &model::Problem| {
        let (l, c) = model::line_col(&text, p.at);
        format!("{shown}:{l}:{c}: {}", p.msg)
    };
    let file = model::parse(&text).map_err(|p| LabError::new(2, at(&p)))?;
    spec::build(file, &stem)
        .map_err(|ps| LabError::new(2, ps.iter().map(at).collect::<Vec<_>>().join("\n")))
}

fn words(args: &[Vec<u8>], verb: &str) -> Vec<std::ffi::OsString> {
    use std::os::unix::ffi::OsStringExt;
    std::iter::once(std::ffi::OsString::from(format!("nsctl {verb}")))
        .chain(args.iter().map(|a| std::ffi::OsString::from_vec(a.clone())))
        .collect()
}

/// A lab command's result as a handler value (`-code`), so that inside a batch a failing
/// lab line prints `Command failed` and honours `-force` like any other line.
fn finish(r: Result<i32, LabError>) -> Ret {
    match r {
        Ok(code) => Ok(-code),
        Err(e) => {
            let mut m = e.msg;
            m.push('\n');
            err(m.as_bytes());
            Ok(-e.code)
        }
    }
}

/// Run `apply`, `destroy` or `status` with the words after it. `json` is the global `-j`.
pub fn run(verb: &[u8], args: &[Vec<u8>], json: bool) -> Ret {
    let parse_err = |e: clap::Error| {
        let _ = e.print();
        Ok(if e.use_stderr() { -2 } else { 0 })
    };
    match verb {
        b"apply" => match ApplyArgs::try_parse_from(words(args, "apply")) {
            Ok(a) => finish(apply::run(
                &a.file,
                apply::Opts {
                    dry_run: a.dry_run,
                    adopt: a.adopt,
                    json: a.json || json,
                },
            )),
            Err(e) => parse_err(e),
        },
        b"destroy" => match DestroyArgs::try_parse_from(words(args, "destroy")) {
            Ok(a) => finish(destroy::run(&a.file, a.dry_run, a.json || json)),
            Err(e) => parse_err(e),
        },
        _ => match StatusArgs::try_parse_from(words(args, "status")) {
            Ok(a) => finish(status::run(&a.file, a.json || json)),
            Err(e) => parse_err(e),
        },
    }
}
