//! Shaped links: a veth end's `rate`, `delay`, `jitter` and `loss` (docs/topology.md,
//! "Shaped links") as the root qdisc nsctl sets on it: tbf for a rate alone, netem (with its
//! own rate) when there is any delay, jitter or loss. Parsing of tc's units, the qdisc a
//! setting makes, its description, and whether this kernel has the qdisc at all.

use crate::nl::qdisc::Qdisc;

/// The settings of an end as written: (rate, delay, jitter, loss) texts with positions.
pub struct Written<'a> {
    pub rate: Option<&'a toml::Spanned<String>>,
    pub delay: Option<&'a toml::Spanned<String>>,
    pub jitter: Option<&'a toml::Spanned<String>>,
    pub loss: Option<&'a toml::Spanned<String>>,
}

/// `1.5ms` as (1.5, "ms"): a decimal number and the (lower-cased) unit after it; None
/// without a unit.
fn number_and_unit(s: &str) -> Option<(f64, String)> {
    let t = s.trim().to_ascii_lowercase();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = t.split_at(split);
    Some((num.parse().ok()?, unit.to_string()))
}

/// `10mbit`, `1.5gbit`, `500kbit`, `100bit` (bits per second, SI), `kibit`... (binary), or
/// tc's byte units `bps`, `kbps`, `mbps`, `gbps`: bytes per second.
pub fn parse_rate(s: &str) -> Option<u64> {
    let (n, unit) = number_and_unit(s)?;
    let bits_per: f64 = match unit.as_str() {
        "bit" => 1.0,
        "kbit" => 1e3,
        "mbit" => 1e6,
        "gbit" => 1e9,
        "tbit" => 1e12,
        "kibit" => 1024.0,
        "mibit" => 1024.0 * 1024.0,
        "gibit" => 1024.0 * 1024.0 * 1024.0,
        "bps" => 8.0,
        "kbps" => 8e3,
        "mbps" => 8e6,
        "gbps" => 8e9,
        _ => return None,
    };
    let bytes = n * bits_per / 8.0;
    (bytes.is_finite() && bytes >= 1.0).then_some(bytes.round() as u64)
}

/// `10ms`, `1.5ms`, `250us`, `1s` as nanoseconds.
pub fn parse_time(s: &str) -> Option<u64> {
    let (n, unit) = number_and_unit(s)?;
    let ns_per = match unit.as_str() {
        "s" | "sec" => 1e9,
        "ms" | "msec" => 1e6,
        "us" | "usec" => 1e3,
        _ => return None,
    };
    let ns = n * ns_per;
    (ns.is_finite() && ns >= 0.0).then_some(ns.round() as u64)
}

/// `1%`, `0.5%` as a fraction of u32::MAX (netem's scale).
pub fn parse_loss(s: &str) -> Option<u32> {
    let p: f64 = s.trim().strip_suffix('%')?.trim().parse().ok()?;
    (p > 0.0 && p <= 100.0).then(|| (u32::MAX as f64 * p / 100.0).round() as u32)
}

/// The most a delay or jitter may be.
const MAX_TIME: u64 = 60_000_000_000;

/// The qdisc an end's settings make, or (position, message) for each bad one.
pub fn build(w: &Written) -> Result<Option<Qdisc>, Vec<(usize, String)>> {
    let mut bad = Vec::new();
    let rate = w.rate.and_then(|r| {
        let v = parse_rate(r.get_ref()).filter(|b| (125..=125_000_000_000).contains(b));
        if v.is_none() {
            bad.push((
                r.span().start,
                format!(
                    "rate \"{}\" is not a rate from 1kbit to 1tbit; write it like 10mbit, 1.5gbit or 500kbit",
                    r.get_ref().escape_debug()
                ),
            ));
        }
        v
    });
    let mut time = |t: Option<&toml::Spanned<String>>, what: &str| {
        t.and_then(|t| {
            let v = parse_time(t.get_ref()).filter(|n| *n <= MAX_TIME);
            if v.is_none() {
                bad.push((
                    t.span().start,
                    format!(
                        "{what} \"{}\" is not a time up to 60s; write it like 10ms, 1.5ms, 250us or 1s",
                        t.get_ref().escape_debug()
                    ),
                ));
            }
            v
        })
    };
    let delay = time(w.delay, "delay");
    let jitter = time(w.jitter, "jitter");
    let loss = w.loss.and_then(|l| {
        let v = parse_loss(l.get_ref());
        if v.is_none() {
            bad.push((
                l.span().start,
                format!(
                    "loss \"{}\" is not a percentage above 0 and at most 100, like 1% or 0.5%",
                    l.get_ref().escape_debug()
                ),
            ));
        }
        v
    });
    if let (Some(j), None) = (w.jitter, w.delay) {
        bad.push((
            j.span().start,
            "jitter varies a delay: give delay too (delay = \"10ms\", jitter = \"2ms\")".into(),
        ));
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let netem = w.delay.is_some() || w.jitter.is_some() || w.loss.is_some();
    Ok(match (netem, rate) {
        (false, None) => None,
        (false, Some(rate)) => {
            // A bucket of 10 ms at the rate (at least three full frames), and 50 ms of queue.
            let burst = (rate / 100).max(3 * 1514).min(u32::MAX as u64) as u32;
            let limit = (rate / 20 + burst as u64).min(u32::MAX as u64) as u32;
            Some(Qdisc::Tbf { rate, burst, limit })
        }
        (true, rate) => Some(Qdisc::Netem {
            delay: delay.unwrap_or(0),
            jitter: jitter.unwrap_or(0),
            loss: loss.unwrap_or(0),
            rate,
            limit: 1000,
        }),
    })
}

/// `rate 10mbit`, `delay 10ms jitter 2ms loss 1%`: a qdisc in the file's words.
pub fn describe(q: &Qdisc) -> String {
    let rate = |r: u64| {
        let bits = r * 8;
        match bits {
            b if b % 1_000_000_000 == 0 => format!("{}gbit", b / 1_000_000_000),
            b if b % 1_000_000 == 0 => format!("{}mbit", b / 1_000_000),
            b if b % 1_000 == 0 => format!("{}kbit", b / 1_000),
            b => format!("{b}bit"),
        }
    };
    let time = |ns: u64| {
        if ns % 1_000_000 == 0 {
            format!("{}ms", ns / 1_000_000)
        } else {
            format!("{}us", ns / 1_000)
        }
    };
    match *q {
        Qdisc::Tbf { rate: r, .. } => format!("rate {}", rate(r)),
        Qdisc::Netem {
            delay,
            jitter,
            loss,
            rate: r,
            ..
        } => {
            let mut v = Vec::new();
            if let Some(r) = r {
                v.push(format!("rate {}", rate(r)));
            }
            if delay > 0 {
                v.push(format!("delay {}", time(delay)));
            }
            if jitter > 0 {
                v.push(format!("jitter {}", time(jitter)));
            }
            if loss > 0 {
                let pct = loss as f64 * 100.0 / u32::MAX as f64;
                v.push(format!("loss {}%", (pct * 1000.0).round() / 1000.0));
            }
            v.join(" ")
        }
    }
}

/// Whether this kernel has the qdisc `kind`, asked of the kernel itself: a helper thread
/// moves into a network namespace of its own (unshare, which moves only that thread; the
/// namespace goes when the thread ends) and sets the qdisc on its loopback. Nothing outside
/// that thread changes. Err: the question could not be asked (the caller goes on, and the
/// real request says what is wrong).
pub fn kernel_has(kind: &str) -> Result<bool, String> {
    let q = match kind {
        "tbf" => Qdisc::Tbf {
            rate: 125_000,
            burst: 5000,
            limit: 10_000,
        },
        _ => Qdisc::Netem {
            delay: 1_000_000,
            jitter: 0,
            loss: 0,
            rate: None,
            limit: 1000,
        },
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| {
                format!(
                    "cannot make a scratch network namespace: {}",
                    crate::error::errstr(e)
                )
            })?;
            let d = crate::nl::sync::Dumper::open().map_err(|e| {
                format!(
                    "cannot open a netlink socket: {}",
                    crate::error::io_errstr(&e)
                )
            })?;
            // The loopback of a new namespace is always ifindex 1.
            match crate::nl::qdisc::replace_root(&d, 1, &q) {
                Ok(()) => Ok(true),
                Err(crate::nl::Failure::Kernel(e)) if e.errno == libc::ENOENT => Ok(false),
                Err(f) => Err(super::error::why(f)),
            }
        })
        .join()
        .unwrap_or_else(|_| Err("the qdisc probe thread failed".into()))
    })
}

/// Why this kernel cannot shape the lab's links as the file asks (a qdisc it lacks), in
/// words that name the end, the kernel module and what to do; None when it can.
pub fn missing(lab: &super::spec::Lab) -> Option<String> {
    let ends = lab.veths.iter().flatten();
    let mut asked: Vec<(&'static str, &super::spec::IfSpec)> = Vec::new();
    for i in ends {
        if let Some(q) = &i.shape {
            if !asked.iter().any(|(k, _)| *k == q.kind()) {
                asked.push((q.kind(), i));
            }
        }
    }
    for (kind, i) in asked {
        // A probe that cannot run says nothing: apply goes on and the request itself fails.
        if kernel_has(kind) != Ok(false) {
            continue;
        }
        let (what, keys) = match kind {
            "netem" => ("delay, jitter or loss", "delay, jitter and loss"),
            _ => ("a rate", "rate"),
        };
        return Some(format!(
            "{} ({}) asks for {what}, which needs the kernel's {kind} queueing discipline (kernel module sch_{kind}), and this kernel has none; load it (modprobe sch_{kind}) or take {keys} out of the file",
            i.name,
            super::spec::place_name(&i.at)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_rate("10mbit"), Some(1_250_000));
        assert_eq!(parse_rate("1.5gbit"), Some(187_500_000));
        assert_eq!(parse_rate("500kbit"), Some(62_500));
        assert_eq!(parse_rate("1mbps"), Some(1_000_000));
        assert_eq!(parse_rate("10"), None);
        assert_eq!(parse_rate("fast"), None);
        assert_eq!(parse_time("10ms"), Some(10_000_000));
        assert_eq!(parse_time("1.5ms"), Some(1_500_000));
        assert_eq!(parse_time("250us"), Some(250_000));
        assert_eq!(parse_time("2s"), Some(2_000_000_000));
        assert_eq!(parse_time("2"), None);
        assert_eq!(parse_loss("100%"), Some(u32::MAX));
        assert_eq!(parse_loss("0%"), None);
        assert_eq!(parse_loss("1"), None);
    }

    #[test]
    fn a_rate_alone_is_tbf_and_anything_else_netem() {
        let s = |t: &str| toml::Spanned::new(0..1, t.to_string());
        let (r, d, j, l) = (s("10mbit"), s("10ms"), s("2ms"), s("1%"));
        let w = |rate, delay, jitter, loss| Written {
            rate,
            delay,
            jitter,
            loss,
        };
        let q = build(&w(Some(&r), None, None, None)).unwrap().unwrap();
        assert_eq!(describe(&q), "rate 10mbit");
        assert!(matches!(q, Qdisc::Tbf { burst: 12_500, .. }));
        let q = build(&w(Some(&r), Some(&d), Some(&j), Some(&l)))
            .unwrap()
            .unwrap();
        assert_eq!(describe(&q), "rate 10mbit delay 10ms jitter 2ms loss 1%");
        assert!(build(&w(None, None, Some(&j), None)).is_err());
        assert_eq!(build(&w(None, None, None, None)).unwrap(), None);
    }
}
