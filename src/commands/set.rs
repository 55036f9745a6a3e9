//! `ip netns set NAME NETNSID`: assign the peer id this netns uses for NAME.

use std::os::fd::AsRawFd;

use crate::ctx::{Ctx, Sock};
use crate::error::{Exit, Ret};
use crate::output::{bytes, err};
use crate::parse::get_integer;

pub fn set(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let Some(name) = args.first() else {
        err(b"No netns name specified\n");
        return Ok(-1);
    };
    let Some(value) = args.get(1) else {
        err(b"No nsid specified\n");
        return Ok(-1);
    };
    let id = if value == b"auto" {
        -1
    } else {
        match get_integer(value) {
            None => {
                err(&bytes(&[
                    b"Error: argument \"",
                    value,
                    b"\" is wrong: Invalid \"netnsid\" value\n",
                ]));
                return Err(Exit(255));
            }
            Some(n) if n < 0 => {
                err(&bytes(&[
                    b"Error: argument \"",
                    value,
                    b"\" is wrong: \"netnsid\" value should be >= 0\n",
                ]));
                return Err(Exit(255));
            }
            Some(n) => n,
        }
    };
    let path = crate::netns::run_path(name);
    let file = match crate::netns::open_ns_file(&path, false) {
        Ok(f) => f,
        Err(e) => {
            let e = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0));
            crate::output::err_errno(&[b"Cannot open network namespace \"", name, b"\": "], e);
            return Ok(-1);
        }
    };
    let (nl, sock) = ctx.sock(Sock::Main)?;
    match crate::nl::nsid::assign(nl, sock, file.as_raw_fd(), id) {
        Ok(()) => Ok(0),
        Err(e) => {
            e.print();
            Ok(-2)
        }
    }
}
