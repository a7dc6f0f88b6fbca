#!/usr/bin/env python3
"""Statistics that matter for the topology inference, for two voltage.csv(.gz) files of
the same network (e.g. lvtopo's simulator vs power-grid-model): levels, variability,
the common mode shared by all meters, and how strongly same-phase neighbours correlate
once the common mode is removed (the signal the phase inference lives on).

Usage:
  python3 scripts/independent/compare_voltages.py --deviations A.csv.gz B.csv.gz
  python3 scripts/independent/compare_voltages.py --rounding-phase TRUTH A.csv.gz [B.csv.gz ...]
  python3 scripts/independent/compare_voltages.py sample-networks/street/truth.csv \
      sample-networks/street/voltage.csv.gz sample-networks/street-pgm/voltage.csv.gz
"""

import csv
import datetime as dt
import gzip
import sys

import numpy as np


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    series = {}
    times = set()
    with opener(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            t = dt.datetime.fromisoformat(r["timestamp"]).timestamp()
            times.add(t)
            series[(r["ean"], r["channel"])] = series.get((r["ean"], r["channel"]), {})
            series[(r["ean"], r["channel"])][t] = float(r["voltage_v"])
    ts = sorted(times)
    idx = {t: k for k, t in enumerate(ts)}
    keys = sorted(series)
    m = np.full((len(keys), len(ts)), np.nan)
    for i, k in enumerate(keys):
        for t, v in series[k].items():
            m[i, idx[t]] = v
    return keys, m


def grid_phase(truth, key):
    r = truth[key[0]]
    if r["phase"] == "L123":
        rot = r["rotation"] or "L1L2L3"
        ch = int(key[1][1]) - 1
        return rot[2 * ch:2 * ch + 2]
    return r["phase"]


def stats(truth, path):
    keys, m = load(path)
    d = np.diff(m, axis=1)
    common = np.nanmean(d, axis=0)
    resid = d - common
    out = {
        "series": len(keys),
        "mean_v": np.nanmean(m),
        "p1_v": np.nanpercentile(m, 1),
        "p99_v": np.nanpercentile(m, 99),
        "median_daily_range_v": np.nanmedian([np.nanmax(m[i, k:k + 144]) - np.nanmin(m[i, k:k + 144])
                                              for i in range(len(keys)) for k in range(0, m.shape[1] - 143, 144)]),
        "median_std_v": np.nanmedian(np.nanstd(m, axis=1)),
        "spread_between_meters_v": np.nanmedian(np.nanstd(m, axis=0)),
        "std_common_diff_v": np.nanstd(common),
        "median_std_resid_diff_v": np.nanmedian(np.nanstd(resid, axis=1)),
    }
    # per feeder: correlation of residual differences, same grid phase vs other phase
    same, other = [], []
    feeders = {}
    for i, k in enumerate(keys):
        feeders.setdefault(truth[k[0]]["feeder_id"], []).append(i)
    for rows in feeders.values():
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                i, j = rows[a], rows[b]
                if keys[i][0] == keys[j][0]:
                    continue
                x, y = resid[i], resid[j]
                ok = ~(np.isnan(x) | np.isnan(y))
                if ok.sum() < 100:
                    continue
                c = np.corrcoef(x[ok], y[ok])[0, 1]
                (same if grid_phase(truth, keys[i]) == grid_phase(truth, keys[j]) else other).append(c)
    out["corr_same_phase_same_feeder"] = float(np.nanmean(same))
    out["corr_other_phase_same_feeder"] = float(np.nanmean(other))
    return out


def deviation_agreement(path_a, path_b):
    """Both engines fed the same loads but not the same MV voltage: compare each meter's
    deviation from the all-meter median at every step (the MV part cancels)."""
    ka, a = load(path_a)
    kb, b = load(path_b)
    if ka != kb or a.shape != b.shape:
        raise SystemExit("the two files do not hold the same series")
    da = a - np.nanmedian(a, axis=0)
    db = b - np.nanmedian(b, axis=0)
    diff = da - db
    ok = ~np.isnan(diff)
    slope = np.sum(da[ok] * db[ok]) / np.sum(db[ok] ** 2)
    per_series = np.sqrt(np.nanmean(diff**2, axis=1))
    print(f"deviation from the all-meter median: rms difference {np.sqrt(np.mean(diff[ok] ** 2)):.3f} V, "
          f"p99 |difference| {np.percentile(np.abs(diff[ok]), 99):.3f} V, max {np.max(np.abs(diff[ok])):.3f} V, "
          f"slope a~b {slope:.3f}, correlation {np.corrcoef(da[ok], db[ok])[0, 1]:.4f}, "
          f"rms deviation a {np.sqrt(np.mean(da[ok] ** 2)):.3f} V b {np.sqrt(np.mean(db[ok] ** 2)):.3f} V, "
          f"worst series {ka[int(np.argmax(per_series))]} rms {per_series.max():.3f} V")


def rounding_phase(truth, path):
    """Correlation of two meters' common-mode-free 10-minute steps (pairs on the same
    feeder), split by same/other grid phase and by how far apart the fractional parts of
    their mean levels are (at 1 V rounding: whether they cross the same thresholds)."""
    keys, m = load(path)
    d = np.diff(m, axis=1)
    d = d - np.nanmean(d, axis=0)
    lvl = np.nanmean(m, axis=1)
    ph = [grid_phase(truth, k) for k in keys]
    fd = [truth[k[0]]["feeder_id"] for k in keys]
    rows = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if fd[i] != fd[j] or keys[i][0] == keys[j][0]:
                continue
            ok = ~(np.isnan(d[i]) | np.isnan(d[j]))
            if ok.sum() < 100:
                continue
            c = np.corrcoef(d[i][ok], d[j][ok])[0, 1]
            frac = abs((lvl[i] - lvl[j] + 0.5) % 1 - 0.5)
            rows.append((ph[i] == ph[j], frac, c))
    r = np.array(rows, dtype=float)
    for same in (1, 0):
        s = r[r[:, 0] == same]
        near, far = s[s[:, 1] < 0.15], s[s[:, 1] > 0.35]
        print(f"{path}: {'same' if same else 'other'} phase: mean {s[:, 2].mean():+.3f} ({len(s)} pairs); "
              f"level fractions within 0.15 V {near[:, 2].mean():+.3f} ({len(near)}), "
              f"0.35-0.5 V apart {far[:, 2].mean():+.3f} ({len(far)})")


def main():
    if sys.argv[1] == "--deviations":
        deviation_agreement(sys.argv[2], sys.argv[3])
        return
    if sys.argv[1] == "--rounding-phase":
        with open(sys.argv[2], newline="") as f:
            truth = {r["ean"]: r for r in csv.DictReader(f)}
        for p in sys.argv[3:]:
            rounding_phase(truth, p)
        return
    truth_path, *paths = sys.argv[1:]
    with open(truth_path, newline="") as f:
        truth = {r["ean"]: r for r in csv.DictReader(f)}
    res = [stats(truth, p) for p in paths]
    print("| statistic | " + " | ".join(paths) + " |")
    print("|---|" + "---|" * len(paths))
    for k in res[0]:
        print(f"| {k} | " + " | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for r in res) + " |")


if __name__ == "__main__":
    main()
