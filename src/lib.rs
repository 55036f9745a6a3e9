//! nsctl: a drop-in, byte-compatible `ip netns`, built on netlink.
//!
//! Layout: `tree` is the command tree (clap), the one definition of every verb; `cli` parses
//! ip's global options and hands a command line to the group `tree` resolves its first word
//! to: `commands` (one file per `ip netns` verb), `wiring` (link, addr, route), `lab`, or
//! `meta` (man, completions). `netns` holds the synchronous syscall sequences; `fsx` nsctl's
//! own directories and files in /run; `nl` is the only module that speaks rtnetlink; `output`
//! and `json` reproduce iproute2's bytes; `help`, `manual` and `completions` are generated
//! from the tree.

pub mod batch;
pub mod cli;
pub mod commands;
pub mod completions;
pub mod ctx;
pub mod error;
pub mod fsx;
#[doc(hidden)]
pub mod fuzzing;
pub mod help;
pub mod json;
pub mod lab;
pub mod manual;
pub mod meta;
pub mod netns;
pub mod nl;
pub mod output;
pub mod parse;
pub mod tree;
pub mod wiring;
