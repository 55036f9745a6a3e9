//! The lab file (TOML, see docs/topology.md): parsing with positions, and every check that
//! must pass before anything is changed.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;
use toml::Spanned;

use crate::wiring::prefix::{self, Prefix};

/// The file as written.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct LabFile {
    /// Names the lab's state and its nft table; defaults to the file's stem.
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub host: Place,
    #[serde(default)]
    pub netns: BTreeMap<String, Spanned<Place>>,
    #[serde(default)]
    pub bridge: BTreeMap<String, Spanned<Bridge>>,
    #[serde(default)]
    pub veth: Vec<Spanned<Veth>>,
    #[serde(default)]
    pub nat: Vec<Spanned<Nat>>,
}

/// A namespace's (or the host's) own settings.
#[derive(Deserialize, Debug, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Place {
    /// Bring `lo` up (namespaces only; default true).
    pub lo: Option<bool>,
    #[serde(default)]
    pub sysctl: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    pub routes: Vec<Spanned<String>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Bridge {
    pub netns: Option<Spanned<String>>,
    #[serde(default)]
    pub addresses: Vec<Spanned<String>>,
    pub mtu: Option<Spanned<u32>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Veth {
    pub ends: Spanned<Vec<Spanned<End>>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct End {
    pub netns: Option<Spanned<String>>,
    pub name: Spanned<String>,
    pub bridge: Option<Spanned<String>>,
    #[serde(default)]
    pub addresses: Vec<Spanned<String>>,
    pub mtu: Option<Spanned<u32>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Nat {
    pub source: Spanned<String>,
    /// The interface masqueraded traffic leaves through (any when absent).
    pub out: Option<Spanned<String>>,
}

/// A problem in the file, with its byte position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: usize,
    pub msg: String,
}

/// A route as the lab understands it: `default|PREFIX [via GW] [dev NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: Prefix,
    pub via: Option<IpAddr>,
    pub dev: Option<String>,
}

pub fn parse_route(text: &str) -> Result<RouteSpec, String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let Some(first) = words.first() else {
        return Err("empty route".into());
    };
    let dst = prefix::parse(first.as_bytes())
        .ok_or_else(|| format!("\"{first}\" is not a prefix or \"default\""))?;
    let (mut via, mut dev) = (None, None);
    let mut i = 1;
    while i < words.len() {
        let val = words
            .get(i + 1)
            .ok_or_else(|| format!("\"{}\" needs a value", words[i]))?;
        match words[i] {
            "via" => {
                via = Some(
                    val.parse::<IpAddr>()
                        .map_err(|_| format!("\"{val}\" is not an address"))?,
                )
            }
            "dev" => dev = Some(val.to_string()),
            w => {
                return Err(format!(
                    "unknown word \"{w}\" (routes are: default|PREFIX [via GW] [dev NAME])"
                ))
            }
        }
        i += 2;
    }
    if via.is_none() && dev.is_none() {
        return Err("a route needs \"via GW\" or \"dev NAME\"".into());
    }
    Ok(RouteSpec { dst, via, dev })
}

/// Line and column (1-based) of a byte offset.
pub fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Parse the file; a syntax error or an unknown key comes back as a positioned problem.
pub fn parse(text: &str) -> Result<LabFile, Problem> {
    toml::from_str::<LabFile>(text).map_err(|e| Problem {
        at: e.span().map(|s| s.start).unwrap_or(0),
        msg: e.message().trim_end().replace('\n', " "),
    })
}
