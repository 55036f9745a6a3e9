//! The hosts files in /etc/netns against what others put there (issue 22, items 5 and 6):
//! a FIFO, a directory, a symlink or a huge file where a hosts file goes is refused at once
//! (no verb blocks on it), a hosts file someone changed after nsctl wrote it is never
//! deleted or written over (destroy and apply keep it and say so), what nsctl makes there
//! has its modes whatever the umask, and a lab taken back after its journal was lost leaves
//! no empty directory behind. Every verb runs under `timeout 20`: a hang shows as rc=124.

use crate::support::{check, sandbox};

/// A two-namespace lab in /tmp/hf.toml, and `run VERB...`: a verb under `timeout 20`, its
/// stdout without timings, `rc=N`, then its stderr.
const PRELUDE: &str = r#"
cat > /tmp/hf.toml <<'T'
name = "hf"
[netns.A]
[netns.B]
[[veth]]
ends = [{ netns = "A", name = "e", addresses = ["10.7.0.1/24"] }, { netns = "B", name = "e", addresses = ["10.7.0.2/24"] }]
T
run() { timeout 20 $NSCTL "$@" > /tmp/out 2> /tmp/err; rc=$?; sed 's/ in [0-9.]*s$//' /tmp/out; echo "rc=$rc"; cat /tmp/err; }
quiet() { timeout 20 $NSCTL "$@" > /tmp/out 2> /tmp/err; echo "$1 rc=$?"; cat /tmp/err; }
etc() { find /etc/netns -printf '%p %y\n' 2>&1 | sort | paste -sd' '; }
left() { echo "netns: $(ls /run/netns 2>/dev/null | wc -l), journals: $(ls /run/nsctl/labs/*.json 2>/dev/null | wc -l)"; }
"#;

fn script(body: &str) -> String {
    format!("{PRELUDE}{body}")
}

/// Item 5: whatever is not a regular file where A's hosts file goes stops apply at once
/// (exit 3, one line) before anything is made; status reports it, also at once.
pub fn odd_files_refused() -> Result<(), String> {
    let o = sandbox(&script(
        r#"
mkdir -p /etc/netns/A; mkfifo /etc/netns/A/hosts
quiet apply /tmp/hf.toml
left; etc
run status /tmp/hf.toml | tail -3
rm /etc/netns/A/hosts; mkdir /etc/netns/A/hosts
quiet apply /tmp/hf.toml
rmdir /etc/netns/A/hosts; ln -s /etc/passwd /etc/netns/A/hosts
quiet apply /tmp/hf.toml
rm /etc/netns/A/hosts; truncate -s 1G /etc/netns/A/hosts
quiet apply /tmp/hf.toml
left; etc
"#,
    ));
    let tail = "(nsctl exec would show it as /etc/hosts in A); remove it, or set etc_hosts = false in the lab file. Nothing was changed.";
    let want = format!(
        "apply rc=3\n\
apply /tmp/hf.toml: refusing: /etc/netns/A/hosts is a FIFO, not a file nsctl wrote {tail}\n\
netns: 0, journals: 0\n\
/etc/netns d /etc/netns/A d /etc/netns/A/hosts p\n\
in the way: /etc/netns/A/hosts is a FIFO, not a file nsctl wrote (nsctl exec would show it as /etc/hosts in A); remove it, or set etc_hosts = false in the lab file\n\
status hf: not converged: 9 to do, 1 in the way (0 unchanged)\n\
rc=1\n\
apply rc=3\n\
apply /tmp/hf.toml: refusing: /etc/netns/A/hosts is a directory, not a file nsctl wrote {tail}\n\
apply rc=3\n\
apply /tmp/hf.toml: refusing: /etc/netns/A/hosts is a symbolic link, not a file nsctl wrote {tail}\n\
apply rc=3\n\
apply /tmp/hf.toml: refusing: /etc/netns/A/hosts exists and nsctl did not write it {tail}\n\
netns: 0, journals: 0\n\
/etc/netns d /etc/netns/A d /etc/netns/A/hosts f\n"
    );
    check(&o, &want, "odd files")?;
    println!("  a FIFO, a directory, a symlink or a huge file at a hosts file: refused at once");
    Ok(())
}

/// Item 5: a FIFO planted over a hosts file after apply: status and destroy return at once;
/// destroy removes the rest of the lab and keeps the FIFO, saying so.
pub fn fifo_after_apply() -> Result<(), String> {
    let o = sandbox(&script(
        r#"
quiet apply /tmp/hf.toml
rm /etc/netns/A/hosts; mkfifo /etc/netns/A/hosts
run status /tmp/hf.toml
quiet destroy /tmp/hf.toml
left; etc
"#,
    ));
    let want = "apply rc=0\n\
in the way: /etc/netns/A/hosts is a FIFO, not a file nsctl wrote (nsctl exec would show it as /etc/hosts in A); remove it, or set etc_hosts = false in the lab file\n\
status hf: not converged: 0 to do, 1 in the way (9 unchanged)\n\
rc=1\n\
destroy rc=0\n\
destroy hf: kept /etc/netns/A/hosts: it is a FIFO, not a file nsctl wrote, so it is not nsctl's to delete (nor its directory); nsctl forgets it: remove it by hand if nothing needs it\n\
netns: 0, journals: 0\n\
/etc/netns d /etc/netns/A d /etc/netns/A/hosts p\n";
    check(&o, want, "fifo after apply")?;
    println!("  a FIFO planted after apply: status and destroy return, the FIFO stays");
    Ok(())
}

/// Item 6: destroy removes a hosts file (and the directories nsctl made) only while it is
/// what nsctl wrote; one changed since stays with its directory, said in one line, and the
/// run succeeds. The same without the lab file (`destroy --lab`).
pub fn changed_file_kept_by_destroy() -> Result<(), String> {
    let o = sandbox(&script(
        r#"
quiet apply /tmp/hf.toml
run destroy /tmp/hf.toml
left; etc
quiet apply /tmp/hf.toml
echo admin > /etc/netns/A/hosts
rm /tmp/hf.toml
run destroy --lab hf
left; etc; cat /etc/netns/A/hosts
"#,
    ));
    let want = "apply rc=0\n\
destroy hf: 2 removed, 0 failed\n\
rc=0\n\
netns: 0, journals: 0\n\
find: '/etc/netns': No such file or directory\n\
apply rc=0\n\
destroy hf: 2 removed, 0 failed\n\
rc=0\n\
destroy hf: kept /etc/netns/A/hosts: it was changed since nsctl wrote it, so it is not nsctl's to delete (nor its directory); nsctl forgets it: remove it by hand if nothing needs it\n\
netns: 0, journals: 0\n\
/etc/netns d /etc/netns/A d /etc/netns/A/hosts f\n\
admin\n";
    check(&o, want, "changed file kept by destroy")?;
    println!("  destroy removes an unchanged hosts file and keeps a changed one");
    Ok(())
}

/// Item 6, apply: a hosts file the lab still wants, changed by hand, stops apply (exit 3)
/// and is not written over; one that leaves the lab (its namespace left the file) is kept
/// if changed, said so, and forgotten (destroy then leaves it alone without a word).
pub fn changed_file_kept_by_apply() -> Result<(), String> {
    let o = sandbox(&script(
        r#"
quiet apply /tmp/hf.toml
echo "10.9.9.9	mine" >> /etc/netns/B/hosts
quiet apply /tmp/hf.toml
grep -c mine /etc/netns/B/hosts
sed -i '/mine/d' /etc/netns/B/hosts
run apply /tmp/hf.toml
echo "10.9.9.9	mine" >> /etc/netns/B/hosts
printf 'name = "hf"\n[netns.A]\n' > /tmp/a.toml
run apply /tmp/a.toml
grep -c '"B"' /run/nsctl/labs/hf.json; grep -c mine /etc/netns/B/hosts
run destroy /tmp/a.toml
left; etc
"#,
    ));
    let want = "apply rc=0\n\
apply rc=3\n\
apply /tmp/hf.toml: refusing: /etc/netns/B/hosts was changed since nsctl wrote it (nsctl exec would show it as /etc/hosts in B); remove it, or set etc_hosts = false in the lab file. Nothing was changed.\n\
1\n\
apply hf: nothing to do (9 unchanged)\n\
rc=0\n\
apply hf: 0 created, 1 changed, 2 removed, 2 unchanged, 0 failed\n\
rc=0\n\
apply hf: kept /etc/netns/B/hosts: it was changed since nsctl wrote it, so it is not nsctl's to delete (nor its directory); nsctl forgets it: remove it by hand if nothing needs it\n\
0\n\
1\n\
destroy hf: 1 removed, 0 failed\n\
rc=0\n\
netns: 0, journals: 0\n\
/etc/netns d /etc/netns/B d /etc/netns/B/hosts f\n";
    check(&o, want, "changed file kept by apply")?;
    println!("  apply never writes over nor deletes a hosts file changed by hand");
    Ok(())
}

/// What nsctl makes in /etc/netns has its modes under umask 077 (0700 directories and a 0600
/// file would hide the names from the namespace's unprivileged processes); a lab taken back
/// after its journal was lost (a reboot empties /run, not /etc) is destroyed whole, with the
/// directories.
pub fn modes_and_lost_journal() -> Result<(), String> {
    let o = sandbox(&script(
        r#"
(umask 077; quiet apply /tmp/hf.toml)
stat -c '%a %n' /etc/netns /etc/netns/A /etc/netns/A/hosts /etc/netns/B/hosts
ip netns exec A setpriv --reuid 65534 --regid 65534 --clear-groups getent hosts B
echo "-- the journal lost"
ip netns del A; ip netns del B; rm /run/nsctl/labs/hf.json
quiet apply /tmp/hf.toml
quiet destroy /tmp/hf.toml
left; etc
"#,
    ));
    let want = "apply rc=0\n\
755 /etc/netns\n\
755 /etc/netns/A\n\
644 /etc/netns/A/hosts\n\
644 /etc/netns/B/hosts\n\
10.7.0.2        B\n\
-- the journal lost\n\
apply rc=0\n\
destroy rc=0\n\
netns: 0, journals: 0\n\
find: '/etc/netns': No such file or directory\n";
    check(&o, want, "modes and lost journal")?;
    println!("  /etc/netns modes hold under umask 077; a lost journal leaves no directory");
    Ok(())
}
