//! `ip link show`, `ip addr show` and `ip route show`: plain, `-br` and `-j`, with iproute2
//! 6.1's bytes for every field nsctl prints (the default view: no -details, no -stats).
//! One file per object; this one holds what they share.

mod addr;
mod link;
mod neigh;
mod route;
mod stats;

pub use addr::addrs;
pub use link::links;
pub use neigh::neighbours;
pub use route::{get as route_get, routes};

use crate::error::Exit;
use crate::output::{bytes, err};
use link::{LinkInfo, Links};

/// What `show` takes from one link message (whole, header included), as flag words and
/// hex addresses: the decoding that the fuzz targets feed with arbitrary bytes.
pub(crate) fn decode_link(msg: &[u8]) -> Vec<u8> {
    let Some(i) = link::info_bytes(msg) else {
        return Vec::new();
    };
    let mut t = Text::default();
    t += &i.name;
    t += &format!(
        " {} {} {}",
        link::flags_text(i.flags, false),
        link::ll_type(i.ll_type),
        i.address.as_deref().map(link::hex_addr).unwrap_or_default()
    );
    t.0
}

/// Output being built: names are bytes (an interface name need not be UTF-8), the rest is
/// formatted text. `t += x` appends anything that is bytes.
#[derive(Default)]
pub(super) struct Text(pub(super) Vec<u8>);

impl<T: AsRef<[u8]>> std::ops::AddAssign<T> for Text {
    fn add_assign(&mut self, more: T) {
        self.0.extend_from_slice(more.as_ref());
    }
}

/// `write!(t, ...)` formats straight into the output, with no String in between.
impl std::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl Text {
    /// `%-16s`: the name, padded with spaces to 16 bytes (ip counts bytes, not characters).
    pub(super) fn padded(&mut self, name: &[u8]) {
        *self += name;
        for _ in name.len()..16 {
            self.0.push(b' ');
        }
    }
}

/// The view a link is printed for: `ip link` prints the link mode and alias, `ip addr` not.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    Link,
    Addr,
}

/// `[dev] NAME` of a show command; anything else is refused with ip's duparg2 wording.
fn show_filter(args: &[Vec<u8>]) -> Result<Option<Vec<u8>>, Exit> {
    let mut dev = None;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_slice();
        let v = if w == b"dev" {
            crate::wiring::next(args, &mut i)?
        } else {
            w
        };
        if dev.is_some() {
            return Err(crate::wiring::duparg2("dev", v));
        }
        dev = Some(v.to_vec());
        i += 1;
    }
    Ok(dev)
}

fn selected(links: &Links, dev: &Option<Vec<u8>>) -> Result<Vec<LinkInfo>, Exit> {
    match dev {
        None => Ok(links.all.clone()),
        Some(d) => match links
            .all
            .iter()
            .find(|l| l.name == *d || l.altnames.iter().any(|a| a == d))
        {
            Some(l) => Ok(vec![l.clone()]),
            None => {
                err(&bytes(&[b"Device \"", d, b"\" does not exist.\n"]));
                Err(Exit(1))
            }
        },
    }
}

/// The end of a show: the JSON array or the text, flushed; rc 0.
fn finish(json: bool, a: crate::json::Array, text: Text) -> crate::error::Ret {
    if json {
        crate::output::out(&a.finish());
    } else {
        crate::output::out(&text.0);
    }
    crate::output::flush();
    Ok(0)
}

/// A word a show command does not take: one line, exit 255.
fn refuse(cmd: &str, takes: &str, w: &[u8]) -> Exit {
    err(&bytes(&[
        format!("nsctl: {cmd} takes {takes}, not \"").as_bytes(),
        w,
        b"\"\n",
    ]));
    Exit(255)
}

/// The ifindex a `dev NAME` filter names: Ok(None) without one, Err(ip's return value)
/// after `Cannot find device "NAME"` when there is no such link.
fn dev_index(links: &Links, dev: &Option<Vec<u8>>) -> Result<Option<u32>, i32> {
    match dev {
        Some(d) => match links.all.iter().find(|l| l.name == *d) {
            Some(l) => Ok(Some(l.index)),
            None => Err(crate::wiring::nodev(d).unwrap_or(-1)),
        },
        None => Ok(None),
    }
}

fn scope_name(s: u8) -> String {
    match s {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => n.to_string(),
    }
}
