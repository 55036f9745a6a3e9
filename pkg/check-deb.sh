#!/bin/bash
# pkg/check-deb.sh: check the installed nsctl package from what it installed, as a user meets
# it: the files are where Debian looks for them, `man nsctl` and `man nsctl-lab` find and
# render the pages in /usr/share/man, TAB completes nsctl's verbs in a login bash
# (bash-completion loads the package's script on the first TAB), zsh's compinit and fish find
# their scripts, and /usr/bin/nsctl adds, lists and deletes a namespace.
#
# Everything runs inside the private sandbox (tests/sandbox/run.sh: tmpfs /run and /tmp,
# overlay /etc, own network namespace), so nothing on the host changes; it needs root.
# Exit codes: 0 all good, 1 a check failed (each failure is one line on stderr), 77 the
# package is not installed (build it with pkg/build-deb.sh, install it with
# `apt-get install ./target/debian/nsctl_*.deb`). Needs python3, bash-completion, man-db,
# zsh and fish (.ci/run installs them).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "${NSCTL_SANDBOX_INSIDE:-}" != 1 ]; then
	exec bash "$repo/tests/sandbox/run.sh" bash "$repo/pkg/check-deb.sh" "$@"
fi

status=$(dpkg-query -W -f='${Status} ${Version}' nsctl 2>/dev/null)
case $status in
"install ok installed "*) echo "check-deb: nsctl ${status##* } is installed" ;;
*)
	echo "check-deb: the nsctl package is not installed (bash pkg/build-deb.sh, then apt-get install ./target/debian/nsctl_*.deb)" >&2
	exit 77
	;;
esac

failed=0
fail() {
	echo "check-deb: FAILED: $*" >&2
	failed=1
}
ok() { echo "check-deb: ok: $*"; }

# A clean user: no dotfiles of whoever runs this, the C locale (the sandbox sets it).
export HOME=$(mktemp -d) && cd "$HOME" || exit 1

# 1. The files, where the package manager says they are.
files=$(dpkg -L nsctl)
for f in /usr/bin/nsctl /usr/share/man/man8/nsctl.8.gz /usr/share/man/man5/nsctl-lab.5.gz \
	/usr/share/bash-completion/completions/nsctl /usr/share/zsh/vendor-completions/_nsctl \
	/usr/share/fish/vendor_completions.d/nsctl.fish /usr/share/doc/nsctl/copyright \
	/usr/share/doc/nsctl/examples/mario-luigi.toml; do
	if grep -qxF "$f" <<<"$files" && [ -s "$f" ]; then ok "$f"; else fail "$f is not in the package"; fi
done
[ "$(command -v nsctl)" = /usr/bin/nsctl ] || fail "nsctl on PATH is $(command -v nsctl), not /usr/bin/nsctl"

# 2. Every man page in the package (nsctl(8), nsctl-lab(5)): `man` finds that file by name
# alone (no -l) and renders it, with a NAME section and no roff warnings; `man nsctl` is (8).
if MANWIDTH=80 man nsctl 2>/dev/null | grep -q '^NAME'; then ok "man nsctl"; else fail "man nsctl shows no page"; fi
pages=$(grep -E '^/usr/share/man/man[1-9]/[^/]+\.[1-9]\.gz$' <<<"$files")
for p in $pages; do
	base=${p##*/} && base=${base%.gz}
	name=${base%.*} sec=${base##*.}
	found=$(man -w "$sec" "$name" 2>&1)
	[ "$found" = "$p" ] || { fail "man -w $sec $name finds '$found', not $p"; continue; }
	text=$(MANWIDTH=80 man "$sec" "$name" 2>/dev/null)
	warn=$(MANWIDTH=80 man --warnings "$sec" "$name" 2>&1 >/dev/null)
	if grep -q '^NAME' <<<"$text" && grep -q "$name" <<<"$text" && [ -z "$warn" ]; then
		ok "man $sec $name renders $(wc -l <<<"$text") lines from $p"
	else
		fail "man $sec $name: no NAME section, or roff warnings: ${warn:0:200}"
	fi
done

# 3. bash: a real login, interactive bash on a pseudo-terminal (so /etc/profile loads
# bash-completion), TAB after `nsctl ap`, then `complete -p nsctl`. The line is echoed back
# with a marker in front (^A goes to the line's start), so what TAB made of it is read exactly.
tab=$(python3 - <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "--login", "-i"])
buf = bytearray()
def until(marker):
    # A guard against a shell that never answers, not a measure: 30 s.
    end = time.monotonic() + 30
    while marker not in buf:
        left = end - time.monotonic()
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
def after(marker):
    # The text the shell printed after its marker, to the end of that line.
    return buf[buf.rindex(marker) + len(marker):].split(b"\n")[0].strip(b"\r ").decode()
os.write(fd, b"echo @@R''EADY@@\r")
if not until(b"@@READY@@"):
    print("bash never got ready"); sys.exit(1)
# readline takes the keys in order: TAB's completion is done before ^A is read.
os.write(fd, b"nsctl ap\t\x01echo @@L''INE@@ \r")
ok = until(b"@@LINE@@ ")
os.write(fd, b"echo \"@@S\"\"PEC@@ $(complete -p nsctl 2>&1)\"\r")
ok = until(b"@@SPEC@@ ") and ok
print("line:", after(b"@@LINE@@ ") if b"@@LINE@@ " in buf else "?")
print("spec:", after(b"@@SPEC@@ ") if b"@@SPEC@@ " in buf else "?")
os.write(fd, b"exit\r")
EOF
)
line=$(sed -n 's/^line: //p' <<<"$tab") spec=$(sed -n 's/^spec: //p' <<<"$tab")
if [ "$line" = "nsctl apply" ]; then ok "bash: TAB completes 'nsctl ap' to '$line'"; else fail "bash: TAB after 'nsctl ap' gave '$line' (${tab:0:200})"; fi
if [[ $spec == complete*" -F "*" nsctl" ]]; then ok "bash: $spec"; else fail "bash: complete -p nsctl: '$spec'"; fi

# 4. zsh: compinit finds _nsctl in the default $fpath (vendor-completions).
comp=$(zsh -fc 'autoload -Uz compinit && compinit -u -d "$HOME/.zcompdump" && print -r -- "$_comps[nsctl]"' 2>&1)
if [ "$comp" = _nsctl ]; then ok "zsh: compinit binds nsctl to _nsctl"; else fail "zsh: compinit binds nsctl to '$comp'"; fi

# 5. fish: completions autoload from vendor_completions.d.
if fish -c 'complete -C "nsctl ap"' 2>&1 | grep -q '^apply'; then ok "fish: 'nsctl ap' completes to apply"; else fail "fish: 'nsctl ap' does not complete to apply"; fi

# 6. The packaged binary does its job (in this sandbox's own /run/netns).
if out=$(nsctl add pkgcheck 2>&1 && nsctl list 2>&1 && nsctl delete pkgcheck 2>&1) &&
	[ "$out" = pkgcheck ] && [ -z "$(nsctl list)" ]; then
	ok "/usr/bin/nsctl adds, lists and deletes a namespace"
else
	fail "/usr/bin/nsctl add/list/delete: $out"
fi

if [ "$failed" = 0 ]; then echo "check-deb: the installed package works"; fi
exit "$failed"
