//! Generated entries in a lab file: many similar namespaces, bridges and veths from one
//! template (docs/topology.md, "Generated entries").
//!
//! - A `[netns."KEY"]` or `[bridge."KEY"]` key holding one range `{A..B}` (`h{1..100}`) is
//!   one entry per number from A to B; the number is `i`.
//! - A `[[veth]]`, `[[nat]]` or `[[check]]` with `for = "A..B"` is one entry per number,
//!   also `i`.
//! - In a generated entry, every `{EXPR}` in a string value is replaced by the value of EXPR:
//!   integer arithmetic on `i` with `+ - * / %` and parentheses (`10.0.{i}.2/24`,
//!   `br{(i - 1) / 100 + 1}`). The file is hostile input: every operation is checked (a
//!   value outside i64, a division by zero, i64::MIN / -1 are errors, not panics) and
//!   parentheses and unary minus nest at most [`MAX_DEPTH`] deep (the parser recurses).
//!
//! Expansion runs on the file as written, before the checks; each instance keeps the
//! positions of its template, so an error points at `FILE:LINE:COL` of the template, and the
//! checker names the instance it found it in ([`Instances`]).

use std::collections::BTreeMap;

use toml::Spanned;

use super::file::{Bridge, Check, End, LabFile, Nat, Place, Problem, Veth};

/// At most this many entries from one template, and in the whole file.
pub const MAX_INSTANCES: u64 = 100_000;

/// At most this many strings, and this much text (read and made), by all templates together:
/// the instances bound the entries, these bound what each carries (a 6 KB template of 200
/// routes in 100,000 namespaces would be 20 million routes). A fabric of 100,000 namespaces
/// like examples/fabric10k.toml makes about 600,000 strings and 25 MiB.
pub const MAX_VALUES: u64 = 1_000_000;
pub const MAX_TEXT: u64 = 64 << 20;

/// What expansion has made so far, against the limits above.
#[derive(Default)]
struct Budget {
    instances: u64,
    values: u64,
    text: u64,
    /// Past a limit: expansion has stopped, and said so once.
    spent: bool,
}

impl Budget {
    /// A problem at `at` the first time the strings or text made pass their limit.
    fn exceeded(&mut self, at: usize) -> Option<Problem> {
        if self.spent || (self.values <= MAX_VALUES && self.text <= MAX_TEXT) {
            return None;
        }
        self.spent = true;
        Some(Problem {
            at,
            msg: format!(
                "the generated entries make more than {MAX_VALUES} strings or {} MiB of text; \
                 generate fewer entries or shorter lists",
                MAX_TEXT >> 20
            ),
        })
    }
}

/// Which entries came from a template, and as which instance: the checker prefixes its
/// messages about them with the instance (`h37: ...`, `veth i=37: ...`).
#[derive(Default, Debug)]
pub struct Instances {
    pub netns: BTreeMap<String, String>,
    pub bridge: BTreeMap<String, String>,
    /// Per `veth` entry, in order: Some(label) for a generated one.
    pub veth: Vec<Option<String>>,
    /// Per `check` entry, likewise.
    pub check: Vec<Option<String>>,
}

/// The file's text as a message shows it: escaped (one line whatever it holds) and, when
/// long, cut short (an expression of 50,000 '(' is not echoed whole, nor once per instance).
fn shown(text: &str) -> String {
    const MAX: usize = 60;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", text[..cut].escape_debug()),
        None => text.escape_debug().to_string(),
    }
}

/// A range `{A..B}` in a key: the text before and after, and the bounds.
fn key_range(key: &str) -> Option<Result<(String, u64, u64, String), String>> {
    let open = key.find('{')?;
    let close = match key[open..].find('}') {
        Some(c) => open + c,
        None => return Some(Err(format!("\"{}\": a '{{' without its '}}'", shown(key)))),
    };
    let (pre, inner, post) = (&key[..open], &key[open + 1..close], &key[close + 1..]);
    if post.contains(['{', '}']) || pre.contains('}') {
        return Some(Err(format!(
            "\"{}\": a generated name holds exactly one range {{A..B}}",
            shown(key)
        )));
    }
    Some(range(inner).map(|(a, b)| (pre.to_string(), a, b, post.to_string())))
}

/// `A..B` with 0 <= A <= B <= i64::MAX (the instance number `i` is an i64 in expressions)
/// and at most [`MAX_INSTANCES`] numbers.
fn range(text: &str) -> Result<(u64, u64), String> {
    let bad = || {
        format!(
            "\"{}\" is not a range A..B of whole numbers with A <= B <= {}",
            shown(text),
            i64::MAX
        )
    };
    let (a, b) = text.trim().split_once("..").ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    if a > b || i64::try_from(b).is_err() {
        return Err(bad());
    }
    if b - a >= MAX_INSTANCES {
        return Err(format!(
            "the range {} makes more than {MAX_INSTANCES} entries",
            shown(text)
        ));
    }
    Ok((a, b))
}

/// How deep parentheses and unary minus may nest in one expression: far more than a name or
/// an address needs, far less than the parser's recursion could take on a thread's stack.
pub const MAX_DEPTH: u32 = 64;

/// The number `n` of a range as the `i` of expressions: [`range`] keeps it within i64.
fn instance(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The value of an arithmetic expression on `i`.
pub fn eval(expr: &str, i: i64) -> Result<i64, String> {
    let toks = tokens(expr)?;
    let mut p = Parser {
        toks,
        at: 0,
        i,
        depth: 0,
    };
    let v = p.sum()?;
    if p.at != p.toks.len() {
        return Err(format!(
            "\"{{{}}}\": unexpected text after the expression",
            shown(expr)
        ));
    }
    Ok(v)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tok {
    Num(i64),
    I,
    Op(u8),
}

fn tokens(expr: &str) -> Result<Vec<Tok>, String> {
    let b = expr.as_bytes();
    let mut v = Vec::new();
    let mut k = 0;
    while k < b.len() {
        match b[k] {
            b' ' | b'\t' => k += 1,
            b'0'..=b'9' => {
                let start = k;
                while k < b.len() && b[k].is_ascii_digit() {
                    k += 1;
                }
                let n = expr[start..k]
                    .parse()
                    .map_err(|_| format!("\"{{{}}}\": a number is too large", shown(expr)))?;
                v.push(Tok::Num(n));
            }
            b'i' => {
                v.push(Tok::I);
                k += 1;
            }
            c @ (b'+' | b'-' | b'*' | b'/' | b'%' | b'(' | b')') => {
                v.push(Tok::Op(c));
                k += 1;
            }
            _ => {
                return Err(format!(
                    "\"{{{}}}\": only i, whole numbers, + - * / % and parentheses may \
                     appear between braces",
                    shown(expr)
                ))
            }
        }
    }
    Ok(v)
}

/// Precedence climbing over the tokens: sum := product (('+'|'-') product)*, product :=
/// atom (('*'|'/'|'%') atom)*, atom := number | i | '(' sum ')' | '-' atom.
/// `depth` counts the open '(' and '-' the parser is inside of (each is one recursion).
struct Parser {
    toks: Vec<Tok>,
    at: usize,
    i: i64,
    depth: u32,
}

/// The message for a result outside i64.
const OUT_OF_RANGE: &str = "a value is out of range (beyond 64-bit integers)";

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).copied();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<Tok> {
        self.toks.get(self.at).copied()
    }

    fn sum(&mut self) -> Result<i64, String> {
        let mut v = self.product()?;
        while let Some(Tok::Op(op @ (b'+' | b'-'))) = self.peek() {
            self.at += 1;
            let r = self.product()?;
            v = if op == b'+' {
                v.checked_add(r)
            } else {
                v.checked_sub(r)
            }
            .ok_or(OUT_OF_RANGE)?;
        }
        Ok(v)
    }

    fn product(&mut self) -> Result<i64, String> {
        let mut v = self.atom()?;
        while let Some(Tok::Op(op @ (b'*' | b'/' | b'%'))) = self.peek() {
            self.at += 1;
            let r = self.atom()?;
            v = match op {
                _ if op != b'*' && r == 0 => return Err("division by zero".into()),
                b'*' => v.checked_mul(r),
                // i64::MIN / -1 and i64::MIN % -1 overflow.
                b'/' => v.checked_div(r),
                _ => v.checked_rem(r),
            }
            .ok_or(OUT_OF_RANGE)?;
        }
        Ok(v)
    }

    fn atom(&mut self) -> Result<i64, String> {
        match self.next() {
            Some(Tok::Num(n)) => Ok(n),
            Some(Tok::I) => Ok(self.i),
            Some(Tok::Op(b'-')) => {
                self.enter()?;
                let v = self.atom()?.checked_neg().ok_or(OUT_OF_RANGE)?;
                self.depth -= 1;
                Ok(v)
            }
            Some(Tok::Op(b'(')) => {
                self.enter()?;
                let v = self.sum()?;
                self.depth -= 1;
                match self.next() {
                    Some(Tok::Op(b')')) => Ok(v),
                    _ => Err("a '(' without its ')'".into()),
                }
            }
            _ => Err("an expression is incomplete".into()),
        }
    }

    /// One level deeper, or an error past [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "parentheses and '-' nest more than {MAX_DEPTH} deep; write a flatter expression"
            ));
        }
        Ok(())
    }
}

/// Replace every `{EXPR}` in `s` with its value for `i`.
pub fn fill(s: &str, i: i64) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("\"{}\": a '{{' without its '}}'", shown(s)))?;
        let v = eval(&after[..close], i).map_err(|e| format!("\"{}\": {e}", shown(s)))?;
        if v < 0 {
            return Err(format!(
                "\"{}\": {{{}}} is {v} here, below 0",
                shown(s),
                shown(&after[..close])
            ));
        }
        out.push_str(&v.to_string());
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("\"{}\": a '}}' without its '{{'", shown(s)));
    }
    out.push_str(rest);
    Ok(out)
}

/// What instance `i` of a template makes of its strings; the first problem is kept.
struct Filler<'p> {
    i: i64,
    label: String,
    problems: &'p mut Vec<Problem>,
    budget: &'p mut Budget,
}

impl Filler<'_> {
    fn s(&mut self, v: &Spanned<String>) -> Spanned<String> {
        let text = match fill(v.get_ref(), self.i) {
            Ok(t) => t,
            Err(e) => {
                self.problems.push(Problem {
                    at: v.span().start,
                    msg: format!("{}: {e}", self.label),
                });
                v.get_ref().clone()
            }
        };
        // The template's text is counted as well as what it made: each instance reads it
        // whole (an 8 MiB expression in 100,000 instances would be hours of work).
        self.budget.values += 1;
        let read_and_made = (v.get_ref().len() as u64).saturating_add(text.len() as u64);
        self.budget.text = self.budget.text.saturating_add(read_and_made);
        Spanned::new(v.span(), text)
    }

    fn opt(&mut self, v: &Option<Spanned<String>>) -> Option<Spanned<String>> {
        v.as_ref().map(|v| self.s(v))
    }

    fn list(&mut self, v: &[Spanned<String>]) -> Vec<Spanned<String>> {
        v.iter().map(|x| self.s(x)).collect()
    }

    fn place(&mut self, p: &Place) -> Place {
        let sysctl = p
            .sysctl
            .iter()
            .map(|(k, v)| {
                let v = match v.get_ref() {
                    toml::Value::String(s) => {
                        let filled = self.s(&Spanned::new(v.span(), s.clone()));
                        Spanned::new(v.span(), toml::Value::String(filled.into_inner()))
                    }
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        Place {
            host: self.opt(&p.host),
            lo: p.lo,
            sysctl,
            routes: self.list(&p.routes),
        }
    }

    fn bridge(&mut self, b: &Bridge) -> Bridge {
        Bridge {
            netns: self.opt(&b.netns),
            host: self.opt(&b.host),
            addresses: self.list(&b.addresses),
            mtu: b.mtu.clone(),
        }
    }

    fn end(&mut self, e: &End) -> End {
        End {
            netns: self.opt(&e.netns),
            host: self.opt(&e.host),
            name: self.s(&e.name),
            bridge: self.opt(&e.bridge),
            addresses: self.list(&e.addresses),
            mtu: e.mtu.clone(),
            rate: self.opt(&e.rate),
            delay: self.opt(&e.delay),
            jitter: self.opt(&e.jitter),
            loss: self.opt(&e.loss),
        }
    }
}

/// Every instance of a keyed template (`[netns."h{1..9}"]`), or the entry itself.
fn expand_keyed<T: Clone>(
    map: &BTreeMap<String, Spanned<T>>,
    what: &str,
    problems: &mut Vec<Problem>,
    labels: &mut BTreeMap<String, String>,
    budget: &mut Budget,
    make: impl Fn(&mut Filler, &T) -> T,
) -> BTreeMap<String, Spanned<T>> {
    let mut out = BTreeMap::new();
    for (key, v) in map {
        if budget.spent {
            break;
        }
        let at = v.span().start;
        match key_range(key) {
            None => {
                out.insert(key.clone(), v.clone());
            }
            Some(Err(e)) => problems.push(Problem { at, msg: e }),
            Some(Ok((pre, a, b, post))) => {
                budget.instances += b - a + 1;
                if budget.instances > MAX_INSTANCES {
                    problems.push(Problem {
                        at,
                        msg: format!("the file makes more than {MAX_INSTANCES} entries"),
                    });
                    return out;
                }
                for n in a..=b {
                    let name = format!("{pre}{n}{post}");
                    let mut f = Filler {
                        i: instance(n),
                        label: name.clone(),
                        problems,
                        budget,
                    };
                    let made = make(&mut f, v.get_ref());
                    if let Some(p) = budget.exceeded(at) {
                        problems.push(p);
                        return out;
                    }
                    if out.contains_key(&name) || map.contains_key(&name) {
                        problems.push(Problem {
                            at,
                            msg: format!("{what} \"{name}\" is declared twice (by a range)"),
                        });
                    }
                    labels.insert(name.clone(), name.clone());
                    out.insert(name, Spanned::new(v.span(), made));
                }
            }
        }
    }
    out
}

/// Every instance of each `for = "A..B"` entry of a list (`[[veth]]`, `[[nat]]`,
/// `[[check]]`), or the entry itself; `labels` gets, per entry made, Some(`WHAT i=N`) for a
/// generated one.
fn expand_for<T: Clone>(
    list: &[Spanned<T>],
    range_of: impl Fn(&T) -> Option<&Spanned<String>>,
    what: &str,
    problems: &mut Vec<Problem>,
    budget: &mut Budget,
    labels: &mut Vec<Option<String>>,
    make: impl Fn(&mut Filler, &T) -> T,
) -> Vec<Spanned<T>> {
    let mut out = Vec::new();
    for x in list {
        if budget.spent {
            break;
        }
        let Some(r) = range_of(x.get_ref()) else {
            out.push(x.clone());
            labels.push(None);
            continue;
        };
        let (a, b) = match range(r.get_ref()) {
            Ok(ab) => ab,
            Err(e) => {
                problems.push(Problem {
                    at: r.span().start,
                    msg: e,
                });
                continue;
            }
        };
        budget.instances += b - a + 1;
        if budget.instances > MAX_INSTANCES {
            problems.push(Problem {
                at: r.span().start,
                msg: format!("the file makes more than {MAX_INSTANCES} entries"),
            });
            break;
        }
        for n in a..=b {
            let label = format!("{what} i={n}");
            let mut fl = Filler {
                i: instance(n),
                label: label.clone(),
                problems,
                budget,
            };
            let made = make(&mut fl, x.get_ref());
            if let Some(p) = budget.exceeded(r.span().start) {
                problems.push(p);
                return out;
            }
            out.push(Spanned::new(x.span(), made));
            labels.push(Some(label));
        }
    }
    out
}

/// The first three problems at each position of the file, then how many more there were: a
/// bad expression in a template of 100,000 instances is not 100,000 lines.
fn at_most_three(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for p in problems {
        let n = seen.entry(p.at).or_default();
        *n += 1;
        if *n <= 3 {
            out.push(p);
        }
    }
    // Each after its position's three: the report sorts by position, keeping this order.
    for (at, n) in seen.into_iter().filter(|&(_, n)| n > 3) {
        out.push(Problem {
            at,
            msg: format!("... and {} more like these from the same template", n - 3),
        });
    }
    out
}

/// Expand every template of `f`; Err with every problem found.
pub fn expand(f: LabFile) -> Result<(LabFile, Instances), Vec<Problem>> {
    let mut problems = Vec::new();
    let mut inst = Instances::default();
    let mut budget = Budget::default();
    let netns = expand_keyed(
        &f.netns,
        "netns",
        &mut problems,
        &mut inst.netns,
        &mut budget,
        |fl, p| fl.place(p),
    );
    let bridge = expand_keyed(
        &f.bridge,
        "bridge",
        &mut problems,
        &mut inst.bridge,
        &mut budget,
        |fl, b| fl.bridge(b),
    );
    let veth = expand_for(
        &f.veth,
        |v| v.r#for.as_ref(),
        "veth",
        &mut problems,
        &mut budget,
        &mut inst.veth,
        |fl, v| {
            let ends = v.ends.get_ref().iter();
            let ends: Vec<Spanned<End>> = ends
                .map(|e| Spanned::new(e.span(), fl.end(e.get_ref())))
                .collect();
            Veth {
                r#for: None,
                ends: Spanned::new(v.ends.span(), ends),
            }
        },
    );
    // NAT rules are not named in messages: their labels are not kept.
    let nat = expand_for(
        &f.nat,
        |x| x.r#for.as_ref(),
        "nat",
        &mut problems,
        &mut budget,
        &mut Vec::new(),
        |fl, x| Nat {
            r#for: None,
            source: fl.s(&x.source),
            out: fl.opt(&x.out),
        },
    );
    let check = expand_for(
        &f.check,
        |c| c.r#for.as_ref(),
        "check",
        &mut problems,
        &mut budget,
        &mut inst.check,
        |fl, c| Check {
            r#for: None,
            from: fl.s(&c.from),
            to: fl.s(&c.to),
            expect: fl.opt(&c.expect),
            ..c.clone()
        },
    );
    if !problems.is_empty() {
        return Err(at_most_three(problems));
    }
    let out = LabFile {
        name: f.name,
        etc_hosts: f.etc_hosts,
        hosts: f.hosts,
        vni: f.vni,
        host: f.host,
        netns,
        bridge,
        veth,
        nat,
        check,
    };
    Ok((out, inst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions() {
        assert_eq!(eval("i", 7), Ok(7));
        assert_eq!(eval("(i - 1) / 100 + 1", 250), Ok(3));
        assert_eq!(eval("i % 100 * 2", 250), Ok(100));
        assert_eq!(eval("-i + 10", 3), Ok(7));
        assert!(eval("i / 0", 3).is_err());
        assert!(eval("j", 3).is_err());
        assert!(eval("(i", 3).is_err());
        assert!(eval("i i", 3).is_err());
        assert!(eval("99999999999999999999", 3).is_err());
        assert_eq!(fill("10.0.{i}.{i+1}/24", 4).as_deref(), Ok("10.0.4.5/24"));
        assert!(fill("h{i", 1).is_err());
        assert!(fill("h}", 1).is_err());
        assert!(fill("h{i-5}", 1).is_err());
    }

    /// Every operator on the edges of i64: an error, never a panic (issue 22, item 3).
    #[test]
    fn overflow_is_an_error() {
        let min = "(-9223372036854775807 - 1)";
        for e in [
            format!("{min} / -1"),
            format!("{min} % -1"),
            format!("-{min}"),
            format!("{min} * -1"),
            format!("{min} - 1"),
            "9223372036854775807 + 1".into(),
            "9223372036854775807 * 2".into(),
            "-i - 2".into(),
            "-(-i - 1)".into(),
        ] {
            let got = eval(&e, i64::MAX);
            assert!(
                got.as_ref().is_err_and(|m| m.contains("out of range")),
                "{e}: {got:?}"
            );
        }
        assert_eq!(eval(&format!("{min} / 1"), 0), Ok(i64::MIN));
        assert_eq!(eval(&format!("{min} % 1"), 0), Ok(0));
        assert_eq!(eval(&format!("{min} / -2"), 0), Ok(1 << 62));
        assert_eq!(eval("-(-9223372036854775807)", 0), Ok(i64::MAX));
        assert_eq!(eval("i % 0", 1), Err("division by zero".into()));
        assert!(fill(&format!("e{{{min} / -1}}"), 1).is_err());
    }

    /// Nesting is bounded, so 50,000 '(' or '-' is an error, not a stack overflow; up to
    /// MAX_DEPTH evaluates; long flat chains are loops, not recursion.
    #[test]
    fn nesting_is_bounded() {
        let d = MAX_DEPTH as usize;
        let ok = format!("{}i{}", "(".repeat(d), ")".repeat(d));
        assert_eq!(eval(&ok, 5), Ok(5));
        assert_eq!(eval(&format!("{}i", "-".repeat(d)), 5), Ok(5));
        assert_eq!(
            eval(&format!("{}i{}", "-(".repeat(d / 2), ")".repeat(d / 2)), 5),
            Ok(5)
        );
        for deep in [
            format!("({ok})"),
            format!("{}i", "-".repeat(d + 1)),
            "(".repeat(50_000),
            format!("{}i{}", "(".repeat(50_000), ")".repeat(50_000)),
            "-".repeat(50_000),
        ] {
            let got = eval(&deep, 5);
            assert!(
                got.as_ref().is_err_and(|m| m.contains("nest more than")),
                "{got:?}"
            );
        }
        let chain = vec!["i"; 100_000].join(" + ");
        assert_eq!(eval(&chain, 1), Ok(100_000));
        let chain = format!("i{}", " * 1 - 0".repeat(100_000));
        assert_eq!(eval(&chain, 7), Ok(7));
    }

    /// A bad expression in a large template: three problems at its position, then a count;
    /// long text is cut short in the message.
    #[test]
    fn problems_per_template() {
        let deep = "(".repeat(50_000);
        let text = format!(
            "[[veth]]\nfor = \"1..100\"\nends = [{{ name = \"e{{{deep}}}\" }}, {{ name = \"b{{(-9223372036854775807 - 1) % -1}}\" }}]\n"
        );
        let f = super::super::file::parse(&text).expect("the file parses");
        let ps = expand(f).expect_err("the expressions are bad");
        let msgs: Vec<&str> = ps.iter().map(|p| p.msg.as_str()).collect();
        assert_eq!(ps.len(), 8, "{msgs:#?}");
        assert!(msgs[0].starts_with("veth i=1: \"e{((((") && msgs[0].contains("nest more than 64"));
        assert!(msgs[0].len() < 300, "{}", msgs[0]);
        assert!(msgs[1].contains("out of range"));
        assert!(msgs.contains(&"... and 97 more like these from the same template"));
    }

    /// Entries times what each carries is bounded: 100,000 namespaces of 20 routes, or 100
    /// copies of a 1 MiB string, stop with one problem at the template, not gigabytes.
    #[test]
    fn expansion_is_bounded() {
        let routes = vec!["\"10.{i % 200}.0.0/16 via 10.0.0.1\""; 20].join(", ");
        let text =
            format!("[netns.\"h{{1..100000}}\"]\nroutes = [{routes}]\n[netns.a]\n[[veth]]\nfor = \"1..9\"\nends = []\n");
        let ps = expand(super::super::file::parse(&text).unwrap()).unwrap_err();
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert!(ps[0].at < text.find("routes").unwrap(), "{}", ps[0].at);
        assert!(
            ps[0].msg.contains("more than 1000000 strings"),
            "{}",
            ps[0].msg
        );
        // 100 instances of a 1 MiB name, or of a 1 MiB expression that makes a short one.
        let expr = vec!["i"; 1 << 19].join("+");
        let text = format!("[[veth]]\nfor = \"1..100\"\nends = [{{ name = \"e{{{expr}}}\" }}, {{ name = \"b\" }}]\n");
        let ps = expand(super::super::file::parse(&text).unwrap()).unwrap_err();
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert!(ps[0].msg.contains("64 MiB"));
        let big = "x".repeat(1 << 20);
        let text = format!("[[veth]]\nfor = \"1..100\"\nends = [{{ name = \"{big}\" }}, {{ name = \"b\" }}]\n[[nat]]\nfor = \"1..2\"\nsource = \"{{i}}\"\n");
        let ps = expand(super::super::file::parse(&text).unwrap()).unwrap_err();
        assert_eq!(ps.len(), 1, "{ps:?}");
        assert_eq!(ps[0].at, text.find("\"1..100\"").unwrap());
        // Within the limits, the same templates expand.
        let routes = ["\"10.{i % 200}.0.0/16 via 10.0.0.1\""; 5].join(", ");
        let text = format!("[netns.\"h{{1..100000}}\"]\nroutes = [{routes}]\n");
        let (f, _) = expand(super::super::file::parse(&text).unwrap()).unwrap();
        assert_eq!(f.netns.len(), 100_000);
    }

    #[test]
    fn range_bounds() {
        assert_eq!(range("0..9223372036854775807").ok(), None);
        assert_eq!(
            range("9223372036854775806..9223372036854775807"),
            Ok((i64::MAX as u64 - 1, i64::MAX as u64))
        );
        assert!(range("9223372036854775808..9223372036854775808").is_err());
        assert!(range("18446744073709551615..18446744073709551615").is_err());
        assert_eq!(instance(i64::MAX as u64), i64::MAX);
    }

    #[test]
    fn ranges() {
        assert!(
            matches!(key_range("h{1..3}"), Some(Ok((ref p, 1, 3, ref s))) if p == "h" && s.is_empty())
        );
        assert!(key_range("plain").is_none());
        assert!(matches!(key_range("h{3..1}"), Some(Err(_))));
        assert!(matches!(key_range("h{1..2}{1..2}"), Some(Err(_))));
        assert!(matches!(key_range("h{0..100000}"), Some(Err(_))));
    }
}
