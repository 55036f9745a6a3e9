//! `nsctl test FILE`: run the lab's `[[check]]`s against the applied lab and print a table
//! (or `-j` JSON); exit 0 only when every expectation holds. Checks run in parallel on a
//! bounded pool of threads, each thread entering the check's namespace with setns (which
//! moves only that thread) before it opens its socket there. The listeners nsctl opens at
//! TCP targets accept (and close) on one more thread while the checks run.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

use super::check::{CheckSpec, Probe};
use super::error::{exit, LabError};
use super::places::{open_netns, thread_home};
use super::probe::{self, Outcome};
use super::report::Tally;
use super::spec::{place_name, Lab, Where};
use crate::output::out;

pub struct Opts {
    pub json: bool,
    /// At most this many checks at once.
    pub jobs: usize,
}

/// Put the calling thread in `at` (None: the namespace it started in, `home`).
fn enter(at: &Where, home: &OwnedFd) -> Result<(), String> {
    let r = match at {
        None => setns(home.as_fd(), CloneFlags::CLONE_NEWNET),
        Some(n) => setns(open_netns(n)?.as_fd(), CloneFlags::CLONE_NEWNET),
    };
    r.map_err(|e| {
        format!(
            "cannot enter {}: {}",
            place_name(at),
            crate::error::errstr(e)
        )
    })
}

/// Where a TCP check's target listens: (place, address, port).
type Spot = (Where, IpAddr, u16);

/// Raise the soft limit on open files to the hard one (each listener holds a descriptor
/// for as long as the checks run); the soft limit then in effect.
fn open_file_limit() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given, which lives on this stack.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return 1024;
    }
    if r.rlim_cur < r.rlim_max {
        let up = libc::rlimit {
            rlim_cur: r.rlim_max,
            rlim_max: r.rlim_max,
        };
        // SAFETY: setrlimit only reads the struct it is given. Raising the soft limit up to
        // the hard one needs no privilege; when it fails (a hard limit above the kernel's
        // nr_open), the old limit stays.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &up) } == 0 {
            return r.rlim_max;
        }
    }
    r.rlim_cur
}

/// The lab targets of TCP checks, each once, in file order.
fn spots(checks: &[CheckSpec]) -> Vec<Spot> {
    let mut seen = std::collections::HashSet::new();
    checks
        .iter()
        .filter_map(|c| match (c.probe, &c.owner) {
            (Probe::Tcp(port), Some(at)) => Some((at.clone(), c.dst, port)),
            _ => None,
        })
        .filter(|s| seen.insert(s.clone()))
        .collect()
}

/// A listener at every lab target of a TCP check where nothing listens yet, opened from one
/// helper thread (so the main thread never leaves its namespace); at most `room` of them,
/// so that the checks' own sockets still fit under the open-file limit. Err: why there is
/// none.
fn listeners(checks: &[CheckSpec], room: usize) -> HashMap<Spot, Result<Option<OwnedFd>, String>> {
    let spots = spots(checks);
    let n = spots.len();
    if n == 0 {
        return HashMap::new();
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            let home = thread_home();
            spots
                .into_iter()
                .enumerate()
                .map(|(k, spot)| {
                    let r = match &home {
                        _ if k >= room => Err(format!(
                            "the limit on open files (ulimit -n) leaves room for {room} listeners and the checks have {} targets; raise it",
                            n
                        )),
                        Err(e) => Err(e.clone()),
                        Ok(h) => enter(&spot.0, h).and_then(|()| probe::listen(spot.1, spot.2)),
                    };
                    (spot, r)
                })
                .collect()
        })
        .join()
        .unwrap_or_default()
    })
}

/// One check's result.
struct Run {
    outcome: Outcome,
    took: Duration,
}

impl Run {
    fn ok(&self, c: &CheckSpec) -> bool {
        match self.outcome {
            Outcome::Reached => c.reach,
            Outcome::Unreached(_) => !c.reach,
            Outcome::Error(_) => false,
        }
    }

    fn result(&self) -> &'static str {
        match self.outcome {
            Outcome::Reached => "reachable",
            Outcome::Unreached(_) => "unreachable",
            Outcome::Error(_) => "error",
        }
    }

    fn detail(&self) -> Option<&str> {
        match &self.outcome {
            Outcome::Reached => None,
            Outcome::Unreached(w) | Outcome::Error(w) => Some(w),
        }
    }
}

fn probe_one(
    c: &CheckSpec,
    id: u16,
    home: &Result<OwnedFd, String>,
    spots: &HashMap<Spot, Result<Option<OwnedFd>, String>>,
) -> Run {
    let start = Instant::now();
    let outcome = (|| {
        if let (Probe::Tcp(port), Some(at)) = (c.probe, &c.owner) {
            if let Some(Err(e)) = spots.get(&(at.clone(), c.dst, port)) {
                return Outcome::Error(format!("no listener at the target: {e}"));
            }
        }
        let home = match home {
            Ok(h) => h,
            Err(e) => return Outcome::Error(e.clone()),
        };
        if let Err(e) = enter(&c.at, home) {
            return Outcome::Error(e);
        }
        match c.probe {
            Probe::Ping => probe::ping(c.dst, c.src, c.dev.as_deref(), id, c.timeout),
            Probe::Tcp(port) => probe::tcp(c.dst, port, c.src, c.dev.as_deref(), c.timeout),
        }
    })();
    Run {
        outcome,
        took: start.elapsed(),
    }
}

/// Every check, at most `jobs` at once; results in the file's order.
fn run_all(checks: &[CheckSpec], jobs: usize, shown: &Tally) -> Vec<Run> {
    // Descriptors: the process's own (stdio, the pipe, libraries) a few dozen at most, one
    // per listener, and per check in flight its home's, its namespace's and a socket, plus
    // the retries of a TCP check (up to TCP_TRIES connects in flight; a retry that finds
    // no descriptor is only left out). Listeners come first, leaving room for one check
    // without retries; as many checks run at once as the rest leaves room for with all
    // their retries, up to `jobs`.
    const LEAST: usize = 3;
    const PER_JOB: usize = 2 + probe::TCP_TRIES;
    let limit = usize::try_from(open_file_limit()).unwrap_or(usize::MAX);
    let avail = limit.saturating_sub(64);
    let spots = listeners(checks, avail.saturating_sub(LEAST));
    let opened = spots.values().filter(|r| matches!(r, Ok(Some(_)))).count();
    let jobs =
        (avail.saturating_sub(opened) / PER_JOB).clamp(1, jobs.clamp(1, checks.len().max(1)));
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<Option<Run>>> = Mutex::new((0..checks.len()).map(|_| None).collect());
    // How many checks have finished, counted under the lock of `done` so that the progress
    // lines come in order and the last one is the total.
    let finished = AtomicUsize::new(0);
    shown.progress("checks", 0, checks.len());
    // Echo ids: distinct per check, and apart from other nsctl processes' (the raw socket
    // sees every ICMP message of its namespace).
    let base = std::process::id() as u16;
    // nsctl's listeners accept (and close) on a thread of their own while the checks run, or
    // their queues would fill and later checks to them go unanswered.
    let open: Vec<BorrowedFd> = spots
        .values()
        .filter_map(|r| r.as_ref().ok().and_then(|l| l.as_ref()).map(|l| l.as_fd()))
        .collect();
    let stop = (!open.is_empty()).then(|| nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC));
    std::thread::scope(|s| {
        let mut stopper = None;
        match stop {
            Some(Ok((r, w))) => {
                let open = &open;
                s.spawn(move || probe::serve(open, r.as_fd()));
                stopper = Some(w);
            }
            Some(Err(e)) => {
                // Unlikely (the descriptors were reserved), and the checks still run.
                let e = crate::error::errstr(e);
                crate::output::err(format!("test: cannot make a pipe ({e}), so nsctl's listeners do not accept; a check to one may go unanswered\n").as_bytes());
            }
            None => {}
        }
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                s.spawn(|| {
                    let home = thread_home();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(c) = checks.get(k) else { break };
                        let r = probe_one(c, base.wrapping_add(k as u16), &home, &spots);
                        if let Ok(mut d) = done.lock() {
                            d[k] = Some(r);
                            let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                            shown.progress("checks", n, checks.len());
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        // The checks are done: closing the pipe's end wakes the accepting thread to stop.
        drop(stopper);
    });
    drop(open);
    drop(spots);
    done.into_inner()
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            r.unwrap_or(Run {
                outcome: Outcome::Error("the check did not run".into()),
                took: Duration::ZERO,
            })
        })
        .collect()
}

fn time(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn expected(c: &CheckSpec) -> &'static str {
    if c.reach {
        "reachable"
    } else {
        "unreachable"
    }
}

/// How many checks did not hold.
fn failed(lab: &Lab, runs: &[Run]) -> usize {
    lab.checks
        .iter()
        .zip(runs)
        .filter(|(c, r)| !r.ok(c))
        .count()
}

fn table(lab: &Lab, runs: &[Run], secs: f64) -> String {
    let rows: Vec<[String; 5]> = lab
        .checks
        .iter()
        .zip(runs)
        .map(|(c, r)| {
            let result = match r.detail() {
                Some(d) => format!("{} ({d})", r.result()),
                None => r.result().to_string(),
            };
            let mark = if r.ok(c) { "ok" } else { "FAIL" };
            [
                mark.into(),
                c.title(),
                expected(c).into(),
                result,
                time(r.took),
            ]
        })
        .collect();
    let head = ["", "CHECK", "EXPECTED", "RESULT", "TIME"].map(String::from);
    let mut w = [0usize; 5];
    for r in std::iter::once(&head).chain(&rows) {
        for (k, cell) in r.iter().enumerate() {
            w[k] = w[k].max(cell.chars().count());
        }
    }
    let mut s = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let mut line = String::new();
        for (k, cell) in r.iter().enumerate() {
            if k == 4 {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<0$}  ", w[k]));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    let failed = failed(lab, runs);
    let n = runs.len();
    if failed == 0 {
        s.push_str(&format!(
            "test {}: all {n} checks hold in {secs:.2}s\n",
            lab.name
        ));
    } else {
        s.push_str(&format!(
            "test {}: {failed} of {n} checks failed in {secs:.2}s\n",
            lab.name
        ));
    }
    s
}

fn json(lab: &Lab, runs: &[Run], secs: f64) -> String {
    let checks: Vec<serde_json::Value> = lab
        .checks
        .iter()
        .zip(runs)
        .map(|(c, r)| {
            serde_json::json!({
                "check": c.title(),
                "kind": match c.probe { Probe::Ping => "ping", Probe::Tcp(_) => "tcp" },
                "from": c.from,
                "to": c.to,
                "address": c.dst.to_string(),
                "port": match c.probe { Probe::Tcp(p) => Some(p), Probe::Ping => None },
                "expected": expected(c),
                "result": r.result(),
                "detail": r.detail(),
                "ok": r.ok(c),
                "ms": (r.took.as_secs_f64() * 1e6).round() / 1e3,
            })
        })
        .collect();
    let failed = failed(lab, runs);
    let v = serde_json::json!({
        "lab": lab.name,
        "checks": checks,
        "passed": runs.len() - failed,
        "failed": failed,
        "seconds": (secs * 1000.0).round() / 1000.0,
    });
    format!("{v}\n")
}

/// Where progress goes: `\rtest LAB: checks done/total` on stderr, as apply shows its
/// phases (only on a terminal, for a lab of more than a few dozen checks); never with `-j`,
/// whose reader wants the JSON alone.
fn progress(lab: &Lab, json: bool) -> Tally {
    Tally::new("test", &lab.name, if json { 0 } else { lab.checks.len() })
}

/// `nsctl test FILE`: the checks of `lab`, read from `path`.
pub fn run(lab: &super::spec::Lab, path: &std::path::Path, o: &Opts) -> Result<i32, LabError> {
    let shown = path.display();
    if lab.checks.is_empty() && lab.share.is_some() {
        // A machine of a lab across hosts where no check starts: nothing to run here.
        out(if o.json {
            format!(
                "{}\n",
                serde_json::json!({"lab": lab.name, "checks": [], "passed": 0, "failed": 0})
            )
        } else {
            format!(
                "test {}: no check starts on host {}\n",
                lab.name,
                lab.share_name().unwrap_or("")
            )
        }
        .as_bytes());
        return Ok(exit::OK);
    }
    if lab.checks.is_empty() {
        return Err(LabError::new(
            exit::BAD_INPUT,
            format!("test {shown}: the file has no [[check]]; add one (from = \"A\", to = \"B\", ping = true) to say what must be reachable"),
        ));
    }
    if super::session::journal(&lab.name)?.is_empty() {
        return Err(LabError::new(
            exit::FAILED,
            format!("test {shown}: lab {} is not applied; run nsctl apply {shown} first (or nsctl apply --test {shown})", lab.name),
        ));
    }
    let start = Instant::now();
    let runs = run_all(&lab.checks, o.jobs, &progress(lab, o.json));
    let secs = start.elapsed().as_secs_f64();
    let text = if o.json {
        json(lab, &runs, secs)
    } else {
        table(lab, &runs, secs)
    };
    out(text.as_bytes());
    Ok(if failed(lab, &runs) == 0 {
        exit::OK
    } else {
        exit::FAILED
    })
}
