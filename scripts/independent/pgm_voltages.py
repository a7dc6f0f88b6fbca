#!/usr/bin/env python3
"""Independent smart-meter voltages for an lvtopo sample network, computed with
power-grid-model (PGM, Alliander's asymmetric load flow), with load and PV profiles
drawn here in Python, independently of lvtopo's simulator (src/sim).

Input: a sample network folder in lvtopo's input format (GeoJSON folder or one
GeoPackage, RD New), its truth.csv (the TRUE feeder / cable / phase / rotation of every
connection; the GIS connections carry injected errors and are only used for the house
positions, meter kind and capacity) and scenario.json (true PV kWp per connection,
station transformer size, outage interruptions). Output: voltage.csv.gz (rounded like the
sample, 0.1 V or 1 V; with --variant also the other rounding as voltage_1v.csv.gz or
voltage_0.1v.csv.gz) in the contract layout `ean,timestamp,channel,voltage_v`, plus
pgm_run.json with the parameters and statistics of the run.

Model (see docs/independent-check.md):
- MV source (10.5 kV, Sk 100 MVA) whose voltage follows a slow HV random walk, the MV
  feeder's load drop, an HV/MV on-load tap changer with a dead band and fast noise;
- per station a Dyn5 10.5/0.41 kV transformer of the station's kVA, uk 4%;
- feeder roots linked to the LV busbar; every GIS cable section (node ids from the
  GIS, or end points snapped at 0.5 m) split at the projection of each connection
  that truly hangs on it; four-core cable sequence impedances from the conductor type;
- per connection a service cable (length = distance to the section + 3 m) to a house
  node; single-phase: asym_load (and PV inverter) on the TRUE grid phase;
  three-phase: unequal loads on all phases, the meter's channel Lk reads grid phase
  rotation[k];
- loads at 1-minute resolution (Dutch-like daily shape, appliance events, heat pumps,
  EV charging, PV with clear-sky x cloud); the load flow runs on 2-minute averages
  (batch of 7,200 steps) and the meter reports the 10-minute mean of the computed
  voltages, with a small per-meter gain error, rounded.

Usage:
  python3 scripts/independent/pgm_voltages.py --sample sample-networks/street \
      --out sample-networks/street-pgm --seed 20251022
"""

import argparse
import csv
import datetime as dt
import gzip
import json
import math
import os
import sqlite3
import struct
import sys
import time
import zoneinfo
from collections import defaultdict

import numpy as np
from power_grid_model import (
    ComponentType,
    DatasetType,
    LoadGenType,
    PowerGridModel,
    WindingType,
    initialize_array,
)
from power_grid_model.validation import assert_valid_input_data

AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
STEP_MIN = 10  # meter interval
STEPS = 1440  # 10 days
SUB_MIN = 2  # load-flow resolution (minutes)
U_LV = 410.0  # transformer secondary rated voltage (line-line)
U_MV = 10500.0
SNAP_M = 0.5

# ---------------------------------------------------------------------------------------
# Reading the network (GeoJSON folder or GeoPackage)
# ---------------------------------------------------------------------------------------


def _wkb_geometry(buf, off=0):
    """Point or LineString from (ISO) WKB; returns (geometry, next offset)."""
    order = "<" if buf[off] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", buf, off + 1)
    off += 5
    base = gtype % 1000
    dims = 3 if (gtype // 1000) in (1, 2) else 4 if gtype // 1000 == 3 else 2
    if gtype & 0x80000000:  # EWKB Z flag
        dims = 3
        base = gtype & 0xFF
    if base == 1:
        xy = struct.unpack_from(order + "d" * dims, buf, off)
        return [xy[0], xy[1]], off + 8 * dims
    if base == 2:
        (n,) = struct.unpack_from(order + "I", buf, off)
        off += 4
        pts = []
        for _ in range(n):
            xy = struct.unpack_from(order + "d" * dims, buf, off)
            pts.append([xy[0], xy[1]])
            off += 8 * dims
        return pts, off
    if base == 5 or base == 4:  # multi: take the first part
        (n,) = struct.unpack_from(order + "I", buf, off)
        g, off2 = _wkb_geometry(buf, off + 4)
        return g, off2
    raise ValueError(f"unsupported WKB geometry type {gtype}")


def _gpkg_geometry(blob):
    if blob is None:
        return None
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    env = (flags >> 1) & 0x7
    env_len = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}[env]
    return _wkb_geometry(blob, 8 + env_len)[0]


def read_layer(sample, name):
    """List of (properties dict, coordinates) in RD New."""
    gj = os.path.join(sample, f"{name}.geojson")
    if os.path.exists(gj):
        with open(gj) as f:
            d = json.load(f)
        crs = json.dumps(d.get("crs", {}))
        if "28992" not in crs:
            raise SystemExit(f"{gj}: only RD New (EPSG:28992) GeoJSON is supported by this script")
        return [(ft["properties"], ft["geometry"]["coordinates"]) for ft in d["features"]]
    gpkgs = [p for p in os.listdir(sample) if p.endswith(".gpkg")]
    if not gpkgs:
        raise SystemExit(f"{sample}: neither {name}.geojson nor a .gpkg")
    con = sqlite3.connect(os.path.join(sample, gpkgs[0]))
    (geom_col, srs) = con.execute(
        "select column_name, srs_id from gpkg_geometry_columns where table_name=?", (name,)
    ).fetchone()
    if srs != 28992:
        raise SystemExit(f"{gpkgs[0]} layer {name}: srs {srs}, only 28992 supported by this script")
    cur = con.execute(f'select * from "{name}"')
    cols = [c[0] for c in cur.description]
    out = []
    for row in cur:
        props = dict(zip(cols, row))
        geom = _gpkg_geometry(props.pop(geom_col))
        props.pop("fid", None)
        out.append((props, geom))
    return out


def read_truth(path):
    with open(path, newline="") as f:
        return {r["ean"]: r for r in csv.DictReader(f)}


# ---------------------------------------------------------------------------------------
# Cable electrical parameters (own table: IEC 60228 class 2 DC resistance at 20 C,
# raised 10% for the operating temperature; four-core LV cable reactance ~0.075 ohm/km;
# zero sequence with the equal-size neutral as the return path: r0 = r1 + 3 rn.)
# ---------------------------------------------------------------------------------------
R20 = {
    ("al", 16): 1.91, ("al", 25): 1.20, ("al", 35): 0.868, ("al", 50): 0.641,
    ("al", 70): 0.443, ("al", 95): 0.320, ("al", 120): 0.253, ("al", 150): 0.206,
    ("al", 185): 0.164, ("al", 240): 0.125,
    ("cu", 2.5): 7.41, ("cu", 4): 4.61, ("cu", 6): 3.08, ("cu", 10): 1.83, ("cu", 16): 1.15,
    ("cu", 25): 0.727, ("cu", 35): 0.524, ("cu", 50): 0.387, ("cu", 70): 0.268,
    ("cu", 95): 0.193, ("cu", 120): 0.153, ("cu", 150): 0.124, ("cu", 185): 0.0991,
    ("cu", 240): 0.0754,
}
TEMP_FACTOR = 1.10  # ~45 C conductor temperature instead of 20 C
X1_PER_KM = 0.075


def conductor_r(conductor, r_registered):
    """Phase resistance per km at operating temperature."""
    if r_registered not in (None, "") and float(r_registered) > 0:
        return float(r_registered) * TEMP_FACTOR
    t = (conductor or "").lower().replace(" ", "")
    phase = t.split("+")[0].split("/")[0]
    if "x" in phase:
        phase = phase.split("x", 1)[1]
    digits = ""
    for ch in phase:
        if ch.isdigit() or ch == ".":
            digits += ch
        else:
            break
    mat = "cu" if "cu" in phase else "al"
    try:
        key = (mat, float(digits) if "." in digits else int(digits))
        return R20[key] * TEMP_FACTOR
    except (KeyError, ValueError):
        return 0.206 * TEMP_FACTOR  # unknown: 150 Al, the Dutch standard LV main


def line_params(r1_per_km, length_m, x1_per_km=X1_PER_KM):
    km = max(length_m, 0.1) / 1000.0
    r1 = r1_per_km * km
    x1 = x1_per_km * km
    return dict(r1=r1, x1=x1, r0=4.0 * r1, x0=3.6 * x1, c1=0.45e-6 * km, c0=0.28e-6 * km)


# ---------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------


def project_on_polyline(pt, coords):
    """(distance along the line in geometry metres, distance from the line)."""
    best = (0.0, float("inf"))
    acc = 0.0
    px, py = pt
    for (x1, y1), (x2, y2) in zip(coords[:-1], coords[1:]):
        dx, dy = x2 - x1, y2 - y1
        seg = math.hypot(dx, dy)
        if seg == 0:
            continue
        u = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (seg * seg)))
        d = math.hypot(px - (x1 + u * dx), py - (y1 + u * dy))
        if d < best[1]:
            best = (acc + u * seg, d)
        acc += seg
    return best


def polyline_length(coords):
    return sum(math.hypot(b[0] - a[0], b[1] - a[1]) for a, b in zip(coords[:-1], coords[1:]))


# ---------------------------------------------------------------------------------------
# Time axis
# ---------------------------------------------------------------------------------------


def time_axis(start_iso, steps):
    """UTC end-of-interval datetimes of the meter intervals."""
    start = dt.datetime.fromisoformat(start_iso).astimezone(dt.timezone.utc)
    return [start + dt.timedelta(minutes=STEP_MIN * (k + 1)) for k in range(steps)]


def iso_local(t_utc):
    return t_utc.astimezone(AMS).isoformat()


# ---------------------------------------------------------------------------------------
# Profiles (1-minute resolution)
# ---------------------------------------------------------------------------------------


def solar(t_min_utc, lat, lon):
    """Sun elevation sine and azimuth (rad, from north, clockwise) per minute (NOAA approx)."""
    doy = np.array([t.timetuple().tm_yday for t in t_min_utc], dtype=float)
    hours = np.array([t.hour + t.minute / 60.0 for t in t_min_utc])
    g = 2 * np.pi / 365.0 * (doy - 1 + (hours - 12) / 24)
    eqtime = 229.18 * (0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
                       - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g))
    decl = (0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g) - 0.006758 * np.cos(2 * g)
            + 0.000907 * np.sin(2 * g) - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g))
    tst = hours * 60 + eqtime + 4 * lon
    ha = np.radians(tst / 4 - 180)
    la = np.radians(lat)
    sin_el = np.sin(la) * np.sin(decl) + np.cos(la) * np.cos(decl) * np.cos(ha)
    cos_el = np.sqrt(np.maximum(1 - sin_el**2, 1e-9))
    cos_az = (np.sin(decl) - sin_el * np.sin(la)) / (cos_el * np.cos(la))
    az = np.arccos(np.clip(cos_az, -1, 1))
    az = np.where(ha > 0, 2 * np.pi - az, az)
    return sin_el, az


def cloud_field(rng, n_days, day_kind_probs):
    """Clear-sky index per minute, shared by the whole area, and the day kinds."""
    kinds = rng.choice(["sunny", "mixed", "overcast"], size=n_days, p=day_kind_probs)
    out = np.empty(n_days * 1440)
    for d, k in enumerate(kinds):
        n = 1440
        if k == "sunny":
            base = rng.uniform(0.85, 1.0) + 0.03 * smooth_noise(rng, n, 60)
        elif k == "overcast":
            base = rng.uniform(0.12, 0.35) + 0.06 * smooth_noise(rng, n, 90)
        else:
            # Broken clouds: a two-state process with minute-scale passages.
            state = np.empty(n)
            s = rng.random() < 0.5
            for i in range(n):
                if rng.random() < (1 / 12 if s else 1 / 18):
                    s = not s
                state[i] = s
            base = np.where(state, rng.uniform(0.9, 1.05), rng.uniform(0.2, 0.45)) + 0.05 * smooth_noise(rng, n, 10)
            base = moving_average(base, 3)
        out[d * 1440:(d + 1) * 1440] = np.clip(base, 0.05, 1.15)
    return out, list(kinds)


def smooth_noise(rng, n, tau_min):
    """Unit-variance AR(1) noise with time constant tau (minutes)."""
    a = math.exp(-1.0 / tau_min)
    e = rng.normal(0, math.sqrt(1 - a * a), n)
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = a * x[i - 1] + e[i]
    return x


def moving_average(x, w):
    if w <= 1:
        return x
    k = np.ones(w) / w
    return np.convolve(np.pad(x, (w // 2, w - 1 - w // 2), mode="edge"), k, mode="valid")


def pv_per_kwp(sin_el, az, cloud, tilt, azimuth):
    """AC output W per kWp on a tilted plane: Kasten-Czeplak clear-sky GHI, Erbs diffuse
    fraction, isotropic sky, performance ratio 0.86, inverter clipping at 1 kW/kWp."""
    up = sin_el > 0.01
    ghi_clear = np.where(up, np.maximum(910 * sin_el - 30, 0), 0)
    ghi = ghi_clear * cloud
    kt = np.clip(cloud * 0.75, 0, 0.9)
    fd = np.where(kt <= 0.22, 1 - 0.09 * kt,
                  np.where(kt <= 0.8, 0.9511 - 0.1604 * kt + 4.388 * kt**2 - 16.638 * kt**3 + 12.336 * kt**4, 0.165))
    dhi = ghi * fd
    dni = np.where(up, (ghi - dhi) / np.maximum(sin_el, 0.05), 0)
    cos_el = np.sqrt(np.maximum(1 - sin_el**2, 0))
    cos_inc = sin_el * math.cos(tilt) + cos_el * math.sin(tilt) * np.cos(az - azimuth)
    poa = dni * np.maximum(cos_inc, 0) + dhi * (1 + math.cos(tilt)) / 2 + ghi * 0.2 * (1 - math.cos(tilt)) / 2
    return np.minimum(poa * 0.86, 1000.0)


def local_hours_and_weekend(t_min_utc):
    loc = [t.astimezone(AMS) for t in t_min_utc]
    h = np.array([t.hour + t.minute / 60.0 for t in loc])
    we = np.array([t.weekday() >= 5 for t in loc])
    day = np.array([(t.date() - loc[0].date()).days for t in loc])
    return h, we, day


def daily_shape(h, weekend, shift):
    """Dutch-like household demand shape (relative), mean ~1 over a day."""
    hh = (h - shift) % 24
    g = lambda mu, s: np.exp(-0.5 * ((hh - mu) / s) ** 2)  # noqa: E731
    morning = np.where(weekend, 0.5 * g(9.5, 1.5), 0.75 * g(7.4, 0.8))
    midday = np.where(weekend, 0.55 * g(13.0, 2.5), 0.3 * g(12.5, 2.0))
    evening = 1.25 * g(18.6, 1.3) + 0.75 * g(21.0, 1.4)
    night = 0.38 + 0.1 * g(23.5, 1.0)
    return night + morning + midday + evening


def events(rng, n_min, hours, day, kind_rate, power, dur_min, windows):
    """Poisson appliance events: a rectangular block of power per event."""
    out = np.zeros(n_min)
    n_days = day.max() + 1
    for d in range(n_days):
        k = rng.poisson(kind_rate)
        idx_day = np.nonzero(day == d)[0]
        if len(idx_day) == 0:
            continue
        for _ in range(k):
            lo, hi = windows[rng.integers(len(windows))]
            h0 = rng.uniform(lo, hi)
            cand = idx_day[np.argmin(np.abs(hours[idx_day] - h0))]
            dur = int(max(1, rng.uniform(*dur_min)))
            p = rng.uniform(*power)
            out[cand:cand + dur] += p
    return out


def household(rng, n_min, hours, weekend, day, temp, three_phase, hp, ev):
    """Active power per minute (W) as (base, [big loads...]) and the reactive factor."""
    annual_kwh = float(np.clip(rng.lognormal(math.log(2700), 0.45), 900, 9000))
    mean_w = annual_kwh * 1000 / 8760 * 1.12  # autumn/winter above the annual mean
    shift = rng.normal(0, 0.6)
    shape = daily_shape(hours, weekend, shift)
    shape = shape / shape.mean()
    wobble = np.exp(0.35 * smooth_noise(rng, n_min, 20) + 0.15 * smooth_noise(rng, n_min, 240))
    base = mean_w * 0.62 * shape * wobble
    # Fridge/freezer compressor cycling.
    fridge = 90 * (np.sin(np.arange(n_min) * 2 * np.pi / rng.uniform(35, 60) + rng.uniform(0, 6)) > 0.2)
    base = base + fridge
    scale = annual_kwh / 2700
    big = []
    big.append(events(rng, n_min, hours, day, 2.5 * min(scale, 2), (1800, 2300), (2, 5), [(6.5, 9), (12, 13), (16, 22.5)]))  # kettle
    big.append(events(rng, n_min, hours, day, 0.8, (1200, 3200), (15, 55), [(17, 19.5)]))  # cooking
    big.append(events(rng, n_min, hours, day, 0.45 * min(scale, 2), (1800, 2200), (12, 25), [(8, 21)]))  # washer heating
    big.append(events(rng, n_min, hours, day, 0.5, (1800, 2100), (15, 30), [(19, 23)]))  # dishwasher
    big.append(events(rng, n_min, hours, day, 0.2 * min(scale, 2), (2000, 2600), (40, 80), [(10, 21)]))  # dryer
    big.append(events(rng, n_min, hours, day, 0.3, (1000, 2000), (3, 10), [(7, 8.5), (19, 23)]))  # hair dryer, heater
    hp_w = np.zeros(n_min)
    if hp:
        rated = rng.uniform(1200, 2800) * (1.8 if three_phase else 1.0)
        demand = np.clip((16 - temp) / 14, 0.1, 1.0)  # duty cycle from outdoor temperature
        on = False
        left = 0
        for i in range(n_min):
            if left <= 0:
                on = rng.random() < demand[i] if not on else rng.random() < 0.55 + 0.4 * demand[i]
                left = int(rng.uniform(15, 45))
            left -= 1
            hp_w[i] = rated * (0.7 + 0.3 * demand[i]) if on else 25
    ev_w = np.zeros(n_min)
    if ev:
        p_ev = 11000.0 if three_phase else 3680.0
        for d in range(day.max() + 1):
            if rng.random() < 0.55:
                idx = np.nonzero(day == d)[0]
                h0 = rng.normal(18.5, 1.3)
                start = idx[np.argmin(np.abs(hours[idx] - h0))]
                dur = int(rng.uniform(6, 22) * 1000 / p_ev * 60)
                ev_w[start:start + dur] = p_ev
    return base, big, hp_w, ev_w


def replace_by_feed_in(path, houses, p_load, q_load, p_pv, t0_utc, n_min):
    """Net power per minute from 15-minute energies (piecewise constant)."""
    imp, exp = {}, {}
    with gzip.open(path, "rt", newline="") as f:
        for r in csv.DictReader(f):
            t = dt.datetime.fromisoformat(r["timestamp"]).astimezone(dt.timezone.utc)
            i1 = int((t - t0_utc).total_seconds() // 60)
            i0 = i1 - 15
            if i1 <= 0 or i0 >= n_min:
                continue
            a = imp.setdefault(r["ean"], np.zeros(n_min))
            b = exp.setdefault(r["ean"], np.zeros(n_min))
            a[max(i0, 0):i1] = float(r["import_kwh"] or 0) * 4000
            b[max(i0, 0):i1] = float(r["export_kwh"] or 0) * 4000
    n = 0
    for h in houses:
        e = h["ean"]
        if e not in imp:
            continue
        P = np.zeros((n_min, 3))
        Q = np.zeros((n_min, 3))
        phases = [0, 1, 2] if h["three"] else h["meter_phases"]
        for ph in phases:
            P[:, ph] = (imp[e] - exp[e]) / len(phases)
            Q[:, ph] = 0.15 * imp[e] / len(phases)
        p_load[e], q_load[e] = P, Q
        if e in p_pv:
            p_pv[e][:] = 0
        n += 1
    return n


def ean_with_check_digit(first17):
    """GS1 mod-10 check digit (weights 3,1,3,... from the right)."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(first17)))
    return first17 + str((10 - total % 10) % 10)


def ean_map(eans, offset):
    if offset == 0:
        return {e: e for e in eans}
    out = {}
    for e in eans:
        if len(e) != 18 or not e.isdigit():
            raise SystemExit(f"EAN {e!r}: not 18 digits, cannot remap")
        out[e] = ean_with_check_digit(str(int(e[:17]) + offset).zfill(17))
    return out


def copy_inputs(sample, out, emap):
    """The sample's inputs with every EAN replaced (text-level for CSV/JSON, SQL for GPKG)."""
    import re
    import shutil

    pat = re.compile(r"(?<!\d)\d{18}(?!\d)")

    def sub_text(src, dst):
        with open(src, encoding="utf-8") as f:
            text = f.read()
        with open(dst, "w", encoding="utf-8", newline="") as f:
            f.write(pat.sub(lambda m: emap.get(m.group(0), m.group(0)), text))

    written = []
    for name in ("stations.geojson", "cables.geojson", "nodes.geojson", "voltage.csv.gz.purpose.json"):
        if os.path.exists(os.path.join(sample, name)):
            shutil.copyfile(os.path.join(sample, name), os.path.join(out, name))
            written.append(name)
    for name in ("connections.geojson", "truth.csv", "scenario.json"):
        if os.path.exists(os.path.join(sample, name)):
            sub_text(os.path.join(sample, name), os.path.join(out, name))
            written.append(name)
    for name in os.listdir(sample):
        if name.endswith(".gpkg"):
            dst = os.path.join(out, name)
            shutil.copyfile(os.path.join(sample, name), dst)
            con = sqlite3.connect(dst)
            con.executemany("update connections set ean = ? where ean = ?", [(n, o) for o, n in emap.items() if o != n])
            con.commit()
            con.execute("vacuum")
            con.close()
            written.append(name)
    return written


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", required=True, help="sample network folder (GIS, truth.csv, scenario.json)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=20251022)
    ap.add_argument("--layout", default=None,
                    help="voltage.csv(.gz) whose (ean,timestamp,channel) rows to reproduce "
                         "(default: the sample's voltage.csv.gz; 'none' = every row)")
    ap.add_argument("--meter-gain-sigma", type=float, default=0.001, help="per-meter gain error (relative)")
    ap.add_argument("--rounding", type=float, default=None, choices=[0.1, 1.0],
                    help="rounding of voltage.csv.gz in V (default: the sample's, scenario.json config.rounding_v)")
    ap.add_argument("--variant", action="store_true",
                    help="also write the other rounding (voltage_1v.csv.gz or voltage_0.1v.csv.gz; "
                         "not in a committed sample folder: not a contract file name)")
    ap.add_argument("--loads-from-feed-in", action="store_true",
                    help="cross-check mode: replace the drawn load and PV of every connection that has rows in "
                         "the sample's feed_in.csv.gz by its 15-minute net power (Q = 0.15 P of the import), so "
                         "both engines see (nearly) the same loads; not for the committed samples")
    ap.add_argument("--match-lvtopo-params", action="store_true",
                    help="cross-check mode: cable resistance at 20 C and 10 mm2 Cu service cables of "
                         "1.1 x distance (min 3 m) like lvtopo's simulator, no meter gain error")
    ap.add_argument("--load-scale", type=float, default=1.0, help="stress probe: scale every household load")
    ap.add_argument("--hp-share", type=float, default=0.12, help="share of houses with a heat pump")
    ap.add_argument("--ev-share", type=float, default=0.08, help="share of houses with an EV (x2.5 for three-phase)")
    ap.add_argument("--oltc-step", type=float, default=0.0125,
                    help="HV/MV tap changer step (pu); 0 = no tap changer (smooth MV voltage)")
    ap.add_argument("--ean-offset", type=int, default=0,
                    help="add N to the first 17 digits of every EAN (check digit recomputed) in the output, so "
                         "the PGM sample never shares an EAN with the sample it was made from (the privacy "
                         "ledger would count two reads of one connection)")
    ap.add_argument("--copy-inputs", action="store_true",
                    help="also write the sample's GIS, truth.csv, scenario.json and voltage purpose file into "
                         "--out, with the EANs remapped by --ean-offset")
    ap.add_argument("--no-validate", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    global TEMP_FACTOR
    if args.match_lvtopo_params:
        TEMP_FACTOR = 1.0
        args.meter_gain_sigma = 0.0
    t0 = time.time()
    sample = args.sample
    scenario = json.load(open(os.path.join(sample, "scenario.json")))
    truth = read_truth(os.path.join(sample, "truth.csv"))
    stations = read_layer(sample, "stations")
    cables = read_layer(sample, "cables")
    conns = read_layer(sample, "connections")
    conn_props = {p["ean"]: (p, g) for p, g in conns}
    missing = [e for e in truth if e not in conn_props]
    if missing:
        raise SystemExit(f"truth.csv: {len(missing)} EANs not in the connections layer, e.g. {missing[0]}")
    st_xy = {p["station_id"]: g for p, g in stations}
    kva = {s["station_id"]: float(s.get("kva", 400)) for s in scenario.get("stations", [])}
    pv_kwp = {p["ean"]: float(p["kwp"]) for p in scenario.get("pv", []) if p.get("kwp")}

    # ---- ids
    next_id = [1]

    def new_id():
        next_id[0] += 1
        return next_id[0] - 1

    nodes = []  # (id, u_rated)
    lines, links, transformers, sources, loads, gens = [], [], [], [], [], []

    # ---- nodes of cable sections: GIS node ids, else snapped end points
    node_of = {}  # key -> pgm id
    node_xy = {}

    def gis_node(key, xy):
        if key not in node_of:
            node_of[key] = new_id()
            nodes.append((node_of[key], U_LV))
            node_xy[key] = xy
        return node_of[key]

    snapped = []

    def snap_key(station, xy):
        for k, (s, p) in enumerate(snapped):
            if s == station and math.hypot(p[0] - xy[0], p[1] - xy[1]) <= SNAP_M:
                return f"snap{k}"
        snapped.append((station, xy))
        return f"snap{len(snapped) - 1}"

    cab = {}
    for p, coords in cables:
        st = p["station_id"]
        if p.get("from_node") and p.get("to_node"):
            a, b = f"{st}/{p['from_node']}", f"{st}/{p['to_node']}"
        else:
            a, b = snap_key(st, coords[0]), snap_key(st, coords[-1])
        # Geometry may run to_node -> from_node: orient by the already placed node.
        if a in node_xy and math.dist(node_xy[a], coords[-1]) < math.dist(node_xy[a], coords[0]):
            coords = coords[::-1]
        elif b in node_xy and math.dist(node_xy[b], coords[0]) < math.dist(node_xy[b], coords[-1]):
            coords = coords[::-1]
        gis_node(a, coords[0])
        gis_node(b, coords[-1])
        geo_len = polyline_length(coords)
        length = float(p["length_m"]) if p.get("length_m") not in (None, "") else geo_len
        cab[p["cable_id"]] = dict(p=p, coords=coords, a=a, b=b, geo_len=max(geo_len, 1e-6), length=length,
                                  r=conductor_r(p.get("conductor"), p.get("r_ohm_per_km")), taps=[])

    # ---- stations: MV node + source, transformer, LV busbar, feeder roots linked to it
    mv_source_ids, station_lv = [], {}
    for st, xy in st_xy.items():
        mv = new_id()
        nodes.append((mv, U_MV))
        src = new_id()
        sources.append(dict(id=src, node=mv, u_ref=1.0, sk=100e6, rx_ratio=0.1, z01_ratio=1.0))
        mv_source_ids.append(src)
        lv = new_id()
        nodes.append((lv, U_LV))
        station_lv[st] = lv
        sn = kva.get(st, 400.0) * 1000
        transformers.append(dict(id=new_id(), from_node=mv, to_node=lv, u1=U_MV, u2=U_LV, sn=sn, uk=0.04,
                                 pk=sn * 0.011, i0=0.002, p0=sn * 0.0011))
    feeders = defaultdict(list)
    for cid, c in cab.items():
        feeders[(c["p"]["station_id"], c["p"]["feeder_id"])].append(cid)
    for (st, fd), cids in feeders.items():
        deg = defaultdict(int)
        for cid in cids:
            deg[cab[cid]["a"]] += 1
            deg[cab[cid]["b"]] += 1
        ends = [k for k, d in deg.items() if d == 1] or list(deg)
        root = min(ends, key=lambda k: math.dist(node_xy[k], st_xy[st]))
        links.append(dict(id=new_id(), from_node=station_lv[st], to_node=node_of[root]))

    # ---- connections on their TRUE section, at the projection of the house
    houses = []
    for ean, t in truth.items():
        p, g = conn_props[ean]
        c = cab.get(t["cable_id"])
        if c is None:
            raise SystemExit(f"truth.csv {ean}: cable {t['cable_id']} not in the cables layer")
        s_geo, dist = project_on_polyline(g, c["coords"])
        pos = s_geo / c["geo_len"] * c["length"]
        node = new_id()
        nodes.append((node, U_LV))
        c["taps"].append((pos, ean, node, dist))
        three = t["phase"] == "L123"
        if three:
            rot = t["rotation"] or "L1L2L3"
            meter_phases = [int(rot[i + 1]) - 1 for i in range(0, 6, 2)]
        else:
            meter_phases = [int(t["phase"][1]) - 1]
        houses.append(dict(ean=ean, node=node, three=three, meter_phases=meter_phases,
                           smart=(p.get("meter") or "smart") != "conventional",
                           kwp=pv_kwp.get(ean, 0.0)))
    # split the sections
    for cid, c in cab.items():
        taps = sorted(c["taps"])
        prev, prev_pos = node_of[c["a"]], 0.0
        for pos, ean, hnode, dist in taps:
            pos = min(max(pos, 0.0), c["length"])
            if pos - prev_pos < 0.5:  # same point: share the tap node
                tap = prev
            else:
                tap = new_id()
                nodes.append((tap, U_LV))
                lines.append(dict(id=new_id(), from_node=prev, to_node=tap, **line_params(c["r"], pos - prev_pos)))
                prev, prev_pos = tap, pos
            # service cable: 4x10Cu for three-phase, 2x10Cu / 2x6Cu single-phase (same
            # phase + neutral loop as the sequence model of a 4-core cable gives)
            h = next(x for x in houses if x["ean"] == ean)
            svc_r = conductor_r("4x10Cu" if h["three"] or rng.random() < 0.6 else "2x6Cu", None)
            svc_len = dist + 3.0
            if args.match_lvtopo_params:
                svc_r, svc_len = conductor_r("4x10Cu", None), max(dist, 3.0) * 1.1
            lines.append(dict(id=new_id(), from_node=tap, to_node=hnode,
                              **line_params(svc_r, svc_len, x1_per_km=0.09)))
        end = node_of[c["b"]]
        lines.append(dict(id=new_id(), from_node=prev, to_node=end, **line_params(c["r"], max(c["length"] - prev_pos, 0.1))))

    # ---- time axis, weather, profiles
    start_iso = scenario.get("start")
    if not start_iso:
        raise SystemExit("scenario.json: no start")
    t_end = time_axis(start_iso, STEPS)
    t0_utc = t_end[0] - dt.timedelta(minutes=STEP_MIN)
    n_min = STEPS * STEP_MIN
    t_min = [t0_utc + dt.timedelta(minutes=i + 0.5) for i in range(n_min)]
    hours, weekend, day = local_hours_and_weekend(t_min)
    # rough RD -> WGS84 for the sun only
    sx, sy = next(iter(st_xy.values()))
    lat = 52.1552 + (sy - 463000) / 111_200
    lon = 5.3872 + (sx - 155000) / (111_200 * math.cos(math.radians(52.2)))
    sin_el, az = solar(t_min, lat, lon)
    month = dt.datetime.fromisoformat(start_iso).month
    summer = math.cos(2 * math.pi * (month - 6.5) / 12)
    probs = np.array([0.3 + 0.15 * summer, 0.4, 0.3 - 0.15 * summer])
    cloud, day_kinds = cloud_field(rng, n_min // 1440 + 1, probs / probs.sum())
    cloud = cloud[:n_min]
    temp = (11 + 7 * summer) + 4 * np.sin(2 * np.pi * (hours - 9) / 24) + 2.0 * smooth_noise(rng, n_min, 600)

    hp_share, ev_share = args.hp_share, args.ev_share
    p_load = {}  # ean -> (n_min, 3) W
    q_load = {}
    p_pv = {}
    for h in houses:
        hp = rng.random() < hp_share
        ev = rng.random() < (ev_share * (2.5 if h["three"] else 1.0))
        base, big, hp_w, ev_w = household(rng, n_min, hours, weekend, day, temp, h["three"], hp, ev)
        P = np.zeros((n_min, 3))
        Q = np.zeros((n_min, 3))
        if h["three"]:
            w = rng.dirichlet([4, 4, 4])
            for ph in range(3):
                P[:, ph] += base * w[ph]
            for b in big:
                P[:, rng.integers(3)] += b
            for ph in range(3):
                P[:, ph] += (hp_w + ev_w) / 3 * rng.uniform(0.95, 1.05)
            ph_list = [0, 1, 2]
        else:
            ph = h["meter_phases"][0]
            P[:, ph] = base + sum(big) + hp_w + ev_w
            ph_list = [ph]
        for ph in ph_list:
            Q[:, ph] = 0.25 * base * (w[ph] if h["three"] else 1.0) + 0.33 * hp_w / len(ph_list)
        p_load[h["ean"]], q_load[h["ean"]] = P * args.load_scale, Q * args.load_scale
        h["hp"], h["ev"] = hp, ev
        if h["kwp"] > 0:
            tilt = math.radians(rng.uniform(15, 45))
            azim = math.radians(rng.choice([90, 135, 180, 180, 180, 225, 270]) + rng.normal(0, 10))
            pv = h["kwp"] * pv_per_kwp(sin_el, az, cloud, tilt, azim) * rng.uniform(0.9, 1.0)
            G = np.zeros((n_min, 3))
            if h["three"]:  # three-phase inverter only on a three-phase connection
                G[:] = pv[:, None] / 3
            else:
                G[:, h["meter_phases"][0]] = pv
            p_pv[h["ean"]] = G
    # interruptions from the scenario: loads and PV off while a connection has no supply
    offs = 0
    for inc in scenario.get("incidents", []):
        for it in inc.get("interruptions", []):
            if it["ean"] not in p_load:
                continue
            a = dt.datetime.fromisoformat(it["start"]).astimezone(dt.timezone.utc)
            b = dt.datetime.fromisoformat(it["end"]).astimezone(dt.timezone.utc)
            i0 = max(0, int((a - t0_utc).total_seconds() // 60))
            i1 = min(n_min, int(math.ceil((b - t0_utc).total_seconds() / 60)))
            p_load[it["ean"]][i0:i1] = 0
            q_load[it["ean"]][i0:i1] = 0
            if it["ean"] in p_pv:
                p_pv[it["ean"]][i0:i1] = 0
            offs += 1

    if args.loads_from_feed_in:
        replaced = replace_by_feed_in(os.path.join(sample, "feed_in.csv.gz"), houses, p_load, q_load, p_pv, t0_utc, n_min)
        print(f"loads of {replaced} connections replaced by their feed_in.csv net power", file=sys.stderr)

    # MV voltage per minute: HV random walk, MV feeder drop, HV/MV OLTC with dead band, noise.
    regional = daily_shape(hours, weekend, 0.0)
    regional = regional / regional.max()
    hv = 1.0 + 0.012 * smooth_noise(rng, n_min, 8 * 60) + 0.002 * smooth_noise(rng, n_min, 30)
    drop = 0.03 * regional - 0.012 * np.clip(cloud * np.maximum(sin_el, 0), 0, 1) * (0.5 + 0.5 * summer)
    u_mv = np.empty(n_min)
    tap, dwell, taps_made = 0, 0, 0
    step = args.oltc_step
    for i in range(n_min):
        u = hv[i] * (1 + step * tap) - drop[i]
        if step > 0 and abs(u - 1.01) > 0.011:
            dwell += 1
            if dwell >= 3:
                tap += -1 if u > 1.01 else 1
                taps_made += 1
                dwell = 0
                u = hv[i] * (1 + step * tap) - drop[i]
        else:
            dwell = 0
        u_mv[i] = u
    u_mv = u_mv + 0.0006 * rng.normal(size=n_min)

    # ---- PGM input
    def arr(comp, rows, extra):
        a = initialize_array(DatasetType.input, comp, len(rows))
        for k, r in enumerate(rows):
            for key, v in {**extra, **r}.items():
                a[key][k] = v
        return a

    input_data = {
        ComponentType.node: arr(ComponentType.node, [dict(id=i, u_rated=u) for i, u in nodes], {}),
        ComponentType.line: arr(ComponentType.line, lines, dict(from_status=1, to_status=1, tan1=0.0, tan0=0.0, i_n=300.0)),
        ComponentType.link: arr(ComponentType.link, links, dict(from_status=1, to_status=1)),
        ComponentType.transformer: arr(ComponentType.transformer, transformers, dict(
            from_status=1, to_status=1, winding_from=WindingType.delta, winding_to=WindingType.wye_n, clock=5,
            tap_side=0, tap_pos=0, tap_min=-2, tap_max=2, tap_nom=0, tap_size=250.0)),
        ComponentType.source: arr(ComponentType.source, sources, dict(status=1, u_ref_angle=0.0)),
    }
    load_rows = [dict(id=new_id(), node=h["node"]) for h in houses]
    for r, h in zip(load_rows, houses):
        h["load_id"] = r["id"]
    input_data[ComponentType.asym_load] = arr(ComponentType.asym_load, load_rows,
                                              dict(status=1, type=LoadGenType.const_power, p_specified=0, q_specified=0))
    pv_houses = [h for h in houses if h["ean"] in p_pv]
    gen_rows = [dict(id=new_id(), node=h["node"]) for h in pv_houses]
    for r, h in zip(gen_rows, pv_houses):
        h["gen_id"] = r["id"]
    input_data[ComponentType.asym_gen] = arr(ComponentType.asym_gen, gen_rows,
                                             dict(status=1, type=LoadGenType.const_power, p_specified=0, q_specified=0))
    if not args.no_validate:
        assert_valid_input_data(input_data, symmetric=False)

    sub = STEP_MIN // SUB_MIN
    n_pf = STEPS * sub

    def to_sub(x):  # (n_min, ...) -> (n_pf, ...) block mean
        return x.reshape(n_pf, SUB_MIN, *x.shape[1:]).mean(axis=1)

    upd_load = initialize_array(DatasetType.update, ComponentType.asym_load, (n_pf, len(houses)))
    upd_load["id"] = [h["load_id"] for h in houses]
    upd_load["status"] = 1
    upd_load["p_specified"] = np.stack([to_sub(p_load[h["ean"]]) for h in houses], axis=1)
    upd_load["q_specified"] = np.stack([to_sub(q_load[h["ean"]]) for h in houses], axis=1)
    update = {ComponentType.asym_load: upd_load}
    if pv_houses:
        upd_gen = initialize_array(DatasetType.update, ComponentType.asym_gen, (n_pf, len(pv_houses)))
        upd_gen["id"] = [h["gen_id"] for h in pv_houses]
        upd_gen["status"] = 1
        upd_gen["p_specified"] = np.stack([to_sub(p_pv[h["ean"]]) for h in pv_houses], axis=1)
        upd_gen["q_specified"] = 0.0
        update[ComponentType.asym_gen] = upd_gen
    upd_src = initialize_array(DatasetType.update, ComponentType.source, (n_pf, len(sources)))
    upd_src["id"] = [s["id"] for s in sources]
    upd_src["status"] = 1
    upd_src["u_ref"] = to_sub(u_mv)[:, None]
    upd_src["u_ref_angle"] = 0.0
    update[ComponentType.source] = upd_src

    model = PowerGridModel(input_data, system_frequency=50.0)
    t_pf = time.time()
    out = model.calculate_power_flow(symmetric=False, update_data=update,
                                     output_component_types={ComponentType.node: ["id", "u"]},
                                     error_tolerance=1e-6, max_iterations=30, threading=-1,
                                     continue_on_batch_error=True)
    berr = model.batch_error
    if berr is not None and len(berr.failed_scenarios):
        raise SystemExit(f"load flow failed in {len(berr.failed_scenarios)} of {n_pf} steps, first: "
                         f"step {berr.failed_scenarios[0]}: {berr.error_messages[0]}")
    t_pf = time.time() - t_pf
    u = out[ComponentType.node]["u"]  # (n_pf, n_nodes, 3), line-to-ground V (in the sequence model = to neutral)
    node_index = {int(i): k for k, i in enumerate(out[ComponentType.node]["id"][0])}
    # meter: 10-minute mean of the load-flow voltages, gain error, rounding
    v10 = {}
    for h in houses:
        vv = u[:, node_index[h["node"]], :].reshape(STEPS, sub, 3).mean(axis=1)
        gain = 1 + rng.normal(0, args.meter_gain_sigma)
        v10[h["ean"]] = [vv[:, ph] * gain for ph in h["meter_phases"]]

    # ---- rows to write
    ts_index = {}
    ts_str = [iso_local(t) for t in t_end]
    for k, t in enumerate(t_end):
        ts_index[t] = k
    layout = args.layout
    if layout is None:
        cand = os.path.join(sample, "voltage.csv.gz")
        layout = cand if os.path.exists(cand) else "none"
    rows = []
    unknown = 0
    if layout != "none":
        opener = gzip.open if layout.endswith(".gz") else open
        with opener(layout, "rt", newline="") as f:
            for r in csv.DictReader(f):
                t = dt.datetime.fromisoformat(r["timestamp"]).astimezone(dt.timezone.utc)
                k = ts_index.get(t)
                h = v10.get(r["ean"])
                ch = int(r["channel"][1]) - 1
                if k is None or h is None or ch >= len(h):
                    unknown += 1
                    continue
                rows.append((r["ean"], k, ch))
    else:
        for h in houses:
            if h["smart"]:
                for k in range(STEPS):
                    for ch in range(len(h["meter_phases"])):
                        rows.append((h["ean"], k, ch))
    os.makedirs(args.out, exist_ok=True)
    emap = ean_map(list(truth), args.ean_offset)
    copied = copy_inputs(sample, args.out, emap) if args.copy_inputs else []

    def write(name, digits):
        path = os.path.join(args.out, name)
        with gzip.GzipFile(path, "wb", mtime=0) as gz:
            w = gz.write
            w(b"ean,timestamp,channel,voltage_v\n")
            for ean, k, ch in rows:
                v = v10[ean][ch][k]
                if digits == 1:
                    s = f"{math.floor(v * 10 + 0.5) / 10:.1f}"
                else:
                    s = f"{math.floor(v + 0.5):.0f}"
                w(f"{emap[ean]},{ts_str[k]},L{ch + 1},{s}\n".encode())
        return path

    rounding = args.rounding or float(scenario.get("config", {}).get("rounding_v", 0.1))
    primary = 1 if rounding < 0.5 else 0
    write("voltage.csv.gz", primary)
    if args.variant:
        write("voltage_1v.csv.gz" if primary == 1 else "voltage_0.1v.csv.gz", 1 - primary)

    allv = np.concatenate([np.stack(v10[e]).ravel() for e in v10])
    info = dict(
        generator="scripts/independent/pgm_voltages.py",
        power_grid_model=__import__("importlib.metadata").metadata.version("power-grid-model"),
        numpy=np.__version__,
        seed=args.seed,
        sample=os.path.normpath(sample),
        layout=os.path.normpath(layout) if layout != "none" else "none",
        rounding_v=rounding,
        variant=bool(args.variant),
        ean_offset=args.ean_offset,
        copied_inputs=copied,
        rows=len(rows),
        layout_rows_skipped=unknown,
        nodes=len(nodes), lines=len(lines), links=len(links), transformers=len(transformers),
        loads=len(houses), pv_generators=len(pv_houses),
        heat_pumps=sum(h["hp"] for h in houses), evs=sum(h["ev"] for h in houses),
        interruptions_applied=offs,
        load_flow_steps=n_pf, load_flow_minutes=SUB_MIN, load_flow_seconds=round(t_pf, 2),
        day_kinds=day_kinds[: STEPS * STEP_MIN // 1440],
        mv_voltage_pu=dict(min=round(float(u_mv.min()), 4), max=round(float(u_mv.max()), 4), oltc_steps=taps_made),
        meter_voltage_v=dict(min=round(float(allv.min()), 2), max=round(float(allv.max()), 2),
                             mean=round(float(allv.mean()), 2)),
        mean_house_load_w=round(float(np.mean([p_load[e].sum(axis=1).mean() for e in p_load])), 1),
        total_seconds=round(time.time() - t0, 1),
    )
    with open(os.path.join(args.out, "pgm_run.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    sys.exit(main())
