//! exec, batch and interoperation with the real `ip netns`, inside sandboxes.

use crate::support::{check, sandbox};

/// Names made by `ip netns add` work with nsctl, and the other way round.
pub fn interop_with_ip() -> Result<(), String> {
    let o = sandbox(
        r#"
ip netns add byip && $NSCTL add bynsctl || exit 1
$NSCTL exec byip ip netns identify
ip netns exec bynsctl $NSCTL identify
[ "$(ip netns list)" = "$($NSCTL list)" ] && echo "same list"
$NSCTL set byip 5 && ip netns list-id
ip netns delete bynsctl && $NSCTL delete byip && ls -A /run/netns | wc -l
"#,
    );
    check(
        &o,
        "byip\nbynsctl\nsame list\nnsid 5 (iproute2 netns name: byip)\n0\n",
        "interop",
    )
}

/// exec replaces nsctl: the command has nsctl's pid, `pids` and `ip netns identify` see it.
pub fn exec_is_the_command() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ns1 || exit 1
$NSCTL exec ns1 sh -c 'echo $$ > /tmp/inner.tmp; mv /tmp/inner.tmp /tmp/inner; exec sleep 5' & p=$!
for i in $(seq 100); do [ -e /tmp/inner ] && break; sleep 0.05; done
sleep 0.1
[ "$(cat /tmp/inner)" = "$p" ] && echo "same pid"
$NSCTL pids ns1 | grep -qx "$p" && echo "pids sees it"
[ "$(ip netns identify $p)" = ns1 ] && echo "ip identifies it"
kill $p; wait $p
$NSCTL exec ns1 sh -c 'exit 42'; echo "rc=$?"
"#,
    );
    check(
        &o,
        "same pid\npids sees it\nip identifies it\nrc=42\n",
        "exec pid",
    )
}

/// A signal sent to nsctl's pid reaches the command, because it is the command.
pub fn signal_reaches_command() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ns1 || exit 1
$NSCTL exec ns1 sh -c 'trap "echo got-term; exit 7" TERM; echo ready; : > /tmp/ready; while :; do sleep 0.05; done' & p=$!
for i in $(seq 100); do [ -e /tmp/ready ] && break; sleep 0.05; done
kill -TERM $p; wait $p; echo "rc=$?"
"#,
    );
    check(&o, "ready\ngot-term\nrc=7\n", "signal")
}

pub fn heredoc_stdin() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ns1 || exit 1
$NSCTL exec ns1 sh -c 'read a; read b; echo "$b $a"' <<EOF
first
second
EOF
"#,
    );
    check(&o, "second first\n", "heredoc")
}

/// /etc/netns/NAME/resolv.conf is seen inside exec and not outside.
pub fn etc_netns_inside_only() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL add ns1 || exit 1
[ -e /etc/resolv.conf ] || : > /etc/resolv.conf
mkdir -p /etc/netns/ns1 && echo 'nameserver 192.0.2.53' > /etc/netns/ns1/resolv.conf
$NSCTL exec ns1 cat /etc/resolv.conf
grep -c 192.0.2.53 /etc/resolv.conf
$NSCTL exec ns1 ls /sys/class/net
"#,
    );
    // grep -c prints 0 (and exits 1) outside; the script's rc is that of the last ls.
    check(&o, "nameserver 192.0.2.53\n0\nlo\n", "etc/netns")
}

/// One batch adds many names, assigns ids, lists, and `-all delete` clears them.
pub fn batch_many_lines() -> Result<(), String> {
    let o = sandbox(
        r#"
for i in $(seq 1 200); do echo "add b$i"; done > /tmp/adds
echo "netns set b1 5   # ip's batch format works too" >> /tmp/adds
$NSCTL -b /tmp/adds; echo "rc=$?"
ls /run/netns | wc -l
$NSCTL list | grep -c 'id: 5'
printf 'delete b1\ndelete b1\ndelete b2\n' | $NSCTL -force -b -; echo "rc=$?"
$NSCTL -all delete; ls -A /run/netns | wc -l
"#,
    );
    o.expect_rc(0, "batch")?;
    let want = "rc=0\n200\n1\nrc=1\n0\n";
    let errs = "Cannot remove namespace file \"/run/netns/b1\": No such file or directory\nCommand failed -:2\n";
    if o.stdout != want || o.stderr != errs {
        return Err(format!(
            "wanted:\n{want}{errs}got:\n{}--- stderr\n{}",
            o.stdout, o.stderr
        ));
    }
    Ok(())
}
