//! The front end a new user meets: `--help`, `--version`, the man page and the shell
//! completions, all generated from the command tree; and `nsctl help` still ip's.

use crate::support::{check, sandbox};

/// `--help` names every verb and object (exit 0, stdout only); the version spellings agree;
/// `nsctl help` and `-help` keep ip's usage on stderr with 255; lab verbs have clap's help.
pub fn help_and_version() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL --help > /tmp/h 2> /tmp/e; echo "help rc=$? stderr=$(wc -c < /tmp/e)"
for w in list add attach set delete identify pids exec monitor list-id 'link add' 'link set' \
         'link delete' 'link show' 'address add' 'address show' 'route add' 'route show' \
         apply destroy status man completions; do
  grep -q "^  $w " /tmp/h || echo "missing: $w"
done
for v in -V -Version --version -version; do $NSCTL $v; echo "rc=$?"; done | sort | uniq -c | sed 's/^ *//'
$NSCTL help 2>&1 >/dev/null | head -1; echo "rc=${PIPESTATUS[0]}"
$NSCTL help apply 2>&1 >/dev/null | head -1
$NSCTL apply --help | grep '^Usage'; echo "rc=${PIPESTATUS[0]}"
$NSCTL add --help; $NSCTL list; $NSCTL delete --help
"#,
    );
    let v = env!("CARGO_PKG_VERSION");
    check(
        &o,
        &format!(
            "help rc=0 stderr=0\n4 nsctl utility, nsctl-{v}\n4 rc=0\nUsage:\tnsctl list\nrc=255\n\
             Usage:\tnsctl list\nUsage: nsctl apply [OPTIONS] <FILE>\nrc=0\n--help\n"
        ),
        "--help, --version, help",
    )
}

/// Runs its arguments with stderr on a pseudo-terminal in raw mode (no `\r` added) and
/// stdout and stdin on /dev/null; prints what reached the terminal, then `rc=N`.
const ON_A_TTY: &str = r#"
cat > /tmp/ontty.py <<'EOF'
import os, pty, subprocess, sys, tty
m, s = pty.openpty()
tty.setraw(s)
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=s)
os.close(s)
out = b""
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.buffer.write(out)
print("rc=%d" % p.wait())
EOF
tty() { python3 /tmp/ontty.py "$@"; }
"#;

/// `nsctl help`, `-help` and the unknown command and option messages keep ip's bytes; on a
/// terminal one line follows them that points at `nsctl --help` and the lab verbs (and a
/// likely verb for a misspelt one). Not on a pipe or file, and not inside a batch: scripts
/// and the golden comparison see ip's words only. (38c06ff printed ip's words alone.)
pub fn help_points_at_the_lab_verbs() -> Result<(), String> {
    let o = sandbox(
        &(ON_A_TTY.to_string()
            + r#"
map() { sed -e 's/ip \[-all\] netns /nsctl [-all] /' -e 's/ip netns /nsctl /' -e 's/"ip -help"/"nsctl -help"/'; }
ip netns help 2>&1 | map > /tmp/ip.help
$NSCTL help 2> /tmp/plain; echo "plain rc=$?"
cmp -s /tmp/plain /tmp/ip.help && echo "plain help is ip's"
tty $NSCTL help > /tmp/tty
n=$(wc -c < /tmp/ip.help)
head -c $n /tmp/tty | cmp -s - /tmp/ip.help && echo "on a tty: ip's help, then"
tail -c +$((n + 1)) /tmp/tty
for w in aply destory frobnicate; do
  ip netns $w 2>&1 | map > /tmp/ip.$w
  $NSCTL $w 2> /tmp/plain.$w
  cmp -s /tmp/plain.$w /tmp/ip.$w && echo "plain $w is ip's"
  tty $NSCTL $w
done
ip -bogus 2>&1 | map > /tmp/ip.bogus
$NSCTL -bogus 2> /tmp/plain.bogus
cmp -s /tmp/plain.bogus /tmp/ip.bogus && echo "plain -bogus is ip's"
tty $NSCTL -bogus
$NSCTL -help 2> /tmp/plain.h
tty $NSCTL -help > /tmp/tty.h
n=$(wc -c < /tmp/plain.h)
head -c $n /tmp/tty.h | cmp -s - /tmp/plain.h && echo "on a tty: -help's usage, then"
tail -c +$((n + 1)) /tmp/tty.h
printf 'aply\nnetns help\n' > /tmp/batch
tty $NSCTL -force -batch /tmp/batch | grep -v -e '^	' -e '^NETNSID'
echo 'netns aply' > /tmp/batch
tty $NSCTL -batch /tmp/batch
"#),
    );
    let point = "\"nsctl --help\" lists every verb, the lab verbs (apply, destroy, status, test, \
                 graph) too.\n";
    check(
        &o,
        &format!(
            "plain rc=255\nplain help is ip's\non a tty: ip's help, then\n{point}rc=255\n\
             plain aply is ip's\n\
             Command \"aply\" is unknown, try \"nsctl help\".\nDid you mean \"nsctl apply\"? \
             {point}rc=255\n\
             plain destory is ip's\n\
             Command \"destory\" is unknown, try \"nsctl help\".\nDid you mean \"nsctl destroy\"? \
             {point}rc=255\n\
             plain frobnicate is ip's\n\
             Command \"frobnicate\" is unknown, try \"nsctl help\".\n{point}rc=255\n\
             plain -bogus is ip's\n\
             Option \"-bogus\" is unknown, try \"nsctl -help\".\n{point}rc=255\n\
             on a tty: -help's usage, then\n{point}rc=255\n\
             Object \"aply\" is unknown, try \"ip help\".\nCommand failed /tmp/batch:1\n\
             Usage:\tnsctl list\nrc=255\n\
             Command \"aply\" is unknown, try \"nsctl help\".\nrc=255\n"
        ),
        "help and unknown words on a terminal",
    )
}

/// clap's suggestions are on: a misspelt lab option or value names the right one (exit 2).
/// (38c06ff: `unexpected argument '--dryrun' found` with no tip.)
pub fn lab_options_are_suggested() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL apply --dryrun lab.toml 2>&1; echo "rc=$?"
$NSCTL graph --format svgg lab.toml 2>&1; echo "rc=$?"
$NSCTL man labs 2>&1; echo "rc=$?"
"#,
    );
    check(
        &o,
        "error: unexpected argument '--dryrun' found\n\n\
         \x20 tip: a similar argument exists: '--dry-run'\n\n\
         Usage: nsctl apply --dry-run <FILE>\n\n\
         For more information, try '--help'.\nrc=2\n\
         error: invalid value 'svgg' for '--format <FORMAT>'\n\
         \x20 [possible values: dot, mermaid, svg]\n\n\
         \x20 tip: a similar value exists: 'svg'\n\n\
         For more information, try '--help'.\nrc=2\n\
         error: invalid value 'labs' for '[PAGE]'\n\
         \x20 [possible values: nsctl, lab]\n\n\
         \x20 tip: a similar value exists: 'lab'\n\n\
         For more information, try '--help'.\nrc=2\n",
        "clap suggestions",
    )
}

/// `nsctl man` (nsctl(8)) and `nsctl man lab` (nsctl-lab(5)) are roff that `man -l` renders
/// at 80 columns without a warning. nsctl(8) lists each lab and meta verb with its options,
/// as clap parses them; nsctl-lab(5) has every table of the file, and its example applies and
/// its check holds. (38c06ff: no lab option in the page, no lab page.)
pub fn man_page_renders() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL man > /tmp/page; echo "rc=$?"
$NSCTL man nsctl | cmp -s - /tmp/page && echo "man nsctl is man"
$NSCTL man lab > /tmp/lab; echo "lab rc=$?"
for p in page lab; do
  MANWIDTH=80 man -l /tmp/$p > /tmp/$p.txt 2>/tmp/$p.err
  echo "$p: man rc=$? stderr=$(wc -c < /tmp/$p.err)"
  MANWIDTH=80 man -l - < /tmp/$p 2>&1 | grep -ci warning
done
for s in NAME SYNOPSIS OPTIONS NAMESPACES WIRING LABS EXAMPLES 'EXIT STATUS' FILES 'SEE ALSO'; do
  grep -q "^$s" /tmp/page.txt || echo "no section $s"
done
grep -c -e '# nsctl add mario' -e 'nsctl link add br0 type bridge' -e 'nsctl apply examples/abc-nat.toml' /tmp/page.txt
grep -o 'nsctl-lab(5) (nsctl man lab)' /tmp/page.txt
echo "verbs and options:"
awk 'prev == ".TP" {print} {prev = $0}' /tmp/page | sed -e 's/\\f[BIR]//g' -e 's/\\-/-/g' |
  sed -n '/^nsctl apply/,$p'
echo "lab page:"
grep -E '^[A-Z]|^   [^ ]' /tmp/lab.txt | sed -e 's/  */ /g'
sed -n '/^EXAMPLE/,/^FILES/s/^         //p' /tmp/lab.txt > /tmp/demo.toml
$NSCTL apply --test /tmp/demo.toml > /dev/null; echo "the example applies, its check holds: rc=$?"
$NSCTL destroy /tmp/demo.toml > /dev/null; echo "destroy rc=$?"
"#,
    );
    check(
        &o,
        "rc=0\nman nsctl is man\nlab rc=0\npage: man rc=0 stderr=0\n0\nlab: man rc=0 stderr=0\n0\n\
         3\nnsctl-lab(5) (nsctl man lab)\nverbs and options:\n\
         nsctl apply [OPTIONS] FILE\n--dry-run\n--adopt\n-j, --json\n--test\n--host NAME\n\
         --all-hosts\nFILE\n\
         nsctl destroy [OPTIONS] [FILE]\n--dry-run\n-j, --json\n--lab NAME\n--host NAME\n\
         --all-hosts\nFILE\n\
         nsctl status [OPTIONS] [FILE]\n-j, --json\n--host NAME\n--all-hosts\n--nodes\nFILE\n\
         nsctl test [OPTIONS] FILE\n-j, --json\n--jobs N\n--host NAME\n--all-hosts\nFILE\n\
         nsctl graph [OPTIONS] FILE\n--format FORMAT\n--live\n\
         nsctl man [PAGE]\nPAGE\nnsctl completions SHELL\nSHELL\nnsctl schema\n\
         0\n1\n2\n3\n4\n255\n/run/netns\n/etc/netns/NAME\n/run/nsctl\n\
         lab page:\nNAME\nSYNOPSIS\nDESCRIPTION\n\
         FILE FORMAT\n Top level\n [host]\n [netns.NAME]\n [bridge.NAME]\n [[veth]]\n\
         \x20An end, in ends = [...]\n [[nat]]\n [[check]]\n [hosts.NAME]\nROUTES\n\
         GENERATED ENTRIES\nCHECKS BEFORE ANY CHANGE\nEXAMPLE\nFILES\nSEE ALSO\n\
         File Formats nsctl 0.1.0 nsctl-lab(5)\n\
         the example applies, its check holds: rc=0\ndestroy rc=0\n",
        "man pages",
    )
}

/// The bash script, sourced in a real bash: verbs, namespace names, devices in the right
/// namespace, lab files. The zsh and fish scripts are generated too.
pub fn completions_in_bash() -> Result<(), String> {
    let o = sandbox(
        r#"
mkdir /tmp/w && cd /tmp/w
$NSCTL add mario; $NSCTL add luigi
$NSCTL link add m0 type veth peer name l0 netns luigi
touch lab.toml other.txt
$NSCTL completions bash > c.bash && bash -n c.bash && echo "bash syntax ok"
for sh in zsh fish; do $NSCTL completions $sh | grep -c nsctl | sed "s/^[1-9][0-9]*$/$sh ok/"; done
$NSCTL completions tcsh 2>/dev/null; echo "tcsh rc=$?"
cat > t.bash <<'EOT'
source ./c.bash
t() { COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
      COMPREPLY=(); _nsctl_dynamic nsctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}";
      echo "[$*] ${COMPREPLY[*]}"; }
t nsctl e
t nsctl exec ""
t nsctl del l
t nsctl -n luigi link set ""
t nsctl link set ""
t nsctl -n mario addr add 1.2.3.4/8 dev ""
t nsctl apply ""
t nsctl lin ""
t nsctl d ""
t nsctl lin sh ""
t nsctl netns e ""
EOT
PATH=$(dirname $NSCTL):$PATH bash t.bash
"#,
    );
    check(
        &o,
        "bash syntax ok\nzsh ok\nfish ok\ntcsh rc=2\n[nsctl e] exec\n[nsctl exec ] luigi mario\n\
         [nsctl del l] luigi\n[nsctl -n luigi link set ] lo l0\n[nsctl link set ] lo m0\n\
         [nsctl -n mario addr add 1.2.3.4/8 dev ] lo\n[nsctl apply ] lab.toml\n\
         [nsctl lin ] add set delete show help\n[nsctl d ] luigi mario\n[nsctl lin sh ] lo m0\n\
         [nsctl netns e ] luigi mario\n",
        "bash completion",
    )
}
