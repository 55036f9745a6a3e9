//! Counting what a lab command did, progress on a terminal, and the closing summary.

use std::time::Instant;

use crate::json::{Array, Val};
use crate::output::{err, out};

pub struct Tally {
    pub verb: &'static str,
    pub lab: String,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub failed: usize,
    /// One line per planned action (`--dry-run`) or per failure.
    pub lines: Vec<String>,
    start: Instant,
    tty: bool,
    /// Progress is shown for labs larger than this many objects.
    big: bool,
}

impl Tally {
    pub fn new(verb: &'static str, lab: &str, objects: usize) -> Tally {
        Tally {
            verb,
            lab: lab.to_string(),
            created: 0,
            changed: 0,
            unchanged: 0,
            removed: 0,
            failed: 0,
            lines: Vec::new(),
            start: Instant::now(),
            tty: nix::unistd::isatty(std::io::stderr()).unwrap_or(false),
            big: objects > 30,
        }
    }

    /// `\r[phase] done/total` on a terminal, for big labs.
    pub fn progress(&self, phase: &str, done: usize, total: usize) {
        if self.tty && self.big && total > 0 {
            let end = if done == total { "\n" } else { "" };
            err(format!("\r{} {}: {phase} {done}/{total}{end}", self.verb, self.lab).as_bytes());
        }
    }

    pub fn fail(&mut self, what: String) {
        self.failed += 1;
        self.lines.push(what);
    }

    pub fn elapsed(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// The closing summary on stdout: one line, or JSON with `-j`.
    pub fn print(&self, json: bool, dry_run: bool) {
        let secs = self.elapsed();
        if json {
            let mut a = Array::new(false);
            let w = a.writer();
            w.start_object();
            w.field("lab", Val::Str(self.lab.as_bytes()));
            w.field("command", Val::Str(self.verb.as_bytes()));
            w.field("dry_run", Val::Bool(dry_run));
            w.field("created", Val::Int(self.created as i64));
            w.field("changed", Val::Int(self.changed as i64));
            w.field("unchanged", Val::Int(self.unchanged as i64));
            w.field("removed", Val::Int(self.removed as i64));
            w.field("failed", Val::Int(self.failed as i64));
            w.field("seconds", Val::Raw(format!("{secs:.3}").as_bytes()));
            let refs: Vec<&str> = self.lines.iter().map(|s| s.as_str()).collect();
            w.str_array(if dry_run { "plan" } else { "errors" }, &refs);
            w.end_object();
            // A single object, not an array: strip the array brackets ip's writer added.
            let s = a.finish();
            out(&s[1..s.len() - 2]);
            out(b"\n");
            return;
        }
        for l in &self.lines {
            out(format!("{l}\n").as_bytes());
        }
        let would = if dry_run { "would be " } else { "" };
        let total = self.created + self.changed + self.removed;
        if total == 0 && self.failed == 0 {
            out(format!(
                "{} {}: nothing to do ({} unchanged) in {secs:.2}s\n",
                self.verb, self.lab, self.unchanged
            )
            .as_bytes());
        } else if self.verb == "destroy" {
            out(format!(
                "{} {}: {} {would}removed, {} failed in {secs:.2}s\n",
                self.verb, self.lab, self.removed, self.failed
            )
            .as_bytes());
        } else {
            out(format!(
                "{} {}: {} {would}created, {} {would}changed, {} {would}removed, {} unchanged, {} failed in {secs:.2}s\n",
                self.verb, self.lab, self.created, self.changed, self.removed, self.unchanged, self.failed
            )
            .as_bytes());
        }
    }
}
