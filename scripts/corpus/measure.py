#!/usr/bin/env python3
"""Run lvtopo on every corpus network (validate; analyze at 0.1 V and 1 V; pv) and write
the measurement table (Markdown) to stdout and, with --write, into
sample-networks/corpus/README.md between the MEASUREMENTS markers.

  python3 scripts/corpus/measure.py --lvtopo /var/tmp/lvtopo-target/debug/lvtopo [--write]

One process at a time (the machine is shared). Needs no third-party Python package.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import score  # noqa: E402

CORPUS = os.path.join(ROOT, "sample-networks", "corpus")
START, END = "<!-- MEASUREMENTS:START -->", "<!-- MEASUREMENTS:END -->"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lvtopo", default="/var/tmp/lvtopo-target/debug/lvtopo")
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--json", help="also write the raw scores here")
    args = ap.parse_args()
    nets = sorted(d for d in os.listdir(args.corpus) if os.path.isfile(os.path.join(args.corpus, d, "truth.csv")))
    work = tempfile.mkdtemp(prefix="corpus-measure-")
    rows, pv_rows, raw, problems = [], [], {}, []
    for n in nets:
        d = os.path.join(args.corpus, n)
        rc, out = run([args.lvtopo, "validate", d])
        errs = [line for line in out.splitlines() if line.startswith("error")]
        if rc != 0 or errs:
            problems.append(f"{n}: validate exit {rc}: {errs[:3]}")
        for label, vfile in (("0.1 V", "voltage.csv.gz"), ("1 V", "voltage_1v.csv.gz")):
            a = os.path.join(work, f"{n}-{vfile}.csv")
            t0 = time.time()
            rc, out = run([args.lvtopo, "analyze", "--network", d, "--voltage", os.path.join(d, vfile),
                           "--truth", os.path.join(d, "truth.csv"), "--privacy-dir", tempfile.mkdtemp(dir=work),
                           "--purpose-file", os.path.join(d, "voltage.csv.gz.purpose.json"), "--quiet", "--out", a])
            if rc != 0:
                problems.append(f"{n} {label}: analyze exit {rc}: {out[-500:]}")
                continue
            s = score.score(d, a)
            raw[f"{n} {label}"] = s
            rows.append((n, label, score.summary(s), s["connections"], round(time.time() - t0, 1)))
        p = os.path.join(work, f"{n}-pv.csv")
        rc, out = run([args.lvtopo, "pv", "--network", d, "--feed-in", os.path.join(d, "feed_in.csv.gz"),
                       "--purpose-file", os.path.join(d, "pv_registration.purpose.json"),
                       "--privacy-dir", tempfile.mkdtemp(dir=work), "--out", p])
        if rc != 0:
            problems.append(f"{n}: pv exit {rc}: {out[-500:]}")
        else:
            pv_rows.append((n, score.score_pv(d, p)))
    cols = ["phase", "rotation", "feeder", "cable", "gis_feeder", "gis_cable", "precision", "recall",
            "rel_099", "rel_09", "feeder_099", "cable_099", "insufficient"]
    head = ["network", "read", "phase", "rotation", "feeder", "cable", "GIS feeder", "GIS cable",
            "precision (right/sugg.)", "recall (found/errors)", "stated >= 0.99 right", "stated [0.9, 0.99) right",
            "feeder >= 0.99 right", "cable >= 0.99 right", "insufficient"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for n, label, s, _, _ in rows:
        lines.append("| " + " | ".join([n, label] + [s[c] for c in cols]) + " |")
    # worst case per metric and rounding
    lines.append("")
    lines.append("Worst network per metric (value, network):")
    lines.append("")
    lines.append("| read | phase | rotation | feeder | cable | precision | recall | stated >= 0.99 right | stated [0.9, 0.99) right |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for label in ("0.1 V", "1 V"):
        cells = []
        for key, num, den in [("phase", "phase_ok", "phase_n"), ("rotation", "rot_ok", "rot_n"),
                              ("feeder", "feeder_ok", "feeder_n"), ("cable", "cable_ok", "cable_n"),
                              ("precision", "sugg_ok", "sugg"), ("recall", "errors_found", "errors"),
                              ("rel99", None, "[0.99,1]"), ("rel9", None, "[0.9,0.99)")]:
            worst = None
            for name, s in raw.items():
                if not name.endswith(label) or (label == "1 V" and name.endswith("0.1 V")):
                    continue
                if num is None:
                    n_, ok = s["reliability"]["all"][den]
                else:
                    ok, n_ = s[num], s[den]
                if n_ == 0:
                    continue
                v = ok / n_
                if worst is None or v < worst[0]:
                    worst = (v, name.rsplit(" ", 2)[0], ok, n_)
            cells.append(f"{100 * worst[0]:.1f}% ({worst[2]}/{worst[3]}, {worst[1]})" if worst else "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    # totals per family and over all networks
    family = {n: json.load(open(os.path.join(args.corpus, n, "scenario.json")))["family"] for n in nets}
    P = score.pct

    def total_row(name, label, members):
        tot = {}
        rel = {"[0.99,1]": [0, 0], "[0.9,0.99)": [0, 0]}
        for m in members:
            s = raw.get(f"{m} {label}")
            if s is None:
                continue
            for k, v in s.items():
                if isinstance(v, int):
                    tot[k] = tot.get(k, 0) + v
            for bn in rel:
                rel[bn][0] += s["reliability"]["all"][bn][0]
                rel[bn][1] += s["reliability"]["all"][bn][1]
        if not tot:
            return None
        return (f"| {name} | {label} | {P(tot['phase_ok'], tot['phase_n'])} | {P(tot['rot_ok'], tot['rot_n'])} | "
                f"{P(tot['feeder_ok'], tot['feeder_n'])} | {P(tot['cable_ok'], tot['cable_n'])} | "
                f"{P(tot['gis_feeder_ok'], tot['gis_n'])} | {P(tot['gis_cable_ok'], tot['gis_n'])} | "
                f"{P(tot['sugg_ok'], tot['sugg'])} ({tot['sugg_ok']}/{tot['sugg']}) | "
                f"{P(tot['errors_found'], tot['errors'])} ({tot['errors_found']}/{tot['errors']}) | "
                f"{P(rel['[0.99,1]'][1], rel['[0.99,1]'][0])} of {rel['[0.99,1]'][0]} | "
                f"{P(rel['[0.9,0.99)'][1], rel['[0.9,0.99)'][0])} of {rel['[0.9,0.99)'][0]} |")

    lines.append("")
    lines.append("Per grid family and over all networks:")
    lines.append("")
    lines.append("| family | read | phase | rotation | feeder | cable | GIS feeder | GIS cable | precision | recall | "
                 "stated >= 0.99 right | stated [0.9, 0.99) right |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label in ("0.1 V", "1 V"):
        for fam in sorted(set(family.values())):
            r = total_row(fam, label, [n for n in nets if family[n] == fam])
            if r:
                lines.append(r)
        r = total_row("**all**", label, nets)
        if r:
            lines.append(r)
    lines.append("")
    lines.append("PV detection (`lvtopo pv`, 7 days of 15-minute feed-in, smart meters):")
    lines.append("")
    lines.append("| network | PV systems | found | false | precision | recall | kWp within 25% | median kWp error | missed |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for n, p in pv_rows:
        lines.append(f"| {n} | {p['systems']} | {p['found']} | {p['false']} | {100 * p['precision']:.1f}% | "
                     f"{100 * p['recall']:.1f}% | {100 * p['kwp_within_25']:.1f}% | {100 * p['kwp_median_err']:.1f}% | "
                     f"{'; '.join(p['missed'][:6])} |")
    wrong = [f"- {name}: {w}" for name, s in raw.items() for w in s["wrong"]]
    if wrong:
        lines.append("")
        lines.append("Wrong suggestions (GIS value -> suggested value, stated p; truth):")
        lines.append("")
        lines.extend(wrong)
    if problems:
        lines.append("")
        lines.append("Problems: " + "; ".join(problems))
    table = "\n".join(lines)
    print(table)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    if args.write:
        path = os.path.join(args.corpus, "README.md")
        text = open(path).read()
        a, b = text.index(START) + len(START), text.index(END)
        open(path, "w").write(text[:a] + "\n" + table + "\n" + text[b:])


if __name__ == "__main__":
    main()
