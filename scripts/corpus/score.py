#!/usr/bin/env python3
"""Score an lvtopo assignments.csv against a network's truth.csv (same rules as
crates/lvtopo-core/src/analysis/metrics.rs), plus what the CLI does not print: the
reliability of the stated confidences per kind and the accuracy of the GIS as registered.

  python3 scripts/corpus/score.py NETWORK_DIR ASSIGNMENTS_CSV [--json]

Accuracies count connections that got an inferred value (also insufficient_data rows with
a best guess). A suggestion is right when the GIS was wrong and every value it changes is
the true one; recall = GIS errors (phase, feeder or cable) with data that got a right
suggestion. Reliability: share of the stated values (phase or rotation, feeder, cable of
every connection with an inferred value) that are right, per confidence bin.
"""

import csv
import json
import sys

BINS = [("[0.99,1]", 0.99, 1.01), ("[0.9,0.99)", 0.9, 0.99), ("<0.9", -1, 0.9)]


def load_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def score(net_dir, assignments, pv_csv=None):
    truth = {r["ean"]: r for r in load_csv(f"{net_dir}/truth.csv")}
    gis = {}
    with open(f"{net_dir}/connections.geojson") as f:
        for ft in json.load(f)["features"]:
            p = ft["properties"]
            gis[p["ean"]] = p
    rows = load_csv(assignments)
    s = dict(connections=0, with_data=0, phase_n=0, phase_ok=0, rot_n=0, rot_ok=0, feeder_n=0, feeder_ok=0,
             cable_n=0, cable_ok=0, gis_feeder_ok=0, gis_cable_ok=0, gis_phase_ok=0, gis_n=0,
             sugg=0, sugg_ok=0, errors=0, errors_found=0, insufficient=0, wrong=[])
    rel = {k: {b[0]: [0, 0] for b in BINS} for k in ("phase", "feeder", "cable", "all")}

    def stated(kind, conf, right):
        for name, lo, hi in BINS:
            if lo <= conf < hi:
                for k in (kind, "all"):
                    rel[k][name][0] += 1
                    rel[k][name][1] += int(right)

    for a in rows:
        t = truth.get(a["ean"])
        if t is None:
            continue
        g = gis[a["ean"]]
        s["connections"] += 1
        if a["status"] == "insufficient_data":
            s["insufficient"] += 1
        ip = a["inferred_phase"]
        if not ip:
            continue
        s["with_data"] += 1
        three = t["phase"] == "L123"
        if three:
            s["rot_n"] += 1
            phase_right = ip == (t["rotation"] or "L1L2L3")
            s["rot_ok"] += phase_right
        else:
            s["phase_n"] += 1
            phase_right = ip == t["phase"]
            s["phase_ok"] += phase_right
        feeder_right = a["inferred_feeder_id"] == t["feeder_id"]
        cable_right = a["inferred_cable_id"] == t["cable_id"]
        if a["inferred_feeder_id"]:
            s["feeder_n"] += 1
            s["feeder_ok"] += feeder_right
            stated("feeder", float(a["feeder_confidence"]), feeder_right)
        if a["inferred_cable_id"]:
            s["cable_n"] += 1
            s["cable_ok"] += cable_right
            stated("cable", float(a["cable_confidence"]), cable_right)
        stated("phase", float(a["phase_confidence"]), phase_right)
        s["gis_n"] += 1
        s["gis_feeder_ok"] += g["feeder_id"] == t["feeder_id"]
        s["gis_cable_ok"] += g["cable_id"] == t["cable_id"]
        s["gis_phase_ok"] += g["phase"] == t["phase"]
        gis_wrong = g["phase"] != t["phase"] or g["feeder_id"] != t["feeder_id"] or g["cable_id"] != t["cable_id"]
        phase_changed = (ip != g["phase"]) if len(ip) == 2 else g["phase"] != "L123"
        right = ((not phase_changed or phase_right)
                 and (a["inferred_feeder_id"] == g["feeder_id"] or feeder_right)
                 and (a["inferred_cable_id"] == g["cable_id"] or cable_right))
        if a["status"] == "suggest_change":
            s["sugg"] += 1
            ok = right and gis_wrong
            s["sugg_ok"] += ok
            if not ok:
                s["wrong"].append(f"{a['ean']}: feeder {g['feeder_id']}->{a['inferred_feeder_id']} "
                                  f"p={a['feeder_confidence']}, cable {g['cable_id']}->{a['inferred_cable_id']} "
                                  f"p={a['cable_confidence']}, phase {g['phase']}->{ip} p={a['phase_confidence']}; "
                                  f"truth {t['feeder_id']} {t['cable_id']} {t['phase']} {t['rotation']}")
        if gis_wrong:
            s["errors"] += 1
            s["errors_found"] += a["status"] == "suggest_change" and right
    s["reliability"] = rel
    if pv_csv:
        s["pv"] = score_pv(net_dir, pv_csv)
    return s


def score_pv(net_dir, pv_csv):
    """PV found vs the true kWp of scenario.json, over the connections in the pv output."""
    sc = json.load(open(f"{net_dir}/scenario.json"))
    kwp = {p["ean"]: p["kwp"] for p in sc["pv"]}
    rows = load_csv(pv_csv)
    found_col = next(c for c in rows[0] if c.startswith("pv_found"))
    est_col = next((c for c in rows[0] if "estimated" in c or c.startswith("kwp_est")), None)
    tp = fp = fn = 0
    errs, missed = [], []
    for r in rows:
        true = kwp.get(r["ean"], 0.0) > 0
        found = r[found_col].strip().lower() in ("true", "1", "yes")
        if found and true:
            tp += 1
            if est_col and r[est_col]:
                errs.append(abs(float(r[est_col]) - kwp[r["ean"]]) / kwp[r["ean"]])
        elif found:
            fp += 1
        elif true:
            fn += 1
            missed.append(f"{r['ean']} {kwp[r['ean']]} kWp")
    errs.sort()
    return dict(systems=tp + fn, found=tp, false=fp, missed=missed,
                precision=tp / (tp + fp) if tp + fp else float("nan"),
                recall=tp / (tp + fn) if tp + fn else float("nan"),
                kwp_within_25=sum(e <= 0.25 for e in errs) / len(errs) if errs else float("nan"),
                kwp_median_err=errs[len(errs) // 2] if errs else float("nan"))


def pct(a, b):
    return f"{100 * a / b:.1f}%" if b else "-"


def summary(s):
    r = s["reliability"]
    return dict(
        phase=pct(s["phase_ok"], s["phase_n"]), rotation=pct(s["rot_ok"], s["rot_n"]),
        feeder=pct(s["feeder_ok"], s["feeder_n"]), cable=pct(s["cable_ok"], s["cable_n"]),
        gis_feeder=pct(s["gis_feeder_ok"], s["gis_n"]), gis_cable=pct(s["gis_cable_ok"], s["gis_n"]),
        precision=f"{pct(s['sugg_ok'], s['sugg'])} ({s['sugg_ok']}/{s['sugg']})",
        recall=f"{pct(s['errors_found'], s['errors'])} ({s['errors_found']}/{s['errors']})",
        rel_099=f"{pct(r['all']['[0.99,1]'][1], r['all']['[0.99,1]'][0])} of {r['all']['[0.99,1]'][0]}",
        rel_09=f"{pct(r['all']['[0.9,0.99)'][1], r['all']['[0.9,0.99)'][0])} of {r['all']['[0.9,0.99)'][0]}",
        feeder_099=f"{pct(r['feeder']['[0.99,1]'][1], r['feeder']['[0.99,1]'][0])} of {r['feeder']['[0.99,1]'][0]}",
        cable_099=f"{pct(r['cable']['[0.99,1]'][1], r['cable']['[0.99,1]'][0])} of {r['cable']['[0.99,1]'][0]}",
        insufficient=pct(s["insufficient"], s["connections"]),
    )


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    res = score(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "--json" else None)
    if "--json" in sys.argv:
        print(json.dumps(res, indent=1))
    else:
        for k, v in summary(res).items():
            print(f"{k:14s} {v}")
        for w in res["wrong"]:
            print("wrong suggestion:", w)
