#!/usr/bin/env python3
"""gen.py N DIR: the N-namespace star lab, as a lab file for nsctl and as ip commands.

DIR/lab.toml   for nsctl apply/destroy
DIR/ip-up.sh   the same lab as a shell script of ip commands (one ip process per command)
DIR/ip-down.sh its teardown
DIR/ipb-up.sh  the same commands through ip -b: one batch for the host, and one
               `ip -n nsI -b` per namespace (ip batch lines cannot switch namespaces)
"""
import os
import sys

n, d = int(sys.argv[1]), sys.argv[2]
gw = "10.100.255.254"


def addr(i):
    return f"10.100.{i // 250}.{i % 250 + 1}/16"


lab = [f'name = "star{n}"', "[bridge.br-star]", f'addresses = ["{gw}/16"]']
for i in range(1, n + 1):
    lab.append(f'[netns.ns{i}]\nroutes = ["default via {gw}"]')
for i in range(1, n + 1):
    lab.append(f'[[veth]]\nends = [{{ netns = "ns{i}", name = "eth0", addresses = ["{addr(i)}"] }}, '
               f'{{ name = "vs{i}", bridge = "br-star" }}]')
open(os.path.join(d, "lab.toml"), "w").write("\n".join(lab) + "\n")

host = ["link add br-star type bridge", "link set br-star up", f"addr add {gw}/16 dev br-star"]
per_ns = {}
for i in range(1, n + 1):
    host += [f"netns add ns{i}", f"link add vs{i} type veth peer name eth0 netns ns{i}",
             f"link set vs{i} master br-star up"]
    per_ns[i] = ["link set lo up", f"addr add {addr(i)} dev eth0", "link set eth0 up",
                 f"route add default via {gw}"]
up = ["set -e"] + [f"ip {c}" for c in host]
for i, cmds in per_ns.items():
    up += [f"ip -n ns{i} {c}" for c in cmds]
open(os.path.join(d, "ip-up.sh"), "w").write("\n".join(up) + "\n")
down = [f"ip netns delete ns{i}" for i in range(1, n + 1)] + ["ip link delete br-star"]
open(os.path.join(d, "ip-down.sh"), "w").write("\n".join(down) + "\n")
open(os.path.join(d, "host.batch"), "w").write("\n".join(host) + "\n")
for i, cmds in per_ns.items():
    open(os.path.join(d, f"ns{i}.batch"), "w").write("\n".join(cmds) + "\n")
ipb = ["set -e", f"ip -b {d}/host.batch"] + [f"ip -n ns{i} -b {d}/ns{i}.batch" for i in per_ns]
open(os.path.join(d, "ipb-up.sh"), "w").write("\n".join(ipb) + "\n")
