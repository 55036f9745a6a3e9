//! `nsctl man` and `nsctl completions SHELL`: nsctl describing itself, from the command
//! tree. Their arguments are parsed by clap (ip has no such verbs).

use crate::error::Ret;
use crate::output::{err, out};

/// Run a meta verb with the words after it.
pub fn run(verb: &str, args: &[Vec<u8>]) -> Ret {
    use std::os::unix::ffi::OsStringExt;
    let Some(cmd) = crate::tree::get().find_subcommand(verb) else {
        return Ok(-2);
    };
    let argv = std::iter::once(std::ffi::OsString::from(format!("nsctl {verb}")))
        .chain(args.iter().map(|a| std::ffi::OsString::from_vec(a.clone())));
    let m = match cmd.clone().try_get_matches_from(argv) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return Ok(if e.use_stderr() { -2 } else { 0 });
        }
    };
    match verb {
        "man" => out(&crate::manual::render()),
        _ => {
            let shell = m
                .get_one::<String>("SHELL")
                .map(String::as_str)
                .unwrap_or("");
            match crate::completions::script(shell) {
                Some(s) => out(&s),
                None => {
                    err(format!("nsctl completions: no script for {shell}\n").as_bytes());
                    return Ok(-2);
                }
            }
        }
    }
    Ok(0)
}
