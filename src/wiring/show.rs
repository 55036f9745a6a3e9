//! `ip link show`, `ip addr show` and `ip route show` output (plain, `-br`, `-j`).

use crate::ctx::Ctx;
use crate::error::Ret;

pub fn links(_ctx: &mut Ctx, _args: &[Vec<u8>], _brief: bool) -> Ret {
    Ok(0)
}

pub fn addrs(_ctx: &mut Ctx, _args: &[Vec<u8>]) -> Ret {
    Ok(0)
}

pub fn routes(_ctx: &mut Ctx, _args: &[Vec<u8>]) -> Ret {
    Ok(0)
}
