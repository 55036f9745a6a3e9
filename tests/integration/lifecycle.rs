//! add / delete / attach against the real kernel, inside sandboxes.

use crate::support::sandbox;

/// A namespace exists when the kernel says so: an nsfs mount with its own inode, usable by
/// the real `ip netns exec`, and gone after delete.
pub fn add_makes_a_real_namespace() -> Result<(), String> {
    let o = sandbox(
        r#"
set -e
$NSCTL add mario
[ "$(stat -f -c %T /run/netns/mario)" = nsfs ] || { echo "not nsfs"; exit 1; }
[ "$(stat -L -c %i /run/netns/mario)" != "$(stat -L -c %i /proc/self/ns/net)" ] || { echo "same netns"; exit 1; }
[ "$(stat -c %a /run/netns)" = 755 ] || { echo "dir mode"; exit 1; }
ip netns exec mario ip -o link show | awk -F': ' '{print $2}'
awk '$5 ~ "^/run/netns" {print $5, $9}' /proc/self/mountinfo
$NSCTL list
$NSCTL delete mario
[ ! -e /run/netns/mario ] || { echo "file left"; exit 1; }
awk '$5 == "/run/netns/mario" {print "mount left"}' /proc/self/mountinfo
"#,
    );
    o.expect_rc(0, "add/delete")?;
    let want = "lo\n/run/netns tmpfs\n/run/netns/mario nsfs\nmario\n";
    if o.stdout != want {
        return Err(format!("wanted:\n{want}got:\n{}{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// 8 jobs x 50 names, from no /run/netns at all: every add and delete succeeds, and the
/// mount table holds one /run/netns bind plus one mount per live name.
pub fn parallel_add_delete() -> Result<(), String> {
    let o = sandbox(
        r#"
[ ! -e /run/netns ] || { echo "dir exists at start"; exit 1; }
fails=0
for j in 1 2 3 4 5 6 7 8; do
  ( for i in $(seq 1 50); do $NSCTL add p$j-$i || echo "add p$j-$i failed"; done ) &
done
wait
echo "names=$(ls /run/netns | wc -l)"
echo "binds=$(awk '$5 == "/run/netns"' /proc/self/mountinfo | wc -l)"
echo "nsfs=$(awk '$5 ~ "^/run/netns/" && $9 == "nsfs"' /proc/self/mountinfo | wc -l)"
for j in 1 2 3 4 5 6 7 8; do
  ( for i in $(seq 1 50); do $NSCTL delete p$j-$i || echo "delete p$j-$i failed"; done ) &
done
wait
echo "after=$(ls -A /run/netns | wc -l)"
echo "binds=$(awk '$5 == "/run/netns"' /proc/self/mountinfo | wc -l)"
echo "nsfs=$(awk '$5 ~ "^/run/netns/"' /proc/self/mountinfo | wc -l)"
"#,
    );
    o.expect_rc(0, "parallel")?;
    let want = "names=400\nbinds=1\nnsfs=400\nafter=0\nbinds=1\nnsfs=0\n";
    if o.stdout != want || !o.stderr.is_empty() {
        return Err(format!(
            "wanted:\n{want}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    println!("  parallel: 8 jobs x 50 adds and deletes, all succeeded; 1 /run/netns bind, 400 nsfs mounts at peak");
    Ok(())
}

/// A non-root user gets iproute2's exact error, and nothing is created.
pub fn non_root() -> Result<(), String> {
    let o = sandbox(
        r#"
chmod 755 /run  # as on a real host; the sandbox tmpfs starts 1777
NR="setpriv --reuid=65534 --regid=65534 --clear-groups"
a=$($NR $NSCTL add nr1 2>&1); echo "nodir rc=$? $a"
[ ! -e /run/netns ] && echo "nodir: nothing created"
b=$($NR ip netns add nr1 2>&1); echo "nodir ip rc=$? $b"
$NSCTL add ns1
a=$($NR $NSCTL add nr1 2>&1); echo "dir rc=$? $a"
b=$($NR ip netns add nr1 2>&1); echo "dir ip rc=$? $b"
[ ! -e /run/netns/nr1 ] && echo "dir: nothing created"
a=$($NR $NSCTL delete ns1 2>&1); echo "del rc=$? $a"
a=$($NR $NSCTL exec ns1 true 2>&1); echo "exec rc=$? $a"
a=$($NR $NSCTL set ns1 3 2>&1); echo "set rc=$? $a"
ls /run/netns
"#,
    );
    o.expect_rc(0, "non-root")?;
    let want = "nodir rc=1 mkdir /run/netns failed: Permission denied\n\
nodir: nothing created\n\
nodir ip rc=1 mkdir /run/netns failed: Permission denied\n\
dir rc=1 mount --make-shared /run/netns failed: Operation not permitted\n\
dir ip rc=1 mount --make-shared /run/netns failed: Operation not permitted\n\
dir: nothing created\n\
del rc=1 Cannot remove namespace file \"/run/netns/ns1\": Permission denied\n\
exec rc=255 setting the network namespace \"ns1\" failed: Operation not permitted\n\
set rc=2 RTNETLINK answers: Operation not permitted\n\
ns1\n";
    if o.stdout != want {
        return Err(format!("wanted:\n{want}got:\n{}{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// No name, symlink or leftover file makes nsctl write or mount outside /run/netns.
pub fn path_safety() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ok1 || exit 1
ln -s /tmp/victim /run/netns/evil
$NSCTL add evil; echo "symlink rc=$?"
[ -e /tmp/victim ] && echo "VICTIM CREATED"
touch /run/netns/plain
$NSCTL add plain; echo "plain rc=$?"
[ "$(stat -c %F /run/netns/plain)" = "regular empty file" ] && echo "plain untouched"
$NSCTL -all add ../../tmp/x; echo "all-add rc=$?"
[ -e /tmp/x ] && echo "ESCAPED"
$NSCTL attach ../../tmp/y 1; echo "attach rc=$?"
[ -e /tmp/y ] && echo "ESCAPED"
mkdir /tmp/m && mount -n -t tmpfs t /tmp/m && ln -s /tmp/m /run/netns/lnk
$NSCTL delete lnk; echo "delete-link rc=$?"
mountpoint -q /tmp/m && echo "target still mounted"
[ -L /run/netns/lnk ] || echo "link removed"
"#,
    );
    o.expect_rc(0, "path safety")?;
    let want = "symlink rc=1\nplain rc=1\nplain untouched\nall-add rc=255\nattach rc=255\n\
delete-link rc=0\ntarget still mounted\nlink removed\n";
    let errs = "Cannot create namespace file \"/run/netns/evil\": File exists\n\
Cannot create namespace file \"/run/netns/plain\": File exists\n\
Invalid netns name \"../../tmp/x\"\nInvalid netns name \"../../tmp/y\"\n";
    if o.stdout != want || o.stderr != errs {
        return Err(format!(
            "wanted:\n{want}{errs}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    // /run/netns itself replaced by a symlink: refused, nothing mounted at the target.
    let o = sandbox(
        r#"
mkdir /tmp/elsewhere && ln -s /tmp/elsewhere /run/netns
$NSCTL add x; echo "rc=$?"
ls -A /tmp/elsewhere
awk '$5 ~ "^/tmp/elsewhere" {print "MOUNTED", $5}' /proc/self/mountinfo
"#,
    );
    if o.stdout != "rc=1\n"
        || !o
            .stderr
            .starts_with("Cannot open netns runtime directory \"/run/netns\": ")
    {
        return Err(format!("symlinked /run/netns:\n{}{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// `nsctl -n X add Y` makes a real Y (6.1 leaves a mode-000 ghost file).
pub fn n_add_no_ghost() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add outer && $NSCTL -n outer add inner || exit 1
stat -f -c %T /run/netns/inner
$NSCTL exec inner true; echo "exec rc=$?"
ip netns exec inner true; echo "ip exec rc=$?"
$NSCTL list
"#,
    );
    o.expect_rc(0, "-n add")?;
    let want = "nsfs\nexec rc=0\nip exec rc=0\ninner\nouter\n";
    if o.stdout != want || !o.stderr.is_empty() {
        return Err(format!("wanted:\n{want}got:\n{}{}", o.stdout, o.stderr));
    }
    Ok(())
}

/// A /run/netns that is a symlink is not followed by delete, -all delete or add (ip follows
/// it and deletes the file in the link's target).
pub fn symlinked_run_dir() -> Result<(), String> {
    let o = crate::support::sandbox(
        r#"
mkdir -p /tmp/t && touch /tmp/t/victim
ln -s /tmp/t /run/netns
$NSCTL delete victim; echo "rc=$?"
$NSCTL -all delete; echo "rc=$?"
$NSCTL add y; echo "rc=$?"
ls /tmp/t
"#,
    );
    crate::support::check(&o, "rc=1\nrc=1\nrc=1\nvictim\n", "symlinked /run/netns")?;
    let want =
        "Cannot remove namespace file \"/run/netns/victim\": Too many levels of symbolic links\n\
                Failed to open directory /run/netns: Too many levels of symbolic links\n\
                Cannot open netns runtime directory \"/run/netns\": Not a directory\n";
    if o.stderr != want {
        return Err(format!("wanted stderr:\n{want}got:\n{}", o.stderr));
    }
    Ok(())
}

/// A FIFO planted in /run/netns hangs nothing: every verb that opens a namespace file answers
/// at once, exactly as ip answers for a plain file that holds no namespace (ip itself blocks
/// for ever on the FIFO). The lab verbs return too.
pub fn fifo_in_run_netns() -> Result<(), String> {
    let o = sandbox(
        r#"
mkdir -p /run/netns
for c in "list" "exec bogus true" "pids bogus" "set bogus 9" "identify" "list-id" "-n bogus link" "-n bogus addr" "delete bogus"; do
	rm -f /run/netns/bogus; touch /run/netns/bogus
	ip netns $c >/tmp/o1 2>/tmp/e1; r1=$?
	case $c in -n*) ip $c >/tmp/o1 2>/tmp/e1; r1=$? ;; esac
	rm -f /run/netns/bogus; mkfifo /run/netns/bogus
	timeout 10 $NSCTL $c >/tmp/o2 2>/tmp/e2; r2=$?
	sed -i 's/ip netns /nsctl /' /tmp/e1
	if cmp -s /tmp/o1 /tmp/o2 && cmp -s /tmp/e1 /tmp/e2 && [ $r1 = $r2 ]; then
		echo "same: $c"
	else
		echo "DIFF: $c: ip rc $r1, nsctl rc $r2"; cat /tmp/e1 /tmp/e2
	fi
done
rm -f /run/netns/bogus; mkfifo /run/netns/bogus
printf 'name = "ff"\n[netns.bogus]\n' >/tmp/ff.toml
for v in apply status destroy test; do
	timeout 20 $NSCTL $v /tmp/ff.toml >/dev/null 2>&1; echo "$v rc=$?"
done
"#,
    );
    o.expect_rc(0, "fifo in /run/netns")?;
    if o.stdout.contains("DIFF")
        || o.stdout.contains("rc=124")
        || o.stdout.matches("same: ").count() != 9
    {
        return Err(format!("a FIFO in /run/netns:\n{}{}", o.stdout, o.stderr));
    }
    println!(
        "  9 verbs on a FIFO answer as ip does on a plain file; apply/status/destroy/test return"
    );
    Ok(())
}
