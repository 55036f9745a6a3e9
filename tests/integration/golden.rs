//! The differential test: every golden `ip netns` case (tests/golden/cases.sh, taken from the
//! reference record.sh) runs through the real `ip` and through nsctl, each in a fresh sandbox.
//! Stdout, stderr and rc must match after the program-name mapping; the cases where nsctl
//! deliberately differs (docs/compat.md) must instead match tests/golden/expected/.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{nsctl, root_dir};

/// Cases where nsctl fixes a 6.1 bug, each listed in docs/compat.md.
const DOCUMENTED: &[(&str, &str)] = &[
    (
        "062-listid-tgt-neg",
        "list-id names the negative value, not (null)",
    ),
    (
        "065-listid-tgt-neg2",
        "list-id names the negative value, not the next word",
    ),
    (
        "066-listid-nsid-neg",
        "list-id names the negative value, not (null)",
    ),
    (
        "119-all-exec-bogus",
        "-all exec runs each command once (6.9 fix)",
    ),
    (
        "133-n-noarg",
        "-n without a value says so instead of (null)",
    ),
    (
        "135-n-netns-add",
        "-n X add Y makes a real Y, no ghost file",
    ),
    (
        "150-all-add-novalid",
        "-all does not switch off the name check for add",
    ),
    (
        "151-all-add-dotdot",
        "-all does not switch off the name check for add",
    ),
    (
        "157-batch-exec-miss",
        "a failed exec child in a batch exits (6.9 fix)",
    ),
    (
        "163-batch-noarg",
        "-batch without a file names the missing argument",
    ),
    ("165-monitor-pipe", "monitor flushes every line"),
];

/// ip's words for itself become nsctl's: `ip [-all] netns X` -> `nsctl [-all] X`.
fn map_names(s: &str) -> String {
    s.replace("ip [-all] netns ", "nsctl [-all] ")
        .replace("ip netns ", "nsctl ")
        .replace("\"ip -help\"", "\"nsctl -help\"")
}

/// Replace the digits right after each `prefix` with `N`.
fn mask_after(s: &str, prefix: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i + prefix.len()]);
        let after = &rest[i + prefix.len()..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        out.push('N');
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Values that change from run to run whatever the program: nsfs inode numbers, mount peer
/// group ids, and (in pids-ns1) the sleeper's pid, which the case compares within the run.
fn normalise(case: &str, s: &str) -> String {
    let out = mask_after(&mask_after(s, "net:["), "shared:");
    if case.ends_with("pids-ns1") {
        out.chars()
            .map(|c| if c.is_ascii_digit() { '9' } else { c })
            .collect()
    } else {
        out
    }
}

fn read(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

fn run_mode(mode: &str, out: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(out);
    fs::create_dir_all(out).map_err(|e| e.to_string())?;
    let o = Command::new(root_dir().join("tests/sandbox/run.sh"))
        .arg(root_dir().join("tests/golden/drive.sh"))
        .arg(mode)
        .arg(out)
        .env("NSCTL_BIN", nsctl())
        .output()
        .map_err(|e| e.to_string())?;
    if !String::from_utf8_lossy(&o.stdout).contains("ran 176 cases") {
        return Err(format!(
            "{mode} run did not finish: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(())
}

pub fn differential() -> Result<(), String> {
    let base = root_dir().join("target/golden-diff");
    let (ip_dir, ns_dir) = (base.join("ip"), base.join("nsctl"));
    run_mode("ip", &ip_dir)?;
    run_mode("nsctl", &ns_dir)?;
    let mut cases: Vec<String> = fs::read_dir(&ip_dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    let (mut matched, mut documented, mut pending) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in &cases {
        let expected_dir = DOCUMENTED
            .iter()
            .find(|(c, _)| c == case)
            .map(|_| root_dir().join("tests/golden/expected").join(case));
        let mut ok = true;
        for f in ["stdout", "stderr", "rc"] {
            let got = normalise(case, &read(&ns_dir.join(case).join(f)));
            let want = match &expected_dir {
                Some(d) => normalise(case, &read(&d.join(f))),
                None => normalise(case, &map_names(&read(&ip_dir.join(case).join(f)))),
            };
            if got != want {
                ok = false;
                failures.push(format!("{case} {f}:\n--- want\n{want}--- got\n{got}"));
            }
        }
        // Counted by what happened: a case that differs is pending, whatever it is listed as.
        match (ok, expected_dir.is_some()) {
            (true, true) => documented += 1,
            (true, false) => matched += 1,
            (false, _) => pending += 1,
        }
        // A documented case must still differ from ip, or the entry is stale.
        if expected_dir.is_some() {
            let same = ["stdout", "stderr", "rc"].iter().all(|f| {
                normalise(case, &read(&ns_dir.join(case).join(f)))
                    == normalise(case, &map_names(&read(&ip_dir.join(case).join(f))))
            });
            if same {
                failures.push(format!(
                    "{case}: listed as a documented difference but matches ip"
                ));
            }
        }
    }
    println!(
        "golden: {} cases, {} match ip, {} documented differences, {} pending",
        cases.len(),
        matched,
        documented,
        pending
    );
    if cases.len() != 176 {
        failures.push(format!("expected 176 cases, found {}", cases.len()));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
