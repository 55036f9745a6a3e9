//! `ip netns delete NAME` and `ip -all netns delete`.

use crate::ctx::Ctx;
use crate::error::Ret;
use crate::netns::lifecycle::{remove, remove_all};
use crate::netns::{run_path, sys::Real};
use crate::output::err;

pub fn delete(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    if ctx.opts.all {
        // The NAME argument, if any, is ignored: -all means every name.
        return remove_all(&mut Real);
    }
    let Some(name) = args.first() else {
        err(b"No netns name specified\n");
        return Ok(-1);
    };
    Ok(remove(&mut Real, &run_path(name)))
}
