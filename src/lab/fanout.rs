//! `--all-hosts`: run a lab command on every machine of a lab across hosts (machines.rs), in
//! parallel, over the system's OpenSSH client. Each machine runs its own nsctl on its own
//! share (`nsctl VERB --host NAME -j -`) with the lab file on standard input; what comes back
//! is its JSON summary. No agent and no state of nsctl's own: ssh, with connection sharing and
//! BatchMode (it never asks for a password).
//!
//! `NSCTL_SSH` is the ssh command and its leading options (default `ssh`; for example
//! `ssh -F /etc/nsctl/ssh_config`), and `NSCTL_REMOTE` the nsctl to run on the machines
//! (default `nsctl`, found on their PATH).

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use super::error::{exit, LabError};
use super::machines::Machine;
use crate::fsx::{self, Dir, Missing};
use crate::output::{err, out};

/// Where ssh keeps its shared connections (`ControlPath`), one per machine.
const CONTROL_DIR: &str = "/run/nsctl/ssh";

/// A lab command to run on every machine.
pub struct Fanout<'a> {
    /// `apply`, `status`, `destroy` or `test`.
    pub verb: &'static str,
    /// Its options other than `--host`, `-j` and the file (`--dry-run`, `--adopt`).
    pub flags: Vec<&'static str>,
    pub lab: &'a str,
    pub machines: &'a [Machine],
    /// The lab file's text, sent to each machine on standard input.
    pub text: &'a str,
    pub json: bool,
}

/// What one machine answered.
struct Answer {
    rc: i32,
    /// Its JSON summary, when it printed one.
    result: Option<serde_json::Value>,
    /// Its last line on stderr (or why ssh could not run).
    error: String,
    secs: f64,
}

/// The words a machine's shell runs. Names are checked by the file's rules; the remote nsctl
/// is refused unless it is a plain path.
fn remote_command(f: &Fanout, m: &Machine) -> Result<String, LabError> {
    let nsctl = std::env::var("NSCTL_REMOTE").unwrap_or_else(|_| "nsctl".into());
    if nsctl.is_empty()
        || !nsctl
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"/._-+".contains(&c))
    {
        return Err(LabError::new(
            exit::BAD_INPUT,
            format!(
                "NSCTL_REMOTE=\"{}\" is not a plain path to nsctl (letters, digits, / . _ - +)",
                nsctl.escape_debug()
            ),
        ));
    }
    let mut words = vec![nsctl, f.verb.to_string(), "--host".into(), m.name.clone()];
    words.extend(f.flags.iter().map(|s| s.to_string()));
    words.extend(["-j".to_string(), "-".to_string()]);
    Ok(words.join(" "))
}

/// The ssh command line for machine `m`: the user's ssh and options first (ssh keeps the first
/// value it is given for an option), then BatchMode, a connect timeout, keep-alives (a
/// machine that stops answering midway ends its run after 30 s) and a shared connection.
fn ssh_command(m: &Machine, remote: &str, sharing: bool) -> Command {
    let ssh = std::env::var("NSCTL_SSH").unwrap_or_default();
    let mut words = ssh.split_whitespace();
    let mut c = Command::new(words.next().unwrap_or("ssh"));
    c.args(words);
    c.args([
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=10",
        "-o",
        "ServerAliveInterval=10",
        "-o",
        "ServerAliveCountMax=3",
    ]);
    if sharing {
        c.args([
            "-o",
            "ControlMaster=auto",
            "-o",
            &format!("ControlPath={CONTROL_DIR}/%C"),
            "-o",
            "ControlPersist=60",
        ]);
    }
    c.arg("--").arg(&m.ssh).arg(remote);
    c
}

fn ask(f: &Fanout, m: &Machine, remote: &str, sharing: bool) -> Answer {
    let start = Instant::now();
    let mut c = ssh_command(m, remote, sharing);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let failed = |error: String| Answer {
        rc: 255,
        result: None,
        error,
        secs: start.elapsed().as_secs_f64(),
    };
    let mut child = match c.spawn() {
        Ok(ch) => ch,
        Err(e) => {
            return failed(format!(
                "cannot run ssh: {}; install openssh-client, or set NSCTL_SSH",
                crate::error::io_errstr(&e)
            ))
        }
    };
    // The file goes in while the answer comes out (a large file would otherwise fill both
    // pipes and stop both sides).
    let stdin = child.stdin.take();
    let o = std::thread::scope(|s| {
        s.spawn(|| {
            // An ssh that ends before it reads the file (a host it cannot resolve, a refused
            // login) closes the pipe: the write fails with EPIPE. SIGPIPE stays at its default
            // in nsctl (main.rs), so it is blocked in this thread alone, which ends here: the
            // signal dies with it instead of killing the whole run before its summary.
            let mut pipe = nix::sys::signal::SigSet::empty();
            pipe.add(nix::sys::signal::Signal::SIGPIPE);
            let _ = pipe.thread_block();
            if let Some(mut w) = stdin {
                let _ = w.write_all(f.text.as_bytes());
            }
        });
        child.wait_with_output()
    });
    let o = match o {
        Ok(o) => o,
        Err(e) => return failed(format!("ssh: {}", crate::error::io_errstr(&e))),
    };
    let stdout = String::from_utf8_lossy(&o.stdout);
    let result = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok());
    let error = String::from_utf8_lossy(&o.stderr)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    Answer {
        rc: o.status.code().unwrap_or(255),
        result,
        error,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// One machine's result, in a few words.
fn summary(verb: &str, a: &Answer) -> String {
    let n = |k: &str| {
        a.result
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|x| x.as_u64())
            .unwrap_or(0)
    };
    if a.rc == 255 && a.result.is_none() {
        return format!("unreachable: {}", a.error);
    }
    let Some(v) = &a.result else {
        return format!("failed: {}", a.error);
    };
    let text = match verb {
        // `status --nodes`: its table is printed whole above (table_report).
        "status" if v.get("nodes").is_some() => match v.get("ok").and_then(|x| x.as_bool()) {
            Some(true) => "every node as the file says".to_string(),
            _ => "some nodes not as the file says".to_string(),
        },
        "status" => {
            if v.get("converged").and_then(|x| x.as_bool()) == Some(true) {
                "converged".to_string()
            } else {
                let todo = v
                    .get("changes")
                    .and_then(|x| x.as_array())
                    .map_or(0, |x| x.len());
                format!("not converged: {todo} to do")
            }
        }
        "test" => format!("{} passed, {} failed", n("passed"), n("failed")),
        _ => format!(
            "{} created, {} changed, {} removed, {} failed",
            n("created"),
            n("changed"),
            n("removed"),
            n("failed")
        ),
    };
    if a.rc != 0 && !a.error.is_empty() {
        format!("{text}: {}", a.error)
    } else {
        text
    }
}

/// Whether ssh shares connections, in [`CONTROL_DIR`]: a private directory (fsx.rs: 0700
/// whatever the umask, never through a symlink, the caller's alone). A run that writes makes
/// it; one that only looks (status, test, a dry run) uses it when it is there. Where it cannot
/// be made or looked at (a user who is not root, a read-only /run), each run connects afresh;
/// where it is not safe (a symlink, another's, writable by others), nothing runs: ssh would
/// put its sockets, and take its connections from, a place someone else controls.
fn control_dir(f: &Fanout) -> Result<bool, LabError> {
    if !nix::unistd::geteuid().is_root() {
        // /run/nsctl is root's: another user's run connects afresh (ssh needs no root).
        return Ok(false);
    }
    let writes = matches!(f.verb, "apply" | "destroy") && !f.flags.contains(&"--dry-run");
    let missing = if writes {
        Missing::Make(fsx::PRIVATE)
    } else {
        Missing::Absent
    };
    match Dir::open("/run", "nsctl/ssh", missing) {
        Ok(d) => Ok(d.is_some()),
        Err(e) if e.raw_os_error().is_some() => Ok(false),
        Err(e) => Err(LabError::new(
            exit::FAILED,
            format!(
                "{} {} --all-hosts: cannot use {CONTROL_DIR} for ssh's shared connections: {}. Nothing was run.",
                f.verb,
                f.lab,
                crate::error::io_errstr(&e)
            ),
        )),
    }
}

/// Run `f` on every machine at once; print each one's end as it comes (stderr), then one
/// table (or JSON with `-j`) in file order. Exit 0 only when every machine's run did.
pub fn run(f: &Fanout) -> Result<i32, LabError> {
    let mut remotes = Vec::with_capacity(f.machines.len());
    for m in f.machines {
        remotes.push(remote_command(f, m)?);
    }
    let sharing = control_dir(f)?;
    let start = Instant::now();
    let answers = ask_all(f, &remotes, sharing);
    let failed = answers.iter().filter(|a| a.rc != 0).count();
    let secs = start.elapsed().as_secs_f64();
    let report = if f.json {
        json_report(f, &answers, failed, secs)
    } else {
        table_report(f, &answers, failed, secs)
    };
    out(report.as_bytes());
    Ok(if failed == 0 { exit::OK } else { exit::FAILED })
}

/// Every machine's answer, in file order, asked in parallel; each end is told on stderr.
fn ask_all(f: &Fanout, remotes: &[String], sharing: bool) -> Vec<Answer> {
    let total = f.machines.len();
    let mut answers: Vec<Option<Answer>> = (0..total).map(|_| None).collect();
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::channel();
        for (k, (m, remote)) in f.machines.iter().zip(remotes).enumerate() {
            let tx = tx.clone();
            s.spawn(move || {
                let _ = tx.send((k, ask(f, m, remote, sharing)));
            });
        }
        drop(tx);
        for (done, (k, a)) in rx.iter().enumerate() {
            let state = if a.rc == 0 { "done" } else { "FAILED" };
            err(format!(
                "{} {}: {} {state} in {:.2}s ({} of {total})\n",
                f.verb,
                f.lab,
                f.machines[k].name,
                a.secs,
                done + 1
            )
            .as_bytes());
            answers[k] = Some(a);
        }
    });
    answers
        .into_iter()
        .map(|a| {
            a.unwrap_or(Answer {
                rc: 255,
                result: None,
                error: "no answer".into(),
                secs: 0.0,
            })
        })
        .collect()
}

/// The `-j` report: each machine's exit, time and JSON summary, and the count that failed.
fn json_report(f: &Fanout, answers: &[Answer], failed: usize, secs: f64) -> String {
    let hosts: Vec<serde_json::Value> = f
        .machines
        .iter()
        .zip(answers)
        .map(|(m, a)| {
            serde_json::json!({
                "host": m.name,
                "exit": a.rc,
                "ok": a.rc == 0,
                "seconds": (a.secs * 1000.0).round() / 1000.0,
                "result": a.result,
                "error": if a.rc == 0 { None } else { Some(&a.error) },
            })
        })
        .collect();
    let v = serde_json::json!({
        "lab": f.lab,
        "command": f.verb,
        "hosts": hosts,
        "failed": failed,
        "seconds": (secs * 1000.0).round() / 1000.0,
    });
    format!("{v}\n")
}

/// The table report: a row per machine (host, time, result), then a line naming any failed.
fn table_report(f: &Fanout, answers: &[Answer], failed: usize, secs: f64) -> String {
    let total = f.machines.len();
    let rows: Vec<(String, String, String)> = f
        .machines
        .iter()
        .zip(answers)
        .map(|(m, a)| {
            (
                m.name.clone(),
                summary(f.verb, a),
                format!("{:.2}s", a.secs),
            )
        })
        .collect();
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    // `status --nodes`: every machine's nodes in one table first, each with its machine.
    let nodes: Vec<_> = answers
        .iter()
        .filter(|_| f.flags.contains(&"--nodes"))
        .filter_map(|a| a.result.as_ref().and_then(super::nodes::from_json))
        .flatten()
        .collect();
    let mut text = if nodes.is_empty() {
        String::new()
    } else {
        super::nodes::table(&nodes) + "\n"
    };
    text += &format!("{:<w$}  {:<8}  RESULT\n", "HOST", "TIME");
    for (h, r, t) in &rows {
        text += &format!("{h:<w$}  {t:<8}  {r}\n");
    }
    text += &match failed {
        0 => format!(
            "{} {}: {total} hosts, all done in {secs:.2}s\n",
            f.verb, f.lab
        ),
        n => format!(
            "{} {}: {n} of {total} hosts failed ({}) in {secs:.2}s\n",
            f.verb,
            f.lab,
            f.machines
                .iter()
                .zip(answers)
                .filter(|(_, a)| a.rc != 0)
                .map(|(m, _)| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Machine {
        Machine {
            name: "h1".into(),
            underlay: "192.0.2.1".parse().unwrap(),
            ssh: "root@192.0.2.1".into(),
        }
    }

    #[test]
    fn the_remote_command_is_plain() {
        let ms = [m()];
        let f = Fanout {
            verb: "apply",
            flags: vec!["--dry-run"],
            lab: "x",
            machines: &ms,
            text: "",
            json: false,
        };
        assert_eq!(
            remote_command(&f, &ms[0]).unwrap(),
            "nsctl apply --host h1 --dry-run -j -"
        );
        let c = ssh_command(&ms[0], "nsctl status --host h1 -j -", true);
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(args.contains(&"BatchMode=yes".to_string()), "{args:?}");
        assert!(args.ends_with(&[
            "--".to_string(),
            "root@192.0.2.1".to_string(),
            "nsctl status --host h1 -j -".to_string()
        ]));
    }

    #[test]
    fn summaries_say_what_each_machine_did() {
        let a = |rc: i32, v: Option<serde_json::Value>, e: &str| Answer {
            rc,
            result: v,
            error: e.into(),
            secs: 0.1,
        };
        let applied = serde_json::json!({"created": 6, "changed": 0, "removed": 0, "failed": 0});
        assert_eq!(
            summary("apply", &a(0, Some(applied), "")),
            "6 created, 0 changed, 0 removed, 0 failed"
        );
        assert_eq!(
            summary(
                "apply",
                &a(
                    255,
                    None,
                    "ssh: connect to host 192.0.2.9 port 22: No route to host"
                )
            ),
            "unreachable: ssh: connect to host 192.0.2.9 port 22: No route to host"
        );
        assert_eq!(
            summary(
                "status",
                &a(
                    1,
                    Some(serde_json::json!({"converged": false, "changes": ["a", "b"]})),
                    ""
                )
            ),
            "not converged: 2 to do"
        );
        assert_eq!(
            summary("apply", &a(2, None, "bad file")),
            "failed: bad file"
        );
    }
}
