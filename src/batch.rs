//! `ip -batch FILE` / `-batch -`, with `-force`: one process and one set of sockets for many
//! command lines. Lines may be written for nsctl (`add x`) or for ip (`netns add x`).

use std::io::BufRead;

use crate::ctx::Ctx;
use crate::error::{status_of, Exit, Ret};
use crate::output::{bytes, err};

/// ip's limit on words per line (`makeargs(line, argv, 512)` keeps one slot for NULL).
const MAX_ARGS: usize = 512;

/// Split a line into words: white space separates, a word that starts with a quote runs to
/// the next identical quote (no escapes). Mirrors iproute2's `makeargs`.
pub fn split_words(line: &[u8]) -> Result<Vec<Vec<u8>>, Exit> {
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut words = Vec::new();
    let mut i = 0;
    while i < line.len() {
        while i < line.len() && ws(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            break;
        }
        if words.len() >= MAX_ARGS - 1 {
            err(b"Too many arguments to command\n");
            return Err(Exit(1));
        }
        let c = line[i];
        if c == b'\'' || c == b'"' {
            let start = i + 1;
            let Some(end) = line[start..].iter().position(|&b| b == c) else {
                err(b"Unterminated quoted string\n");
                return Err(Exit(1));
            };
            words.push(line[start..start + end].to_vec());
            i = start + end + 1;
        } else {
            let start = i;
            while i < line.len() && !ws(line[i]) {
                i += 1;
            }
            words.push(line[start..i].to_vec());
            i += 1;
        }
    }
    Ok(words)
}

/// Reads command lines as iproute2's `getcmdline`: `#` starts a comment (even inside
/// quotes), a trailing backslash joins the next line, and the line number counts physical
/// lines.
pub struct LineReader<R> {
    input: R,
    pub lineno: usize,
}

/// ip reads lines as C strings: whatever follows a NUL byte is not there.
fn cut_nul(line: &mut Vec<u8>) {
    if let Some(p) = line.iter().position(|&b| b == 0) {
        line.truncate(p);
    }
}

fn cut_comment(line: &mut Vec<u8>) {
    if let Some(p) = line.iter().position(|&b| b == b'#') {
        line.truncate(p);
    }
}

/// The longest command line nsctl reads (a logical line, continuations included). ip has
/// no limit and grows its buffer until memory runs out (`ip -b /dev/zero`); a megabyte is far
/// beyond any real command (512 words at most).
pub const MAX_LINE: usize = 1 << 20;

/// Why reading a line stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// End of input (or "Missing continuation line", already said).
    End,
    /// A line longer than [`MAX_LINE`], already said.
    TooLong,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R) -> Self {
        LineReader { input, lineno: 0 }
    }

    /// One physical line into `buf`, at most `room` bytes of it.
    fn physical(&mut self, buf: &mut Vec<u8>, room: usize) -> Result<usize, Stop> {
        let n = std::io::Read::take(&mut self.input, room as u64 + 1)
            .read_until(b'\n', buf)
            .map_err(|_| Stop::End)?;
        if n > room {
            err(format!("Line {} is longer than {MAX_LINE} bytes\n", self.lineno + 1).as_bytes());
            return Err(Stop::TooLong);
        }
        Ok(n)
    }

    /// The next logical line, or why there is none.
    pub fn read_line(&mut self) -> Result<Vec<u8>, Stop> {
        let mut line = Vec::new();
        if self.physical(&mut line, MAX_LINE)? == 0 {
            return Err(Stop::End);
        }
        self.lineno += 1;
        cut_nul(&mut line);
        cut_comment(&mut line);
        // A physical line holds one newline, at its end, so a continuation can only end the
        // line read so far: checking the end keeps long continued lines linear (ip rescans
        // the whole line for each one).
        while line.ends_with(b"\\\n") {
            let mut next = Vec::new();
            let room = MAX_LINE.saturating_sub(line.len());
            if self.physical(&mut next, room)? == 0 {
                err(b"Missing continuation line\n");
                return Err(Stop::End);
            }
            self.lineno += 1;
            line.truncate(line.len() - 2);
            cut_nul(&mut next);
            cut_comment(&mut next);
            line.extend_from_slice(&next);
        }
        Ok(line)
    }

    /// The next logical line, or None at the end (or after a message saying why not).
    pub fn next_line(&mut self) -> Option<Vec<u8>> {
        self.read_line().ok()
    }
}

/// Run a batch file (`-` is standard input). Returns ip's batch status.
pub fn run(ctx: &mut Ctx, file: &[u8]) -> Ret {
    if file != b"-" {
        // Like freopen(FILE, "r", stdin): commands run by `exec` inherit the file as stdin.
        let path = std::os::unix::ffi::OsStrExt::from_bytes(file);
        let opened = std::fs::File::open::<&std::ffi::OsStr>(path)
            .map_err(|e| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)))
            .and_then(|f| nix::unistd::dup2_stdin(&f));
        if let Err(e) = opened {
            crate::output::err_errno(&[b"Cannot open file \"", file, b"\" for reading: "], e);
            return Ok(-1);
        }
    }
    ctx.batch = true;
    let stdin = std::io::stdin();
    let mut reader = LineReader::new(std::io::BufReader::with_capacity(4096, stdin.lock()));
    let mut status = 0;
    loop {
        let line = match reader.read_line() {
            Ok(l) => l,
            Err(Stop::End) => break,
            // Nothing of an endless line is run; the batch fails as ip's would on a bad line.
            Err(Stop::TooLong) => return Ok(-1),
        };
        let words = split_words(&line)?;
        if words.is_empty() {
            continue;
        }
        let ret = crate::cli::run_line(ctx, &words)?;
        if status_of(ret) != 0 {
            let mut m = bytes(&[b"Command failed ", file, b":"]);
            m.extend_from_slice(format!("{}\n", reader.lineno).as_bytes());
            err(&m);
            status = -1;
            if !ctx.opts.force {
                break;
            }
        }
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split_words(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn makeargs_rules() {
        assert_eq!(words("netns add  b2\n"), ["netns", "add", "b2"]);
        assert_eq!(
            words("exec b1 sh -c \"exit 3\"\n"),
            ["exec", "b1", "sh", "-c", "exit 3"]
        );
        assert_eq!(words("a 'x y'z\n"), ["a", "x y", "z"]);
        assert_eq!(words("  \t\r\n"), Vec::<String>::new());
        assert_eq!(split_words(b"a 'open").unwrap_err(), Exit(1));
        let many = "w ".repeat(600);
        assert_eq!(split_words(many.as_bytes()).unwrap_err(), Exit(1));
        assert_eq!(split_words("w ".repeat(511).as_bytes()).unwrap().len(), 511);
    }

    #[test]
    fn comments_and_continuations() {
        let text = b"add a # comment\nadd 'q#x'\nadd \\\nb\n\n# only\nlast";
        let mut r = LineReader::new(&text[..]);
        assert_eq!(r.next_line().unwrap(), b"add a ");
        assert_eq!(r.lineno, 1);
        assert_eq!(r.next_line().unwrap(), b"add 'q");
        assert_eq!(r.next_line().unwrap(), b"add b\n");
        assert_eq!(r.lineno, 4);
        assert_eq!(r.next_line().unwrap(), b"\n");
        assert_eq!(r.next_line().unwrap(), b"");
        assert_eq!(r.next_line().unwrap(), b"last");
        assert_eq!(r.lineno, 7);
        assert!(r.next_line().is_none());
        let mut r = LineReader::new(&b"add a\0b # x\nlist\n"[..]);
        assert_eq!(r.next_line().unwrap(), b"add a");
    }

    #[test]
    fn endless_lines_are_cut_off_and_continuations_are_linear() {
        let zeros = vec![0u8; MAX_LINE + 10];
        let mut r = LineReader::new(&zeros[..]);
        assert_eq!(r.read_line(), Err(Stop::TooLong));
        // 200,000 continued lines (ip's rescan would take minutes): every word arrives.
        let text = "add \\\n".repeat(200_000) + "x\n";
        let mut r = LineReader::new(text.as_bytes());
        let line = r.read_line().unwrap();
        assert_eq!(line.len(), 4 * 200_000 + 2);
        assert_eq!(r.lineno, 200_001);
        let mut r = LineReader::new(&b"add \\\n"[..]);
        assert_eq!(r.read_line(), Err(Stop::End));
    }
}
