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

/// `nsctl man` is roff that `man -l -` renders, with the sections the issue asks for.
pub fn man_page_renders() -> Result<(), String> {
    let o = sandbox(
        r#"
$NSCTL man > /tmp/page; echo "rc=$?"
MANWIDTH=100 man -l /tmp/page > /tmp/text 2>/tmp/err; echo "man rc=$? warnings=$(wc -l < /tmp/err)"
for s in NAME SYNOPSIS OPTIONS NAMESPACES WIRING LABS EXAMPLES 'EXIT STATUS' FILES; do
  grep -q "^$s" /tmp/text || echo "no section $s"
done
grep -c -e '# nsctl add mario' -e 'nsctl link add br0 type bridge' -e 'nsctl apply examples/abc-nat.toml' /tmp/text
"#,
    );
    check(&o, "rc=0\nman rc=0 warnings=0\n3\n", "man page")
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
