//! The names nsctl gives what it makes in nft: the lab's table (`ip nsctl-NAME`) and the
//! comment that tags each of its rules, so that a converged table is recognised as such.
//! Pure text: the plan compares with these, nat.rs writes them.

use crate::wiring::prefix::Prefix as IpPrefix;

pub fn table_name(lab: &str) -> String {
    format!("nsctl-{lab}")
}

/// The comment that identifies one rule, so a converged table is recognised as such.
pub fn tag(src: &IpPrefix, out: &Option<String>) -> String {
    match out {
        Some(o) => format!("nsctl {src} out {o}"),
        None => format!("nsctl {src}"),
    }
}

/// The comments of the table's rules, in order, when it is as the lab wants it.
pub fn tags(rules: &[(IpPrefix, Option<String>)], nets: &[IpPrefix]) -> Vec<String> {
    nets.iter()
        .map(|n| format!("nsctl keep {n}"))
        .chain(rules.iter().map(|(s, o)| tag(s, o)))
        .collect()
}
