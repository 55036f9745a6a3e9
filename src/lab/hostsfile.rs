//! The text of a lab's hosts files, and how to tell what nsctl wrote: the first line names
//! the lab and the namespace and holds a checksum of the rest, so a file edited since (or
//! replaced) is told apart with or without the journal and the lab file. Pure: the files
//! themselves are hosts.rs's; what every file lists is `Lab::hosts_body` (spec.rs).

/// Labs with more namespaces than this get hosts files only when the file asks
/// (`etc_hosts = true`): each file lists every namespace, so they grow with the square.
pub const DEFAULT_MAX: usize = 1000;

/// And never more than this many namespaces.
pub const MAX: usize = 2000;

/// The largest hosts file nsctl reads (and writes): a larger one is not nsctl's.
pub const MAX_BYTES: u64 = 64 << 20;

/// What is at /etc/netns/NAME/hosts, as far as one lab is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    Absent,
    /// What nsctl wrote for this lab and namespace, unchanged since; `current` when it is
    /// also the text the lab wants now.
    Written {
        current: bool,
    },
    /// A regular file that is not (or no longer) what nsctl wrote for this lab: someone's
    /// own, another lab's, or edited since.
    Other,
    /// Not a regular file: what it is (`a FIFO`, `a directory`, ...).
    Odd(&'static str),
}

impl Seen {
    /// Why a file that is there is not the lab's, after its path; `journaled` when the
    /// journal says nsctl wrote it.
    pub fn why_not_ours(&self, journaled: bool) -> String {
        match self {
            Seen::Odd(what) => format!("is {what}, not a file nsctl wrote"),
            _ if journaled => "was changed since nsctl wrote it".to_string(),
            _ => "exists and nsctl did not write it".to_string(),
        }
    }
}

/// The first line of a file nsctl wrote for `lab`: a file that starts with it is the lab's
/// even when the journal lost it (/etc outlives /run across a reboot).
pub fn marker(lab: &str) -> String {
    format!("# nsctl lab {lab}: ")
}

/// Whether a namespace name can stand in /etc/hosts (a host name: letters, digits, `-`,
/// `.`, `_`). Other names are left out of the files.
pub fn host_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
}

/// FNV-1a (64 bits) of the text after the header: it tells an edit from what nsctl wrote,
/// and is stable across builds (std's hasher is not). Not a defence against someone who
/// forges the line on purpose: only root writes here, and such a file claims to be nsctl's.
fn checksum(body: &[u8]) -> u64 {
    body.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The first line of `netns`'s hosts file, whose text after it is `body`.
pub fn header(lab: &str, netns: &str, body: &[u8]) -> String {
    format!(
        "{}/etc/hosts of netns {netns}, written by nsctl apply and removed by nsctl destroy unless edited (checksum {:016x})\n",
        marker(lab),
        checksum(body)
    )
}

/// The first line before checksums: such a file is taken as nsctl's while the rest has the
/// shape nsctl writes (see [`legacy_body`]).
fn legacy_header(lab: &str, netns: &str) -> String {
    format!(
        "{}/etc/hosts of netns {netns}, written by nsctl apply and removed by nsctl destroy\n",
        marker(lab)
    )
}

/// Whether `rest` is a body as nsctl writes it: the localhost lines, then `ADDRESS<TAB>NAME`
/// lines. Without a checksum this is all that can be told of a file written before them.
fn legacy_body(rest: &[u8]) -> bool {
    let Some(rest) = rest.strip_prefix(LOCALHOST.as_bytes()) else {
        return false;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return false;
    };
    let line = |l: &str| {
        l.split_once('\t')
            .is_some_and(|(a, n)| a.parse::<std::net::IpAddr>().is_ok() && host_name(n))
    };
    rest.is_empty() || (rest.ends_with('\n') && rest.lines().all(line))
}

/// What `have` (a regular file's bytes) is to `lab`: `Written` when its first line is the
/// one nsctl writes for this lab and namespace and the rest matches its checksum; `current`
/// when the rest is also `want` (the body the lab wants now; None: not asked).
pub fn judge(have: &[u8], lab: &str, netns: &str, want: Option<&str>) -> Seen {
    let Some(nl) = have.iter().position(|&c| c == b'\n') else {
        return Seen::Other;
    };
    let (first, rest) = have.split_at(nl + 1);
    if first == header(lab, netns, rest).as_bytes() {
        Seen::Written {
            current: want.is_some_and(|w| w.as_bytes() == rest),
        }
    } else if first == legacy_header(lab, netns).as_bytes() && legacy_body(rest) {
        // Rewritten with a checksum by the next apply that wants it.
        Seen::Written { current: false }
    } else {
        Seen::Other
    }
}

pub const LOCALHOST: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/// The path of `netns`'s hosts file.
pub fn path(netns: &str) -> String {
    format!("{}/{netns}/hosts", crate::netns::ETC_DIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::spec::Lab;

    fn abc() -> Lab {
        let t = "name = \"abc\"\n[netns.A]\n[netns.B]\n[netns.\"x y\"]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"fd00::1/64\", \"10.0.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"10.0.0.2/24\"] }]\n";
        super::super::validate::build(super::super::file::parse(t).unwrap(), "t", false).unwrap()
    }

    #[test]
    fn content_lists_every_namespace() {
        let lab = abc();
        let c = lab.hosts_content("A");
        assert!(c.starts_with(&marker("abc")));
        let lines: Vec<&str> = c.lines().skip(3).collect();
        assert_eq!(lines, ["10.0.0.1\tA", "fd00::1\tA", "10.0.0.2\tB"]);
        assert_eq!(lab.hosts_namespaces(), ["A", "B", "x y"]);
        assert!(!host_name("x y") && host_name("h-1.lab_2"));
    }

    #[test]
    fn addresses_are_listed_in_file_order() {
        // B's veth end is written before its bridges zz and aa: its names follow the file,
        // IPv4 first, not the bridges first (nor by their names).
        let t = "[netns.A]\n[netns.B]\n[[veth]]\nends = [{ netns = \"A\", name = \"e\", addresses = [\"10.1.0.1/24\"] }, { netns = \"B\", name = \"e\", addresses = [\"fd01::2/64\", \"10.1.0.2/24\"] }]\n[bridge.zz]\nnetns = \"B\"\naddresses = [\"10.2.0.1/24\"]\n[bridge.aa]\nnetns = \"B\"\naddresses = [\"10.3.0.1/24\"]\n";
        let lab = super::super::validate::build(super::super::file::parse(t).unwrap(), "t", false)
            .unwrap();
        let b = lab.hosts_body();
        let lines: Vec<&str> = b.lines().skip(2).collect();
        assert_eq!(
            lines,
            [
                "10.1.0.1\tA",
                "10.1.0.2\tB",
                "10.2.0.1\tB",
                "10.3.0.1\tB",
                "fd01::2\tB"
            ]
        );
    }

    #[test]
    fn only_what_nsctl_wrote_is_written() {
        let lab = abc();
        let b = lab.hosts_body();
        let c = lab.hosts_content("A");
        let want = Some(b.as_str());
        assert_eq!(
            judge(c.as_bytes(), "abc", "A", want),
            Seen::Written { current: true }
        );
        assert_eq!(
            judge(c.as_bytes(), "abc", "A", None),
            Seen::Written { current: false }
        );
        // Another lab's, another namespace's, an edited one, someone's own: not ours.
        assert_eq!(judge(c.as_bytes(), "abd", "A", want), Seen::Other);
        assert_eq!(judge(c.as_bytes(), "abc", "B", want), Seen::Other);
        let edited = c.clone() + "10.9.9.9\tintruder\n";
        assert_eq!(judge(edited.as_bytes(), "abc", "A", want), Seen::Other);
        let changed = c.replace("10.0.0.2", "10.0.0.3");
        assert_eq!(judge(changed.as_bytes(), "abc", "A", want), Seen::Other);
        assert_eq!(judge(b"admin\n", "abc", "A", want), Seen::Other);
        assert_eq!(judge(b"", "abc", "A", want), Seen::Other);
        // A file written before checksums: nsctl's while it has nsctl's shape.
        let old = legacy_header("abc", "A") + &b;
        assert_eq!(
            judge(old.as_bytes(), "abc", "A", want),
            Seen::Written { current: false }
        );
        let old = legacy_header("abc", "A") + &b + "admin\n";
        assert_eq!(judge(old.as_bytes(), "abc", "A", want), Seen::Other);
    }
}
