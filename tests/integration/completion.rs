//! Shell completion completes names literally: real interactive bash, zsh and fish on a
//! pseudo-terminal, inside the sandbox, TAB pressed after namespace and device names that
//! would run code, expand or split if a completion script evaluated them (issue 22, item 1).
//! Each step's completed line is run through the shell's own parser (`show` prints the words
//! it gets), so a step checks both what was offered and how it was quoted on the line.

use crate::support::{check, sandbox};

/// The pty driver, `drive.py STEPS TRANSCRIPT SHELL ARGS...` (python3's pty module): for each
/// line of STEPS (`\t` is TAB), it types the line, goes to the line's start (^A), types
/// `show ` and Enter, and waits for the marker `show` prints. It prints, per step, the words
/// `show` got and, with LIST=1, the candidates bash listed (TAB TAB), quoted as shown.
const DRIVER: &str = r#"
import codecs, fcntl, os, pty, re, select, struct, sys, termios, time
steps = [codecs.decode(l.rstrip("\n").encode(), "unicode_escape").encode("latin-1").decode()
         for l in open(sys.argv[1])]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 300, 0, 0))
buf = bytearray()

def read_until(marker):
    # Only a guard against a shell that never answers (a line left open): 60 s per step.
    deadline = time.monotonic() + 60
    while marker not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False
        try:
            d = os.read(fd, 65536)
        except OSError:
            return False
        if not d:
            return False
        buf.extend(d)
    return True

def report(keys, chunk):
    args, shown = [], []
    for line in chunk.split(b"\n"):
        line = re.sub(rb"\x1b\[[0-9;?]*[a-zA-Z@]|\x1b[()][0-9A-Z]|\x1b[=>]|\x07", b"", line)
        line = line.rstrip(b"\r").split(b"\r")[-1].decode("utf-8", "replace")
        if line.startswith("ARG[") and line.endswith("]"):
            args.append(line)
        elif line.strip() and not re.match(r"\$( |$)|nsctl |@@E", line.strip()):
            shown += re.split(r"\s{2,}", line.strip())
    out = keys.replace("\t", "<TAB>") + " -> " + " ".join(args)
    if os.environ.get("LIST") == "1" and shown:
        out += " | shown: " + "  ".join(shown)
    print(out)

if not read_until(b"@@E0@@"):
    print("the shell never got ready:", bytes(buf[-300:]))
    sys.exit(1)
for n, keys in enumerate(steps, 1):
    start = len(buf)
    os.write(fd, keys.encode() + b"\x01show \r")
    if not read_until(b"@@E%d@@" % n):
        print("step %d (%r): no answer; the screen ends with %r" % (n, keys, bytes(buf[-300:])))
        sys.exit(1)
    report(keys, bytes(buf[start:]))
os.write(fd, b"exit\r")
read_until(b"never printed")
open(sys.argv[2], "wb").write(buf)
"#;

/// Hostile names made with nsctl, each a name nsctl accepts: namespaces with `$(...)`,
/// backticks, `$((...))`, a space, a quote, a colon (a COMP_WORDBREAKS character) and a
/// newline; devices with backticks and `$(...)` in a namespace and here; lab files with
/// `$(...)` and a space. Every `>F` would create the file F in the shell's directory
/// (/tmp/w/cwd) if anything evaluated the name. Then the three completion scripts, and the
/// driver and its steps files.
const SETUP: &str = r#"
mkdir -p /tmp/w/cwd/'d ir' && cd /tmp/w/cwd || exit 1
export PATH=$(dirname "$NSCTL"):$PATH
for n in 'x$(>pwned)' 'b`>pwned2`' 'z$((1+1))' 'sp ace' "zq'uote" 'c:d e' $'nl\nx'; do
    nsctl add "$n" || echo "cannot add $n"
done
nsctl -n 'sp ace' link add 'a`>p2`' type veth peer name 'e$(>p4)' || echo "cannot add a"
nsctl link add 'h`>p5`' type veth peer name 'g$(>p6)' || echo "cannot add h"
touch lab.toml other.txt 'l$(>p7) x.toml'
ls -A > /tmp/w/before
for sh in bash zsh fish; do nsctl completions $sh > /tmp/w/c.$sh; done
cat > /tmp/w/drive.py <<'EOF'
@DRIVER@
EOF
"#;

/// After each shell: nothing in its directory but what SETUP put there.
const NOTHING_RAN: &str = r#"
ls -A /tmp/w/cwd | diff /tmp/w/before - > /dev/null && echo "nothing ran" || { echo "made:"; ls -A /tmp/w/cwd; }
"#;

/// Bash on the pty, over the steps in /tmp/w/steps: its inputrc and rc file (emacs keys, the
/// completion script, `show` and its markers), then the driver, listing candidates (LIST=1).
const BASH: &str = r#"
printf 'set enable-bracketed-paste off\nset bell-style none\n' > /tmp/w/inputrc
cat > /tmp/w/rc.bash <<'EOF'
PS1='$ '
set -o emacs
source /tmp/w/c.bash
show() { local a; for a; do printf 'ARG[%s]\n' "${a//$'\n'/<NL>}"; done; printf '@@E%s@@\n' "$((++__e))"; }
printf '@@E%s@@\n' 0
EOF
INPUTRC=/tmp/w/inputrc HISTFILE=/dev/null TERM=xterm LIST=1 \
    python3 /tmp/w/drive.py /tmp/w/steps /tmp/w/transcript bash --rcfile /tmp/w/rc.bash -i
"#;

/// Zsh on the pty, over the steps in /tmp/w/steps, likewise (its rc in ZDOTDIR=/tmp/w/z).
const ZSH: &str = r#"
mkdir /tmp/w/z
cat > /tmp/w/z/.zshrc <<'EOF'
PS1='$ '
bindkey -e
unsetopt beep
autoload -Uz compinit && compinit -u -D
source /tmp/w/c.zsh
show() { local a; for a; do printf 'ARG[%s]\n' "${a//$'\n'/<NL>}"; done; printf '@@E%s@@\n' $((++__e)); }
printf '@@E%s@@\n' 0
EOF
echo zsh:
ZDOTDIR=/tmp/w/z HISTFILE=/dev/null TERM=xterm python3 /tmp/w/drive.py /tmp/w/steps /tmp/w/transcript zsh -d -i
"#;

/// Fish on the pty, over the steps in /tmp/w/steps, likewise (no config but its rc file).
const FISH: &str = r#"
cat > /tmp/w/rc.fish <<'EOF'
function fish_prompt; printf '$ '; end
function fish_greeting; end
set -g fish_autosuggestion_enabled 0
source /tmp/w/c.fish
set -g __e 0
function show
    for a in $argv; printf 'ARG[%s]\n' (string join '<NL>' -- (string split \n -- $a)); end
    set -g __e (math $__e + 1); printf '@@E%s@@\n' $__e
end
printf '@@E%s@@\n' 0
EOF
echo fish:
HOME=/tmp/w XDG_CONFIG_HOME=/tmp/w/.config XDG_DATA_HOME=/tmp/w/.local TERM=xterm \
    python3 /tmp/w/drive.py /tmp/w/steps /tmp/w/transcript fish -N -i -C 'source /tmp/w/rc.fish'
"#;

fn setup() -> String {
    SETUP.replace("@DRIVER@", DRIVER)
}

/// Bash: TAB and TAB TAB after `nsctl exec `, `nsctl -n `, `nsctl link set dev `,
/// `nsctl -n NS link set dev `, `--netns=` and a lab verb; inside single and double quotes,
/// after a colon. Each name comes back as one candidate, quoted so that the shell reads it
/// back as it is, and nothing runs. (27727ef's script: `pwned`, `pwned2`, `p5` and `p6` were
/// created, `z$((1+1))` came back as `z2` and `sp ace` as `sp`.)
pub fn bash_names_are_literal() -> Result<(), String> {
    let script = setup()
        + r#"
cat > /tmp/w/steps <<'EOF'
nsctl exec \t\t
nsctl exec x\t
nsctl exec b\t
nsctl exec z\\$\t
nsctl exec sp\t
nsctl exec zq\t
nsctl exec 'zq\t
nsctl exec "x\t
nsctl exec nl\t
nsctl exec c:\t
nsctl -n \t\t
nsctl -n sp\tlink set dev a\t
nsctl -n 'sp ace' link set dev \t\t
nsctl -n 'sp ace' addr add 10.0.0.1/8 dev e\t
nsctl link set dev \t\t
nsctl link set dev h\t
nsctl --netns=sp\t
nsctl netns exec zq\t
nsctl apply \t\t
nsctl apply l\\$\t
nsctl apply d\t
EOF
"# + BASH
        + NOTHING_RAN;
    let o = sandbox(&script);
    check(
        &o,
        "nsctl exec <TAB><TAB> -> ARG[nsctl] ARG[exec] | shown: $'nl\\nx'  b\\`\\>pwned2\\`  \
         c:d\\ e  sp\\ ace  x\\$\\(\\>pwned\\)  z\\$\\(\\(1+1\\)\\)  zq\\'uote\n\
         nsctl exec x<TAB> -> ARG[nsctl] ARG[exec] ARG[x$(>pwned)]\n\
         nsctl exec b<TAB> -> ARG[nsctl] ARG[exec] ARG[b`>pwned2`]\n\
         nsctl exec z\\$<TAB> -> ARG[nsctl] ARG[exec] ARG[z$((1+1))]\n\
         nsctl exec sp<TAB> -> ARG[nsctl] ARG[exec] ARG[sp ace]\n\
         nsctl exec zq<TAB> -> ARG[nsctl] ARG[exec] ARG[zq'uote]\n\
         nsctl exec 'zq<TAB> -> ARG[nsctl] ARG[exec] ARG[zq'uote]\n\
         nsctl exec \"x<TAB> -> ARG[nsctl] ARG[exec] ARG[x$(>pwned)]\n\
         nsctl exec nl<TAB> -> ARG[nsctl] ARG[exec] ARG[nl<NL>x]\n\
         nsctl exec c:<TAB> -> ARG[nsctl] ARG[exec] ARG[c:d e]\n\
         nsctl -n <TAB><TAB> -> ARG[nsctl] ARG[-n] | shown: $'nl\\nx'  b\\`\\>pwned2\\`  \
         c:d\\ e  sp\\ ace  x\\$\\(\\>pwned\\)  z\\$\\(\\(1+1\\)\\)  zq\\'uote\n\
         nsctl -n sp<TAB>link set dev a<TAB> -> ARG[nsctl] ARG[-n] ARG[sp ace] ARG[link] \
         ARG[set] ARG[dev] ARG[a`>p2`]\n\
         nsctl -n 'sp ace' link set dev <TAB><TAB> -> ARG[nsctl] ARG[-n] ARG[sp ace] \
         ARG[link] ARG[set] ARG[dev] | shown: a\\`\\>p2\\`  e\\$\\(\\>p4\\)  lo\n\
         nsctl -n 'sp ace' addr add 10.0.0.1/8 dev e<TAB> -> ARG[nsctl] ARG[-n] ARG[sp ace] \
         ARG[addr] ARG[add] ARG[10.0.0.1/8] ARG[dev] ARG[e$(>p4)]\n\
         nsctl link set dev <TAB><TAB> -> ARG[nsctl] ARG[link] ARG[set] ARG[dev] | shown: \
         g\\$\\(\\>p6\\)  h\\`\\>p5\\`  lo\n\
         nsctl link set dev h<TAB> -> ARG[nsctl] ARG[link] ARG[set] ARG[dev] ARG[h`>p5`]\n\
         nsctl --netns=sp<TAB> -> ARG[nsctl] ARG[--netns=sp ace]\n\
         nsctl netns exec zq<TAB> -> ARG[nsctl] ARG[netns] ARG[exec] ARG[zq'uote]\n\
         nsctl apply <TAB><TAB> -> ARG[nsctl] ARG[apply] | shown: d\\ ir/  \
         l\\$\\(\\>p7\\)\\ x.toml  lab.toml\n\
         nsctl apply l\\$<TAB> -> ARG[nsctl] ARG[apply] ARG[l$(>p7) x.toml]\n\
         nsctl apply d<TAB> -> ARG[nsctl] ARG[apply] ARG[d ir/]\n\
         nothing ran\n",
        "bash completion of hostile names",
    )
}

/// Zsh (its namespace completion is new) and fish: the same names after `nsctl exec `,
/// `-n` and `--netns`; each comes back as one word as it is, and nothing runs. Fish cannot
/// offer a name with a newline as one candidate, so it offers none.
pub fn zsh_and_fish_names_are_literal() -> Result<(), String> {
    let script = setup()
        + r#"
for sh in zsh fish; do command -v $sh > /dev/null || echo "$sh is not installed (apt-get install $sh)"; done
cat > /tmp/w/steps <<'EOF'
nsctl exec \t\t
nsctl exec x\t
nsctl exec b\t
nsctl exec z\\$\t
nsctl exec sp\t
nsctl exec zq\t
nsctl exec nl\t
nsctl -n sp\t
nsctl --netns zq\t
EOF
"# + ZSH + NOTHING_RAN
        + FISH
        + NOTHING_RAN;
    let o = sandbox(&script);
    let common = "nsctl exec <TAB><TAB> -> ARG[nsctl] ARG[exec] ARG[b`>pwned2`]\n\
         nsctl exec x<TAB> -> ARG[nsctl] ARG[exec] ARG[x$(>pwned)]\n\
         nsctl exec b<TAB> -> ARG[nsctl] ARG[exec] ARG[b`>pwned2`]\n\
         nsctl exec z\\$<TAB> -> ARG[nsctl] ARG[exec] ARG[z$((1+1))]\n\
         nsctl exec sp<TAB> -> ARG[nsctl] ARG[exec] ARG[sp ace]\n\
         nsctl exec zq<TAB> -> ARG[nsctl] ARG[exec] ARG[zq'uote]\n";
    let tail = "nsctl -n sp<TAB> -> ARG[nsctl] ARG[-n] ARG[sp ace]\n\
         nsctl --netns zq<TAB> -> ARG[nsctl] ARG[--netns] ARG[zq'uote]\n\
         nothing ran\n";
    check(
        &o,
        &format!(
            "zsh:\n{common}nsctl exec nl<TAB> -> ARG[nsctl] ARG[exec] ARG[nl<NL>x]\n{tail}\
             fish:\n{common}nsctl exec nl<TAB> -> ARG[nsctl] ARG[exec] ARG[nl]\n{tail}"
        ),
        "zsh and fish completion of hostile names",
    )
}

/// The lab verbs' values (issue 24, item 11): a directory completes as `examples/` with no
/// space after it, so TAB goes on into it; `graph --format` offers dot, mermaid and svg;
/// `destroy --lab` the applied labs, the names of /run/nsctl/labs/*.json, literally (one lab
/// applied for real, and a journal file whose name would run code); `test --jobs` and
/// `apply --host` offer nothing rather than files; after an option's value, files again.
/// Bash, zsh and fish in a real interactive shell; nothing runs. (27727ef's bash left a
/// space after `examples`, so the second TAB of `exa<TAB><TAB>` found nothing; 38c06ff's offered files after `--format` and `--lab`, and zsh
/// and fish offered no lab.)
pub fn lab_values_complete() -> Result<(), String> {
    let script = setup()
        + r#"
cd /tmp/w/cwd
mkdir examples && printf 'name = "abc"\n[netns.abc1]\n' > examples/abc.toml
nsctl apply examples/abc.toml > /dev/null || echo "cannot apply"
touch '/run/nsctl/labs/l$(>p8).json' /run/nsctl/labs/.hidden
ls /run/nsctl/labs | grep -c lock | sed 's/^/locks: /'
ls -A > /tmp/w/before
cat > /tmp/w/steps <<'EOF'
nsctl apply exa\tabc.toml
nsctl apply --dry-run exa\t\t
nsctl graph --format \t\t
nsctl graph --format m\t
nsctl graph --format=s\t
nsctl graph --format dot exa\tabc.toml
nsctl destroy --lab \t\t
nsctl destroy --lab a\t
nsctl destroy --lab l\t
nsctl destroy --lab=a\t
nsctl test --jobs \t\t
nsctl apply --host \t\t
EOF
echo bash:
"# + BASH
        + NOTHING_RAN
        + r#"
cat > /tmp/w/steps <<'EOF'
nsctl apply exa\tabc.toml
nsctl graph --format m\t
nsctl destroy --lab a\t
nsctl destroy --lab l\t
nsctl -n sp\t
EOF
"# + ZSH + NOTHING_RAN
        + FISH
        + NOTHING_RAN;
    let o = sandbox(&script);
    let common = "nsctl apply exa<TAB>abc.toml -> ARG[nsctl] ARG[apply] ARG[examples/abc.toml]\n";
    let labs = "nsctl destroy --lab a<TAB> -> ARG[nsctl] ARG[destroy] ARG[--lab] ARG[abc]\n\
         nsctl destroy --lab l<TAB> -> ARG[nsctl] ARG[destroy] ARG[--lab] ARG[l$(>p8)]\n";
    let format =
        "nsctl graph --format m<TAB> -> ARG[nsctl] ARG[graph] ARG[--format] ARG[mermaid]\n";
    let tail = "nsctl -n sp<TAB> -> ARG[nsctl] ARG[-n] ARG[sp ace]\nnothing ran\n";
    check(
        &o,
        &format!(
            "locks: 1\nbash:\n{common}\
             nsctl apply --dry-run exa<TAB><TAB> -> ARG[nsctl] ARG[apply] ARG[--dry-run] \
             ARG[examples/abc.toml]\n\
             nsctl graph --format <TAB><TAB> -> ARG[nsctl] ARG[graph] ARG[--format] | shown: \
             dot  mermaid  svg\n{format}\
             nsctl graph --format=s<TAB> -> ARG[nsctl] ARG[graph] ARG[--format=svg]\n\
             nsctl graph --format dot exa<TAB>abc.toml -> ARG[nsctl] ARG[graph] ARG[--format] \
             ARG[dot] ARG[examples/abc.toml]\n\
             nsctl destroy --lab <TAB><TAB> -> ARG[nsctl] ARG[destroy] ARG[--lab] | shown: abc  \
             l\\$\\(\\>p8\\)\n{labs}\
             nsctl destroy --lab=a<TAB> -> ARG[nsctl] ARG[destroy] ARG[--lab=abc]\n\
             nsctl test --jobs <TAB><TAB> -> ARG[nsctl] ARG[test] ARG[--jobs]\n\
             nsctl apply --host <TAB><TAB> -> ARG[nsctl] ARG[apply] ARG[--host]\n\
             nothing ran\n\
             zsh:\n{common}{format}{labs}{tail}fish:\n{common}{format}{labs}{tail}"
        ),
        "completion of the lab verbs' values",
    )
}
