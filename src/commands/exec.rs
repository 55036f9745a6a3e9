//! `ip netns exec NAME CMD...` and `ip -all netns exec CMD...`.
//!
//! A single exec replaces nsctl itself (no fork): the pid, signals, stdin and exit status are
//! the command's own. No async runtime exists on this path. Inside a batch, and for `-all`,
//! each command runs in a forked child, as in ip.

use std::ffi::CString;

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

use crate::ctx::Ctx;
use crate::error::{errstr, Exit, Ret};
use crate::netns::switch::switch_for_exec;
use crate::output::{bytes, err, flush, out};

/// `execvp` with glibc's PATH search and ENOEXEC fallback; returns only on failure.
fn execvp(argv: &[Vec<u8>]) -> ! {
    let cargs: Vec<CString> = argv
        .iter()
        .map(|a| CString::new(a.clone()).expect("argv words contain no NUL"))
        .collect();
    let e = nix::unistd::execvp(&cargs[0], &cargs).unwrap_err();
    crate::output::err_errno(&[b"exec of \"", &argv[0], b"\" failed: "], e);
    // SAFETY: _exit ends the process at once, skipping destructors and atexit handlers,
    // exactly as ip's `_exit(1)` (a forked child must not flush the parent's state).
    unsafe { libc::_exit(1) }
}

/// ip's `cmd_exec`: returns the child's exit status when forking, else never returns
/// unless the namespace switch failed (then -1).
fn cmd_exec(name: &[u8], argv: &[Vec<u8>], do_fork: bool) -> Result<i32, Exit> {
    flush();
    if do_fork {
        // SAFETY: nsctl is single-threaded here (the tokio runtime is current-thread and
        // runs only inside block_on), so the child may run arbitrary code after fork.
        match unsafe { fork() } {
            Err(e) => {
                err(format!("fork: {}\n", errstr(e)).as_bytes());
                return Err(Exit(1));
            }
            Ok(ForkResult::Parent { child }) => {
                return match waitpid(child, None) {
                    Ok(WaitStatus::Exited(_, code)) => Ok(code),
                    Ok(_) => Err(Exit(1)),
                    Err(e) => {
                        err(format!("waitpid: {}\n", errstr(e)).as_bytes());
                        Err(Exit(1))
                    }
                };
            }
            Ok(ForkResult::Child) => {
                // 6.1 let a child whose setup failed return into the caller's loop, so the
                // remaining namespaces (or batch lines) ran twice; 6.9 exits, and so do we.
                if switch_for_exec(name).is_err() {
                    // SAFETY: see execvp above.
                    unsafe { libc::_exit(1) }
                }
                execvp(argv)
            }
        }
    }
    if switch_for_exec(name).is_err() {
        return Ok(-1);
    }
    execvp(argv)
}

pub fn exec(ctx: &mut Ctx, args: &[Vec<u8>]) -> Ret {
    let all = ctx.opts.all;
    if args.is_empty() && !all {
        err(b"No netns name specified\n");
        return Ok(-1);
    }
    if (args.len() < 2 && !all) || (args.is_empty() && all) {
        err(b"No command specified\n");
        return Ok(-1);
    }
    if all {
        let Ok(names) = crate::netns::run_dir_for_all() else {
            return Ok(-1);
        };
        for name in names {
            out(&bytes(&[b"\nnetns: ", &name, b"\n"]));
            cmd_exec(&name, args, true)?;
        }
        return Ok(0);
    }
    // ip negates cmd_exec's status so that do_cmd's own negation cancels it.
    let status = cmd_exec(&args[0], &args[1..], ctx.batch)?;
    Ok(-status)
}
