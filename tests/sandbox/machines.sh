# tests/sandbox/machines.sh - sourced inside a sandbox (tests/sandbox/run.sh): "machines" for
# labs across hosts, each a network namespace with its own mount namespace, /run and
# /etc/netns (so its nsctl has its own /run/netns, journal and hosts files), joined by an
# underlay bridge `ul` (192.0.2.N/24, 2001:db8::N/64). Used by tests/integration/machines.rs
# and bench/multihost.sh.
#   mkhost N       make machine N
#   on N CMD...    run CMD on machine N
#   ssh_client     a key and an ssh config for driving the machines from the sandbox
#                  (192.0.2.254), exported as NSCTL_SSH, with NSCTL_REMOTE=$NSCTL
#   sshd_on N      an OpenSSH server on machine N's underlay address, taking that key
ip link add ul type bridge && ip link set ul up
mkhost() {
  mkdir -p /etc/netns
  unshare --net --mount --propagation private bash -c "mount -t tmpfs tmpfs /run && mount -t tmpfs tmpfs /etc/netns && touch /tmp/ready$1 && exec sleep 3600" > /dev/null 2>&1 &
  eval "H$1=$!"
  for _ in $(seq 100); do [ -e /tmp/ready$1 ] && break; sleep 0.05; done
  ip link add u$1 type veth peer name eth0 netns $!
  ip link set u$1 master ul up
  on $1 sh -c "ip addr add 192.0.2.$1/24 dev eth0 && ip -6 addr add 2001:db8::$1/64 dev eth0 nodad && ip link set eth0 up && ip link set lo up"
}
on() { local p; eval "p=\$H$1"; shift; nsenter -t "$p" -n -m "$@"; }
ssh_client() {
  ip addr add 192.0.2.254/24 dev ul
  # sshd refuses keys for an account whose password is locked ('!'): unlock root in the
  # sandbox's own /etc (an overlay; the host's is untouched).
  sed -i -E 's/^root:[^:]*:/root:*:/' /etc/shadow
  ssh-keygen -q -t ed25519 -N '' -f /tmp/id && cp /tmp/id.pub /tmp/authorized_keys
  printf 'Host *\n  IdentityFile /tmp/id\n  UserKnownHostsFile /tmp/known_hosts\n  StrictHostKeyChecking no\n  LogLevel ERROR\n' > /tmp/ssh_config
  export NSCTL_SSH="ssh -F /tmp/ssh_config" NSCTL_REMOTE=$NSCTL
}
sshd_on() {
  mkdir -p /tmp/h$1 && ssh-keygen -q -t ed25519 -N '' -f /tmp/h$1/hostkey
  printf 'ListenAddress 192.0.2.%s\nHostKey /tmp/h%s/hostkey\nPermitRootLogin prohibit-password\nAuthorizedKeysFile /tmp/authorized_keys\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPidFile /run/sshd.pid\n' $1 $1 > /tmp/h$1/sshd_config
  on $1 mkdir -p /run/sshd
  on $1 /usr/sbin/sshd -f /tmp/h$1/sshd_config -E /tmp/h$1/sshd.log
}
