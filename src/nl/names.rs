//! Name attributes that are not UTF-8, in the link and address messages of a dump.
//!
//! Interface names are bytes to the kernel, but netlink-packet-route decodes IFLA_IFNAME,
//! IFA_LABEL and the other name attributes as Rust strings and refuses a whole message when
//! one is not UTF-8. `ip link show` prints such a name's bytes as they are. So before a
//! message is decoded, each name attribute that is not UTF-8 is kept aside as raw bytes and
//! replaced, in a copy of the message, by the same number of `/` bytes: the decoder then
//! succeeds, and the stand-in can never equal a real interface name (the kernel refuses `/`
//! in names), so nothing that compares names confuses it with another device.

const RTM_NEWLINK: u16 = 16;
const RTM_NEWADDR: u16 = 20;
const NLMSG_HDRLEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;

const IFLA_IFNAME: u16 = 3;
const IFLA_QDISC: u16 = 6;
const IFLA_IFALIAS: u16 = 20;
const IFLA_PHYS_PORT_NAME: u16 = 38;
const IFLA_PROP_LIST: u16 = 52;
const IFLA_ALT_IFNAME: u16 = 53;
const IFLA_PARENT_DEV_NAME: u16 = 56;
const IFLA_PARENT_DEV_BUS_NAME: u16 = 57;
const IFA_LABEL: u16 = 3;

/// The raw bytes of a message's own name when it was not UTF-8: IFLA_IFNAME of a link
/// message, IFA_LABEL of an address message. (Its other names are replaced so the message
/// decodes; `show` reads links by attribute, names as bytes, so it needs no more.)
#[derive(Default, Debug, Clone, PartialEq, Eq)]
pub struct RawNames {
    pub name: Option<Vec<u8>>,
}

/// When `msg` (one whole netlink message) holds a name attribute that is not UTF-8: a copy
/// with those names replaced, and their raw bytes. None when every name is UTF-8 (the usual
/// case, with no copy made).
pub fn clean(msg: &[u8]) -> Option<(Vec<u8>, RawNames)> {
    if msg.len() < NLMSG_HDRLEN {
        return None;
    }
    let kind = u16::from_ne_bytes([msg[4], msg[5]]);
    let (start, names): (usize, &[u16]) = match kind {
        RTM_NEWLINK => (
            NLMSG_HDRLEN + IFINFOMSG_LEN,
            &[
                IFLA_IFNAME,
                IFLA_QDISC,
                IFLA_IFALIAS,
                IFLA_PHYS_PORT_NAME,
                IFLA_PARENT_DEV_NAME,
                IFLA_PARENT_DEV_BUS_NAME,
            ],
        ),
        RTM_NEWADDR => (NLMSG_HDRLEN + IFADDRMSG_LEN, &[IFA_LABEL]),
        _ => return None,
    };
    let body = msg.get(start..)?;
    let mut bad = Vec::new();
    for (at, t, value) in attrs(body) {
        if names.contains(&t) && !utf8(value) {
            // IFLA_IFNAME and IFA_LABEL have the same number.
            bad.push((start + at, value.len(), t == IFLA_IFNAME));
        } else if kind == RTM_NEWLINK && t == IFLA_PROP_LIST {
            for (inner, it, iv) in attrs(value) {
                if it == IFLA_ALT_IFNAME && !utf8(iv) {
                    bad.push((start + at + 4 + inner, iv.len(), false));
                }
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    let mut copy = msg.to_vec();
    let mut raw = RawNames::default();
    for (at, len, own) in bad {
        let value = &mut copy[at + 4..at + 4 + len];
        let end = super::attr_cstr(value).len();
        let bytes = value[..end].to_vec();
        for b in value[..end].iter_mut() {
            *b = stand_in_byte(*b);
        }
        if own {
            raw.name = Some(bytes);
        }
    }
    Some((copy, raw))
}

/// Whether an attribute's value, up to its first NUL, is UTF-8.
fn utf8(value: &[u8]) -> bool {
    std::str::from_utf8(super::attr_cstr(value)).is_ok()
}

/// A name's byte in its stand-in: bytes outside ASCII become `/`.
fn stand_in_byte(b: u8) -> u8 {
    if b.is_ascii() {
        b
    } else {
        b'/'
    }
}

/// A name as text: itself when UTF-8, else its `/` stand-in.
pub fn stand_in(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(s) => s.to_string(),
        Err(_) => name.iter().map(|&b| stand_in_byte(b) as char).collect(),
    }
}

/// The attributes of a run of rtattrs: (offset of the rtattr, type without flags, value).
/// Stops at the first malformed header; the decoder reports the message as it sees it.
fn attrs(mut buf: &[u8]) -> impl Iterator<Item = (usize, u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            return None;
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let kind = u16::from_ne_bytes([buf[2], buf[3]]) & 0x3fff;
        if len < 4 || len > buf.len() {
            return None;
        }
        let item = (at, kind, &buf[4..len]);
        let step = ((len + 3) & !3).min(buf.len());
        buf = &buf[step..];
        at += step;
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rta(kind: u16, val: &[u8]) -> Vec<u8> {
        let mut v = ((4 + val.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(val);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    fn message(kind: u16, fixed: usize, attrs: &[Vec<u8>]) -> Vec<u8> {
        let mut m = vec![0u8; NLMSG_HDRLEN + fixed];
        m[4..6].copy_from_slice(&kind.to_ne_bytes());
        for a in attrs {
            m.extend_from_slice(a);
        }
        let len = m.len() as u32;
        m[0..4].copy_from_slice(&len.to_ne_bytes());
        m
    }

    #[test]
    fn utf8_names_need_no_copy() {
        let m = message(RTM_NEWLINK, IFINFOMSG_LEN, &[rta(IFLA_IFNAME, b"eth0\0")]);
        assert_eq!(clean(&m), None);
        assert_eq!(clean(&m[..10]), None);
    }

    /// A link message with a name, an MTU, an alias and two altnames.
    fn link(name: &[u8], alias: &[u8], alt: &[u8]) -> Vec<u8> {
        let mut props = rta(IFLA_ALT_IFNAME, b"ok\0");
        props.extend(rta(IFLA_ALT_IFNAME, alt));
        message(
            RTM_NEWLINK,
            IFINFOMSG_LEN,
            &[
                rta(IFLA_IFNAME, name),
                rta(4, &1500u32.to_ne_bytes()),
                rta(IFLA_IFALIAS, alias),
                rta(IFLA_PROP_LIST | 0x8000, &props),
            ],
        )
    }

    #[test]
    fn bad_names_are_kept_and_replaced() {
        let m = link(b"\xfe\0", b"x\xc3\0", b"a\xffb\0");
        let (copy, raw) = clean(&m).unwrap();
        assert_eq!(raw.name.as_deref(), Some(&b"\xfe"[..]));
        assert_eq!(copy, link(b"/\0", b"x/\0", b"a/b\0"));
    }

    #[test]
    fn address_labels() {
        let m = message(RTM_NEWADDR, IFADDRMSG_LEN, &[rta(IFA_LABEL, b"\xff\xfe\0")]);
        let (copy, raw) = clean(&m).unwrap();
        assert_eq!(raw.name.as_deref(), Some(&b"\xff\xfe"[..]));
        assert_eq!(&copy[NLMSG_HDRLEN + IFADDRMSG_LEN + 4..][..3], b"//\0");
    }
}
