//! ip's `get_prefix` / `get_addr`: `ADDR[/PLEN]`, `default`, for IPv4 and IPv6.

use std::net::IpAddr;

use crate::error::Exit;
use crate::output::{bytes, err};

/// A parsed prefix. `addr` is None for `default`/`any`/`all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix {
    pub addr: Option<IpAddr>,
    pub len: u8,
    /// A `/PLEN` was written.
    pub explicit_len: bool,
}

/// `ADDR/PLEN`, or `default` for a prefix without an address: how labs, their journal and
/// their messages write a prefix.
impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr {
            None => write!(f, "default"),
            Some(a) => write!(f, "{a}/{}", self.len),
        }
    }
}

/// ip's address reading (`get_addr_1`): with a `:` an IPv6 address, otherwise IPv4 as
/// `get_addr_ipv4` reads it: one to four parts, each a C number (decimal, 0x hex, 0 octal)
/// up to 255, the missing ones 0, so `10` is 10.0.0.0 and `1.2.3` is 1.2.3.0.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let mut octets = [0u8; 4];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    for (k, p) in parts.iter().enumerate() {
        // strtoul skips leading space and takes a sign; a word has no space, and a negative
        // number wraps to more than 255.
        let p = p.strip_prefix('+').unwrap_or(p);
        if p.is_empty() || p.starts_with('-') || p.starts_with('+') {
            return None;
        }
        let n = crate::parse::get_unsigned(p.as_bytes())?;
        octets[k] = u8::try_from(n).ok()?;
    }
    Some(IpAddr::V4(octets.into()))
}

/// `get_prefix_1`, quietly: None when the text is not a prefix.
pub fn parse(word: &[u8]) -> Option<Prefix> {
    let s = std::str::from_utf8(word).ok()?;
    if matches!(s, "default" | "any" | "all") {
        return Some(Prefix {
            addr: None,
            len: 0,
            explicit_len: false,
        });
    }
    let (a, plen) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let addr = parse_ip(a)?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match plen {
        Some(p) => {
            let n = crate::parse::get_unsigned(p.as_bytes())?;
            if n > max {
                return None;
            }
            n as u8
        }
        None => max as u8,
    };
    Some(Prefix {
        addr: Some(addr),
        len,
        explicit_len: plen.is_some(),
    })
}

/// `get_prefix`: a bad prefix ends the command (and a batch) with ip's message, exit 1.
pub fn get_prefix(word: &[u8]) -> Result<Prefix, Exit> {
    parse(word).ok_or_else(|| {
        err(&bytes(&[
            b"Error: any valid prefix is expected rather than \"",
            word,
            b"\".\n",
        ]));
        Exit(1)
    })
}

/// ip's `family_name`: how its messages name an address family (None: any).
fn family_name(v6: Option<bool>) -> &'static str {
    match v6 {
        None => "any valid",
        Some(false) => "inet",
        Some(true) => "inet6",
    }
}

fn expected(what: &str, v6: Option<bool>, word: &[u8]) -> Exit {
    err(&bytes(&[
        b"Error: ",
        family_name(v6).as_bytes(),
        b" ",
        what.as_bytes(),
        b" is expected rather than \"",
        word,
        b"\".\n",
    ]));
    Exit(1)
}

/// `get_addr` with ip's family: an address of another family is refused with ip's words
/// (`Error: inet address is expected rather than "::1".`).
pub fn get_addr_of(word: &[u8], v6: Option<bool>) -> Result<IpAddr, Exit> {
    let a = std::str::from_utf8(word).ok().and_then(parse_ip);
    match a {
        Some(a) if v6.is_none_or(|f| a.is_ipv6() == f) => Ok(a),
        _ => Err(expected("address", v6, word)),
    }
}

/// `get_prefix` with ip's family.
pub fn get_prefix_of(word: &[u8], v6: Option<bool>) -> Result<Prefix, Exit> {
    match parse(word) {
        Some(p) if p.addr.is_none_or(|a| v6.is_none_or(|f| a.is_ipv6() == f)) => Ok(p),
        _ => Err(expected("prefix", v6, word)),
    }
}

/// `get_addr`: a single address (no length), of any family.
pub fn get_addr(word: &[u8]) -> Result<IpAddr, Exit> {
    get_addr_of(word, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let p = parse(b"10.0.0.2/24").unwrap();
        assert_eq!(
            (p.addr.unwrap().to_string(), p.len, p.explicit_len),
            ("10.0.0.2".into(), 24, true)
        );
        assert_eq!(parse(b"10.0.0.2").unwrap().len, 32);
        assert_eq!(parse(b"fd00::1/64").unwrap().len, 64);
        assert_eq!(parse(b"fd00::1").unwrap().len, 128);
        assert_eq!(parse(b"default").unwrap().addr, None);
        assert!(parse(b"10.0.0.2/33").is_none());
        assert!(parse(b"bogus").is_none());
        assert!(parse(b"10.0.0.2/x").is_none());
        assert!(parse(b"").is_none());
    }
}
