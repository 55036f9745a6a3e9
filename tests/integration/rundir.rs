//! nsctl's own state in /run (issue 22): the directories are private whatever the umask and
//! never reached through a symlink; a FIFO or socket where a journal or lock should be is
//! refused at once; a lab file from a pipe works and needs a name; a journal larger than any
//! lab needs is refused; looking creates nothing; a user who is not root is told to be root.
//! Every case runs in its own sandbox, so /run starts empty.

use crate::support::{check, sandbox, MULTI};

/// A lab of one machine (with support's MULTI, a lab across two hosts for `--all-hosts`), and
/// an ssh for `--all-hosts` that is a stand-in that records that it ran and fails (no host
/// answers).
const FILES: &str = r#"
cat > /tmp/ml.toml <<'TOML'
name = "ml"
[netns.A]
[[check]]
from = "A"
to = "127.0.0.1"
ping = true
TOML
printf '#!/bin/sh\ntouch /tmp/ssh-ran\nexit 255\n' > /tmp/fakessh; chmod 755 /tmp/fakessh
export NSCTL_SSH=/tmp/fakessh
"#;

fn run(script: &str) -> crate::support::Out {
    sandbox(&format!("{FILES}{MULTI}{script}"))
}

/// Item 2: under umask 000, `apply --all-hosts` (ssh's shared connections) and `apply` leave
/// /run/nsctl, /run/nsctl/ssh and /run/nsctl/labs 0700; a symlink planted at /run/nsctl/ssh
/// is refused before ssh runs, and the directory it points at keeps its mode and stays
/// empty; a loose /run/nsctl is refused too.
pub fn private_whatever_the_umask() -> Result<(), String> {
    let o = run(r#"
umask 000
$NSCTL apply --all-hosts /tmp/multi.toml >/dev/null 2>&1; echo "all-hosts rc=$?"
stat -c '%a %U %n' /run/nsctl /run/nsctl/ssh
$NSCTL apply /tmp/ml.toml >/dev/null; echo "apply rc=$?"
stat -c '%a %U %n' /run/nsctl/labs /run/nsctl/labs/ml.json
$NSCTL destroy /tmp/ml.toml >/dev/null
rm -rf /run/nsctl /tmp/ssh-ran
mkdir -m 700 /run/nsctl; mkdir -m 755 /tmp/x; ln -s /tmp/x /run/nsctl/ssh
for v in apply status; do
  $NSCTL $v --all-hosts /tmp/multi.toml 2>/tmp/e >/dev/null; echo "$v symlink rc=$? lines=$(wc -l </tmp/e)"
  grep -o "cannot use /run/nsctl/ssh for ssh's shared connections: /run/nsctl/ssh is a symlink, not a directory" /tmp/e
done
stat -c '%a %n' /tmp/x; ls -A /tmp/x; [ -e /tmp/ssh-ran ] && echo "ssh ran"
rm /run/nsctl/ssh; chmod 777 /run/nsctl
$NSCTL apply --all-hosts /tmp/multi.toml 2>&1 >/dev/null | grep -o 'cannot use .* mode 777'; echo "loose rc=${PIPESTATUS[0]}"
stat -c '%a %n' /run/nsctl; [ -e /run/nsctl/ssh ] || echo "no ssh dir made"
"#);
    check(
        &o,
        "all-hosts rc=1\n700 root /run/nsctl\n700 root /run/nsctl/ssh\n\
         apply rc=0\n700 root /run/nsctl/labs\n600 root /run/nsctl/labs/ml.json\n\
         apply symlink rc=1 lines=1\n\
         cannot use /run/nsctl/ssh for ssh's shared connections: /run/nsctl/ssh is a symlink, not a directory\n\
         status symlink rc=1 lines=1\n\
         cannot use /run/nsctl/ssh for ssh's shared connections: /run/nsctl/ssh is a symlink, not a directory\n\
         755 /tmp/x\n\
         cannot use /run/nsctl/ssh for ssh's shared connections: /run/nsctl is owned by uid 0 with mode 777\n\
         loose rc=1\n777 /run/nsctl\nno ssh dir made\n",
        "private directories",
    )
}

/// Item 5: a FIFO or a socket where a journal, a lock or the shared sysctls' register should
/// be is refused in one line before anything reads or locks it (under `timeout`: the old
/// code blocked for ever, rc 124).
pub fn fifo_journal_and_lock_refused() -> Result<(), String> {
    let o = run(r#"
mkdir -m 700 -p /run/nsctl/labs
mkfifo -m 600 /run/nsctl/labs/ml.json
t() { timeout 20 "$@" >/dev/null 2>/tmp/e; echo "$3 rc=$? lines=$(wc -l </tmp/e) $(grep -o 'is a [A-Za-z]*, not a file nsctl wrote' /tmp/e)"; }
t $NSCTL apply /tmp/ml.toml
t $NSCTL status /tmp/ml.toml
t $NSCTL destroy --lab ml
t $NSCTL test /tmp/ml.toml
timeout 20 $NSCTL status 2>&1 | grep -o 'unknown (.*is a FIFO, not'; echo "list rc=${PIPESTATUS[0]}"
rm /run/nsctl/labs/ml.json /run/nsctl/labs/ml.lock; mkfifo -m 600 /run/nsctl/labs/ml.lock
t $NSCTL apply /tmp/ml.toml
rm /run/nsctl/labs/ml.lock
python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("/run/nsctl/labs/ml.json")'
t $NSCTL apply /tmp/ml.toml
rm /run/nsctl/labs/ml.json; mkfifo -m 600 /run/nsctl/host-sysctls.json
t $NSCTL status /tmp/ml.toml
rm /run/nsctl/host-sysctls.json
t $NSCTL apply /tmp/ml.toml
ls /run/netns
"#);
    check(
        &o,
        "/tmp/ml.toml rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         /tmp/ml.toml rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         --lab rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         /tmp/ml.toml rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         unknown (cannot read the journal of lab ml in /run/nsctl/labs: /run/nsctl/labs/ml.json is a FIFO, not\n\
         list rc=1\n\
         /tmp/ml.toml rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         /tmp/ml.toml rc=1 lines=1 is a socket, not a file nsctl wrote\n\
         /tmp/ml.toml rc=1 lines=1 is a FIFO, not a file nsctl wrote\n\
         /tmp/ml.toml rc=0 lines=0 \n\
         A\n",
        "FIFOs in /run/nsctl",
    )
}

/// Item 5, lab files: one read from a pipe (`<(...)`) works, bounded by the size cap, and
/// like one from `-` needs `name` (it used to make a lab named `63`); a directory or a device
/// is refused in one line; a file recorded by apply that became a FIFO does not stop status.
pub fn lab_file_from_a_pipe() -> Result<(), String> {
    let o = run(r#"
$NSCTL apply <(printf '[netns.B]\n') 2>&1; echo "no name rc=$?"
ls /run/netns 2>/dev/null; [ -e /run/nsctl ] || echo "nothing made"
$NSCTL apply <(printf 'name = "pp"\n[netns.B]\n') | sed 's/ in .*//'; echo "named rc=${PIPESTATUS[0]}"
$NSCTL status | awk 'NR > 1 {print $1, $2, $5, $6, $7, $8}'
$NSCTL status <(printf 'name = "pp"\n[netns.B]\n') | tail -1
$NSCTL destroy --lab pp | sed 's/ in .*//'
$NSCTL apply <(head -c 9000000 /dev/zero) 2>&1; echo "big rc=$?"
$NSCTL status /tmp 2>&1; echo "dir rc=$?"
$NSCTL status /dev/null 2>&1; echo "device rc=$?"
printf 'name = "rec"\n[netns.R]\n' > /tmp/rec.toml
$NSCTL apply /tmp/rec.toml >/dev/null
rm /tmp/rec.toml; mkfifo /tmp/rec.toml
timeout 20 $NSCTL status | awk 'NR > 1 {print $1, $2}'; echo "recorded fifo rc=${PIPESTATUS[0]}"
timeout 20 $NSCTL status 2>&1 | grep -o 'unknown ([^;]*'
"#);
    check(
        &o,
        "/dev/fd/63:1:1: a lab file read from a pipe needs name = \"...\": a pipe has no file name to give the lab its name; add name = \"...\" at the top\n\
         no name rc=2\nnothing made\n\
         apply pp: 1 created, 0 changed, 0 removed, 0 unchanged, 0 failed\nnamed rc=0\n\
         pp 4 unknown (no file recorded)\n\
         status pp: converged\n\
         destroy pp: 1 removed, 0 failed\n\
         /dev/fd/63: cannot read the lab file: larger than 8 MiB; a lab file is text describing a lab\nbig rc=2\n\
         /tmp: cannot read the lab file: it is a directory, not a lab file (TOML text); pass the lab file itself\ndir rc=2\n\
         /dev/null: cannot read the lab file: it is a device, not a lab file (TOML text); pass the lab file itself\ndevice rc=2\n\
         rec 4\nrecorded fifo rc=1\n\
         unknown (/tmp/rec.toml: cannot read the lab file: it is a FIFO now, not the file that was applied\n",
        "lab files from pipes",
    )
}

/// Item 9: a valid journal of 900,000 entries (34 MB, which took status 9 s and 741 MB) is
/// more than the largest lab a file can describe needs: status, status FILE and destroy refuse
/// it in one line naming the file and what to do, and nothing is removed. One of more than
/// 64 MiB is refused before it is read.
pub fn oversized_journal_refused() -> Result<(), String> {
    let o = run(r#"
printf 'name = "big"\n[netns.A]\n' > /tmp/big.toml
$NSCTL apply /tmp/big.toml >/dev/null || exit 1
python3 - <<'PY'
import json
objs = [{"kind": "netns", "name": "A"}] + [{"kind": "netns", "name": "n%d" % i} for i in range(900000)]
j = {"lab": "big", "file": "/tmp/big.toml", "objects": objs}
open("/run/nsctl/labs/big.json", "w").write(json.dumps(j, separators=(",", ":")))
PY
$NSCTL status 2>&1 | awk 'NR > 1' | grep -o 'unknown (.*entries each)'; echo "list rc=${PIPESTATUS[0]}"
$NSCTL status /tmp/big.toml 2>/tmp/e; echo "status rc=$? lines=$(wc -l </tmp/e)"; cat /tmp/e
$NSCTL destroy --lab big 2>/tmp/e; echo "destroy rc=$? lines=$(wc -l </tmp/e)"
ls /run/netns
head -c 70000000 /dev/zero | tr '\0' ' ' > /run/nsctl/labs/big.json
$NSCTL destroy --lab big 2>&1; echo "huge rc=$?"
"#);
    check(
        &o,
        "unknown (cannot read the journal of lab big in /run/nsctl/labs: /run/nsctl/labs/big.json is damaged (it holds more than 800000 entries, more than the largest lab a file can describe needs (100000 generated entries, 8 journal entries each)\n\
         list rc=1\n\
         status rc=1 lines=1\n\
         cannot read the journal of lab big in /run/nsctl/labs: /run/nsctl/labs/big.json is damaged (it holds more than 800000 entries, more than the largest lab a file can describe needs (100000 generated entries, 8 journal entries each)); move it away, then remove what is left of the lab by hand\n\
         destroy rc=1 lines=1\nA\n\
         cannot read the journal of lab big in /run/nsctl/labs: /run/nsctl/labs/big.json is 70000000 bytes, more than the 64 MiB of the journal of the largest lab a file can describe; nsctl did not write it: move it away, then remove what is left by hand\n\
         huge rc=1\n",
        "oversized journal",
    )
}

/// Item 10: on a fresh machine, every verb that only looks (apply --dry-run, status with and
/// without a file, test, graph --live, destroy of a lab that has no journal, destroy
/// --dry-run, status --all-hosts) leaves /run as it was: no /run/nsctl, no lock.
pub fn observing_creates_nothing() -> Result<(), String> {
    let o = run(r#"
snap() { find /run /etc/netns 2>/dev/null | sort; }
snap > /tmp/before
$NSCTL apply --dry-run /tmp/ml.toml >/dev/null; echo "dry-run rc=$?"
$NSCTL status >/dev/null; echo "status rc=$?"
$NSCTL status /tmp/ml.toml >/dev/null; echo "status FILE rc=$?"
$NSCTL test /tmp/ml.toml >/dev/null 2>&1; echo "test rc=$?"
$NSCTL graph --live /tmp/ml.toml >/dev/null; echo "graph rc=$?"
$NSCTL destroy --lab ml 2>/dev/null; echo "destroy --lab rc=$?"
$NSCTL destroy /tmp/ml.toml | sed 's/ in .*//'
$NSCTL destroy --dry-run /tmp/ml.toml >/dev/null; echo "destroy dry rc=$?"
$NSCTL status --all-hosts /tmp/multi.toml >/dev/null 2>&1; echo "status all-hosts rc=$?"
snap | diff /tmp/before - && echo "nothing made"
printf 'name = "other"\n[netns.O]\n' > /tmp/o.toml
$NSCTL apply /tmp/o.toml >/dev/null && $NSCTL destroy /tmp/o.toml >/dev/null
$NSCTL destroy --lab ml 2>/dev/null; echo "destroy --lab rc=$?"
$NSCTL apply --dry-run /tmp/ml.toml >/dev/null
ls /run/nsctl/labs
"#);
    check(
        &o,
        "dry-run rc=0\nstatus rc=0\nstatus FILE rc=1\ntest rc=1\ngraph rc=0\n\
         destroy --lab rc=2\ndestroy ml: nothing to do (0 unchanged)\n\
         destroy dry rc=0\nstatus all-hosts rc=1\nnothing made\n\
         destroy --lab rc=2\nother.lock\n",
        "observing creates nothing",
    )
}

/// Item 11: a user who is not root is told in one line that the lab verbs need root (exit 1),
/// whether /run/nsctl exists or not, and nothing is made; `graph` without `--live` needs no
/// root.
pub fn non_root_is_told_to_be_root() -> Result<(), String> {
    let o = run(r#"
chmod 755 /run  # as on a real host; the sandbox tmpfs starts 1777
chmod 644 /tmp/ml.toml
NR="setpriv --reuid=65534 --regid=65534 --clear-groups"
try() { $NR $NSCTL "$@" >/dev/null 2>/tmp/e; echo "$1 rc=$? lines=$(wc -l </tmp/e)"; }
try apply /tmp/ml.toml; cat /tmp/e
[ -e /run/nsctl ] || echo "nothing made"
$NSCTL apply /tmp/ml.toml >/dev/null || exit 1
try apply /tmp/ml.toml
try apply --dry-run /tmp/ml.toml
try status /tmp/ml.toml
try status
try test /tmp/ml.toml
try destroy --lab ml
try graph --live /tmp/ml.toml
grep -h 'need root' /tmp/e | cut -c1-40
$NR $NSCTL graph /tmp/ml.toml >/dev/null; echo "graph rc=$?"
ls /run/nsctl/labs /run/netns
"#);
    check(
        &o,
        "apply rc=1 lines=1\n\
         nsctl's lab commands need root (they change network namespaces and keep their journal in /run/nsctl, which is root's alone), and this is uid 65534: run it as root, for example with sudo\n\
         nothing made\n\
         apply rc=1 lines=1\napply rc=1 lines=1\nstatus rc=1 lines=1\nstatus rc=1 lines=1\n\
         test rc=1 lines=1\ndestroy rc=1 lines=1\ngraph rc=1 lines=1\n\
         nsctl's lab commands need root (they cha\n\
         graph rc=0\n/run/netns:\nA\n\n/run/nsctl/labs:\nml.json\nml.lock\n",
        "non-root",
    )
}
