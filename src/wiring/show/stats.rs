//! `ip -s link` (and `-s -s`, `-h`, `-iec`): iproute2 6.1's `print_stats64`, the counters
//! of IFLA_STATS64 as aligned columns or as the `stats64` JSON object.

use netlink_packet_route::link::Stats64;

use super::Text;
use crate::json::{Val, Writer};

/// How the counters are asked for: `-s` given `level` times, `-h`, `-iec`.
#[derive(Clone, Copy)]
pub(super) struct Style {
    pub(super) level: u8,
    pub(super) human: bool,
    pub(super) iec: bool,
}

/// `size_columns`: each column as wide as its widest number (not with `-h`).
fn size(cols: &mut [usize; 8], vals: [u64; 8], human: bool) {
    if human {
        return;
    }
    for (c, v) in cols.iter_mut().zip(vals) {
        *c = (*c).max(v.to_string().len());
    }
}

/// `print_num`: the number right-aligned in `width`, then a space; with `-h`, in units.
fn num(t: &mut Text, width: usize, n: u64, s: Style) {
    let base: u64 = if s.iec { 1024 } else { 1000 };
    if !s.human || n < base {
        *t += format!("{n:>width$} ");
        return;
    }
    let prefixes = b"kMGTPE";
    let (mut powi, mut k) = (1u64, 0usize);
    loop {
        powi = powi.saturating_mul(base);
        if n / base < powi || k + 1 == prefixes.len() {
            break;
        }
        k += 1;
    }
    let (mut precision, mut powj) = (2usize, 1u64);
    while precision > 0 {
        powj *= 10;
        if n / powi < powj {
            break;
        }
        precision -= 1;
    }
    let unit = prefixes[k] as char;
    let i = if s.iec { "i" } else { "" };
    let v = format!("{:.*}{unit}{i}", precision, n as f64 / powi as f64);
    *t += format!("{v:>width$} ");
}

/// One direction's header and numbers (`RX:` or `TX:`): bytes, packets, errors, dropped,
/// two counters of its own, and `compressed` when not zero.
#[allow(clippy::too_many_arguments)]
fn counters(
    t: &mut Text,
    c: &[usize; 8],
    dir: &str,
    own: [&str; 2],
    vals: [u64; 6],
    compressed: u64,
    s: Style,
) {
    let comp = if compressed != 0 { "compressed" } else { "" };
    *t += format!(
        "    {dir}: {:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$} {:>w6$}\n",
        "bytes",
        "packets",
        "errors",
        "dropped",
        own[0],
        own[1],
        comp,
        w0 = c[0] - 4,
        w1 = c[1],
        w2 = c[2],
        w3 = c[3],
        w4 = c[4],
        w5 = c[5],
        w6 = c[6],
    );
    *t += "    ";
    for (k, v) in vals.into_iter().enumerate() {
        num(t, c[k], v, s);
    }
    if compressed != 0 {
        num(t, c[6], compressed, s);
    }
}

/// The text block (it starts on a fresh line and ends without a newline, as ip's does).
pub(super) fn text(t: &mut Text, st: &Stats64, carrier_changes: Option<u32>, s: Style) {
    let mut cols = [10, 7, 6, 7, 7, 7, 10, 9];
    let cc = u64::from(carrier_changes.unwrap_or(0));
    size(
        &mut cols,
        [
            st.rx_bytes,
            st.rx_packets,
            st.rx_errors,
            st.rx_dropped,
            st.rx_missed_errors,
            st.multicast,
            st.rx_compressed,
            0,
        ],
        s.human,
    );
    if s.level > 1 {
        size(
            &mut cols,
            [
                0,
                st.rx_length_errors,
                st.rx_crc_errors,
                st.rx_frame_errors,
                st.rx_fifo_errors,
                st.rx_over_errors,
                st.rx_nohandler,
                st.rx_otherhost_dropped,
            ],
            s.human,
        );
    }
    size(
        &mut cols,
        [
            st.tx_bytes,
            st.tx_packets,
            st.tx_errors,
            st.tx_dropped,
            st.tx_carrier_errors,
            st.collisions,
            st.tx_compressed,
            0,
        ],
        s.human,
    );
    if s.level > 1 {
        // 6.1 sizes these one column to the right of where it prints them; kept, so the
        // columns come out as ip's do.
        size(
            &mut cols,
            [
                0,
                0,
                st.tx_aborted_errors,
                st.tx_fifo_errors,
                st.tx_window_errors,
                st.tx_heartbeat_errors,
                cc,
                0,
            ],
            s.human,
        );
    }
    let c = cols;
    counters(
        t,
        &c,
        "RX",
        ["missed", "mcast"],
        [
            st.rx_bytes,
            st.rx_packets,
            st.rx_errors,
            st.rx_dropped,
            st.rx_missed_errors,
            st.multicast,
        ],
        st.rx_compressed,
        s,
    );
    if s.level > 1 {
        *t += "\n";
        let nh = st.rx_nohandler != 0;
        let oh = st.rx_otherhost_dropped != 0;
        *t += format!(
            "    RX errors:{:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}{:>w6$}{:>w7$}\n",
            "",
            "length",
            "crc",
            "frame",
            "fifo",
            "overrun",
            if nh { " nohandler" } else { "" },
            if oh { " otherhost" } else { "" },
            w0 = c[0] - 10,
            w1 = c[1],
            w2 = c[2],
            w3 = c[3],
            w4 = c[4],
            w5 = c[5],
            w6 = if nh { c[6] + 1 } else { 0 },
            w7 = if oh { c[7] + 1 } else { 0 },
        );
        *t += " ".repeat(c[0] + 5);
        for (k, v) in [
            st.rx_length_errors,
            st.rx_crc_errors,
            st.rx_frame_errors,
            st.rx_fifo_errors,
            st.rx_over_errors,
        ]
        .into_iter()
        .enumerate()
        {
            num(t, c[k + 1], v, s);
        }
        if nh {
            num(t, c[6], st.rx_nohandler, s);
        }
        if oh {
            num(t, c[7], st.rx_otherhost_dropped, s);
        }
    }
    *t += "\n";
    counters(
        t,
        &c,
        "TX",
        ["carrier", "collsns"],
        [
            st.tx_bytes,
            st.tx_packets,
            st.tx_errors,
            st.tx_dropped,
            st.tx_carrier_errors,
            st.collisions,
        ],
        st.tx_compressed,
        s,
    );
    if s.level > 1 {
        *t += "\n";
        *t += format!(
            "    TX errors:{:>w0$} {:>w1$} {:>w2$} {:>w3$} {:>w4$} {:>w5$}\n",
            "",
            "aborted",
            "fifo",
            "window",
            "heartbt",
            if carrier_changes.is_some() {
                "transns"
            } else {
                ""
            },
            w0 = c[0] - 10,
            w1 = c[1],
            w2 = c[2],
            w3 = c[3],
            w4 = c[4],
            w5 = c[5],
        );
        *t += " ".repeat(c[0] + 5);
        for (k, v) in [
            st.tx_aborted_errors,
            st.tx_fifo_errors,
            st.tx_window_errors,
            st.tx_heartbeat_errors,
        ]
        .into_iter()
        .enumerate()
        {
            num(t, c[k + 1], v, s);
        }
        if carrier_changes.is_some() {
            num(t, c[5], cc, s);
        }
    }
}

/// Named counters, in print order.
type Counters<'a> = &'a [(&'a str, u64)];

/// One direction's JSON object: six counters, `compressed` when not zero, and with `-s -s`
/// the error counters and those shown only when not zero.
fn json_dir(
    w: &mut Writer,
    dir: &str,
    base: [(&str, u64); 6],
    compressed: u64,
    errors: Option<(Counters, Counters)>,
) {
    w.name(dir);
    w.start_object();
    for (k, v) in base {
        w.field(k, Val::Int(v as i64));
    }
    if compressed != 0 {
        w.field("compressed", Val::Int(compressed as i64));
    }
    if let Some((always, nonzero)) = errors {
        for &(k, v) in always {
            w.field(k, Val::Int(v as i64));
        }
        for &(k, v) in nonzero.iter().filter(|(_, v)| *v != 0) {
            w.field(k, Val::Int(v as i64));
        }
    }
    w.end_object();
}

/// The `stats64` JSON object.
pub(super) fn json(w: &mut Writer, st: &Stats64, carrier_changes: Option<u32>, level: u8) {
    let detail = level > 1;
    w.name("stats64");
    w.start_object();
    let rx_errors = [
        ("length_errors", st.rx_length_errors),
        ("crc_errors", st.rx_crc_errors),
        ("frame_errors", st.rx_frame_errors),
        ("fifo_errors", st.rx_fifo_errors),
        ("missed_errors", st.rx_missed_errors),
    ];
    let rx_nonzero = [
        ("nohandler", st.rx_nohandler),
        ("otherhost", st.rx_otherhost_dropped),
    ];
    json_dir(
        w,
        "rx",
        [
            ("bytes", st.rx_bytes),
            ("packets", st.rx_packets),
            ("errors", st.rx_errors),
            ("dropped", st.rx_dropped),
            ("over_errors", st.rx_over_errors),
            ("multicast", st.multicast),
        ],
        st.rx_compressed,
        detail.then_some((&rx_errors[..], &rx_nonzero[..])),
    );
    let mut tx_errors = vec![
        ("aborted_errors", st.tx_aborted_errors),
        ("fifo_errors", st.tx_fifo_errors),
        ("window_errors", st.tx_window_errors),
        ("heartbeat_errors", st.tx_heartbeat_errors),
    ];
    if let Some(c) = carrier_changes {
        tx_errors.push(("carrier_changes", c.into()));
    }
    json_dir(
        w,
        "tx",
        [
            ("bytes", st.tx_bytes),
            ("packets", st.tx_packets),
            ("errors", st.tx_errors),
            ("dropped", st.tx_dropped),
            ("carrier_errors", st.tx_carrier_errors),
            ("collisions", st.collisions),
        ],
        st.tx_compressed,
        detail.then_some((&tx_errors[..], &[][..])),
    );
    w.end_object();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn human(n: u64, iec: bool) -> String {
        let mut t = Text::default();
        let s = Style {
            level: 1,
            human: true,
            iec,
        };
        num(&mut t, 1, n, s);
        String::from_utf8(t.0).unwrap()
    }

    #[test]
    fn units_as_ip_prints_them() {
        assert_eq!(human(999, false), "999 ");
        assert_eq!(human(3486, false), "3.49k ");
        assert_eq!(human(229396, false), "229k ");
        assert_eq!(human(10586155711, false), "10.6G ");
        assert_eq!(human(2048, true), "2.00ki ");
    }

    #[test]
    fn columns_grow_with_the_numbers() {
        let mut st = Stats64::default();
        st.rx_bytes = 10586155711;
        st.rx_packets = 229396;
        let mut t = Text::default();
        let s = Style {
            level: 1,
            human: false,
            iec: false,
        };
        text(&mut t, &st, None, s);
        let out = String::from_utf8(t.0).unwrap();
        assert!(out.starts_with(
            "    RX:   bytes packets errors dropped  missed   mcast           \n    \
             10586155711  229396      0       0       0       0 \n"
        ));
    }
}
