//! The ownership rule knows every applied lab: what another lab made is that lab's, named
//! with its lab and file, never foreign and never to be adopted.

use crate::support::{check, sandbox};

/// A copy of an example under another name, applied while the original is applied: refused
/// (exit 3, with or without --adopt) naming the owning lab and its file, nothing changed;
/// the original stays converged.
pub fn another_labs_objects() -> Result<(), String> {
    let o = sandbox(&format!(
        r#"
cp {root}/examples/mario-luigi.toml /tmp/ml.toml
sed 's/^\[netns.mario\]/name = "copy"\n[netns.mario]/' /tmp/ml.toml >/tmp/copy.toml
$NSCTL apply /tmp/ml.toml >/dev/null || exit 1
$NSCTL apply /tmp/copy.toml; echo "rc=$?"
$NSCTL apply --adopt /tmp/copy.toml 2>/dev/null; echo "adopt rc=$?"
$NSCTL apply --dry-run /tmp/copy.toml 2>/dev/null; echo "dry rc=$?"
$NSCTL status /tmp/ml.toml >/dev/null; echo "status rc=$?"
ls /run/nsctl/labs | grep -c json
$NSCTL destroy /tmp/ml.toml >/dev/null
$NSCTL apply /tmp/copy.toml >/dev/null; echo "after rc=$?"
$NSCTL destroy /tmp/copy.toml >/dev/null
"#,
        root = crate::support::root_dir().display()
    ));
    check(
        &o,
        "rc=3\nadopt rc=3\ndry rc=3\nstatus rc=0\n1\nafter rc=0\n",
        "another lab's objects",
    )?;
    let want = "apply /tmp/copy.toml: refusing: netns \"luigi\", netns \"mario\" belong to lab ml, applied from /tmp/ml.toml: destroy that lab first (nsctl destroy --lab ml) or rename them in this file. Nothing was changed.\n";
    if o.stderr != want {
        return Err(format!("wanted stderr:\n{want}got:\n{}", o.stderr));
    }
    Ok(())
}
