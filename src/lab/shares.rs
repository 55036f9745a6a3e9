//! Host settings shared between labs: a host sysctl (say `net.ipv4.ip_forward`, which NAT
//! turns on) that several applied labs need keeps its value until the last of them lets go,
//! and then returns to the value it had before the first one took it. The register lives in
//! /run/nsctl/host-sysctls.json under its own lock, since labs hold their own locks only.
//! Reading it (status, a dry run) creates nothing; only a writer makes /run/nsctl.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::journal;

pub const PATH: &str = "/run/nsctl/host-sysctls.json";
const NAME: &str = "host-sysctls.json";
const LOCK: &str = "host-sysctls.lock";

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Share {
    /// The value before the first lab set it.
    pub old: String,
    /// The value the labs need.
    pub value: String,
    /// The labs that need it.
    pub labs: BTreeSet<String>,
}

/// Every shared host sysctl, by key.
pub type Shares = BTreeMap<String, Share>;

fn check(s: &Shares) -> Result<(), String> {
    for (k, v) in s {
        if !super::spec::valid_sysctl_key(k) {
            return Err(format!("\"{}\" is not a net.* sysctl", k.escape_debug()));
        }
        if !super::file::clean(&v.old) || !super::file::clean(&v.value) {
            return Err(format!("bad value for {k}"));
        }
        if let Some(l) = v.labs.iter().find(|l| !super::spec::valid_lab_name(l)) {
            return Err(format!("bad lab name \"{}\"", l.escape_debug()));
        }
    }
    Ok(())
}

/// The register (empty when there is none); a damaged one is refused.
pub fn load() -> std::io::Result<Shares> {
    let Some(top) = journal::top(false)? else {
        return Ok(Shares::new());
    };
    let Some(b) = journal::read_private(&top, NAME, journal::MAX_JOURNAL)? else {
        return Ok(Shares::new());
    };
    let s: Shares = serde_json::from_slice(&b)
        .map_err(|e| e.to_string())
        .and_then(|s| check(&s).map(|_| s))
        .map_err(|m| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{PATH} is damaged ({m}); move it away and set the host's sysctls by hand"),
            )
        })?;
    Ok(s)
}

/// Write the register (a writer holds its lock: [`lock`] made the directory).
pub fn save(s: &Shares) -> std::io::Result<()> {
    let top = journal::top(true)?.ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))?;
    if s.is_empty() {
        return top.remove(NAME);
    }
    let text = serde_json::to_vec_pretty(s).map_err(std::io::Error::other)?;
    top.write_atomic(NAME, |w| w.write_all(&text))
}

/// Hold the register's lock while the returned file lives.
pub fn lock() -> std::io::Result<std::fs::File> {
    let top = journal::top(true)?.ok_or_else(|| std::io::Error::from_raw_os_error(libc::ENOENT))?;
    journal::flock(&top, LOCK)
}

/// What taking `key` = `value` for `lab` means, given the register and the current value.
#[derive(Debug, PartialEq, Eq)]
pub enum Take {
    /// Nothing to do: the lab holds it and the value is right, or nobody holds it and it
    /// already has the value (nothing to put back later).
    Nothing,
    /// Hold it (recording `old` when first), and write the value if `write`.
    Hold { write: bool },
    /// Another lab holds it at another value.
    Conflict { value: String, labs: Vec<String> },
}

pub fn take(s: &Shares, lab: &str, key: &str, value: &str, now: Option<&str>) -> Take {
    match s.get(key) {
        Some(sh) if sh.value != value && sh.labs.iter().any(|l| l != lab) => Take::Conflict {
            value: sh.value.clone(),
            labs: sh.labs.iter().filter(|l| *l != lab).cloned().collect(),
        },
        Some(sh) if sh.labs.contains(lab) && sh.value == value && now == Some(value) => {
            Take::Nothing
        }
        Some(_) => Take::Hold {
            write: now != Some(value),
        },
        None if now == Some(value) => Take::Nothing,
        None => Take::Hold { write: true },
    }
}

/// Record that `lab` holds `key` at `value` (first holder: `old` is what to put back).
pub fn hold(s: &mut Shares, lab: &str, key: &str, value: &str, old: &str) {
    let e = s.entry(key.to_string()).or_insert_with(|| Share {
        old: old.to_string(),
        value: value.to_string(),
        labs: BTreeSet::new(),
    });
    e.value = value.to_string();
    e.labs.insert(lab.to_string());
}

/// `lab` lets go of `key`: Some(old value) when it was the last holder (put it back).
pub fn release(s: &mut Shares, lab: &str, key: &str) -> Option<String> {
    let e = s.get_mut(key)?;
    e.labs.remove(lab);
    if e.labs.is_empty() {
        return s.remove(key).map(|e| e.old);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_lab_puts_the_old_value_back() {
        let mut s = Shares::new();
        assert_eq!(
            take(&s, "x", "k", "1", Some("0")),
            Take::Hold { write: true }
        );
        hold(&mut s, "x", "k", "1", "0");
        assert_eq!(take(&s, "x", "k", "1", Some("1")), Take::Nothing);
        assert_eq!(
            take(&s, "y", "k", "1", Some("1")),
            Take::Hold { write: false }
        );
        hold(&mut s, "y", "k", "1", "1");
        assert_eq!(release(&mut s, "x", "k"), None);
        assert_eq!(release(&mut s, "y", "k"), Some("0".to_string()));
        assert!(s.is_empty());
    }

    #[test]
    fn another_value_is_a_conflict_and_a_set_value_needs_no_hold() {
        let mut s = Shares::new();
        assert_eq!(take(&s, "x", "k", "1", Some("1")), Take::Nothing);
        hold(&mut s, "x", "k", "1", "0");
        assert!(matches!(
            take(&s, "y", "k", "2", Some("1")),
            Take::Conflict { .. }
        ));
        // The holder's value was changed by hand: write it again.
        assert_eq!(
            take(&s, "x", "k", "1", Some("0")),
            Take::Hold { write: true }
        );
    }
}
