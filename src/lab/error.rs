//! The lab verbs' errors and exit codes: one line for the user, what failed and why, and
//! the exit code the line stands for (docs/topology.md). Every layer of the lab returns
//! these; the verbs print them. This file imports nothing of the lab's.

use crate::nl::Failure;

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

/// A failure in nsctl's own words, before a verb gives it an exit code: the adapters
/// (sockets, sysctls, files) and the executor's steps report these.
pub type Fail = String;

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

    /// The same failure inside what was being done (`apply lab.toml: ...`): the chain reads
    /// outermost first, as one line.
    pub fn context(mut self, what: impl std::fmt::Display) -> LabError {
        self.msg = format!("{what}: {}", self.msg);
        self
    }
}

impl std::fmt::Display for LabError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.msg)
    }
}

/// A failure in nsctl's own words is a failed change unless said otherwise.
impl From<Fail> for LabError {
    fn from(msg: Fail) -> LabError {
        LabError::new(exit::FAILED, msg)
    }
}

/// An I/O error's reason: strerror text, or the error's own words (never "Success").
pub fn describe(e: &std::io::Error) -> String {
    crate::error::io_errstr(e)
}

/// A netlink request's failure in the kernel's words (its extack text or strerror), as the
/// observation and the executor report it.
pub fn why(f: Failure) -> String {
    match f {
        Failure::Kernel(e) => e.text().trim_end().to_string(),
        Failure::Send => "the netlink request could not be sent".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_reads_outermost_first() {
        let e = LabError::new(exit::REFUSED, "netns \"A\" is in the way")
            .context("apply lab.toml")
            .context("host h1");
        assert_eq!(
            e.to_string(),
            "host h1: apply lab.toml: netns \"A\" is in the way"
        );
        assert_eq!(e.code, exit::REFUSED);
    }
}
