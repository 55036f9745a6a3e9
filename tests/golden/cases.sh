#!/bin/bash
# cases.sh OUTDIR - the golden `ip netns` scenario of ../shared/reference/ipnetns-golden/record.sh,
# replayed against whatever `ip` is first in PATH. The differential test runs it twice in fresh
# sandboxes (tests/sandbox/run.sh): once with the real iproute2 `ip`, once with tests/golden/ip-shim,
# which hands every `ip ... netns ...` and `ip -batch` command to nsctl and everything else to
# the real ip. Cases share state in order, exactly as in record.sh.
# Output: OUTDIR/NNN-slug/{cmd,stdout,stderr,rc}.
set -u
[ "${NSCTL_SANDBOX_INSIDE:-}" = 1 ] || { echo "cases.sh: run me inside tests/sandbox/run.sh" >&2; exit 125; }
CASES=$1
mkdir -p "$CASES"
n=0
# C SLUG DESC [CMD]   -- CMD defaults to stdin
C() {
	local slug=$1 desc=$2 cmd d
	if [ $# -ge 3 ]; then cmd=$3; else cmd=$(cat); fi
	n=$((n + 1))
	d=$CASES/$(printf '%03d' "$n")-$slug
	mkdir -p "$d"
	printf '%s\n' "$cmd" > "$d/cmd"
	bash -c "$cmd" > "$d/stdout" 2> "$d/stderr" < /dev/null
	echo $? > "$d/rc"
}
# S CMD -- setup step, not a case
S() { bash -c "$1" > /dev/null 2>&1 < /dev/null; }
cat > /tmp/mnts.sh <<'EOF'
#!/bin/sh
# usage: mnts.sh PREFIX  -> mounts whose mountpoint is PREFIX or below it
awk -v p="$1" '$5 == p || index($5, p "/") == 1 {
	opt = ""; for (i = 7; $i != "-"; i++) opt = opt " " $i
	print $4, $5, "[" substr(opt, 2) "]", $(i + 1), $(i + 2) }' /proc/self/mountinfo
EOF
chmod 755 /tmp/mnts.sh
printf 'echo not executable\n' > /tmp/notexec; chmod 644 /tmp/notexec
printf 'echo run-by-sh-fallback "$@"\n' > /tmp/noshebang; chmod 755 /tmp/noshebang

L300=$(printf 'a%.0s' $(seq 1 300))
L255=$(printf 'b%.0s' $(seq 1 255))
L256=$(printf 'c%.0s' $(seq 1 256))

# ---------------------------------------------------------------- 1. no /run/netns yet
C list-nodir       "list when /run/netns does not exist"                  "ip netns list"
C bare-nodir       "bare 'ip netns' (implicit list), no dir"             "ip netns"
C json-list-nodir  "-j list, no dir (returns before the JSON array opens)" "ip -j netns list"
C identify-nodir   "identify self, no dir: treated as empty dir"         "ip netns identify"
C all-exec-nodir   "-all exec with no dir"                               "ip -all netns exec echo hi"
C all-del-nodir    "-all delete with no dir"                             "ip -all netns delete"
C pids-nodir       "pids of a name, no dir"                              "ip netns pids x"
C listid-nodir     "list-id with no dir (no peers)"                      "ip netns list-id"
C json-listid-empty "-j list-id with no peers"                           "ip -j netns list-id"

# ---------------------------------------------------------------- 2. argument / name validation
C add-noarg        "add without a name"                                  "ip netns add"
C add-empty        "add with empty name"                                 "ip netns add ''"
C add-slash        "name containing /"                                   "ip netns add a/b"
C add-dot          "name ."                                              "ip netns add ."
C add-dotdot       "name .."                                             "ip netns add .."
C add-300          "300-char name (> NAME_MAX)"                          "ip netns add $L300"
C add-256          "256-char name (> NAME_MAX)"                          "ip netns add $L256"
C list-badname     "validation applies to argv[1] of ANY subcommand"     "ip netns list .."
C unknown-sub      "unknown subcommand"                                  "ip netns frobnicate"
C empty-sub        "empty subcommand string (matches nothing)"           "ip netns ''"
C help             "help (usage to stderr)"                              "ip netns help"
C help-abbrev      "'h' abbreviates help"                                "ip netns h"
C dir-after-fails  "no /run/netns was created by the failed commands"    "ls -A /run"

# ---------------------------------------------------------------- 3. add / list basics
C add-first "first add creates /run/netns (0755) and makes it a shared bind mount of itself" <<'EOF'
ip netns add ns1 && stat -c '%n %a %U %F' /run/netns /run/netns/ns1 && /tmp/mnts.sh /run/netns
EOF
C add-dup          "duplicate add"                                       "ip netns add ns1"
C add-255          "255-char name is valid"                              "ip netns add $L255 && ip netns list && ip netns delete $L255"
C add-more "more adds: no further bind of /run/netns, each name is an nsfs bind mount" <<'EOF'
ip netns add ns2 && ip netns add ns3 && /tmp/mnts.sh /run/netns
EOF
C add-extra-args   "extra args after NAME are ignored"                   'ip netns add ns4 extra junk; echo rc=$?; ip netns list'
S "ip netns delete ns4"
C add-umask "mkdir of /run/netns honours umask (private copy of /run, umask 077)" <<'EOF'
unshare --mount --propagation private sh -c 'mount -n -t tmpfs x /run; umask 077; ip netns add u1; stat -c "%n %a" /run/netns /run/netns/u1; ip netns delete u1'
EOF
C list-noids       "list, no nsids assigned (readdir order, no sort)"    "ip netns list"
C list-abbrev-s    "'s' abbreviates show = list"                         "ip netns s"
C list-lst         "'lst' alias"                                         "ip netns lst"
C list-extra       "list ignores extra args"                             "ip netns list whatever"
C obj-abbrev       "'ip net l' (object and command abbreviations)"       "ip net l"
C json-noids       "-j list without ids"                                 "ip -j netns list"
C json-pretty-noids "-j -p list without ids"                             "ip -j -p netns list"

# ---------------------------------------------------------------- 4. set / nsid
C set-noarg        "set without name"                                    "ip netns set"
C set-noid         "set without id"                                      "ip netns set ns1"
C set-neg          "negative id"                                         "ip netns set ns1 -1"
C set-junk         "non-numeric id"                                      "ip netns set ns1 abc"
C set-huge         "id > INT_MAX"                                        "ip netns set ns1 99999999999"
C set-missing      "set on a missing name"                               "ip netns set missing 3"
C set-ok           "set ns1 7"                                           "ip netns set ns1 7"
C set-again        "re-set an already assigned peer"                     "ip netns set ns1 8"
C set-inuse        "id already used by another peer"                     "ip netns set ns2 7"
C set-hex          "base-0 parsing: 0x10 = 16"                           "ip netns set ns2 0x10"
C set-auto         "auto: kernel picks the lowest free id"               "ip netns set ns3 auto"
C list-ids         "list with ids"                                       "ip netns list"
C json-ids         "-j list with ids"                                    "ip -j netns list"
C json-pretty-ids  "-j -p list with ids"                                 "ip -j -p netns list"
C pretty-only      "-p without -j has no effect"                         "ip -p netns list"

# ---------------------------------------------------------------- 5. list-id
C listid           "list-id"                                             "ip netns list-id"
C listid-json      "-j list-id"                                          "ip -j netns list-id"
C listid-json-p    "-j -p list-id"                                       "ip -j -p netns list-id"
C listid-nsid      "list-id nsid 7"                                      "ip netns list-id nsid 7"
C listid-nsid-json "-j list-id nsid 7"                                   "ip -j netns list-id nsid 7"
C listid-nsid-miss "list-id nsid 99 (unknown)"                           "ip netns list-id nsid 99"
C listid-tgt-empty "target-nsid 7 (nothing assigned inside ns1 yet)"     "ip netns list-id target-nsid 7"
S "ip -n ns1 netns set ns2 22"
C listid-tgt       "target-nsid 7 after 'ip -n ns1 netns set ns2 22'"    "ip netns list-id target-nsid 7"
C listid-tgt-nsid  "target-nsid 7 nsid 16"                               "ip netns list-id target-nsid 7 nsid 16"
C listid-tgt-json  "-j list-id target-nsid 7"                            "ip -j netns list-id target-nsid 7"
C listid-tgt-miss  "unknown target-nsid"                                 "ip netns list-id target-nsid 99"
C listid-tgt-neg   "negative target-nsid"                                "ip netns list-id target-nsid -1"
C listid-tgt-junk  "junk target-nsid"                                    "ip netns list-id target-nsid x"
C listid-tgt-noval "target-nsid without value"                           "ip netns list-id target-nsid"
C listid-tgt-neg2  "negative target-nsid followed by more args: message names the NEXT word" "ip netns list-id target-nsid -1 nsid 5"
C listid-nsid-neg  "negative nsid"                                       "ip netns list-id nsid -3"
C listid-dup       "duplicate nsid keyword"                              "ip netns list-id nsid 7 nsid 7"
C listid-badkw     "unknown keyword -> usage"                            "ip netns list-id bogus"
C listid-unnamed "a peer with an nsid but no name (kept alive by a process)" <<'EOF'
ip netns add tmpx && ip netns set tmpx 40 && { ip netns exec tmpx sleep 100000 >/dev/null 2>&1 & }
sleep 0.3; ip netns delete tmpx; ip netns list-id; echo rc=$?; ip -j netns list-id
EOF

# ---------------------------------------------------------------- 6. identify / pids / attach
S 'ip netns exec ns1 sleep 100000 > /dev/null 2>&1 & echo $! > /tmp/sleeper.pid; sleep 0.3; cat /tmp/sleeper.pid'
C identify-self    "identify self (sandbox netns has no name): empty line" "ip netns identify"
C identify-pid1    "identify pid 1"                                      "ip netns identify 1"
C identify-sleeper "identify a pid living in ns1"                        'ip netns identify $(cat /tmp/sleeper.pid)'
C identify-notpid  "identify a non-numeric string"                       "ip netns identify abc"
C identify-extra   "identify with 2 args"                                "ip netns identify 1 2"
C identify-nopid   "identify a pid that does not exist"                  "ip netns identify 999999"
C identify-neg     "identify -1 (not all digits)"                        "ip netns identify -1"
C identify-slash   "identify 1/2 (name validation runs first)"           "ip netns identify 1/2"
C identify-n       "ip -n ns1 netns identify"                            "ip -n ns1 netns identify"
C identify-json    "-j has no effect on identify"                       'ip -j netns identify $(cat /tmp/sleeper.pid)'
C pids-ns1         "pids of ns1 (the sleeper)"                           'ip netns pids ns1; echo sleeper=$(cat /tmp/sleeper.pid)'
C pids-empty       "pids of a netns without processes"                   "ip netns pids ns2"
C pids-noarg       "pids without name"                                   "ip netns pids"
C pids-extra       "pids with 2 args"                                    "ip netns pids ns1 ns2"
C pids-missing     "pids of missing ns"                                  "ip netns pids missing"
C attach-noarg     "attach without args"                                 "ip netns attach"
C attach-nopid     "attach without pid"                                  "ip netns attach at1"
C attach-zero      "attach pid 0"                                        "ip netns attach at1 0"
C attach-junk      "attach non-numeric pid"                              "ip netns attach at1 12x"
C attach-nosuch    "attach a pid that does not exist (file removed again)" 'ip netns attach at1 999999; echo rc=$?; ls /run/netns'
C attach-sleeper   "attach a second name to ns1; identify prints one name (last match in readdir order)" <<'EOF'
ip netns attach at1 $(cat /tmp/sleeper.pid) && ip netns list && ip netns identify $(cat /tmp/sleeper.pid)
EOF
C attach-dup       "attach an existing name"                             "ip netns attach at1 1"
C attach-init      "attach the sandbox's own netns (pid 1)"              "ip netns attach root 1 && ip netns identify && ip netns list"
S "ip netns delete at1; ip netns delete root"

# ---------------------------------------------------------------- 7. exec
C exec-noarg       "exec without name"                                   "ip netns exec"
C exec-nocmd       "exec without command"                                "ip netns exec ns1"
C exec-missing-ns  "exec in a missing namespace"                         "ip netns exec missing true"
C exec-missing-cmd "exec of a command that does not exist"               "ip netns exec ns1 no-such-cmd-xyz"
C exec-noexec      "exec of a non-executable file"                       "ip netns exec ns1 /tmp/notexec"
C exec-noshebang   "execvp ENOEXEC fallback to /bin/sh"                  "ip netns exec ns1 /tmp/noshebang a b"
C exec-rc42        "exit code propagation"                               "ip netns exec ns1 sh -c 'exit 42'"
C exec-signal      "child killed by SIGTERM (ip itself was replaced by exec)" 'ip netns exec ns1 sh -c '\''kill -TERM $$'\'''
C exec-links       "links visible inside"                                "ip netns exec ns1 ip -o link"
C exec-sys         "/sys is a fresh sysfs (source = netns name) for the netns" "ip netns exec ns1 ls /sys/class/net; ip netns exec ns1 /tmp/mnts.sh /sys | head -1"
C exec-rslave      "propagation of / inside exec (was private in the sandbox)" "ip netns exec ns1 /tmp/mnts.sh / | head -1"
C exec-env         "environment passed through unchanged (except _)"     "diff <(env | grep -v '^_=' | sort) <(ip netns exec ns1 env | grep -v '^_=' | sort) && echo same-env"
C exec-identify    "ip netns identify inside exec"                       "ip netns exec ns1 ip netns identify"
S "mkdir -p /etc/netns/ns1/subdir && echo 'nameserver 192.0.2.53' > /etc/netns/ns1/resolv.conf && echo extra > /etc/netns/ns1/not-in-etc.conf"
C exec-etc-bind    "/etc/netns/ns1/* bind-mounted over /etc/* (missing targets fail, non-fatal)" "ip netns exec ns1 cat /etc/resolv.conf"
C exec-etc-outside "the bind mounts are invisible outside"               "cat /etc/resolv.conf | grep -c 192.0.2.53"
C n-etc-bind       "ip -n also applies /etc/netns binds"                 "ip -n ns1 link show lo >/dev/null; echo rc=\$?"
S "rm -rf /etc/netns"
C exec-dashdash    "no option parsing after NAME: -- becomes the command" "ip netns exec ns1 -- true"
C exec-badname     "exec with invalid name"                              "ip netns exec ../x true"

# ---------------------------------------------------------------- 8. -all exec
C all-exec-nocmd   "-all exec without command"                           "ip -all netns exec"
C all-exec-several "-all exec over every name (readdir order)"           "ip -all netns exec ip netns identify"
C all-exec-fail    "-all exec where the command fails: continues, rc 0"  'ip -all netns exec sh -c '\''echo $(ip netns identify); exit 3'\'''
C all-exec-missing "-all exec of a missing command"                      "ip -all netns exec no-such-cmd-xyz"
C all-exec-signal  "-all exec where the command is killed: ip stops, rc 1" 'ip -all netns exec sh -c '\''kill -9 $$'\'''
C all-exec-a       "-a abbreviates -all"                                 "ip -a netns exec true"
C all-exec-name    "-all exec: the first word is the command, not a name" "ip -all netns exec ns1"
C all-exec-out-order "stdout ordering of headers vs child output when redirected" "ip -all netns exec sh -c 'echo out; echo err >&2' 2>&1"
S "touch /run/netns/bogus"
C all-exec-bogus   "-all exec with a non-netns file in /run/netns (6.1: failing child keeps looping)" "ip -all netns exec ip netns identify"
C list-bogus       "list with a non-netns file (GETNSID error printed twice)" "ip netns list"
C list-bogus-merged "same, stdout+stderr merged: stdout is block-buffered, so both errors come first" "ip netns list 2>&1"
C listid-bogus-merged "list-id merged: error (from the cache pass) precedes the records" "ip netns list-id 2>&1"
C json-list-bogus  "-j list with a non-netns file"                       "ip -j netns list"
C listid-bogus     "list-id with a non-netns file"                       "ip netns list-id"
C identify-bogus   "identify with a non-netns file present"              "ip netns identify"
C exec-bogus       "exec into a non-netns file"                          "ip netns exec bogus true"
C set-bogus        "set on a non-netns file"                             "ip netns set bogus 9"
C pids-bogus       "pids of a non-netns file (matches nothing)"          "ip netns pids bogus"
C del-bogus        "delete a plain file"                                 "ip netns delete bogus"

# ---------------------------------------------------------------- 9. -n / -netns
C n-link           "ip -n ns1 link"                                      "ip -n ns1 link"
C netns-long       "ip -netns ns1 -o link"                               "ip -netns ns1 -o link"
C n-missing        "ip -n missing link"                                  "ip -n missing link"
C n-noarg          "ip -n with no value"                                 "ip -n"
C n-dotdot         "-n does no name validation (path traversal works)"   "ip -n ../netns/ns1 netns identify"
C n-netns-add "ip -n ns1 netns add inner: the bind mount stays in ip's private mount ns" <<'EOF'
ip -n ns1 netns add inner; echo rc=$?; stat -c '%n %a' /run/netns/inner; ip netns list; ip netns exec inner true; echo exec-rc=$?
EOF
S "ip netns delete inner"  # the real ip leaves a ghost file here, nsctl a real netns; both go

# ---------------------------------------------------------------- 10. names that need escaping
C add-odd-names    "names with space, quote, tab, backslash, leading dash, UTF-8" <<'EOF'
ip netns add 'sp ace' && ip netns add 'q"x' && ip netns add $'t\tb' && ip netns add 'b\s' && ip netns add -dash && ip netns add 'über' && ip netns list
EOF
C json-odd-names   "-j list escaping"                                    "ip -j netns list"
S "ip netns delete 'sp ace'; ip netns delete 'q\"x'; ip netns delete \$'t\\tb'; ip netns delete 'b\\s'; ip netns delete -dash; ip netns delete über; ls /run/netns"

# ---------------------------------------------------------------- 11. delete
C del-noarg        "delete without name"                                 "ip netns delete"
C del-missing      "delete a missing name"                               "ip netns delete missing"
C del-abbrev       "'del' abbreviation; extra args ignored"              'ip netns add d1 && ip netns del d1 extra; echo rc=$?; ls /run/netns'
C del-inuse        "delete while a process is inside: succeeds"          <<'EOF'
ip netns add d2 && { ip netns exec d2 sleep 100000 >/dev/null 2>&1 & }
sleep 0.3; ip netns delete d2; echo rc=$?; ls /run/netns
EOF
C del-other-mntns  "delete while mounted in another (private) mount ns: succeeds (kernel >= 3.18)" <<'EOF'
ip netns add d3 && { unshare --mount --propagation private sleep 100000 >/dev/null 2>&1 & }
sleep 0.3; ip netns delete d3; echo rc=$?; ls /run/netns
EOF
C del-stacked      "delete with two stacked mounts on the name: EBUSY"   <<'EOF'
ip netns add d4 && mount -n --bind /run/netns/d4 /run/netns/d4 && ip netns delete d4; echo rc=$?; ls /run/netns; ip netns delete d4; echo rc2=$?; ls /run/netns
EOF
C all-del-name     "-all delete ignores NAME and removes everything"     <<'EOF'
ip netns add z1 && ip netns add z2 && ip -all netns delete z1; echo rc=$?; ls -A /run/netns | wc -l
EOF
C list-emptydir    "list with an existing but empty /run/netns"          "ip netns list"
C json-emptydir    "-j list with an existing but empty /run/netns"       "ip -j netns list"
C json-p-emptydir  "-j -p list with an existing but empty /run/netns"    "ip -j -p netns list"
C all-exec-emptydir "-all exec with an empty /run/netns"                 "ip -all netns exec echo hi"
C all-del-stops    "-all delete stops at the first failure but still exits 0" <<'EOF'
ip netns add k1 && ip netns add k2 && mount -n --bind /run/netns/k2 /run/netns/k2 && ls /run/netns && ip -all netns delete; echo rc=$?; ls /run/netns; umount -n /run/netns/k2; ip netns delete k2; ip netns delete k1; ls -A /run/netns | wc -l
EOF
S "ip netns add ns1; ip netns add ns2; ip netns add ns3; ip netns set ns1 7; ip netns list"
C all-add-novalid  "-all disables name validation (add a/b reaches open())" "ip -all netns add a/b"
C all-add-dotdot   "-all add .. : passes validation, fails at open(O_CREAT|O_EXCL)" 'ip -all netns add ..; echo rc=$?; ls -A /run'

# ---------------------------------------------------------------- 12. -batch
S "ip netns add b1"
cat > /tmp/batch-dup <<'EOF'
netns add b2
netns add b2
netns list
EOF
cat > /tmp/batch-exec <<'EOF'
netns exec b1 sh -c "exit 3"
netns list
EOF
cat > /tmp/batch-kill <<'EOF'
netns exec b1 echo before
netns exec b1 sh -c 'kill -9 $$'
netns list
EOF
cat > /tmp/batch-invalid <<'EOF'
netns add a/b
netns list
EOF
cat > /tmp/batch-exec-missing <<'EOF'
netns exec missing true
netns identify
EOF
cat > /tmp/batch-set <<'EOF'
netns set b1 5
netns list-id
# comment line

netns list
netns delete b2
EOF
C batch-dup        "batch stops at the first failure"                    "ip -batch /tmp/batch-dup"
C batch-dup-force  "-force continues (b2 already exists now)"            "ip -force -batch /tmp/batch-dup"
C batch-exec-rc    "batch exec forks; non-zero child status = failure"   "ip -batch /tmp/batch-exec"
C batch-exec-kill  "batch exec child killed by signal: ip exits 1 at once" "ip -force -batch /tmp/batch-kill"
C batch-invalid    "invalid name inside batch exits the whole batch (255) even with -force" "ip -force -batch /tmp/batch-invalid"
C batch-exec-miss  "batch exec into missing ns (6.1: the failed child continues the batch too)" "ip -force -batch /tmp/batch-exec-missing"
C batch-set        "batch: set, list-id, comment, blank, list, delete"   "ip -batch /tmp/batch-set"
C batch-stdin      "batch from stdin (-)"                                "printf 'netns list\nnetns bogus\n' | ip -batch -"
S "ip netns set ns1 50; ip netns set ns2 51; ip -n ns1 netns set ns2 22; ip netns list-id"
C listid-tgt-direct "reference: list-id target-nsid 50 run directly"     "ip netns list-id target-nsid 50"
C batch-listid-tgt "batch mode: target-nsid silently ignored (no NETLINK_GET_STRICT_CHK on the batch socket)" "printf 'netns list-id target-nsid 50\nnetns list-id target-nsid 99\n' | ip -batch -"
C batch-nofile     "missing batch file"                                  "ip -batch /tmp/nope"
C batch-noarg      "-batch without file -> usage"                        "ip -batch"
C f-is-family      "-f is -family, not -force"                           "ip -f -batch /tmp/batch-dup"
S "ip netns delete b1; ip netns delete b2"

# ---------------------------------------------------------------- 13. monitor
C monitor-pipe     "monitor with stdout to a file, killed by SIGTERM: block-buffered output is lost" <<'EOF'
ip netns monitor > /tmp/mon1 2>&1 & p=$!; sleep 0.3; ip netns add m1; ip netns delete m1; sleep 0.3; kill $p; wait $p; echo monitor-rc=$?; echo captured:; cat /tmp/mon1
EOF
C monitor-linebuf  "monitor under stdbuf -oL: one line per IN_CREATE / IN_DELETE" <<'EOF'
stdbuf -oL ip netns monitor > /tmp/mon2 2>&1 & p=$!; sleep 0.3
ip netns add m1; ip netns delete m1; ip netns attach m2 1; ip netns delete m2; touch /run/netns/plain; rm /run/netns/plain; mkdir /run/netns/dir; rmdir /run/netns/dir
sleep 0.3; kill $p; wait $p; echo captured:; cat /tmp/mon2
EOF
C monitor-nodir    "monitor creates /run/netns if missing"               <<'EOF'
unshare --mount --propagation private sh -c 'mount -n -t tmpfs x /run; timeout 0.5 ip netns monitor; echo rc=$?; stat -c "%n %a" /run/netns'
EOF

# ---------------------------------------------------------------- 14. non-root
NR="setpriv --reuid=65534 --regid=65534 --clear-groups"
C nonroot-list     "list as nobody"                                      "$NR ip netns list"
C nonroot-add      "add as nobody"                                       "$NR ip netns add nr1"
C nonroot-exec     "exec as nobody"                                      "$NR ip netns exec ns1 true"
C nonroot-del      "delete as nobody"                                    "$NR ip netns delete ns1"
C nonroot-identify "identify root's pid 1 as nobody"                     "$NR ip netns identify 1"
C nonroot-set      "set as nobody"                                       "$NR ip netns set ns2 30"

# ---------------------------------------------------------------- 15. parallel add (flock) & mount table
C parallel-add     "20 parallel adds: exactly one /run/netns bind mount afterwards" <<'EOF'
for i in $(seq 1 20); do ip netns add p$i & done; wait; ls /run/netns | grep -c '^p'; /tmp/mnts.sh /run/netns | awk '$2 == "/run/netns"'
EOF
C mounts-final     "mount table below /run/netns"                        "/tmp/mnts.sh /run/netns | sort -k2"

# ---------------------------------------------------------------- 16. cleanup
C all-del-final    "-all delete everything"                              'ip -all netns delete; echo rc=$?; ls -A /run/netns | wc -l; /tmp/mnts.sh /run/netns'


echo "ran $n cases"
