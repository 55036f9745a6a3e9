#!/usr/bin/env python3
"""table.py OUT: the markdown report of a bench run (medians, ratios, user/sys, RSS, targets)."""
import json
import os
import sys

out = sys.argv[1]
env = os.environ
smoke = env.get("SMOKE") == "1"


def load(key):
    """The results of one case: [nsctl, ip]. A case measured in both orders (KEY.1.json with
    nsctl first, KEY.2.json with ip first) is merged, so neither program always runs second."""
    p = os.path.join(out, key + ".json")
    if os.path.exists(p):
        return json.load(open(p))["results"]
    parts = [os.path.join(out, f"{key}.{k}.json") for k in (1, 2)]
    if not all(os.path.exists(q) for q in parts):
        return None
    first = json.load(open(parts[0]))["results"]
    second = list(reversed(json.load(open(parts[1]))["results"]))
    merged = []
    for a, b in zip(first, second):
        n = len(a["times"]) + len(b["times"])
        merged.append({"times": a["times"] + b["times"],
                       "user": (a["user"] * len(a["times"]) + b["user"] * len(b["times"])) / n,
                       "system": (a["system"] * len(a["times"]) + b["system"] * len(b["times"])) / n})
    return merged


def med(r):
    t = sorted(r["times"])
    return t[len(t) // 2]


def ms(x):
    return f"{x * 1000:.1f} ms" if x < 10 else f"{x:.2f} s"


rss = {}
if os.path.exists(os.path.join(out, "rss.txt")):
    for line in open(os.path.join(out, "rss.txt")):
        k, v = line.split()
        rss[k] = int(v)


def mib(k):
    return f"{rss[k] / 1024:.1f} MiB" if k in rss else "-"


print("| case | nsctl median | ip median | nsctl/ip | nsctl user / sys | ip user / sys | nsctl peak RSS |")
print("|---|---|---|---|---|---|---|")
ratios = {}
for label, key in [("exec NAME true", "exec"), ("add", "add"), ("delete", "delete"),
                   (f"list ({env['LISTN']} names)", "list"), (f"-j list ({env['LISTN']} names)", "jlist"),
                   ("-n NS link set lo up", "nlink"),
                   (f"-n NS link show ({2 * int(env['LISTN']) + 1} links)", "lshow"),
                   (f"-n NS addr show ({2 * int(env['LISTN']) + 1} links)", "ashow"),
                   (f"-n NS route show ({2 * int(env['LISTN'])} routes)", "rshow"), (f"-b FILE ({env['BATCH']} adds)", "batch"),
                   (f"-all delete ({env['BATCH']} names)", "alldel")]:
    r = load(key)
    if not r:
        continue
    n, i = r
    ratios[key] = med(n) / med(i)
    print(f"| {label} | {ms(med(n))} | {ms(med(i))} | {ratios[key]:.2f} | {ms(n['user'])} / {ms(n['system'])} "
          f"| {ms(i['user'])} / {ms(i['system'])} | {mib(key)} |")

print()
print("| lab | nsctl apply | ip shell script | ip -b | apply vs script | apply vs ip -b | nsctl destroy | ip teardown script | nsctl apply RSS |")
print("|---|---|---|---|---|---|---|---|---|")
labs = {}
obs = {}
for n in [env["LAB1"], env["LAB2"]]:
    a, dn, sh, shd, b = (load(k + n) for k in ["apply", "destroy", "ipsh", "ipshdown", "ipb"])
    if not a:
        continue
    labs[n] = med(a[0])
    print(f"| {n} namespaces | {ms(med(a[0]))} | {ms(med(sh[0]))} | {ms(med(b[0]))} | {med(sh[0]) / med(a[0]):.1f}x faster "
          f"| {med(b[0]) / med(a[0]):.1f}x faster | {ms(med(dn[0]))} | {ms(med(shd[0]))} | {mib('apply' + n)} |")
    ratios["script" + n] = med(sh[0]) / med(a[0])
    ra, st = load("reapply" + n), load("status" + n)
    if ra and st:
        obs[n] = (med(ra[0]), med(st[0]), med(a[0]))
    ratios["ipb" + n] = med(a[0]) / med(b[0])

fresh = {}
if os.path.exists(os.path.join(out, "fresh.txt")):
    for line in open(os.path.join(out, "fresh.txt")):
        k, v = line.split()
        fresh[k] = float(v)
if obs:
    print()
    print("| lab | nsctl apply | no-op re-apply | re-apply / apply | status | status / apply | status right after apply |")
    print("|---|---|---|---|---|---|---|")
    for n, (ra, st, a) in obs.items():
        f = fresh.get("status_fresh" + n)
        fr = f"{ms(f)} ({f / a:.2f})" if f else "-"
        print(f"| {n} namespaces | {ms(a)} | {ms(ra)} | {ra / a:.2f} | {ms(st)} | {st / a:.2f} | {fr} |")

fab = {}
if os.path.exists(os.path.join(out, "fabric.txt")):
    for line in open(os.path.join(out, "fabric.txt")):
        k, *v = line.split()
        fab[k] = [float(x) for x in v]
if "apply" in fab:
    a = fab["apply"][0]
    print()
    print("| 10,000-namespace fabric | time | / apply | nsctl peak RSS |")
    print("|---|---|---|---|")
    for k, label in [("apply", "nsctl apply"), ("reapply", "no-op re-apply"), ("status", "status"),
                     ("destroy", "destroy"), ("ipb", "ip -b of the same fabric")]:
        if k in fab:
            t = fab[k][0]
            r = f"{fab[k][1] / 1024:.1f} MiB" if k != "ipb" else "-"
            print(f"| {label} | {ms(t)} | {t / a:.2f} | {r} |")
    if "kmem" in fab:
        print(f"| kernel memory per namespace | {fab['kmem'][0]:.0f} KiB | | |")

if smoke:
    print("\n(smoke run: tiny sizes, targets not judged)")
    sys.exit(0)

print("\n| target | figure | |")
print("|---|---|---|")
single = [k for k in ["exec", "add", "delete", "list", "jlist", "nlink", "lshow", "ashow", "rshow"] if k in ratios]
worst = max(single, key=lambda k: ratios[k])
rows = [
    ("single commands: nsctl/ip <= 1.0", f"worst {worst} {ratios[worst]:.2f}", ratios[worst] <= 1.0),
    ("batch: nsctl/ip -b <= 1.0", f"{ratios.get('batch', 0):.2f}", ratios.get("batch", 9) <= 1.0),
]
for n in [env["LAB1"], env["LAB2"]]:
    if "script" + n in ratios:
        rows.append((f"lab {n}: apply >= 10x faster than the ip script", f"{ratios['script' + n]:.1f}x", ratios["script" + n] >= 10))
        rows.append((f"lab {n}: apply no slower than ip -b", f"nsctl/ip -b {ratios['ipb' + n]:.2f}", ratios["ipb" + n] <= 1.0))
if len(labs) == 2:
    a, b = labs[env["LAB1"]], labs[env["LAB2"]]
    rows.append((f"scaling: lab {env['LAB2']} <= 11x lab {env['LAB1']}", f"{b / a:.1f}x", b / a <= 11))
if env["LAB2"] in obs:
    ra, st, a = obs[env["LAB2"]]
    rows.append((f"lab {env['LAB2']}: no-op re-apply <= 0.2x apply", f"{ra / a:.2f}", ra / a <= 0.2))
    rows.append((f"lab {env['LAB2']}: status <= 0.2x apply", f"{st / a:.2f}", st / a <= 0.2))
if "apply" in fab and env["LAB2"] in labs:
    a = fab["apply"][0]
    rows.append((f"fabric 10,000: apply <= 11x the {env['LAB2']} lab's", f"{a / labs[env['LAB2']]:.1f}x",
                 a / labs[env["LAB2"]] <= 11))
    rows.append(("fabric 10,000: apply peak RSS < 64 MiB", f"{fab['apply'][1] / 1024:.1f} MiB",
                 fab["apply"][1] < 64 * 1024))
    if "ipb" in fab:
        rows.append(("fabric 10,000: apply no slower than ip -b", f"nsctl/ip -b {a / fab['ipb'][0]:.2f}",
                     a <= fab["ipb"][0]))
key = "apply" + env["LAB2"]
if key in rss:
    rows.append((f"peak RSS of the {env['LAB2']}-namespace apply < 32 MiB", mib(key), rss[key] < 32 * 1024))
for t, f, ok in rows:
    print(f"| {t} | {f} | {'met' if ok else 'MISSED'} |")
