//! The transcripts in README.md and docs/topology.md are true (issue 24, item 10): every
//! ```console block that runs a lab verb (`nsctl apply|destroy|status|test|graph`) is run, line
//! by line, in a fresh sandbox from the repository's root, and what nsctl prints must be the
//! block's text. Only what changes from run to run is normalised: timings (`in 0.12s`,
//! `0.1 ms`, `"seconds":0.031`), UTC dates and times, and the directories before `examples/`
//! in an absolute path. A count that drifts fails the test.
//!
//! Markers, an HTML comment on the line just before the block (invisible on GitHub):
//! `<!-- transcript: setup: CMD -->` runs CMD first, silently (a lab to show the status of);
//! `<!-- transcript: skip: WHY -->` leaves a block out (say why: it needs two machines...).

use crate::support::{root_dir, sandbox};

/// The documents whose transcripts are checked.
const DOCS: &[&str] = &["README.md", "docs/topology.md"];

/// One ```console block: where it starts, its setup, its commands and the text it shows.
struct Block {
    doc: &'static str,
    line: usize,
    setup: Option<String>,
    skip: bool,
    /// The block as written: `# CMD` lines and the output after each.
    text: String,
}

impl Block {
    /// The commands of the block (`# CMD` lines, without the prompt).
    fn commands(&self) -> impl Iterator<Item = &str> {
        self.text.lines().filter_map(|l| l.strip_prefix("# "))
    }

    /// Whether the block runs a lab verb.
    fn runs_a_lab_verb(&self) -> bool {
        self.commands().any(|c| {
            ["apply", "destroy", "status", "test", "graph"]
                .iter()
                .any(|v| c.starts_with(&format!("nsctl {v}")))
        })
    }
}

/// The ```console blocks of `doc`, with the markers before them. A fence may be indented (a
/// block in a list item): the indent is taken off its lines.
fn blocks(doc: &'static str, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let indent = l.len() - l.trim_start().len();
        if l.trim_start() != "```console" {
            i += 1;
            continue;
        }
        let marker = i
            .checked_sub(1)
            .and_then(|p| lines[p].trim().strip_prefix("<!-- transcript: "))
            .and_then(|m| m.strip_suffix("-->"))
            .map(str::trim);
        let mut body = String::new();
        let mut k = i + 1;
        while k < lines.len() && lines[k].trim_start() != "```" {
            body += lines[k].get(indent..).unwrap_or(lines[k].trim_start());
            body.push('\n');
            k += 1;
        }
        out.push(Block {
            doc,
            line: i + 1,
            setup: marker
                .and_then(|m| m.strip_prefix("setup:"))
                .map(|s| s.trim().to_string()),
            skip: marker.is_some_and(|m| m.starts_with("skip:")),
            text: body,
        });
        i = k + 1;
    }
    out
}

/// The script that replays `b` from the repository's root: each command is echoed as the
/// block shows it and run with its output (stdout and stderr) after it.
fn script(b: &Block) -> String {
    let mut s = format!(
        "nsctl() {{ \"$NSCTL\" \"$@\"; }}\ncd '{}' || exit 1\n",
        root_dir().display()
    );
    if let Some(setup) = &b.setup {
        s += &format!(
            "{{ {setup}; }} >/dev/null 2>&1 || {{ echo 'setup failed: {setup}'; exit 1; }}\n"
        );
    }
    for c in b.commands() {
        s += &format!(
            "printf '%s\\n' '# {}'\n{c} 2>&1\n",
            c.replace('\'', "'\\''")
        );
    }
    s
}

/// `s` with the run's own numbers taken out: see the module's header.
pub fn normalise(s: &str) -> String {
    s.lines()
        .map(|l| {
            let ws: Vec<&str> = l.split(' ').collect();
            let l = (0..ws.len())
                .map(|i| word(ws[i], ws.get(i + 1) == Some(&"ms")))
                .collect::<Vec<_>>()
                .join(" ");
            seconds_field(&dates(&l))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A decimal number with one point (`0.12`; an IPv4 address has three).
fn decimal(t: &str) -> bool {
    t.bytes().all(|c| c.is_ascii_digit() || c == b'.')
        && t.matches('.').count() == 1
        && !t.starts_with('.')
        && !t.ends_with('.')
}

/// One space-separated word: a time (`0.12s`, or `0.1` before `ms`) becomes `T`, an absolute
/// path into `examples/` becomes `.../examples/NAME`.
fn word(w: &str, before_ms: bool) -> String {
    if w.strip_suffix('s').is_some_and(decimal) {
        return "Ts".into();
    }
    if before_ms && decimal(w) {
        return "T".into();
    }
    if w.starts_with('/') {
        if let Some(i) = w.find("/examples/") {
            return format!("...{}", &w[i..]);
        }
    }
    w.to_string()
}

/// `2026-11-30 07:59:40` becomes `DATE TIME`.
fn dates(l: &str) -> String {
    // Digits, with `sep` at every third byte (`11-30`, `07:59:40`).
    let shape = |w: &[u8], sep: u8| {
        w.len() >= 8
            && w.iter().enumerate().all(|(i, &c)| {
                if i % 3 == 2 {
                    c == sep
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    l.split(' ')
        .map(|w| {
            let b = w.as_bytes();
            if b.len() == 10 && b[..2].iter().all(u8::is_ascii_digit) && shape(&b[2..], b'-') {
                "DATE".to_string()
            } else if b.len() == 8 && shape(b, b':') {
                "TIME".to_string()
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `"seconds":0.031` in a JSON summary becomes `"seconds":T`.
fn seconds_field(l: &str) -> String {
    const KEY: &str = "\"seconds\":";
    let Some(at) = l.find(KEY) else {
        return l.to_string();
    };
    let rest = &l[at + KEY.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    format!("{}{KEY}T{}", &l[..at], &rest[end..])
}

/// The first line where the block and the run differ, both normalised.
fn first_difference(want: &str, got: &str) -> String {
    let (mut w, mut g) = (want.lines(), got.lines());
    for i in 1.. {
        match (w.next(), g.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (a, b) => {
                return format!(
                    "line {i} of the block: {:?}, the run: {:?}",
                    a.unwrap_or("(end)"),
                    b.unwrap_or("(end)")
                )
            }
        }
    }
    String::new()
}

/// Every transcript of the docs holds: replayed in a sandbox, nsctl prints what it shows.
pub fn docs_transcripts_are_true() -> Result<(), String> {
    let mut failures = Vec::new();
    let mut ran = 0;
    for doc in DOCS {
        let path = root_dir().join(doc);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{doc}: {e}"))?;
        let bs: Vec<Block> = blocks(doc, &text)
            .into_iter()
            .filter(|b| !b.skip && b.runs_a_lab_verb())
            .collect();
        if bs.is_empty() {
            failures.push(format!("{doc}: no transcript of a lab verb found"));
        }
        for b in bs {
            ran += 1;
            let o = sandbox(&script(&b));
            let (want, got) = (normalise(&b.text), normalise(&o.stdout));
            if want != got {
                failures.push(format!(
                    "{}:{}: the transcript differs from a real run ({}); the run printed (rc {}):\n{}--- stderr\n{}",
                    b.doc, b.line, first_difference(&want, &got), o.rc, o.stdout, o.stderr
                ));
            }
        }
    }
    if !failures.is_empty() {
        return Err(failures.join("\n"));
    }
    println!("  {ran} transcripts in README.md and docs/topology.md replayed, as printed");
    Ok(())
}

/// The normalisation keeps counts and names, and takes out timings, dates and directories.
pub fn transcript_normalisation() -> Result<(), String> {
    let cases = [
        (
            "destroy abc: 6 removed, 0 failed in 0.12s",
            "destroy abc: 6 removed, 0 failed in Ts",
        ),
        (
            "ok  ping A -> B (10.0.0.3)  reachable  12.5 ms",
            "ok  ping A -> B (10.0.0.3)  reachable  T ms",
        ),
        (
            "abc       22  2026-12-08 04:36:03  converged  /root/nsctl/examples/abc-nat.toml",
            "abc       22  DATE TIME  converged  .../examples/abc-nat.toml",
        ),
        (
            "{\"removed\":7,\"seconds\":0.108,\"errors\":[]}",
            "{\"removed\":7,\"seconds\":T,\"errors\":[]}",
        ),
        (
            "ok  ping C -> 10.0.0.1  reachable  0.0 ms",
            "ok  ping C -> 10.0.0.1  reachable  T ms",
        ),
        ("abc 12 1.5 10.0.0.1", "abc 12 1.5 10.0.0.1"),
    ];
    for (i, w) in cases {
        if normalise(i) != w {
            return Err(format!(
                "normalise({i:?}) = {:?}, wanted {w:?}",
                normalise(i)
            ));
        }
    }
    Ok(())
}
