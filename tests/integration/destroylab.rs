//! `nsctl destroy` told what to destroy (issue 24, item 7): a lab name that is not applied is
//! a mistake said as such (exit 2, with the applied labs), no argument at all names `--lab`,
//! and a lab with nothing to remove needs no tool to remove it (nft for NAT).

use crate::support::{check, root_dir, sandbox};

/// The words a user sees, compared exactly, and what stays: nothing is removed by a
/// mistyped name, and a NAT lab never applied is "nothing to do" (exit 0) without nft, while
/// one that is applied still needs nft to remove its table (exit 4, a missing tool: nothing is
/// removed, the table is kept).
pub fn destroy_says_which_lab() -> Result<(), String> {
    let root = root_dir();
    let o = sandbox(&format!(
        r#"
cd {root}
$NSCTL destroy 2>&1; echo "no argument rc=$?"
$NSCTL destroy --lab mario-luigi 2>&1; echo "none applied rc=$?"
$NSCTL apply examples/mario-luigi.toml >/dev/null || exit 1
$NSCTL destroy --lab mario-luigj 2>&1; echo "typo rc=$?"
$NSCTL destroy --dry-run --lab mario-luigj 2>&1; echo "typo dry rc=$?"
ls /run/netns | tr '\n' ' '; echo
mkdir /tmp/nonft
PATH=/tmp/nonft $NSCTL destroy examples/abc-nat.toml 2>&1 | sed 's/ in .*//'; echo "never applied, no nft rc=${{PIPESTATUS[0]}}"
PATH=/tmp/nonft $NSCTL destroy --dry-run examples/abc-nat.toml 2>&1 | sed 's/ in .*//'; echo "dry, no nft rc=${{PIPESTATUS[0]}}"
$NSCTL apply examples/abc-nat.toml >/dev/null || exit 1
PATH=/tmp/nonft $NSCTL destroy examples/abc-nat.toml 2>&1; echo "applied, no nft rc=$?"
nft list tables
$NSCTL destroy --lab abc | sed 's/ in .*//'
$NSCTL destroy --lab mario-luigi | sed 's/ in .*//'
nft list tables; ls /run/netns
"#,
        root = root.display()
    ));
    check(
        &o,
        "destroy: which lab? give the lab file, or --lab NAME for a lab applied without its file (nsctl status lists the applied labs)\n\
         no argument rc=2\n\
         destroy --lab mario-luigi: no lab of that name is applied on this machine (no lab is applied). Nothing was changed.\n\
         none applied rc=2\n\
         destroy --lab mario-luigj: no lab of that name is applied on this machine (the applied labs are mario-luigi). Nothing was changed.\n\
         typo rc=2\n\
         destroy --lab mario-luigj: no lab of that name is applied on this machine (the applied labs are mario-luigi). Nothing was changed.\n\
         typo dry rc=2\n\
         luigi mario \n\
         destroy abc: nothing to do (0 unchanged)\n\
         never applied, no nft rc=0\n\
         destroy abc: nothing to do (0 unchanged)\n\
         dry, no nft rc=0\n\
         destroy abc: the lab's NAT table is removed with nft, and nft is not installed; install nftables (apt-get install nftables) and run destroy again. Nothing was removed.\n\
         applied, no nft rc=4\n\
         table ip nsctl-abc\n\
         destroy abc: 7 removed, 0 failed\n\
         destroy mario-luigi: 2 removed, 0 failed\n",
        "destroy says which lab",
    )?;
    println!("  destroy --lab with a name not applied: exit 2 and the applied labs; no nft needed for nothing");
    Ok(())
}
