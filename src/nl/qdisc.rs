//! Root queueing disciplines over raw rtnetlink, what `tc qdisc replace dev DEV root tbf
//! rate R burst B limit L` and `tc qdisc replace dev DEV root netem delay D jitter J loss P
//! [rate R]` send, and what `tc qdisc show` reads back. netlink-packet-route 0.34 types only
//! fq_codel and ingress, so the messages are built here from the kernel's structs
//! (include/uapi/linux/pkt_sched.h), in native byte order like every rtnetlink struct.

use super::sync::Dumper;
use super::Failure;

pub const RTM_NEWQDISC: u16 = 36;
pub const RTM_DELQDISC: u16 = 37;
pub const RTM_GETQDISC: u16 = 38;
/// The parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xffff_ffff;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TCA_NETEM_RATE: u16 = 6;
const TCA_NETEM_RATE64: u16 = 8;
const TCA_NETEM_LATENCY64: u16 = 10;
const TCA_NETEM_JITTER64: u16 = 11;
/// tc_ratespec.linklayer: the rate counts Ethernet frames (no rate table is sent).
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// `struct tc_netem_qopt` holds times in psched ticks of 64 ns (PSCHED_SHIFT 6).
const PSCHED_SHIFT: u32 = 6;

/// A root qdisc as nsctl sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qdisc {
    /// Token bucket: `rate` bytes per second, a bucket of `burst` bytes, at most `limit`
    /// bytes queued.
    Tbf { rate: u64, burst: u32, limit: u32 },
    /// Network emulator: delay and jitter in ns, loss as a fraction of u32::MAX, an
    /// optional rate in bytes per second, at most `limit` packets queued.
    Netem {
        delay: u64,
        jitter: u64,
        loss: u32,
        rate: Option<u64>,
        limit: u32,
    },
}

/// A root qdisc as the kernel reports it: its kind and the settings nsctl compares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen {
    pub kind: String,
    pub rate: Option<u64>,
    pub delay: Option<u64>,
    pub jitter: Option<u64>,
    pub loss: Option<u32>,
}

impl Qdisc {
    pub fn kind(&self) -> &'static str {
        match self {
            Qdisc::Tbf { .. } => "tbf",
            Qdisc::Netem { .. } => "netem",
        }
    }

    /// Whether the kernel's qdisc is this one (the settings nsctl sets and reads back).
    pub fn matches(&self, s: &Seen) -> bool {
        match *self {
            Qdisc::Tbf { rate, .. } => s.kind == "tbf" && s.rate == Some(rate),
            Qdisc::Netem {
                delay,
                jitter,
                loss,
                rate,
                ..
            } => {
                s.kind == "netem"
                    && s.delay == Some(delay)
                    && s.jitter == Some(jitter)
                    && s.loss == Some(loss)
                    && s.rate == rate
            }
        }
    }

    /// TCA_OPTIONS's payload.
    pub fn options(&self) -> Vec<u8> {
        let mut o = Vec::new();
        match *self {
            Qdisc::Tbf { rate, burst, limit } => {
                // struct tc_tbf_qopt: rate and peakrate (tc_ratespec), limit, buffer, mtu.
                let mut parms = ratespec(rate);
                parms.extend_from_slice(&[0u8; 12]);
                parms.extend_from_slice(&limit.to_ne_bytes());
                // The bucket is sent in bytes (TCA_TBF_BURST); the kernel derives buffer.
                parms.extend_from_slice(&0u32.to_ne_bytes());
                parms.extend_from_slice(&0u32.to_ne_bytes());
                attr(&mut o, TCA_TBF_PARMS, &parms);
                if rate >= 1 << 32 {
                    attr(&mut o, TCA_TBF_RATE64, &rate.to_ne_bytes());
                }
                attr(&mut o, TCA_TBF_BURST, &burst.to_ne_bytes());
            }
            Qdisc::Netem {
                delay,
                jitter,
                loss,
                rate,
                limit,
            } => {
                // struct tc_netem_qopt: latency, limit, loss, gap, duplicate, jitter; the
                // times in ticks, capped, and exact in LATENCY64/JITTER64 (ns) after it.
                let ticks = |ns: u64| u32::try_from(ns >> PSCHED_SHIFT).unwrap_or(u32::MAX);
                for v in [ticks(delay), limit, loss, 0, 0, ticks(jitter)] {
                    o.extend_from_slice(&v.to_ne_bytes());
                }
                attr(&mut o, TCA_NETEM_LATENCY64, &(delay as i64).to_ne_bytes());
                attr(&mut o, TCA_NETEM_JITTER64, &(jitter as i64).to_ne_bytes());
                if let Some(r) = rate {
                    // struct tc_netem_rate: rate, packet_overhead, cell_size, cell_overhead.
                    let mut nr = u32::try_from(r).unwrap_or(u32::MAX).to_ne_bytes().to_vec();
                    nr.extend_from_slice(&[0u8; 12]);
                    attr(&mut o, TCA_NETEM_RATE, &nr);
                    if r >= 1 << 32 {
                        attr(&mut o, TCA_NETEM_RATE64, &r.to_ne_bytes());
                    }
                }
            }
        }
        o
    }
}

/// struct tc_ratespec for `rate` bytes per second (the u32 field saturates; RATE64 carries
/// the rest).
fn ratespec(rate: u64) -> Vec<u8> {
    let mut r = vec![0u8, TC_LINKLAYER_ETHERNET];
    r.extend_from_slice(&0u16.to_ne_bytes()); // overhead
    r.extend_from_slice(&0i16.to_ne_bytes()); // cell_align
    r.extend_from_slice(&0u16.to_ne_bytes()); // mpu
    r.extend_from_slice(&u32::try_from(rate).unwrap_or(u32::MAX).to_ne_bytes());
    r
}

/// Append one attribute (length, type, payload, padding to 4 bytes).
fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    out.extend_from_slice(&((4 + payload.len()) as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    while out.len() % 4 != 0 {
        out.push(0);
    }
}

/// struct tcmsg: family, padding, ifindex, handle, parent, info.
fn tcmsg(ifindex: u32, parent: u32) -> Vec<u8> {
    let mut m = vec![0u8; 4];
    m.extend_from_slice(&(ifindex as i32).to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m.extend_from_slice(&parent.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes());
    m
}

/// The body of RTM_NEWQDISC for `q` as the root qdisc of `ifindex`.
pub fn new_root(ifindex: u32, q: &Qdisc) -> Vec<u8> {
    let mut m = tcmsg(ifindex, TC_H_ROOT);
    attr(&mut m, TCA_KIND, format!("{}\0", q.kind()).as_bytes());
    attr(&mut m, TCA_OPTIONS, &q.options());
    m
}

/// Set `q` as the root qdisc of `ifindex` (replacing whatever is there).
pub fn replace_root(d: &Dumper, ifindex: u32, q: &Qdisc) -> Result<(), Failure> {
    const NLM_F_REPLACE: u16 = 0x100;
    const NLM_F_CREATE: u16 = 0x400;
    d.ack(
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_REPLACE,
        &new_root(ifindex, q),
    )
}

/// Delete the root qdisc of `ifindex` (the device goes back to its default).
pub fn delete_root(d: &Dumper, ifindex: u32) -> Result<(), Failure> {
    d.ack(RTM_DELQDISC, 0, &tcmsg(ifindex, TC_H_ROOT))
}

/// Attributes of a message body from `at`: (type, payload), in order; stops at the first
/// malformed one.
fn attrs(b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = b.get(at..at + 4)?;
        let len = u16::from_ne_bytes([h[0], h[1]]) as usize;
        let kind = u16::from_ne_bytes([h[2], h[3]]) & 0x3fff;
        let payload = b.get(at + 4..at.checked_add(len)?)?;
        if len < 4 {
            return None;
        }
        at += (len + 3) & !3;
        Some((kind, payload))
    })
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn u64_of(b: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}

/// One RTM_NEWQDISC message (netlink header included): its ifindex and what it is, when it
/// is a root qdisc. Never panics, whatever the bytes.
pub fn parse(msg: &[u8]) -> Option<(u32, Seen)> {
    let body = msg.get(16..)?;
    let ifindex = u32_at(body, 4)?;
    let parent = u32_at(body, 12)?;
    if parent != TC_H_ROOT {
        return None;
    }
    let mut s = Seen::default();
    let mut opts: &[u8] = &[];
    for (k, v) in attrs(body.get(20..)?) {
        match k {
            TCA_KIND => s.kind = String::from_utf8_lossy(super::attr_cstr(v)).into_owned(),
            TCA_OPTIONS => opts = v,
            _ => {}
        }
    }
    match s.kind.as_str() {
        "tbf" => {
            for (k, v) in attrs(opts) {
                match k {
                    TCA_TBF_PARMS if s.rate.is_none() => s.rate = u32_at(v, 8).map(u64::from),
                    TCA_TBF_RATE64 => s.rate = u64_of(v),
                    _ => {}
                }
            }
        }
        "netem" => {
            let ticks = |t: u32| u64::from(t) << PSCHED_SHIFT;
            s.delay = u32_at(opts, 0).map(ticks);
            s.loss = u32_at(opts, 8);
            s.jitter = u32_at(opts, 20).map(ticks);
            let mut rate64 = None;
            for (k, v) in attrs(opts.get(24..).unwrap_or(&[])) {
                match k {
                    TCA_NETEM_LATENCY64 => s.delay = u64_of(v),
                    TCA_NETEM_JITTER64 => s.jitter = u64_of(v),
                    TCA_NETEM_RATE => s.rate = u32_at(v, 0).filter(|r| *r > 0).map(u64::from),
                    TCA_NETEM_RATE64 => rate64 = u64_of(v),
                    _ => {}
                }
            }
            if rate64.is_some() {
                s.rate = rate64;
            }
        }
        _ => {}
    }
    Some((ifindex, s))
}

/// The root qdiscs of the namespace `d` lives in, by ifindex.
pub fn roots(d: &Dumper) -> Result<Vec<(u32, Seen)>, Failure> {
    let mut out = Vec::new();
    d.dump_raw(RTM_GETQDISC, &tcmsg(0, 0), |m| {
        if let Some(x) = parse(m) {
            out.push(x);
        }
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ne32(v: u32) -> [u8; 4] {
        v.to_ne_bytes()
    }

    /// The netem options against `struct tc_netem_qopt` (six u32: latency, limit, loss,
    /// gap, duplicate, jitter; times in 64 ns ticks) and the attributes after it.
    #[test]
    fn netem_options_follow_the_kernel_layout() {
        let q = Qdisc::Netem {
            delay: 10_000_000,
            jitter: 2_000_000,
            loss: (u32::MAX as f64 * 0.01).round() as u32,
            rate: Some(1_250_000),
            limit: 1000,
        };
        let o = q.options();
        let mut want = Vec::new();
        for v in [10_000_000 / 64, 1000, 42_949_673, 0, 0, 2_000_000 / 64] {
            want.extend_from_slice(&ne32(v));
        }
        // LATENCY64 (10) and JITTER64 (11): 12-byte attributes holding s64 ns.
        want.extend_from_slice(&12u16.to_ne_bytes());
        want.extend_from_slice(&10u16.to_ne_bytes());
        want.extend_from_slice(&10_000_000i64.to_ne_bytes());
        want.extend_from_slice(&12u16.to_ne_bytes());
        want.extend_from_slice(&11u16.to_ne_bytes());
        want.extend_from_slice(&2_000_000i64.to_ne_bytes());
        // RATE (6): struct tc_netem_rate, 16 bytes.
        want.extend_from_slice(&20u16.to_ne_bytes());
        want.extend_from_slice(&6u16.to_ne_bytes());
        want.extend_from_slice(&ne32(1_250_000));
        want.extend_from_slice(&[0; 12]);
        assert_eq!(o, want);
        assert_eq!(o.len(), 24 + 12 + 12 + 20);
        // And it reads back as what was set.
        let mut msg = vec![0u8; 16];
        msg.extend_from_slice(&new_root(7, &q));
        let (ifindex, seen) = parse(&msg).unwrap();
        assert_eq!(ifindex, 7);
        assert!(q.matches(&seen), "{seen:?}");
    }

    #[test]
    fn tbf_options_follow_the_kernel_layout() {
        let q = Qdisc::Tbf {
            rate: 1_250_000,
            burst: 12_500,
            limit: 75_000,
        };
        let o = q.options();
        // TCA_TBF_PARMS: 4 + 36 bytes: rate spec (linklayer 1, rate at offset 8), empty
        // peak rate, limit, buffer 0, mtu 0; then TCA_TBF_BURST.
        let head = |len: u16, kind: u16| [len.to_ne_bytes(), kind.to_ne_bytes()].concat();
        assert_eq!(&o[..4], &head(40, 1)[..]);
        assert_eq!(o[4 + 1], 1);
        assert_eq!(&o[4 + 8..4 + 12], &ne32(1_250_000));
        assert_eq!(&o[4 + 24..4 + 28], &ne32(75_000));
        assert_eq!(&o[40..44], &head(8, 6)[..]);
        assert_eq!(&o[44..48], &ne32(12_500));
        let mut msg = vec![0u8; 16];
        msg.extend_from_slice(&new_root(3, &q));
        assert!(q.matches(&parse(&msg).unwrap().1));
        // 10 Gbit/s does not fit the u32 field: RATE64 carries it.
        let big = Qdisc::Tbf {
            rate: 1_250_000_000 * 4,
            burst: 1 << 20,
            limit: 1 << 24,
        };
        let mut msg = vec![0u8; 16];
        msg.extend_from_slice(&new_root(3, &big));
        assert!(big.matches(&parse(&msg).unwrap().1));
    }

    #[test]
    fn any_bytes_parse_without_panic() {
        let q = new_root(
            1,
            &Qdisc::Tbf {
                rate: 1,
                burst: 1,
                limit: 1,
            },
        );
        let mut msg = vec![0u8; 16];
        msg.extend_from_slice(&q);
        for n in 0..msg.len() {
            let _ = parse(&msg[..n]);
        }
    }
}
