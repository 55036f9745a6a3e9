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
pub mod check;
pub mod destroy;
pub mod execute;
pub mod fanout;
pub mod file;
pub mod generate;
pub mod graph;
pub mod hosts;
pub mod journal;
pub mod machines;
pub mod nat;
pub mod observe;
pub mod ownership;
pub mod places;
pub mod plan;
pub mod probe;
pub mod report;
pub mod shape;
pub mod shares;
pub mod spec;
pub mod status;
pub mod survey;
pub mod test;

use clap::{CommandFactory, Parser};

use crate::error::Ret;
use crate::output::err;

/// nsctl's exit codes for the lab commands (docs/topology.md).
pub mod exit {
    /// Done; for status: the lab is converged.
    pub const OK: i32 = 0;
    /// A change failed; for status: the lab is not converged.
    pub const FAILED: i32 = 1;
    /// Bad command line or lab file: nothing was changed.
    pub const BAD_INPUT: i32 = 2;
    /// Refused: objects nsctl did not create are in the way; nothing was changed.
    pub const REFUSED: i32 = 3;
    /// A required tool is missing (nft for NAT): nothing was changed.
    pub const MISSING_TOOL: i32 = 4;
}

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

/// A failure in nsctl's own words is a failed change unless said otherwise.
impl From<places::Fail> for LabError {
    fn from(msg: places::Fail) -> LabError {
        LabError::new(exit::FAILED, msg)
    }
}

/// An I/O error's reason: strerror text, or the error's own words (never "Success").
pub fn describe(e: &std::io::Error) -> String {
    crate::error::io_errstr(e)
}

// The lab verbs' arguments. Their names and help live in the command tree (src/tree.rs),
// which takes these definitions as its subcommands and parses them.

#[derive(Parser, Debug)]
#[command(name = "apply")]
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
    /// Then run the lab's reachability checks (as nsctl test does).
    #[arg(long, conflicts_with = "dry_run")]
    test: bool,
    /// Build this host's share of a lab across hosts (default: the host whose underlay
    /// address is configured here).
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Apply on every host of the file at once, over ssh (each host builds its share).
    #[arg(long, conflicts_with = "host")]
    all_hosts: bool,
    /// The lab file; - reads it from standard input.
    file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(name = "test")]
struct TestArgs {
    /// Print the results as JSON.
    #[arg(short, long)]
    json: bool,
    /// Run at most N checks at once.
    #[arg(long, value_name = "N", default_value_t = test::JOBS as u16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    jobs: u16,
    /// Run the checks that start on this host of a lab across hosts.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    /// Run every host's checks, each on its host, over ssh.
    #[arg(long, conflicts_with = "host")]
    all_hosts: bool,
    /// The lab file; - reads it from standard input.
    file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(name = "destroy")]
struct DestroyArgs {
    /// Print the plan without changing anything.
    #[arg(long)]
    dry_run: bool,
    /// Print the summary as JSON.
    #[arg(short, long)]
    json: bool,
    /// The lab by its name alone (see `nsctl status`), instead of its file.
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    lab: Option<String>,
    /// This host's share of a lab across hosts (default: the host whose underlay address is
    /// configured here).
    #[arg(long, value_name = "NAME", conflicts_with = "lab")]
    host: Option<String>,
    /// Destroy every host's share, over ssh.
    #[arg(long, conflicts_with_all = ["host", "lab"])]
    all_hosts: bool,
    /// The lab file; - reads it from standard input.
    #[arg(required_unless_present = "lab")]
    file: Option<std::path::PathBuf>,
}

#[derive(Parser, Debug)]
#[command(name = "status")]
struct StatusArgs {
    /// Print the report as JSON.
    #[arg(short, long)]
    json: bool,
    /// This host's share of a lab across hosts (default: the host whose underlay address is
    /// configured here).
    #[arg(long, value_name = "NAME", requires = "file")]
    host: Option<String>,
    /// The status of every host's share, over ssh.
    #[arg(long, conflicts_with = "host", requires = "file")]
    all_hosts: bool,
    /// The lab file; - reads it from standard input.
    file: Option<std::path::PathBuf>,
}

/// The picture formats of `nsctl graph`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Dot,
    Mermaid,
    Svg,
}

#[derive(Parser, Debug)]
#[command(name = "graph")]
struct GraphArgs {
    /// dot (Graphviz), mermaid (for READMEs and issues) or svg (drawn by nsctl).
    #[arg(long, value_enum, default_value = "dot")]
    format: Format,
    /// Mark each object present, missing or different, as the lab is now.
    #[arg(long)]
    live: bool,
    file: std::path::PathBuf,
}

/// `test`'s subcommand for the tree.
pub fn test_command() -> clap::Command {
    TestArgs::command()
}

/// `graph`'s subcommand for the tree.
pub fn graph_command() -> clap::Command {
    GraphArgs::command()
}

/// `nsctl graph`: the lab file's topology (and with `--live`, its state) as a picture.
fn graph(a: &GraphArgs) -> Result<i32, LabError> {
    let lab = load(&a.file)?;
    let plan = if a.live {
        let j = journal(&lab.name)?;
        let obs = observe::observe(&lab, &j, false)?;
        Some(plan::plan(&lab, &obs, &j, plan::Opts { adopt: false }))
    } else {
        None
    };
    let g = graph::build(&lab, plan.as_ref());
    let text = match a.format {
        Format::Dot => graph::dot(&g),
        Format::Mermaid => graph::mermaid(&g),
        Format::Svg => graph::svg(&g),
    };
    crate::output::out(text.as_bytes());
    Ok(exit::OK)
}

/// `apply`'s subcommand for the tree.
pub fn apply_command() -> clap::Command {
    ApplyArgs::command()
}

/// `destroy`'s subcommand for the tree.
pub fn destroy_command() -> clap::Command {
    DestroyArgs::command()
}

/// `status`'s subcommand for the tree.
pub fn status_command() -> clap::Command {
    StatusArgs::command()
}

/// Parse a lab verb's words with its subcommand in the tree.
fn parse<T: clap::FromArgMatches>(verb: &str, args: &[Vec<u8>]) -> Result<T, clap::Error> {
    let cmd = crate::tree::get()
        .find_subcommand(verb)
        .cloned()
        .unwrap_or_else(|| clap::Command::new("nsctl"));
    let m = cmd.try_get_matches_from(words(args, verb))?;
    T::from_arg_matches(&m)
}

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
fn all_hosts(
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
    match spec::build_generated(f, &instances, &stem, true) {
        Ok(lab) if problems.is_empty() => Ok((text, lab)),
        Ok(_) => Err(report(&mut problems)),
        Err(ps) => {
            problems.extend(ps);
            Err(report(&mut problems))
        }
    }
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

/// Run `apply`, `destroy` or `status` with the words after it. `json` is the global `-j`.
pub fn run(verb: &[u8], args: &[Vec<u8>], json: bool) -> Ret {
    fixed_mmap_threshold();
    let parse_err = |e: clap::Error| {
        let _ = e.print();
        Ok(if e.use_stderr() { -exit::BAD_INPUT } else { 0 })
    };
    match verb {
        b"apply" => match parse::<ApplyArgs>("apply", args) {
            Ok(a) => {
                if a.all_hosts {
                    let mut flags = Vec::new();
                    if a.dry_run {
                        flags.push("--dry-run");
                    }
                    if a.adopt {
                        flags.push("--adopt");
                    }
                    let j = a.json || json;
                    return finish(match all_hosts("apply", flags, &a.file, j) {
                        Ok(exit::OK) if a.test => all_hosts("test", Vec::new(), &a.file, j),
                        r => r,
                    });
                }
                let o = apply::Opts {
                    dry_run: a.dry_run,
                    adopt: a.adopt,
                    json: a.json || json,
                };
                let lab = match load_share(&a.file, a.host.as_deref()) {
                    Ok(l) => l,
                    Err(e) => return finish(Err(e)),
                };
                let r = apply::run(&lab, &a.file, o);
                finish(match r {
                    Ok(exit::OK) if a.test => test::run(
                        &lab,
                        &a.file,
                        &test::Opts {
                            json: a.json || json,
                            jobs: test::JOBS,
                        },
                    ),
                    r => r,
                })
            }
            Err(e) => parse_err(e),
        },
        b"test" => match parse::<TestArgs>("test", args) {
            Ok(a) if a.all_hosts => finish(all_hosts("test", Vec::new(), &a.file, a.json || json)),
            Ok(a) => finish(load_share(&a.file, a.host.as_deref()).and_then(|lab| {
                test::run(
                    &lab,
                    &a.file,
                    &test::Opts {
                        json: a.json || json,
                        jobs: a.jobs.into(),
                    },
                )
            })),
            Err(e) => parse_err(e),
        },
        b"destroy" => match parse::<DestroyArgs>("destroy", args) {
            Ok(DestroyArgs {
                all_hosts: true,
                file: Some(f),
                dry_run,
                json: j,
                ..
            }) => {
                let flags = if dry_run {
                    vec!["--dry-run"]
                } else {
                    Vec::new()
                };
                finish(all_hosts("destroy", flags, &f, j || json))
            }
            Ok(a) => finish(destroy::run(
                a.file.as_deref(),
                a.lab.as_deref(),
                a.host.as_deref(),
                a.dry_run,
                a.json || json,
            )),
            Err(e) => parse_err(e),
        },
        b"graph" => match parse::<GraphArgs>("graph", args) {
            Ok(a) => finish(graph(&a)),
            Err(e) => parse_err(e),
        },
        _ => match parse::<StatusArgs>("status", args) {
            Ok(a) => finish(match &a.file {
                Some(f) if a.all_hosts => all_hosts("status", Vec::new(), f, a.json || json),
                Some(f) => status::run(f, a.host.as_deref(), a.json || json),
                None => status::list(a.json || json),
            }),
            Err(e) => parse_err(e),
        },
    }
}
