#!/usr/bin/env python3
"""gen_fabric.py B P DIR: the fabric of examples/fabric10k.toml (B switch namespaces, each
with a bridge of P namespaces and an uplink to the host, which routes between them) as the
iproute2 commands that build it, for the `ip -b` comparison in bench/run.sh.

DIR/ipb-up.sh   one `ip -b` batch for the host, one `ip -n sK -b` per switch and one
                `ip -n nI -b` per namespace (ip batch lines cannot switch namespaces); the
                sysctls the lab file sets are set by sysctl, before the links are made
DIR/ip-down.sh  its teardown
"""
import os
import sys

b, p, d = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
n = b * p
host = [f"netns add s{k}" for k in range(1, b + 1)] + [f"netns add n{i}" for i in range(1, n + 1)]
pre = ["sysctl -qw net.ipv4.ip_forward=1"]
pre += [f"ip netns exec s{k} sysctl -qw net.ipv6.conf.default.disable_ipv6=1" for k in range(1, b + 1)]
host += [f"link add up{k} type veth peer name up netns s{k}" for k in range(1, b + 1)]
host += [f"addr add 10.{k}.0.1/16 dev up{k}" for k in range(1, b + 1)]
host += [f"link set up{k} up" for k in range(1, b + 1)]
switch = {k: [f"link add br{k} type bridge", "link set lo up"] for k in range(1, b + 1)}
per_ns = {}
for i in range(1, n + 1):
    k = (i - 1) // p + 1
    switch[k] += [f"link add v{i} type veth peer name eth0 netns n{i}"]
    per_ns[i] = ["link set lo up", f"addr add 10.{k}.1.{(i - 1) % p + 1}/16 dev eth0",
                 "link set eth0 up", f"route add default via 10.{k}.0.1"]
for k in switch:
    switch[k] += [f"link set dev up master br{k} up"]
    switch[k] += [f"link set v{i} master br{k} up" for i in range((k - 1) * p + 1, k * p + 1)]
    switch[k] += [f"link set br{k} up"]
os.makedirs(os.path.join(d, "ns"), exist_ok=True)
open(os.path.join(d, "host.batch"), "w").write("\n".join(host) + "\n")
for k, cmds in switch.items():
    open(os.path.join(d, "ns", f"s{k}.batch"), "w").write("\n".join(cmds) + "\n")
for i, cmds in per_ns.items():
    open(os.path.join(d, "ns", f"n{i}.batch"), "w").write("\n".join(cmds) + "\n")
# The namespaces first (the switch sysctls need them), then the sysctls, then the links.
up = ["set -e", f"ip -b {d}/host.batch.ns"] + pre + [f"ip -b {d}/host.batch.links"]
up += [f"ip -n s{k} -b {d}/ns/s{k}.batch" for k in switch]
up += [f"ip -n n{i} -b {d}/ns/n{i}.batch" for i in per_ns]
nsl = [c for c in host if c.startswith("netns add")]
links = [c for c in host if not c.startswith("netns add")]
open(os.path.join(d, "host.batch.ns"), "w").write("\n".join(nsl) + "\n")
open(os.path.join(d, "host.batch.links"), "w").write("\n".join(links) + "\n")
os.remove(os.path.join(d, "host.batch"))
open(os.path.join(d, "ipb-up.sh"), "w").write("\n".join(up) + "\n")
down = [f"ip netns delete n{i}" for i in per_ns] + [f"ip netns delete s{k}" for k in switch]
open(os.path.join(d, "ip-down.sh"), "w").write("\n".join(down) + "\n")
