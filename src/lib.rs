//! nsctl: a drop-in, byte-compatible `ip netns`, built on netlink.
//!
//! Layout: `cli` parses ip's global options and hands a command line to `commands` (one file
//! per `ip netns` verb); `netns` holds the synchronous syscall sequences; `nl` is the only
//! module that speaks rtnetlink; `output` and `json` reproduce iproute2's bytes.

pub mod batch;
pub mod cli;
pub mod commands;
pub mod ctx;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod json;
pub mod lab;
pub mod netns;
pub mod nl;
pub mod output;
pub mod parse;
pub mod wiring;
