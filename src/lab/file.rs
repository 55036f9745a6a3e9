//! The lab file as written (TOML, see docs/topology.md): its bytes read with a size cap, text
//! checks (UTF-8, no control characters), and parsing with positions. The validated lab is
//! `spec.rs`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::Spanned;

// The JSON Schema (`nsctl schema`, schema/nsctl-lab.schema.json) is derived from these types:
// `toml::Spanned` is a position wrapper schemars does not know, so each field says the type it
// holds (`#[schemars(with = ...)]`), and every table refuses unknown keys as [`precheck`] does
// (`deny_unknown_fields` here is for the schema only; serde reads on past them so that
// `precheck` reports all of them). The doc comments are the schema's descriptions, which an
// editor shows as the lab file is typed.

/// The file as written. Unknown keys are found by [`precheck`] (all of them, with their
/// positions), so serde does not stop at the first.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[schemars(
    title = "nsctl lab file",
    description = "A lab for nsctl apply, status, test, graph and destroy: namespaces, bridges, veth pairs, routes, sysctls, NAT and reachability checks (docs/topology.md, `nsctl man lab`).",
    deny_unknown_fields
)]
pub struct LabFile {
    /// Names the lab's state and its nft table (1-32 of A-Z a-z 0-9 - _); defaults to the
    /// file's name without .toml.
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    /// Write /etc/netns/NAME/hosts for each namespace; default: up to 1,000 namespaces.
    #[schemars(with = "Option<bool>")]
    pub etc_hosts: Option<Spanned<bool>>,
    /// The machines of a lab across hosts (`[hosts.NAME]`). `hosts = true|false`
    /// (the hosts files' switch before `etc_hosts`) reads as none here; [`precheck`] says
    /// what to write instead.
    #[serde(default, deserialize_with = "machines_or_old_switch")]
    #[schemars(
        with = "BTreeMap<String, Machine>",
        description = "The machines of a lab across hosts, by name (`[hosts.NAME]`)."
    )]
    pub hosts: BTreeMap<String, Spanned<Machine>>,
    /// `vni = "A..B"`: the VXLAN ids the links between hosts are given.
    #[schemars(with = "Option<String>")]
    pub vni: Option<Spanned<String>>,
    /// The settings of the namespace nsctl runs in (the host): sysctls and routes.
    #[serde(default)]
    #[schemars(schema_with = "host_place_schema")]
    pub host: Place,
    /// The namespaces nsctl creates, by name (`[netns.NAME]`; `[netns."h{1..100}"]` is one per
    /// number).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Place>")]
    pub netns: BTreeMap<String, Spanned<Place>>,
    /// The bridges, by name (`[bridge.NAME]`; `[bridge."br{1..2}"]` is one per number).
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Bridge>")]
    pub bridge: BTreeMap<String, Spanned<Bridge>>,
    /// The veth pairs (`[[veth]]`).
    #[serde(default)]
    #[schemars(with = "Vec<Veth>")]
    pub veth: Vec<Spanned<Veth>>,
    /// Masquerading rules (`[[nat]]`, through nft).
    #[serde(default)]
    #[schemars(with = "Vec<Nat>")]
    pub nat: Vec<Spanned<Nat>>,
    /// Reachability checks (`nsctl test`).
    #[serde(default)]
    #[schemars(with = "Vec<Check>")]
    pub check: Vec<Spanned<Check>>,
}

/// The schema of `[host]`: a [`Place`] without `host` (which machine runs a place is a
/// namespace's setting; [`precheck`] refuses it in `[host]`) and without `lo` (validate.rs
/// refuses it: nsctl never changes the host's loopback).
fn host_place_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let mut s = Place::json_schema(g);
    if let Some(p) = s.get_mut("properties").and_then(|p| p.as_object_mut()) {
        p.remove("host");
        p.remove("lo");
    }
    s
}

/// The schema of `sysctl = { KEY = VALUE }`: what `validate.rs` turns into the text written
/// to /proc/sys (a string, an integer, or a boolean for 1 and 0).
fn sysctls_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "additionalProperties": { "type": ["string", "integer", "boolean"] }
    })
}

type Machines = BTreeMap<String, Spanned<Machine>>;

fn machines_or_old_switch<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Machines, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Machines;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("[hosts.NAME] tables")
        }
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Machines, E> {
            Ok(Machines::new())
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, m: A) -> Result<Machines, A::Error> {
            Machines::deserialize(serde::de::value::MapAccessDeserializer::new(m))
        }
    }
    d.deserialize_any(V)
}

/// One machine of a lab across hosts.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Machine {
    /// The address the other hosts reach this one at (IPv4 or IPv6).
    #[schemars(with = "String")]
    pub underlay: Spanned<String>,
    /// How `--all-hosts` reaches it (default `root@UNDERLAY`).
    #[schemars(with = "Option<String>")]
    pub ssh: Option<Spanned<String>>,
}

/// A namespace's (or the host's) own settings.
#[derive(Deserialize, JsonSchema, Debug, Default, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Place {
    /// Which machine runs the namespace (`[hosts.NAME]`; not in `[host]`).
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// Bring `lo` up (namespaces only; default true).
    pub lo: Option<bool>,
    /// Sysctls to set, by key: `{ "net.ipv4.ip_forward" = 1 }` (a string, an integer, or a
    /// boolean for 1 and 0).
    #[serde(default)]
    #[schemars(schema_with = "sysctls_schema")]
    pub sysctl: BTreeMap<String, Spanned<toml::Value>>,
    /// Routes: `default|PREFIX [via GATEWAY] [dev NAME]`, at least one of via and dev.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub routes: Vec<Spanned<String>>,
}

/// A bridge (`[bridge.NAME]`), in the host unless `netns` says otherwise.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Bridge {
    /// The lab namespace the bridge is in (default: the host).
    #[schemars(with = "Option<String>")]
    pub netns: Option<Spanned<String>>,
    /// Which machine holds a bridge of the host namespace (`[hosts.NAME]`).
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// The bridge's addresses, `ADDR/PLEN` (IPv4 or IPv6).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub addresses: Vec<Spanned<String>>,
    /// The MTU, 68..65535 (default: the kernel's).
    #[schemars(with = "Option<u32>", range(min = 68, max = 65535))]
    pub mtu: Option<Spanned<u32>>,
}

/// A veth pair (`[[veth]]`): exactly two ends.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Veth {
    /// `for = "A..B"`: one veth per number `i`, which `{EXPR}` in its strings may use.
    #[schemars(with = "Option<String>")]
    pub r#for: Option<Spanned<String>>,
    /// The pair's two ends.
    #[schemars(with = "Vec<End>", length(min = 2, max = 2))]
    pub ends: Spanned<Vec<Spanned<End>>>,
}

/// One end of a veth pair, in `ends = [...]`.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct End {
    /// The lab namespace the end is in (default: the host, or the bridge's place).
    #[schemars(with = "Option<String>")]
    pub netns: Option<Spanned<String>>,
    /// Which machine's host namespace an end with no netns and no bridge lies in.
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// The interface's name.
    #[schemars(with = "String")]
    pub name: Spanned<String>,
    /// A bridge of the lab to attach the end to (in the same place as the end).
    #[schemars(with = "Option<String>")]
    pub bridge: Option<Spanned<String>>,
    /// The end's addresses, `ADDR/PLEN` (IPv4 or IPv6).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub addresses: Vec<Spanned<String>>,
    /// The MTU, 68..65535 (default: the kernel's).
    #[schemars(with = "Option<u32>", range(min = 68, max = 65535))]
    pub mtu: Option<Spanned<u32>>,
    /// Shaping of what this end sends: its rate, as `10mbit`.
    #[schemars(with = "Option<String>")]
    pub rate: Option<Spanned<String>>,
    /// Shaping of what this end sends: a delay, as `10ms`.
    #[schemars(with = "Option<String>")]
    pub delay: Option<Spanned<String>>,
    /// Shaping of what this end sends: jitter around the delay, as `2ms`.
    #[schemars(with = "Option<String>")]
    pub jitter: Option<Spanned<String>>,
    /// Shaping of what this end sends: the share lost, as `1%`.
    #[schemars(with = "Option<String>")]
    pub loss: Option<Spanned<String>>,
}

/// Masquerade SOURCE leaving the host (`[[nat]]`; turns on net.ipv4.ip_forward).
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Nat {
    /// `for = "A..B"`: one rule per number `i`, which `{EXPR}` in its strings may use.
    #[schemars(with = "Option<String>")]
    pub r#for: Option<Spanned<String>>,
    /// The IPv4 prefix masqueraded.
    #[schemars(with = "String")]
    pub source: Spanned<String>,
    /// The interface masqueraded traffic leaves through (any when absent).
    #[schemars(with = "Option<String>")]
    pub out: Option<Spanned<String>>,
}

/// A reachability check: `from` reaches (or must not reach) `to` by ping or TCP.
#[derive(Deserialize, JsonSchema, Debug, Clone)]
#[schemars(deny_unknown_fields)]
pub struct Check {
    /// `for = "A..B"`: one check per number `i`, which `{EXPR}` in its strings may use.
    #[schemars(with = "Option<String>")]
    pub r#for: Option<Spanned<String>>,
    /// `NS`, `NS/IF` or an address of the lab.
    #[schemars(with = "String")]
    pub from: Spanned<String>,
    /// `NS`, `NS/IF` or any address.
    #[schemars(with = "String")]
    pub to: Spanned<String>,
    /// `ping = true`: probe with ICMP echo (or `tcp = PORT`).
    #[schemars(with = "Option<bool>")]
    pub ping: Option<Spanned<bool>>,
    /// `tcp = PORT`: probe by connecting to this port, 1..65535 (or `ping = true`).
    #[schemars(with = "Option<i64>", range(min = 1, max = 65535))]
    pub tcp: Option<Spanned<i64>>,
    /// `reachable` (the default) or `unreachable`.
    #[schemars(with = "Option<Expect>")]
    pub expect: Option<Spanned<String>>,
    /// Seconds, 0.1..60 (default 2).
    #[schemars(with = "Option<f64>", range(min = 0.1, max = 60))]
    pub timeout: Option<Spanned<f64>>,
}

// What a check expects, for the schema only (check.rs reads the string): an editor offers
// the two words.
#[derive(JsonSchema)]
#[schemars(rename_all = "lowercase", inline)]
#[allow(dead_code)]
enum Expect {
    Reachable,
    Unreachable,
}

/// A problem in the file, with its byte position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: usize,
    pub msg: String,
}

/// Line and column (1-based, columns in characters) of a byte offset; works on any bytes,
/// and on offsets past the end or inside a character.
pub fn line_col(text: &[u8], at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
    (line, col)
}

/// Parse the file; a syntax error or an unknown key comes back as a positioned problem.
pub fn parse(text: &str) -> Result<LabFile, Problem> {
    toml::from_str::<LabFile>(text).map_err(|e| Problem {
        at: e.span().map(|s| s.start).unwrap_or(0),
        msg: e.message().trim_end().replace('\n', " "),
    })
}

/// Lab files larger than this are refused (a 1,000-namespace star is about 60 KiB).
pub const MAX_SIZE: u64 = 8 << 20;

/// Whether a name, key or value is free of control characters (NUL, newlines, escapes...),
/// which no namespace, interface or sysctl needs and which would garble every message.
pub fn clean(s: &str) -> bool {
    !s.chars().any(|c| c.is_control())
}

/// A lab file's text, and whether it came from a stream (standard input, or a pipe such as
/// `<(...)`): a stream has no file name to give the lab its name.
#[derive(Debug)]
pub struct Text {
    pub text: String,
    pub stream: bool,
}

/// Why a lab file cannot be read: a positioned problem in its bytes (not UTF-8), or a reason.
pub type ReadError = Result<(Problem, Vec<u8>), String>;

/// What a file type is called in a message.
fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Whether a file of type `t` is read as a lab file: a regular file, or a pipe when `streams`
/// (a path the user gave: `<(...)` is one; the user's own FIFO too). A directory, socket or
/// device never is.
fn readable(t: &std::fs::FileType, streams: bool) -> Result<(), String> {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() || (streams && t.is_fifo()) {
        return Ok(());
    }
    if t.is_fifo() {
        return Err(
            "it is a FIFO now, not the file that was applied; pass the lab file itself".into(),
        );
    }
    Err(format!(
        "it is {}, not a lab file (TOML text); pass the lab file itself",
        kind(t)
    ))
}

/// The file's text, or a problem: unreadable, not a file, too large, or not UTF-8 (at the
/// bad byte). `-` is standard input (`nsctl apply --host h1 -`, as `--all-hosts` sends the
/// file). `streams`: whether a pipe is read (a path the user gave) or refused (a path
/// recorded in a journal, which whoever can replace it could make block every `status`).
/// Either way at most [`MAX_SIZE`] bytes are read.
pub fn read(path: &std::path::Path, streams: bool) -> Result<Text, ReadError> {
    use std::io::Read;
    let io = |e: std::io::Error| Err(crate::error::io_errstr(&e));
    let mut b = Vec::new();
    let stream = if is_stdin(path) {
        std::io::stdin()
            .lock()
            .take(MAX_SIZE + 1)
            .read_to_end(&mut b)
            .map_err(io)?;
        true
    } else {
        // Looked at before the open, so a device is never opened (opening one can act), and
        // again on the descriptor, in case the path changed in between. /dev/fd/63 leads to
        // the pipe of `<(...)`: the path is followed.
        readable(&std::fs::metadata(path).map_err(io)?.file_type(), streams).map_err(Err)?;
        let f = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NOCTTY)
                .open(path)
                .map_err(io)?
        };
        let t = f.metadata().map_err(io)?.file_type();
        readable(&t, streams).map_err(Err)?;
        f.take(MAX_SIZE + 1).read_to_end(&mut b).map_err(io)?;
        !t.is_file()
    };
    if b.len() as u64 > MAX_SIZE {
        return Err(Err(format!(
            "larger than {} MiB; a lab file is text describing a lab",
            MAX_SIZE >> 20
        )));
    }
    let text = String::from_utf8(b).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[at];
        let p = Problem {
            at,
            msg: format!("the file is not UTF-8 text (byte 0x{byte:02x}); lab files are TOML, which is UTF-8"),
        };
        Ok((p, e.into_bytes()))
    })?;
    Ok(Text { text, stream })
}

/// The absolute path of a lab file to record in the journal (for `nsctl status` without a
/// file): only a regular file is, never standard input or a pipe, which the next run
/// could not read again.
pub fn recordable(path: &std::path::Path) -> Option<String> {
    if is_stdin(path) || !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    std::fs::canonicalize(path)
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Whether a lab file argument means standard input.
pub fn is_stdin(path: &std::path::Path) -> bool {
    path.as_os_str() == "-"
}

/// What a part of the file may hold, for [`precheck`].
enum Shape {
    /// A value serde checks.
    Leaf,
    /// A table with these keys.
    Table(&'static [(&'static str, Shape)]),
    /// A table of any keys, each holding this.
    MapOf(&'static Shape),
    /// An array of these.
    ArrayOf(&'static Shape),
    /// `[hosts.NAME]` tables of machines; `hosts = true|false` was the hosts files' switch,
    /// now `etc_hosts`.
    Hosts,
}

const PLACE: Shape = Shape::Table(&[
    ("lo", Shape::Leaf),
    ("sysctl", Shape::Leaf),
    ("routes", Shape::Leaf),
]);
const NETNS: Shape = Shape::Table(&[
    ("host", Shape::Leaf),
    ("lo", Shape::Leaf),
    ("sysctl", Shape::Leaf),
    ("routes", Shape::Leaf),
]);
const MACHINE: Shape = Shape::Table(&[("underlay", Shape::Leaf), ("ssh", Shape::Leaf)]);
const BRIDGE: Shape = Shape::Table(&[
    ("netns", Shape::Leaf),
    ("host", Shape::Leaf),
    ("addresses", Shape::Leaf),
    ("mtu", Shape::Leaf),
]);
const END: Shape = Shape::Table(&[
    ("netns", Shape::Leaf),
    ("host", Shape::Leaf),
    ("name", Shape::Leaf),
    ("bridge", Shape::Leaf),
    ("addresses", Shape::Leaf),
    ("mtu", Shape::Leaf),
    ("rate", Shape::Leaf),
    ("delay", Shape::Leaf),
    ("jitter", Shape::Leaf),
    ("loss", Shape::Leaf),
]);
const VETH: Shape = Shape::Table(&[("for", Shape::Leaf), ("ends", Shape::ArrayOf(&END))]);
const NAT: Shape = Shape::Table(&[
    ("for", Shape::Leaf),
    ("source", Shape::Leaf),
    ("out", Shape::Leaf),
]);
const CHECK: Shape = Shape::Table(&[
    ("for", Shape::Leaf),
    ("from", Shape::Leaf),
    ("to", Shape::Leaf),
    ("ping", Shape::Leaf),
    ("tcp", Shape::Leaf),
    ("expect", Shape::Leaf),
    ("timeout", Shape::Leaf),
]);
const TOP: Shape = Shape::Table(&[
    ("name", Shape::Leaf),
    ("etc_hosts", Shape::Leaf),
    ("hosts", Shape::Hosts),
    ("vni", Shape::Leaf),
    ("host", PLACE),
    ("netns", Shape::MapOf(&NETNS)),
    ("bridge", Shape::MapOf(&BRIDGE)),
    ("veth", Shape::ArrayOf(&VETH)),
    ("nat", Shape::ArrayOf(&NAT)),
    ("check", Shape::ArrayOf(&CHECK)),
]);

fn walk(v: &toml::de::DeValue<'_>, shape: &Shape, out: &mut Vec<Problem>) {
    use toml::de::DeValue;
    match (shape, v) {
        (Shape::Table(fields), DeValue::Table(t)) => {
            for (k, v) in t.iter() {
                match fields.iter().find(|(f, _)| *f == k.get_ref().as_ref()) {
                    Some((_, Shape::Hosts)) if matches!(v.get_ref(), DeValue::Boolean(_)) => {
                        out.push(Problem {
                            at: k.span().start,
                            msg: "`hosts = true|false` is now `etc_hosts = true|false` ([hosts.NAME] tables name the machines of a lab across hosts)".into(),
                        })
                    }
                    Some((_, s)) => walk(v.get_ref(), s, out),
                    None => out.push(Problem {
                        at: k.span().start,
                        msg: format!(
                            "unknown field `{}`, expected one of {}",
                            k.get_ref().escape_debug(),
                            fields
                                .iter()
                                .map(|(f, _)| format!("`{f}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    }),
                }
            }
        }
        (Shape::MapOf(s), DeValue::Table(t)) => {
            for (_, v) in t.iter() {
                walk(v.get_ref(), s, out);
            }
        }
        (Shape::Hosts, DeValue::Table(t)) => {
            for (_, v) in t.iter() {
                walk(v.get_ref(), &MACHINE, out);
            }
        }
        (Shape::ArrayOf(s), DeValue::Array(a)) => {
            for v in a.iter() {
                walk(v.get_ref(), s, out);
            }
        }
        // Anything else is a type serde reports.
        _ => {}
    }
}

/// Every syntax error (the parser recovers and goes on), or else every unknown key, before
/// serde reads the file: serde stops at its first problem. The flag says the problems are
/// syntax errors (nothing more can be checked).
pub fn precheck(text: &str) -> (Vec<Problem>, bool) {
    let (doc, errors) = toml::de::DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let p = errors
            .iter()
            .map(|e| Problem {
                at: e.span().map(|s| s.start).unwrap_or(0),
                msg: e.message().trim_end().replace('\n', " "),
            })
            .collect();
        return (p, true);
    }
    let mut out = Vec::new();
    walk(&toml::de::DeValue::Table(doc.into_inner()), &TOP, &mut out);
    out.sort_by_key(|p| p.at);
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_error_and_unknown_key_is_found() {
        let (p, syntax) = precheck(
            "[netns.A]\nrouts = []\n[bridge.b]\nmtuu = 3\n[[veth]]\nends = [{ nam = \"x\" }]\n",
        );
        assert!(!syntax);
        let m: Vec<&str> = p.iter().map(|p| p.msg.as_str()).collect();
        assert_eq!(p.len(), 3, "{m:?}");
        assert!(m[0].starts_with("unknown field `routs`"));
        let (p, syntax) = precheck("a = \nb = [\n[x\n");
        assert!(syntax && p.len() >= 2, "{p:?}");
    }

    #[test]
    fn positions_are_safe_anywhere() {
        let t = "é\nx";
        assert_eq!(line_col(t.as_bytes(), 1), (1, 2));
        assert_eq!(line_col(t.as_bytes(), 99), (2, 2));
        assert_eq!(line_col(b"\xff\xfe", 1), (1, 2));
    }
}
