//! `ip netns add NAME` and `ip netns attach NAME PID`.

use crate::ctx::Ctx;
use crate::error::Ret;
use crate::netns::lifecycle::{create, Source};
use crate::netns::{is_valid_name, sys::Real};
use crate::output::{bytes, err};
use crate::parse::get_s32;

/// With `-all`, 6.1 skips the name check and so would create and mount whatever path the
/// name spells (`-all add ../../x`). nsctl checks names here regardless.
fn check(name: &[u8]) -> Result<(), crate::error::Exit> {
    if is_valid_name(name) {
        Ok(())
    } else {
        crate::commands::invalid_name(name).map(drop)
    }
}

/// `ip netns add NAME`: extra arguments are ignored.
pub fn add(_ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let Some(name) = args.first() else {
        err(b"No netns name specified\n");
        return Ok(-1);
    };
    check(name)?;
    create(&mut Real, name, Source::New)
}

/// `ip netns attach NAME PID`.
pub fn attach(_ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    if args.len() < 2 {
        err(b"No netns name and PID specified\n");
        return Ok(-1);
    }
    let pid = match get_s32(&args[1]) {
        Some(p) if p != 0 => p,
        _ => {
            err(&bytes(&[b"Invalid PID: ", &args[1], b"\n"]));
            return Ok(-1);
        }
    };
    check(&args[0])?;
    create(&mut Real, &args[0], Source::Pid(pid))
}
