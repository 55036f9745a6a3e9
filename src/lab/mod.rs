//! `nsctl apply|destroy|status`: whole labs from one TOML file (docs/topology.md). A run is
//! observe -> plan -> execute: the kernel and the journal are read (`observe.rs`), one pure
//! function turns the file, what exists and the journal into ordered actions (`plan.rs`),
//! and apply executes them (`execute.rs`), dry runs print them, status reports them and
//! destroy executes the plan of an empty lab. Who owns what is decided in `ownership.rs`.
//!
//! Files: `file.rs` the TOML as written, `spec.rs` the validated lab, `journal.rs` what nsctl
//! made, `shares.rs` host sysctls held by several labs, `places.rs` sockets and sysctls in
//! namespaces, `nat.rs` the nft table, `report.rs` summaries.

pub mod apply;
pub mod args;
pub mod check;
pub mod destroy;
pub mod error;
pub mod execute;
pub mod fanout;
pub mod file;
#[cfg(test)]
mod fixtures;
pub mod generate;
pub mod graph;
pub mod hosts;
pub mod hostsfile;
pub mod journal;
#[cfg(test)]
mod layers;
pub mod machines;
pub mod nat;
pub mod nftnames;
pub mod nodes;
pub mod observe;
#[cfg(test)]
mod observe_fake;
pub mod observed;
pub mod ownership;
pub mod places;
pub mod plan;
pub mod probe;
pub mod report;
pub mod session;
pub mod shape;
pub mod shares;
pub mod spec;
pub mod status;
pub mod survey;
pub mod test;
pub mod validate;

use args::{ApplyArgs, DestroyArgs, StatusArgs, TestArgs};
use error::{exit, LabError};
use session::all_hosts;

use crate::error::Ret;
use crate::output::err;

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

/// Large buffers (a big lab's plan, its tables) are given back to the kernel when freed.
/// glibc otherwise raises its mmap threshold to the size of the largest buffer freed so far,
/// and serves everything below it from a heap it rarely shrinks: a 10,000-namespace apply
/// then keeps the plan's freed vectors as resident memory while the journal grows.
fn fixed_mmap_threshold() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a malloc parameter; no allocation is in flight (one thread).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}

/// Run a lab verb (`apply`, `destroy`, `status`, `test`, `graph`) with its words as the
/// command tree parsed them. `json` is the global `-j`.
pub fn run(verb: &[u8], m: Result<clap::ArgMatches, clap::Error>, json: bool) -> Ret {
    fixed_mmap_threshold();
    let m = match m {
        Ok(m) => m,
        Err(e) => return parse_err(e),
    };
    let r = match verb {
        b"apply" => parsed::<ApplyArgs>(&m).map(|a| apply_verb(&a, json)),
        b"test" => parsed::<TestArgs>(&m).map(|a| test_verb(&a, json)),
        b"destroy" => parsed::<DestroyArgs>(&m).map(|a| destroy_verb(&a, json)),
        b"graph" => parsed::<args::GraphArgs>(&m).map(|a| graph::run(&a)),
        _ => parsed::<StatusArgs>(&m).map(|a| status_verb(&a, json)),
    };
    match r {
        Ok(r) => finish(r),
        Err(e) => parse_err(e),
    }
}

fn parsed<T: clap::FromArgMatches>(m: &clap::ArgMatches) -> Result<T, clap::Error> {
    T::from_arg_matches(m)
}

/// clap's own message (usage errors exit 2, `--help` exits 0).
fn parse_err(e: clap::Error) -> Ret {
    let _ = e.print();
    Ok(if e.use_stderr() { -exit::BAD_INPUT } else { 0 })
}

fn apply_verb(a: &ApplyArgs, json: bool) -> Result<i32, LabError> {
    let json = a.json || json;
    if a.all_hosts {
        let mut flags = Vec::new();
        if a.dry_run {
            flags.push("--dry-run");
        }
        if a.adopt {
            flags.push("--adopt");
        }
        return match all_hosts("apply", flags, &a.file, json) {
            Ok(exit::OK) if a.test => all_hosts("test", Vec::new(), &a.file, json),
            r => r,
        };
    }
    let o = apply::Opts {
        dry_run: a.dry_run,
        adopt: a.adopt,
        json,
    };
    let lab = session::load_share(&a.file, a.host.as_deref())?;
    match apply::run(&lab, &a.file, o) {
        Ok(exit::OK) if a.test => test::run(
            &lab,
            &a.file,
            &test::Opts {
                json,
                jobs: args::JOBS,
            },
        ),
        r => r,
    }
}

fn test_verb(a: &TestArgs, json: bool) -> Result<i32, LabError> {
    let json = a.json || json;
    if a.all_hosts {
        return all_hosts("test", Vec::new(), &a.file, json);
    }
    let lab = session::load_share(&a.file, a.host.as_deref())?;
    let o = test::Opts {
        json,
        jobs: a.jobs.into(),
    };
    test::run(&lab, &a.file, &o)
}

fn destroy_verb(a: &DestroyArgs, json: bool) -> Result<i32, LabError> {
    let json = a.json || json;
    if let (true, Some(f)) = (a.all_hosts, &a.file) {
        let flags = if a.dry_run {
            vec!["--dry-run"]
        } else {
            Vec::new()
        };
        return all_hosts("destroy", flags, f, json);
    }
    destroy::run(
        a.file.as_deref(),
        a.lab.as_deref(),
        a.host.as_deref(),
        a.dry_run,
        json,
    )
}

fn status_verb(a: &StatusArgs, json: bool) -> Result<i32, LabError> {
    let json = a.json || json;
    match &a.file {
        Some(f) if a.all_hosts => {
            let flags = if a.nodes { vec!["--nodes"] } else { Vec::new() };
            all_hosts("status", flags, f, json)
        }
        Some(f) if a.nodes => status::nodes(f, a.host.as_deref(), json),
        Some(f) => status::run(f, a.host.as_deref(), json),
        None => status::list(json),
    }
}
