//! NAT for a lab: masquerade of source prefixes leaving the lab, in an nft table of nsctl's
//! own (`ip nsctl-LAB`), so the rest of the ruleset is never touched. Traffic to any of the
//! lab's own networks is accepted first, unmasqueraded: between two namespaces on one bridge
//! (seen here when br_netfilter is loaded) or routed between two of the lab's networks, it
//! keeps its source. Driven through the `nftables` crate, which feeds `nft -j` a JSON batch.

use std::borrow::Cow;

use nftables::batch::Batch;
use nftables::expr::{Expression, Meta, MetaKey, NamedExpression, Payload, PayloadField, Prefix};
use nftables::schema::{Chain, NfListObject, NfObject, Rule, Table};
use nftables::stmt::{Match, Operator, Statement};
use nftables::types::{NfChainPolicy, NfChainType, NfFamily, NfHook};

use super::nftnames::tag;
pub use super::nftnames::{table_name, tags};
use super::places::Fail;
use crate::wiring::prefix::Prefix as IpPrefix;

/// An error's text without Rust's " (os error N)" tail (the nftables crate wraps io errors).
fn plain(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// The absolute path of `nft`, looked up on PATH once per process: every later run of it
/// (as root) uses that file, not whatever a changed PATH would find.
pub fn nft_path() -> Option<&'static std::path::Path> {
    static NFT: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    NFT.get_or_init(|| {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .filter(|d| d.is_absolute())
            .map(|d| d.join("nft"))
            .find(|p| p.is_file())
    })
    .as_deref()
}

/// Is `nft` installed (on PATH)?
pub fn nft_available() -> bool {
    nft_path().is_some()
}

/// The crate adds `-j -f -` itself.
const NO_ARGS: &[&str] = &[];

fn nft() -> Result<&'static std::path::Path, Fail> {
    nft_path().ok_or_else(|| {
        "nft is not installed; install nftables (apt-get install nftables)".to_string()
    })
}

fn prefix_expr(p: &IpPrefix) -> Expression<'static> {
    Expression::Named(NamedExpression::Prefix(Prefix {
        addr: Box::new(Expression::String(Cow::Owned(
            p.addr.map(|a| a.to_string()).unwrap_or_default(),
        ))),
        len: p.len as u32,
    }))
}

/// `ip daddr NET accept`: traffic to one of the lab's own networks is never masqueraded.
fn keep<'a>(table: &'a str, net: &IpPrefix) -> Rule<'a> {
    Rule {
        family: NfFamily::IP,
        table: Cow::Borrowed(table),
        chain: Cow::Borrowed("postrouting"),
        expr: Cow::Owned(vec![
            Statement::Match(Match {
                left: Expression::Named(NamedExpression::Payload(Payload::PayloadField(
                    PayloadField {
                        protocol: Cow::Borrowed("ip"),
                        field: Cow::Borrowed("daddr"),
                    },
                ))),
                right: prefix_expr(net),
                op: Operator::EQ,
            }),
            Statement::Accept(None),
        ]),
        comment: Some(Cow::Owned(format!("nsctl keep {net}"))),
        ..Default::default()
    }
}

fn rule<'a>(table: &'a str, src: &IpPrefix, out: &Option<String>) -> Rule<'a> {
    let mut expr = vec![Statement::Match(Match {
        left: Expression::Named(NamedExpression::Payload(Payload::PayloadField(
            PayloadField {
                protocol: Cow::Borrowed("ip"),
                field: Cow::Borrowed("saddr"),
            },
        ))),
        right: prefix_expr(src),
        op: Operator::EQ,
    })];
    if let Some(o) = out {
        expr.push(Statement::Match(Match {
            left: Expression::Named(NamedExpression::Meta(Meta {
                key: MetaKey::Oifname,
            })),
            right: Expression::String(Cow::Owned(o.clone())),
            op: Operator::EQ,
        }));
    }
    expr.push(Statement::Masquerade(None));
    Rule {
        family: NfFamily::IP,
        table: Cow::Borrowed(table),
        chain: Cow::Borrowed("postrouting"),
        expr: Cow::Owned(expr),
        comment: Some(Cow::Owned(tag(src, out))),
        ..Default::default()
    }
}

/// The rule comments of the lab's table as it is now; None when the table does not exist.
pub fn current(lab: &str) -> Result<Option<Vec<String>>, Fail> {
    let name = table_name(lab);
    let read = |args: &[&str]| {
        nftables::helper::get_current_ruleset_with_args(Some(nft()?), args)
            .map_err(|e| format!("cannot read the nft ruleset: {}", plain(&e)))
    };
    let tables = read(&["-j", "list", "tables", "ip"])?;
    let exists = tables.objects.iter().any(
        |o| matches!(o, NfObject::ListObject(NfListObject::Table(t)) if t.name == name.as_str()),
    );
    if !exists {
        return Ok(None);
    }
    let set = read(&["-j", "list", "table", "ip", name.as_str()])?;
    Ok(Some(
        set.objects
            .iter()
            .filter_map(|o| match o {
                NfObject::ListObject(NfListObject::Rule(r)) => {
                    r.comment.as_ref().map(|c| c.to_string())
                }
                _ => None,
            })
            .collect(),
    ))
}

/// Create or replace the table in one atomic nft transaction.
pub fn install(
    lab: &str,
    rules: &[(IpPrefix, Option<String>)],
    nets: &[IpPrefix],
) -> Result<(), Fail> {
    let name = table_name(lab);
    let table = Table {
        family: NfFamily::IP,
        name: Cow::Borrowed(name.as_str()),
        ..Default::default()
    };
    let mut b = Batch::new();
    // add + delete + add: replaces an existing table and works when there is none.
    b.add(NfListObject::Table(table.clone()));
    b.delete(NfListObject::Table(table.clone()));
    b.add(NfListObject::Table(table));
    b.add(NfListObject::Chain(Chain {
        family: NfFamily::IP,
        table: Cow::Borrowed(name.as_str()),
        name: Cow::Borrowed("postrouting"),
        _type: Some(NfChainType::NAT),
        hook: Some(NfHook::Postrouting),
        prio: Some(100),
        policy: Some(NfChainPolicy::Accept),
        ..Default::default()
    }));
    for n in nets {
        b.add(NfListObject::Rule(keep(&name, n)));
    }
    for (s, o) in rules {
        b.add(NfListObject::Rule(rule(&name, s, o)));
    }
    nftables::helper::apply_ruleset_with_args(&b.to_nftables(), Some(nft()?), NO_ARGS)
        .map_err(|e| format!("nft refused the NAT rules: {}", plain(&e)))
}

/// Delete the table if it exists.
pub fn remove(lab: &str) -> Result<bool, Fail> {
    if current(lab)?.is_none() {
        return Ok(false);
    }
    let name = table_name(lab);
    let mut b = Batch::new();
    b.delete(NfListObject::Table(Table {
        family: NfFamily::IP,
        name: Cow::Borrowed(name.as_str()),
        ..Default::default()
    }));
    nftables::helper::apply_ruleset_with_args(&b.to_nftables(), Some(nft()?), NO_ARGS)
        .map_err(|e| format!("nft could not delete table {name}: {}", plain(&e)))?;
    Ok(true)
}
