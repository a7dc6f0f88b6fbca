"""Meter voltages and feed-in of one corpus network, computed with power-grid-model (PGM,
asymmetric Newton-Raphson load flow), from load and PV profiles drawn here in Python.

Reads only the written network folder (GIS layers, truth.csv, scenario.json), like
scripts/independent/pgm_voltages.py, whose cable, geometry, sun and household helpers it
reuses. What this adds to that script (see sample-networks/corpus/README.md):

- apartment buildings: the meters of one building share ONE building cable from the
  section to the building, then a riser per meter (scenario.json `buildings`);
- commercial connections with an office/shop/farm day shape (scenario.json `devices`);
- MV negative-sequence unbalance: an unbalanced MV load at every station's MV node whose
  phase pattern drifts slowly, giving a few tenths of a percent of negative sequence at LV;
- MV common mode: HV random walk, MV feeder drop, HV/MV tap changer with dead band;
- meter rows with random single gaps, multi-hour gaps and exact duplicate rows;
- both roundings (voltage.csv.gz at 0.1 V, voltage_1v.csv.gz at 1 V) from the same values;
- 15-minute feed-in (import/export kWh) for the last 7 days from the same load and PV.
"""

import csv
import datetime as dt
import gzip
import importlib.util
import json
import math
import os
import time
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
from scipy.signal import lfilter

_HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "pgm_voltages", os.path.join(_HERE, "..", "independent", "pgm_voltages.py"))
pv_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pv_mod)


def smooth_noise(rng, n, tau_min):
    """Unit-variance AR(1) noise with time constant tau (minutes); same process as
    pgm_voltages.smooth_noise, computed with a linear filter (fast)."""
    a = math.exp(-1.0 / tau_min)
    e = rng.normal(0, math.sqrt(1 - a * a), n)
    e[0] = rng.normal()
    return lfilter([1.0], [1.0, -a], e)


pv_mod.smooth_noise = smooth_noise  # household() and cloud_field() look it up in their module

STEP_MIN = 10
STEPS = 1440
SUB_MIN = 2
U_LV = 410.0
U_MV = 10500.0
FEED_IN_DAYS = 7


def commercial(rng, n_min, hours, weekend, annual_kwh, kind):
    """Commercial / agricultural demand (W per minute): office-shop hours or a farm's
    milking peaks, a base load, cooling cycles and random machine events."""
    mean_w = annual_kwh * 1000 / 8760
    hh = hours
    if kind == "farm":
        g = lambda mu, s: np.exp(-0.5 * ((hh - mu) / s) ** 2)  # noqa: E731
        shape = 0.55 + 1.4 * g(6.0, 0.9) + 1.3 * g(17.5, 0.9) + 0.35 * g(12.5, 3)
    else:
        open_ = np.where(weekend, (hh > 9.5) & (hh < 17), (hh > 7.5) & (hh < 18.5))
        shape = 0.35 + 1.6 * open_ + 0.25 * np.exp(-0.5 * ((hh - 12.5) / 1.5) ** 2) * open_
    shape = shape / shape.mean()
    p = mean_w * shape * np.exp(0.25 * smooth_noise(rng, n_min, 15) + 0.1 * smooth_noise(rng, n_min, 300))
    cool = 0.12 * mean_w * (np.sin(np.arange(n_min) * 2 * np.pi / rng.uniform(20, 40)) > 0.0)
    ev = np.zeros(n_min)
    for _ in range(int(n_min / 1440 * 6)):
        i = rng.integers(n_min)
        if shape[i] > 1.0 or kind == "farm":
            ev[i:i + int(rng.uniform(3, 30))] += rng.uniform(1.0, 3.0) * mean_w
    return p + cool + ev


def _arr(comp, rows, extra):
    a = initialize_array(DatasetType.input, comp, len(rows))
    for k, r in enumerate(rows):
        for key, v in {**extra, **r}.items():
            a[key][k] = v
    return a


def simulate(folder, seed, log=print):
    """Writes voltage.csv.gz, voltage_1v.csv.gz, feed_in.csv.gz and pgm_run.json into folder."""
    t_start = time.time()
    rng = np.random.default_rng(seed)
    scenario = json.load(open(os.path.join(folder, "scenario.json")))
    truth = pv_mod.read_truth(os.path.join(folder, "truth.csv"))
    stations = pv_mod.read_layer(folder, "stations")
    cables = pv_mod.read_layer(folder, "cables")
    conns = pv_mod.read_layer(folder, "connections")
    conn_props = {p["ean"]: (p, g) for p, g in conns}
    st_xy = {p["station_id"]: g for p, g in stations}
    kva = {s["station_id"]: float(s.get("kva", 400)) for s in scenario["stations"]}
    pv_kwp = {p["ean"]: float(p["kwp"]) for p in scenario.get("pv", []) if p.get("kwp")}
    devices = {d["ean"]: d for d in scenario["devices"]}
    building_of = {}
    for b in scenario.get("buildings", []):
        for e, riser in zip(b["eans"], b["riser_m"]):
            building_of[e] = (b, riser)

    next_id = [1]

    def new_id():
        next_id[0] += 1
        return next_id[0] - 1

    nodes, lines, links, transformers, sources = [], [], [], [], []
    node_of, node_xy = {}, {}

    def gis_node(key, xy):
        if key not in node_of:
            node_of[key] = new_id()
            nodes.append((node_of[key], U_LV))
            node_xy[key] = xy
        return node_of[key]

    cab = {}
    for p, coords in cables:
        st = p["station_id"]
        a, b = f"{st}/{p['from_node']}", f"{st}/{p['to_node']}"
        gis_node(a, coords[0])
        gis_node(b, coords[-1])
        geo_len = pv_mod.polyline_length(coords)
        cab[p["cable_id"]] = dict(p=p, coords=coords, a=a, b=b, geo_len=max(geo_len, 1e-6),
                                  length=float(p["length_m"]),
                                  r=pv_mod.conductor_r(p.get("conductor"), p.get("r_ohm_per_km")),
                                  x=float(p.get("x_ohm_per_km") or pv_mod.X1_PER_KM), taps=[])

    mv_nodes, station_lv = {}, {}
    for st, xy in st_xy.items():
        mv = new_id()
        nodes.append((mv, U_MV))
        mv_nodes[st] = mv
        sources.append(dict(id=new_id(), node=mv, u_ref=1.0, sk=100e6, rx_ratio=0.1, z01_ratio=1.0))
        lv = new_id()
        nodes.append((lv, U_LV))
        station_lv[st] = lv
        sn = kva.get(st, 400.0) * 1000
        transformers.append(dict(id=new_id(), from_node=mv, to_node=lv, u1=U_MV, u2=U_LV, sn=sn, uk=0.04,
                                 pk=sn * 0.011, i0=0.002, p0=sn * 0.0011))
    # feeder roots: the section node marked as root in scenario.json
    for f in scenario["feeders"]:
        links.append(dict(id=new_id(), from_node=station_lv[f["station_id"]],
                          to_node=node_of[f"{f['station_id']}/{f['root_node']}"]))

    houses = []
    bnode = {}  # building id -> (tap key, node)
    for ean, t in truth.items():
        p, g = conn_props[ean]
        c = cab[t["cable_id"]]
        three = t["phase"] == "L123"
        if three:
            rot = t["rotation"] or "L1L2L3"
            meter_phases = [int(rot[i + 1]) - 1 for i in range(0, 6, 2)]
        else:
            meter_phases = [int(t["phase"][1]) - 1]
        node = new_id()
        nodes.append((node, U_LV))
        h = dict(ean=ean, node=node, three=three, meter_phases=meter_phases,
                 smart=(p.get("meter") or "smart") != "conventional", kwp=pv_kwp.get(ean, 0.0),
                 dev=devices[ean])
        houses.append(h)
        if ean in building_of:
            b, riser = building_of[ean]
            if b["id"] not in bnode:
                s_geo, dist = pv_mod.project_on_polyline(g, c["coords"])
                bn = new_id()
                nodes.append((bn, U_LV))
                bnode[b["id"]] = bn
                c["taps"].append((s_geo / c["geo_len"] * c["length"], bn, b["cable_m"],
                                  b["conductor"]))
            lines.append(dict(id=new_id(), from_node=bnode[b["id"]], to_node=node,
                              **pv_mod.line_params(pv_mod.conductor_r("4x10Cu" if three else "2x10Cu", None),
                                                   riser, x1_per_km=0.09)))
        else:
            s_geo, dist = pv_mod.project_on_polyline(g, c["coords"])
            svc = float(h["dev"]["service_m"])
            c["taps"].append((s_geo / c["geo_len"] * c["length"], node, svc, h["dev"]["service_conductor"]))
    for cid, c in cab.items():
        prev, prev_pos = node_of[c["a"]], 0.0
        for pos, hnode, svc_len, svc_cond in sorted(c["taps"], key=lambda x: x[0]):
            pos = min(max(pos, 0.0), c["length"])
            if pos - prev_pos < 0.5:
                tap = prev
            else:
                tap = new_id()
                nodes.append((tap, U_LV))
                lines.append(dict(id=new_id(), from_node=prev, to_node=tap,
                                  **pv_mod.line_params(c["r"], pos - prev_pos, c["x"])))
                prev, prev_pos = tap, pos
            lines.append(dict(id=new_id(), from_node=tap, to_node=hnode,
                              **pv_mod.line_params(pv_mod.conductor_r(svc_cond, None), svc_len, x1_per_km=0.09)))
        lines.append(dict(id=new_id(), from_node=prev, to_node=node_of[c["b"]],
                          **pv_mod.line_params(c["r"], max(c["length"] - prev_pos, 0.1), c["x"])))

    # ---- time axis, weather
    start_iso = scenario["start"]
    t_end = pv_mod.time_axis(start_iso, STEPS)
    t0_utc = t_end[0] - dt.timedelta(minutes=STEP_MIN)
    n_min = STEPS * STEP_MIN
    t_min = [t0_utc + dt.timedelta(minutes=i + 0.5) for i in range(n_min)]
    hours, weekend, day = pv_mod.local_hours_and_weekend(t_min)
    sx, sy = next(iter(st_xy.values()))
    lat = 52.1552 + (sy - 463000) / 111_200
    lon = 5.3872 + (sx - 155000) / (111_200 * math.cos(math.radians(52.2)))
    sin_el, az = pv_mod.solar(t_min, lat, lon)
    month = dt.datetime.fromisoformat(start_iso).month
    summer = math.cos(2 * math.pi * (month - 6.5) / 12)
    probs = np.array([0.3 + 0.15 * summer, 0.4, 0.3 - 0.15 * summer])
    cloud, day_kinds = pv_mod.cloud_field(rng, n_min // 1440 + 1, probs / probs.sum())
    cloud = cloud[:n_min]
    temp = (10 + 8 * summer) + 4 * np.sin(2 * np.pi * (hours - 9) / 24) + 2.0 * smooth_noise(rng, n_min, 600)

    # ---- loads and PV per connection (W per minute and grid phase)
    p_load, q_load, p_pv = {}, {}, {}
    for h in houses:
        d = h["dev"]
        if d["kind"] == "commercial" or d["kind"] == "farm":
            base = commercial(rng, n_min, hours, weekend, d["annual_kwh"], d["kind"])
            big, hp_w, ev_w = [], np.zeros(n_min), np.zeros(n_min)
            if d.get("heat_pump_kw"):
                _, _, hp_w, _ = pv_mod.household(rng, n_min, hours, weekend, day, temp, True, True, False)
        else:
            base, big, hp_w, ev_w = pv_mod.household(rng, n_min, hours, weekend, day, temp, h["three"],
                                                     bool(d.get("heat_pump_kw")), bool(d.get("ev_kw")))
            if d["kind"] == "flat":
                base = base * 0.75
                big = [b * 0.8 for b in big]
        P = np.zeros((n_min, 3))
        Q = np.zeros((n_min, 3))
        if h["three"]:
            w = rng.dirichlet([4, 4, 4])
            for ph in range(3):
                P[:, ph] += base * w[ph]
                Q[:, ph] += 0.25 * base * w[ph]
            for b in big:
                P[:, rng.integers(3)] += b
            for ph in range(3):
                P[:, ph] += (hp_w + ev_w) / 3 * rng.uniform(0.95, 1.05)
                Q[:, ph] += 0.33 * hp_w / 3
        else:
            ph = h["meter_phases"][0]
            P[:, ph] = base + sum(big) + hp_w + ev_w
            Q[:, ph] = 0.25 * base + 0.33 * hp_w
        p_load[h["ean"]], q_load[h["ean"]] = P, Q
        if h["kwp"] > 0:
            tilt = math.radians(rng.uniform(15, 45))
            azim = math.radians(rng.choice([90, 135, 180, 180, 180, 225, 270]) + rng.normal(0, 10))
            pv = h["kwp"] * pv_mod.pv_per_kwp(sin_el, az, cloud, tilt, azim) * rng.uniform(0.9, 1.0)
            G = np.zeros((n_min, 3))
            if h["three"]:
                G[:] = pv[:, None] / 3
            else:
                G[:, h["meter_phases"][0]] = pv
            p_pv[h["ean"]] = G

    # ---- MV: common mode (HV walk x tap changer - MV feeder drop + noise) and unbalance
    regional = pv_mod.daily_shape(hours, weekend, 0.0)
    regional = regional / regional.max()
    hv = 1.0 + 0.012 * smooth_noise(rng, n_min, 8 * 60) + 0.002 * smooth_noise(rng, n_min, 30)
    drop = 0.03 * regional - 0.012 * np.clip(cloud * np.maximum(sin_el, 0), 0, 1) * (0.5 + 0.5 * summer)
    u_mv = np.empty(n_min)
    tap, dwell, taps_made, step = 0, 0, 0, 0.0125
    for i in range(n_min):
        u = hv[i] * (1 + step * tap) - drop[i]
        if abs(u - 1.01) > 0.011:
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
    mvu = scenario["mv"]
    # unbalanced MV load: P_k = P0 + A(t) cos(phi(t) - 2 pi k / 3); A, phi drift slowly
    amp = mvu["unbalance_kw"] * 1000 * np.clip(1 + 0.35 * smooth_noise(rng, n_min, 180), 0.2, 2.0)
    phi = mvu["unbalance_angle_deg"] * math.pi / 180 + 0.5 * smooth_noise(rng, n_min, 600)
    p0 = mvu["mv_load_kw"] * 1000 * (0.6 + 0.4 * regional)
    p_mv = np.stack([p0 + amp * np.cos(phi - 2 * math.pi * k / 3) for k in range(3)], axis=1)

    # ---- PGM model
    input_data = {
        ComponentType.node: _arr(ComponentType.node, [dict(id=i, u_rated=u) for i, u in nodes], {}),
        ComponentType.line: _arr(ComponentType.line, lines, dict(from_status=1, to_status=1, tan1=0.0, tan0=0.0, i_n=300.0)),
        ComponentType.link: _arr(ComponentType.link, links, dict(from_status=1, to_status=1)),
        ComponentType.transformer: _arr(ComponentType.transformer, transformers, dict(
            from_status=1, to_status=1, winding_from=WindingType.delta, winding_to=WindingType.wye_n, clock=5,
            tap_side=0, tap_pos=0, tap_min=-2, tap_max=2, tap_nom=0, tap_size=250.0)),
        ComponentType.source: _arr(ComponentType.source, sources, dict(status=1, u_ref_angle=0.0)),
    }
    load_rows = [dict(id=new_id(), node=h["node"]) for h in houses]
    for r, h in zip(load_rows, houses):
        h["load_id"] = r["id"]
    mv_load_rows = [dict(id=new_id(), node=n) for n in mv_nodes.values()]
    input_data[ComponentType.asym_load] = _arr(ComponentType.asym_load, load_rows + mv_load_rows,
                                               dict(status=1, type=LoadGenType.const_power, p_specified=0, q_specified=0))
    pv_houses = [h for h in houses if h["ean"] in p_pv]
    gen_rows = [dict(id=new_id(), node=h["node"]) for h in pv_houses]
    for r, h in zip(gen_rows, pv_houses):
        h["gen_id"] = r["id"]
    if gen_rows:
        input_data[ComponentType.asym_gen] = _arr(ComponentType.asym_gen, gen_rows,
                                                  dict(status=1, type=LoadGenType.const_power, p_specified=0, q_specified=0))
    assert_valid_input_data(input_data, symmetric=False)

    sub = STEP_MIN // SUB_MIN
    n_pf = STEPS * sub

    def to_sub(x):
        return x.reshape(n_pf, SUB_MIN, *x.shape[1:]).mean(axis=1)

    n_load = len(houses) + len(mv_load_rows)
    upd_load = initialize_array(DatasetType.update, ComponentType.asym_load, (n_pf, n_load))
    upd_load["id"] = [h["load_id"] for h in houses] + [r["id"] for r in mv_load_rows]
    upd_load["status"] = 1
    pm = to_sub(p_mv)
    upd_load["p_specified"] = np.concatenate(
        [np.stack([to_sub(p_load[h["ean"]]) for h in houses], axis=1),
         np.repeat(pm[:, None, :], len(mv_load_rows), axis=1)], axis=1)
    upd_load["q_specified"] = np.concatenate(
        [np.stack([to_sub(q_load[h["ean"]]) for h in houses], axis=1),
         np.repeat(0.3 * pm[:, None, :], len(mv_load_rows), axis=1)], axis=1)
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
                                     output_component_types={ComponentType.node: ["id", "u", "u_angle"]},
                                     error_tolerance=1e-6, max_iterations=30, threading=-1)
    t_pf = time.time() - t_pf
    u = out[ComponentType.node]["u"]
    ang = out[ComponentType.node]["u_angle"]
    node_index = {int(i): k for k, i in enumerate(out[ComponentType.node]["id"][0])}
    # negative-sequence unbalance (2-minute values) at the first station's MV node (the MV
    # part alone) and at its LV busbar (MV part plus the LV loads' own unbalance)
    def vuf_at(node):
        k = node_index[node]
        ph = u[:, k, :] * np.exp(1j * ang[:, k, :])
        a = np.exp(2j * math.pi / 3)
        v1 = (ph[:, 0] + a * ph[:, 1] + a * a * ph[:, 2]) / 3
        v2 = (ph[:, 0] + a * a * ph[:, 1] + a * ph[:, 2]) / 3
        return np.abs(v2) / np.abs(v1) * 100

    vuf = vuf_at(next(iter(station_lv.values())))
    vuf_mv = vuf_at(next(iter(mv_nodes.values())))

    v10 = {}
    gains = {}
    for h in houses:
        vv = u[:, node_index[h["node"]], :].reshape(STEPS, sub, 3).mean(axis=1)
        gain = 1 + rng.normal(0, 0.001)
        gains[h["ean"]] = gain
        v10[h["ean"]] = [vv[:, p] * gain for p in h["meter_phases"]]

    # ---- rows: every smart meter, minus gaps; a few exact duplicates at the end
    ts_str = [pv_pv_iso(t) for t in t_end]
    rows = []
    gaps_single = gaps_long = 0
    for h in houses:
        if not h["smart"]:
            continue
        keep = np.ones(STEPS, bool)
        miss = rng.random(STEPS) < 0.004
        gaps_single += int(miss.sum())
        keep &= ~miss
        if rng.random() < 0.08:  # a multi-hour gap (communication)
            L = int(rng.uniform(12, 72))
            s0 = int(rng.integers(0, STEPS - L))
            keep[s0:s0 + L] = False
            gaps_long += 1
        for k in np.nonzero(keep)[0]:
            for ch in range(len(h["meter_phases"])):
                rows.append((h["ean"], int(k), ch))
    n_dup = max(3, len(rows) // 2500)
    dups = [rows[int(i)] for i in rng.choice(len(rows), n_dup, replace=False)]

    def write(name, digits):
        with gzip.GzipFile(os.path.join(folder, name), "wb", mtime=0) as gz:
            buf = ["ean,timestamp,channel,voltage_v\n"]
            for ean, k, ch in rows + dups:
                v = v10[ean][ch][k]
                s = f"{math.floor(v * 10 + 0.5) / 10:.1f}" if digits == 1 else f"{math.floor(v + 0.5):.0f}"
                buf.append(f"{ean},{ts_str[k]},L{ch + 1},{s}\n")
            gz.write("".join(buf).encode())

    write("voltage.csv.gz", 1)
    write("voltage_1v.csv.gz", 0)

    # ---- feed-in: last 7 days, 15-minute import/export of the net power over all phases
    n_fi = FEED_IN_DAYS * 96
    m0 = n_min - n_fi * 15
    fi_rows = 0
    with gzip.GzipFile(os.path.join(folder, "feed_in.csv.gz"), "wb", mtime=0) as gz:
        buf = ["ean,timestamp,import_kwh,export_kwh\n"]
        for h in houses:
            if not h["smart"]:
                continue
            net = p_load[h["ean"]].sum(axis=1)
            if h["ean"] in p_pv:
                net = net - p_pv[h["ean"]].sum(axis=1)
            net = net[m0:].reshape(n_fi, 15)
            imp = np.clip(net, 0, None).sum(axis=1) / 60 / 1000
            exp = np.clip(-net, 0, None).sum(axis=1) / 60 / 1000
            for j in range(n_fi):
                t = t0_utc + dt.timedelta(minutes=m0 + 15 * (j + 1))
                buf.append(f"{h['ean']},{pv_pv_iso(t)},{imp[j]:.3f},{exp[j]:.3f}\n".replace(",0.000\n", ",0\n"))
                fi_rows += 1
        gz.write("".join(buf).encode())

    allv = np.concatenate([np.stack(v10[e]).ravel() for e in v10])
    info = dict(
        generator="scripts/corpus/corpus_sim.py (power-grid-model asymmetric load flow)",
        power_grid_model=__import__("importlib.metadata").metadata.version("power-grid-model"),
        numpy=np.__version__,
        seed=seed,
        rows=len(rows) + len(dups), duplicate_rows=len(dups), single_gaps=gaps_single, long_gaps=gaps_long,
        feed_in_rows=fi_rows,
        nodes=len(nodes), lines=len(lines), transformers=len(transformers), loads=len(houses),
        pv_generators=len(pv_houses), buildings=len(bnode),
        load_flow_steps=n_pf, load_flow_minutes=SUB_MIN, load_flow_seconds=round(t_pf, 2),
        day_kinds=day_kinds[:STEPS * STEP_MIN // 1440],
        mv_voltage_pu=dict(min=round(float(u_mv.min()), 4), max=round(float(u_mv.max()), 4), oltc_steps=taps_made),
        mv_negative_sequence_percent=dict(p5=round(float(np.percentile(vuf_mv, 5)), 3),
                                          median=round(float(np.median(vuf_mv)), 3),
                                          p95=round(float(np.percentile(vuf_mv, 95)), 3)),
        lv_busbar_negative_sequence_percent=dict(p5=round(float(np.percentile(vuf, 5)), 3),
                                          median=round(float(np.median(vuf)), 3),
                                          p95=round(float(np.percentile(vuf, 95)), 3)),
        meter_gain_sigma=0.001,
        meter_voltage_v=dict(min=round(float(allv.min()), 2), max=round(float(allv.max()), 2),
                             mean=round(float(allv.mean()), 2)),
        mean_connection_load_w=round(float(np.mean([p_load[e].sum(axis=1).mean() for e in p_load])), 1),
        seconds=round(time.time() - t_start, 1),
    )
    with open(os.path.join(folder, "pgm_run.json"), "w") as f:
        json.dump(info, f, indent=2)
        f.write("\n")
    log(f"  load flow {t_pf:.1f} s, {len(rows)} rows, V {info['meter_voltage_v']}, VUF MV {info['mv_negative_sequence_percent']} LV {info['lv_busbar_negative_sequence_percent']}")
    return info


def pv_pv_iso(t_utc):
    return pv_mod.iso_local(t_utc)
