//! Generated entries' `{EXPR}` and `for = "A..B"` on hostile input (issue 22, item 3): the
//! real binary on lab files whose expressions overflow i64 or nest 50,000 deep, whose
//! templates would make millions of strings, and other numbers a file sets (more hosts than
//! machine numbers hold; 100,000 ends of one name, which once made MAC derivation quadratic).
//! Every verb that reads the file refuses it with `FILE:LINE:COL` and exit 2: no abort (134),
//! no stack overflow (139), no hang (each verb runs under `timeout 120`: rc 124 fails the
//! case), and nothing on the machine changes.

use crate::support::sandbox;

/// i64::MIN, written as the file can write it (9223372036854775808 is not a number there).
const MIN: &str = "(-9223372036854775807 - 1)";

/// (what, file text as a Python expression, what stderr must hold).
fn cases() -> Vec<(&'static str, String, Vec<String>)> {
    let overflow = "a value is out of range".to_string();
    let deep = "nest more than 64 deep".to_string();
    let veth = |name: &str| {
        format!(
            "'[[veth]]\\nfor = \"1..2\"\\nends = [{{ name = \"{name}\" }}, {{ name = \"b{{i}}\" }}]\\n'"
        )
    };
    vec![
        (
            "i64::MIN / -1",
            veth(&format!("e{{{MIN} / -1}}")),
            vec![
                format!("bad.toml:3:18: veth i=1: \"e{{{MIN} / -1}}\": {overflow}"),
                "bad.toml:3:18: veth i=2: ".into(),
            ],
        ),
        (
            "i64::MIN % -1",
            veth(&format!("e{{{MIN} % -1}}")),
            vec![format!(
                "bad.toml:3:18: veth i=1: \"e{{{MIN} % -1}}\": {overflow}"
            )],
        ),
        (
            "-i64::MIN",
            format!(
                "'[netns.\"h{{1..2}}\"]\\nroutes = [\"default via 10.0.{{-{MIN}}}.1\"]\\n'"
            ),
            vec![format!(
                "bad.toml:2:11: h1: \"default via 10.0.{{-{MIN}}}.1\": {overflow}"
            )],
        ),
        (
            "i64::MIN * -1",
            format!("'[[nat]]\\nfor = \"1..2\"\\nsource = \"10.{{{MIN} * -1}}.0.0/16\"\\n'"),
            vec![format!(
                "bad.toml:3:10: nat i=1: \"10.{{{MIN} * -1}}.0.0/16\": {overflow}"
            )],
        ),
        (
            "i64::MAX + i",
            "'[bridge.\"b{1..2}\"]\\naddresses = [\"10.{9223372036854775807 + i}.0.1/24\"]\\n'"
                .into(),
            vec![format!(
                "bad.toml:2:14: b1: \"10.{{9223372036854775807 + i}}.0.1/24\": {overflow}"
            )],
        ),
        (
            "a range beyond i64",
            "'[[veth]]\\nfor = \"9223372036854775808..9223372036854775808\"\\nends = [{ name = \"e{-i}\" }, { name = \"b\" }]\\n'"
                .into(),
            vec!["bad.toml:2:7: \"9223372036854775808..9223372036854775808\" is not a range A..B".into()],
        ),
        (
            "50,000 '('",
            veth("e{' + '(' * 50000 + '}"),
            vec![
                "bad.toml:3:18: veth i=1: \"e{((((((".into(),
                format!("...\": parentheses and '-' {deep}"),
            ],
        ),
        (
            "50,000 '-'",
            "'[[check]]\\nfor = \"1..2\"\\nfrom = \"h{' + '-' * 50000 + 'i}\"\\nto = \"h\"\\nping = true\\n'"
                .into(),
            vec!["bad.toml:3:8: check i=1: \"h{-----".into(), deep.clone()],
        ),
        (
            "100,000 instances, one line per problem up to three",
            format!(
                "'[netns.\"h{{1..100000}}\"]\\nroutes = [\"default via 10.0.{{{MIN} / -1}}.1\"]\\n'"
            ),
            vec![
                "bad.toml:2:11: h3: ".into(),
                "bad.toml:2:11: ... and 99997 more like these from the same template\nlines=4\nrc=2".into(),
            ],
        ),
        (
            "a 6 KB template of 200 routes in 100,000 namespaces",
            r#"'[netns."h{1..100000}"]\nroutes = [' + ', '.join('"10.%d.0.0/16 via 10.0.{i}.1"' % k for k in range(200)) + ']\n'"#
                .into(),
            vec!["bad.toml:1:1: the generated entries make more than 1000000 strings or 64 MiB of text".into()],
        ),
        (
            "100,000 ends of one name in one place: refused, not hashed 5 billion times",
            r#"'[[veth]]\nfor = "1..100000"\nends = [{ name = "up" }, { name = "d{i}" }]\n'"#.into(),
            vec![
                "bad.toml:3:18: veth i=2: two interfaces named \"up\" in the host".into(),
                "bad.toml:3:18: ... and 99996 more like these from the same template".into(),
            ],
        ),
        (
            "1,001 hosts: machine numbers are u16, and no truncation",
            r#"''.join('[hosts.h%d]\nunderlay = "10.0.%d.%d"\n' % (k, k >> 8, k & 255) for k in range(1001))"#
                .into(),
            vec!["the file names 1001 hosts; a lab spans at most 1000 machines".into()],
        ),
    ]
}

/// Each file through `apply`, `apply --dry-run` and `status FILE`: exit 2 and the message
/// at the template's position, no signal, at most 4 lines, and the sandbox unchanged.
pub fn hostile_expressions() -> Result<(), String> {
    let cases = cases();
    let mut script = String::from(
        "snap() { ip -o link show; ls -A /run/netns /run/nsctl 2>&1; find /etc/netns 2>&1; }\n\
         before=$(snap)\ncd /tmp\n",
    );
    for (k, (_, text, _)) in cases.iter().enumerate() {
        script += &format!(
            "python3 -c 'import sys; sys.stdout.write({})' > bad.toml || exit 1\n",
            text.replace('\'', "'\\''")
        );
        for verb in ["apply", "apply --dry-run", "status"] {
            script += &format!(
                "timeout 120 $NSCTL {verb} bad.toml > /dev/null 2> err; rc=$?\n\
                 {{ echo '--- {k} {verb}'; head -c 2000 err; echo \"lines=$(wc -l < err)\"; echo \"rc=$rc\"; }}\n"
            );
        }
    }
    script += "[ \"$before\" = \"$(snap)\" ] && echo '--- unchanged'\n";
    let o = sandbox(&script);
    o.expect_rc(0, "hostile expressions")?;
    let mut failures = Vec::new();
    if !o.stdout.contains("--- unchanged") {
        failures.push(format!("the sandbox changed:\n{}", o.stdout));
    }
    for (k, (what, _, wants)) in cases.iter().enumerate() {
        for verb in ["apply", "apply --dry-run", "status"] {
            let head = format!("--- {k} {verb}\n");
            let got = o
                .stdout
                .split_once(&head)
                .map(|(_, rest)| rest.split("\n--- ").next().unwrap_or(""))
                .unwrap_or("");
            let lines_ok = got
                .lines()
                .find_map(|l| l.strip_prefix("lines="))
                .and_then(|n| n.trim().parse::<u32>().ok())
                .is_some_and(|n| (1..=4).contains(&n));
            let ok = got.trim_end().ends_with("rc=2")
                && lines_ok
                && !got.contains("panicked")
                && wants.iter().all(|w| got.contains(w.as_str()));
            if !ok {
                failures.push(format!(
                    "{what} ({verb}): wanted rc=2, at most 4 lines and {wants:?}, got:\n{got}"
                ));
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
