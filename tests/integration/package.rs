//! The Debian package as installed (issue 24, item 13): `pkg/check-deb.sh` inside the
//! sandbox checks what the package put on the machine (files, `man nsctl`, TAB in a login
//! bash, zsh's and fish's completion, /usr/bin/nsctl at work). `.ci/run` builds and installs
//! the package before `cargo test`, so under CI=true a missing package fails; elsewhere the
//! case says in one line that it skipped.

use crate::support::{root_dir, sandbox_env};

/// check-deb.sh's exit code when the nsctl package is not installed.
const NOT_INSTALLED: i32 = 77;

pub fn installed_package_works() -> Result<(), String> {
    let script = root_dir().join("pkg/check-deb.sh");
    let script = script.to_str().ok_or("the checkout's path is not UTF-8")?;
    let o = sandbox_env(r#"bash "$CHECK""#, &[("CHECK", script)]);
    if o.rc == NOT_INSTALLED {
        let ci = std::env::var("CI").map(|v| v == "true").unwrap_or(false);
        let how = "bash pkg/build-deb.sh && apt-get install ./target/debian/nsctl_*.deb";
        if ci {
            return Err(format!(
                "the nsctl package is not installed and CI=true ({how})"
            ));
        }
        println!("package_installed_works: SKIPPED: the nsctl package is not installed ({how})");
        return Ok(());
    }
    o.expect_rc(0, "pkg/check-deb.sh")?;
    if !o
        .stdout
        .contains("check-deb: the installed package works\n")
    {
        return Err(format!("pkg/check-deb.sh did not finish:\n{}", o.stdout));
    }
    Ok(())
}
