//! The lab verbs' command lines: apply, destroy, status, test and graph, as clap
//! definitions. The command tree (src/tree.rs) takes these as its subcommands, so help, the
//! manual and completions come from them; the front end parses a verb's words with its
//! subcommand in the tree and hands the matches to the lab's `run`. This file is the only
//! one of the lab's that the tree imports, and it imports nothing of the lab's.

use clap::{CommandFactory, Parser};

/// The default bound on checks in flight.
pub const JOBS: usize = 32;

#[derive(Parser, Debug)]
#[command(name = "apply")]
pub struct ApplyArgs {
    /// Print the plan without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Use existing objects nsctl did not create (they are never deleted).
    #[arg(long)]
    pub adopt: bool,
    /// Print the summary as JSON.
    #[arg(short, long)]
    pub json: bool,
    /// Then run the lab's reachability checks (as nsctl test does).
    #[arg(long, conflicts_with = "dry_run")]
    pub test: bool,
    /// Build this host's share of a lab across hosts (default: the host whose underlay
    /// address is configured here).
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Apply on every host of the file at once, over ssh (each host builds its share).
    #[arg(long, conflicts_with = "host")]
    pub all_hosts: bool,
    /// The lab file; - reads it from standard input.
    pub file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(name = "test")]
pub struct TestArgs {
    /// Print the results as JSON.
    #[arg(short, long)]
    pub json: bool,
    /// Run at most N checks at once.
    #[arg(long, value_name = "N", default_value_t = JOBS as u16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: u16,
    /// Run the checks that start on this host of a lab across hosts.
    #[arg(long, value_name = "NAME")]
    pub host: Option<String>,
    /// Run every host's checks, each on its host, over ssh.
    #[arg(long, conflicts_with = "host")]
    pub all_hosts: bool,
    /// The lab file; - reads it from standard input.
    pub file: std::path::PathBuf,
}

#[derive(Parser, Debug)]
#[command(name = "destroy")]
pub struct DestroyArgs {
    /// Print the plan without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary as JSON.
    #[arg(short, long)]
    pub json: bool,
    /// The lab by its name alone (see `nsctl status`), instead of its file.
    #[arg(long, value_name = "NAME", conflicts_with = "file")]
    pub lab: Option<String>,
    /// This host's share of a lab across hosts (default: the host whose underlay address is
    /// configured here).
    #[arg(long, value_name = "NAME", conflicts_with = "lab")]
    pub host: Option<String>,
    /// Destroy every host's share, over ssh.
    #[arg(long, conflicts_with_all = ["host", "lab"])]
    pub all_hosts: bool,
    /// The lab file (or --lab NAME instead); - reads it from standard input.
    // Not `required_unless_present = "lab"`: clap's message for that cannot name --lab, so
    // destroy.rs says which lab to give when neither is.
    pub file: Option<std::path::PathBuf>,
}

#[derive(Parser, Debug)]
#[command(name = "status")]
pub struct StatusArgs {
    /// Print the report as JSON.
    #[arg(short, long)]
    pub json: bool,
    /// This host's share of a lab across hosts (default: the host whose underlay address is
    /// configured here).
    #[arg(long, value_name = "NAME", requires = "file")]
    pub host: Option<String>,
    /// The status of every host's share, over ssh.
    #[arg(long, conflicts_with = "host", requires = "file")]
    pub all_hosts: bool,
    /// A table of the lab node by node instead: each namespace's interfaces, their peers,
    /// addresses and state (up, down or missing).
    #[arg(long, requires = "file")]
    pub nodes: bool,
    /// The lab file; - reads it from standard input.
    pub file: Option<std::path::PathBuf>,
}

/// The picture formats of `nsctl graph`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
    Svg,
}

#[derive(Parser, Debug)]
#[command(name = "graph")]
pub struct GraphArgs {
    /// dot (Graphviz), mermaid (for READMEs and issues) or svg (drawn by nsctl).
    #[arg(long, value_enum, default_value = "dot")]
    pub format: Format,
    /// Mark each object present, missing or different, as the lab is now.
    #[arg(long)]
    pub live: bool,
    pub file: std::path::PathBuf,
}

/// `test`'s subcommand for the tree.
pub fn test_command() -> clap::Command {
    TestArgs::command()
}

/// `graph`'s subcommand for the tree.
pub fn graph_command() -> clap::Command {
    GraphArgs::command()
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
