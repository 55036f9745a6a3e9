//! Route tables, protocols and scopes by name, as iproute2's rt_names.c reads them: a few
//! built-in names, then `/etc/iproute2/rt_tables`, `rt_protos` and `rt_scopes` (and their
//! `.d/*.conf`), `NUMBER NAME` per line. `route add … table main proto static scope link`
//! and `route show` (`table 100`, `proto static`) go through here both ways.

use std::sync::OnceLock;

/// One map: number <-> name, later entries (the files) after the built-in ones.
struct Map(Vec<(u32, String)>);

impl Map {
    fn load(builtin: &[(u32, &str)], file: &str, max: u32) -> Map {
        let mut v: Vec<(u32, String)> = builtin.iter().map(|&(n, s)| (n, s.into())).collect();
        let dir = "/etc/iproute2";
        let mut files = vec![format!("{dir}/{file}")];
        if let Ok(rd) = std::fs::read_dir(format!("{dir}/{file}.d")) {
            let mut extra: Vec<String> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path().to_string_lossy().into_owned())
                .filter(|p| p.ends_with(".conf"))
                .collect();
            extra.sort();
            files.extend(extra);
        }
        for f in files {
            let Ok(text) = std::fs::read_to_string(&f) else {
                continue;
            };
            for line in text.lines() {
                let line = line.trim_start();
                if line.starts_with('#') {
                    continue;
                }
                let mut it = line.split_whitespace();
                let (Some(n), Some(name)) = (it.next(), it.next()) else {
                    continue;
                };
                let n = crate::parse::strtol0(n.as_bytes()).and_then(|n| u32::try_from(n).ok());
                if let Some(n) = n.filter(|&n| n <= max) {
                    v.retain(|(k, _)| *k != n);
                    v.push((n, name.to_string()));
                }
            }
        }
        Map(v)
    }

    fn name(&self, n: u32) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == n)
            .map(|(_, s)| s.as_str())
    }

    fn number(&self, name: &[u8]) -> Option<u32> {
        self.0
            .iter()
            .find(|(_, s)| s.as_bytes() == name)
            .map(|(k, _)| *k)
    }
}

fn tables() -> &'static Map {
    static M: OnceLock<Map> = OnceLock::new();
    M.get_or_init(|| {
        Map::load(
            &[
                (0, "unspec"),
                (253, "default"),
                (254, "main"),
                (255, "local"),
            ],
            "rt_tables",
            u32::MAX,
        )
    })
}

fn protos() -> &'static Map {
    static M: OnceLock<Map> = OnceLock::new();
    M.get_or_init(|| {
        Map::load(
            &[
                (0, "unspec"),
                (1, "redirect"),
                (2, "kernel"),
                (3, "boot"),
                (4, "static"),
                (8, "gated"),
                (9, "ra"),
                (10, "mrt"),
                (11, "zebra"),
                (12, "bird"),
                (13, "dnrouted"),
                (14, "xorp"),
                (15, "ntk"),
                (16, "dhcp"),
                (18, "keepalived"),
                (42, "babel"),
                (99, "openr"),
                (186, "bgp"),
                (187, "isis"),
                (188, "ospf"),
                (189, "rip"),
                (192, "eigrp"),
            ],
            "rt_protos",
            255,
        )
    })
}

fn scopes() -> &'static Map {
    static M: OnceLock<Map> = OnceLock::new();
    M.get_or_init(|| {
        Map::load(
            &[
                (0, "global"),
                (255, "nowhere"),
                (254, "host"),
                (253, "link"),
                (200, "site"),
            ],
            "rt_scopes",
            255,
        )
    })
}

/// `rtnl_rttable_a2n`: a table's name or number (`all` is not a table here).
pub fn table_a2n(word: &[u8]) -> Option<u32> {
    tables().number(word).or_else(|| {
        crate::parse::strtol0(word)
            .filter(|_| word.first() != Some(&b'-'))
            .and_then(|n| u32::try_from(n).ok())
    })
}

/// `rtnl_rttable_n2a`.
pub fn table_n2a(n: u32) -> String {
    tables()
        .name(n)
        .map_or_else(|| n.to_string(), str::to_string)
}

/// `rtnl_rtprot_a2n`: 0..=255 by name or number.
pub fn proto_a2n(word: &[u8]) -> Option<u8> {
    protos()
        .number(word)
        .map(|n| n as u8)
        .or_else(|| small(word))
}

/// `rtnl_rtprot_n2a`.
pub fn proto_n2a(n: u8) -> String {
    protos()
        .name(n.into())
        .map_or_else(|| n.to_string(), str::to_string)
}

/// `rtnl_rtscope_a2n`.
pub fn scope_a2n(word: &[u8]) -> Option<u8> {
    scopes()
        .number(word)
        .map(|n| n as u8)
        .or_else(|| small(word))
}

/// `rtnl_rtscope_n2a`.
pub fn scope_n2a(n: u8) -> String {
    scopes()
        .name(n.into())
        .map_or_else(|| n.to_string(), str::to_string)
}

/// strtoul(base 0) of the whole word, at most 255.
fn small(word: &[u8]) -> Option<u8> {
    crate::parse::strtol0(word)
        .filter(|_| word.first() != Some(&b'-'))
        .and_then(|n| u8::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_both_ways() {
        assert_eq!(table_a2n(b"main"), Some(254));
        assert_eq!(table_a2n(b"local"), Some(255));
        assert_eq!(table_a2n(b"100"), Some(100));
        assert_eq!(table_a2n(b"0x10"), Some(16));
        assert_eq!(table_a2n(b"all"), None);
        assert_eq!(table_a2n(b"-1"), None);
        assert_eq!(table_n2a(255), "local");
        assert_eq!(table_n2a(100), "100");
        assert_eq!(proto_a2n(b"static"), Some(4));
        assert_eq!(proto_a2n(b"256"), None);
        assert_eq!(proto_n2a(2), "kernel");
        assert_eq!(scope_a2n(b"link"), Some(253));
        assert_eq!(scope_n2a(0), "global");
        assert_eq!(scope_n2a(7), "7");
    }
}
