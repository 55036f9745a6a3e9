#!/usr/bin/env python3
"""gen_fabric.py B P DIR: the fabric of examples/fabric10k.toml (B bridges of P namespaces in
the host, which routes between them) as the iproute2 commands that build it, for the
`ip -b` comparison in bench/run.sh.

DIR/ipb-up.sh   one `ip -b` batch for the host, and one `ip -n nI -b` per namespace
                (ip batch lines cannot switch namespaces); the host's forwarding is set by
                sysctl, as the lab file's [host] sysctl does
DIR/ip-down.sh  its teardown
"""
import os
import sys

b, p, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
host = []
for k in range(1, b + 1):
    host += [f"link add br{k} type bridge", f"link set br{k} up", f"addr add 10.{k}.0.1/16 dev br{k}"]
per_ns = {}
for i in range(1, b * p + 1):
    k = (i - 1) // p + 1
    host += [f"netns add n{i}", f"link add v{i} type veth peer name eth0 netns n{i}",
             f"link set v{i} master br{k} up"]
    per_ns[i] = ["link set lo up", f"addr add 10.{k}.1.{(i - 1) % p + 1}/16 dev eth0",
                 "link set eth0 up", f"route add default via 10.{k}.0.1"]
open(os.path.join(d, "host.batch"), "w").write("\n".join(host) + "\n")
os.makedirs(os.path.join(d, "ns"), exist_ok=True)
for i, cmds in per_ns.items():
    open(os.path.join(d, "ns", f"n{i}.batch"), "w").write("\n".join(cmds) + "\n")
up = ["set -e", "sysctl -qw net.ipv4.ip_forward=1", f"ip -b {d}/host.batch"]
up += [f"ip -n n{i} -b {d}/ns/n{i}.batch" for i in per_ns]
open(os.path.join(d, "ipb-up.sh"), "w").write("\n".join(up) + "\n")
down = [f"ip netns delete n{i}" for i in per_ns] + [f"ip link delete br{k}" for k in range(1, b + 1)]
open(os.path.join(d, "ip-down.sh"), "w").write("\n".join(down) + "\n")
