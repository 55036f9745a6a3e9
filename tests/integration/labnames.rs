//! Names in a lab file that mean something to another program (issue 22, items 7 and 8):
//! an `ssh` target or a host name that ssh, a shell or an option parser would read as more
//! than a name is refused by the file checks (`FILE:LINE:COL`, exit 2) before ssh runs; a
//! namespace named as HTML reaches `graph --format mermaid` as text, not markup.

use crate::support::{check, sandbox};

pub fn hostile_ssh_and_host_names() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/h.toml <<'EOF'
name = "x"
[hosts.h1]
underlay = "192.0.2.1"
ssh = "root@-oProxyCommand=touch${IFS}/tmp/pwned"
[hosts.h2]
underlay = "192.0.2.2"
ssh = "root@$(touch${IFS}/tmp/pwned)"
[hosts.h3]
underlay = "192.0.2.3"
ssh = "root@h3;touch${IFS}/tmp/pwned"
[hosts.h4]
underlay = "192.0.2.4"
ssh = "`touch${IFS}/tmp/pwned`@h4"
[hosts.h5]
underlay = "192.0.2.5"
ssh = "root@[2001:db8::5]"
[hosts."--adopt"]
underlay = "192.0.2.6"
[hosts.-j]
underlay = "192.0.2.7"
[hosts."--"]
underlay = "192.0.2.8"
[netns.A]
host = "h1"
EOF
# An ssh that says so when it runs: it must not.
printf '#!/bin/sh\ntouch /tmp/ssh-ran\n' > /tmp/ssh; chmod +x /tmp/ssh
for verb in "apply --all-hosts" "status --all-hosts" "apply --dry-run --host h1"; do
  NSCTL_SSH=/tmp/ssh $NSCTL $verb /tmp/h.toml 2> /tmp/err; echo "$verb rc=$?"
done
ls /tmp/pwned /tmp/ssh-ran 2>&1 | sed 's/.*cannot access //'
cat /tmp/err
# Plain names and targets pass the same checks.
cat > /tmp/ok.toml <<'EOF'
name = "y"
[hosts.h1]
underlay = "192.0.2.1"
ssh = "admin@h1.example.org"
[hosts.rack_2-b]
underlay = "2001:db8::2"
ssh = "root@2001:db8::2"
[netns.A]
host = "h1"
EOF
$NSCTL graph /tmp/ok.toml > /dev/null; echo "plain rc=$?"
"#,
    );
    let want = "apply --all-hosts rc=2\nstatus --all-hosts rc=2\napply --dry-run --host h1 rc=2\n\
'/tmp/pwned': No such file or directory\n'/tmp/ssh-ran': No such file or directory\n\
/tmp/h.toml:4:7: ssh \"root@-oProxyCommand=touch${IFS}/tmp/pwned\" of host h1 must be [USER@]HOST: host \"-oProxyCommand=touch${IFS}/tmp/pwned\" is not a host name (letters, digits, '-', '_' and dots, not starting with '-') or an IP address\n\
/tmp/h.toml:7:7: ssh \"root@$(touch${IFS}/tmp/pwned)\" of host h2 must be [USER@]HOST: host \"$(touch${IFS}/tmp/pwned)\" is not a host name (letters, digits, '-', '_' and dots, not starting with '-') or an IP address\n\
/tmp/h.toml:10:7: ssh \"root@h3;touch${IFS}/tmp/pwned\" of host h3 must be [USER@]HOST: host \"h3;touch${IFS}/tmp/pwned\" is not a host name (letters, digits, '-', '_' and dots, not starting with '-') or an IP address\n\
/tmp/h.toml:13:7: ssh \"`touch${IFS}/tmp/pwned`@h4\" of host h4 must be [USER@]HOST: user \"`touch${IFS}/tmp/pwned`\" is not a plain user name (letters, digits, '.', '_', '-', not starting with '-')\n\
/tmp/h.toml:16:7: ssh \"root@[2001:db8::5]\" of host h5 must be [USER@]HOST: host \"[2001:db8::5]\": ssh takes an IPv6 address without brackets (2001:db8::5)\n\
/tmp/h.toml:17:1: host name \"--adopt\" must be 1-32 letters, digits, '-' or '_', not starting with '-'\n\
/tmp/h.toml:19:1: host name \"-j\" must be 1-32 letters, digits, '-' or '_', not starting with '-'\n\
/tmp/h.toml:21:1: host name \"--\" must be 1-32 letters, digits, '-' or '_', not starting with '-'\n\
plain rc=0\n";
    check(&o, want, "hostile ssh and host names")?;
    println!("  ssh targets and host names that read as more than names are refused");
    Ok(())
}

pub fn mermaid_names_are_text() -> Result<(), String> {
    let o = sandbox(
        r#"
cat > /tmp/g.toml <<'EOF'
name = "g"
[netns."<img src=x onerror=alert(1)>"]
[netns."a\"b#quot;`c`"]
[[veth]]
ends = [{ netns = "<img src=x onerror=alert(1)>", name = "eth0", addresses = ["fd00::1/64"] }, { netns = "a\"b#quot;`c`", name = "e&0" }]
EOF
$NSCTL graph --format mermaid /tmp/g.toml; echo "rc=$?"
"#,
    );
    let want = "graph LR\n  n0[\"#60;img src#61;x onerror#61;alert(1)#62;\"]\n  n1[\"a#34;b#35;quot#59;#96;c#96;\"]\n  \
n0 ---|\"eth0 fd00#58;#58;1/64 #8212; e#38;0\"| n1\nrc=0\n";
    check(&o, want, "mermaid names")?;
    println!("  a namespace named as HTML is text in Mermaid");
    Ok(())
}
