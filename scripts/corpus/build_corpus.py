#!/usr/bin/env python3
"""Independent grid corpus for lvtopo: public LV grids that lvtopo did not draw, converted
to lvtopo's input contract, with injected GIS errors, truth, and meter voltages and
feed-in from power-grid-model (scripts/corpus/corpus_sim.py).

Sources (all shipped inside the pinned PyPI packages, no download at run time):
- pandapower.networks: Kerber Landnetz (cable 1/2, overhead 1/2), Dorfnetz,
  Vorstadtnetz (cable 1), Dickert LV networks;
- simbench: 1-LV-rural1--0-sw, 1-LV-rural2--0-sw, 1-LV-semiurb4--0-sw.

Per grid: the LV busbar is the transformer's LV bus; feeders are the lines leaving it;
cable sections are the grid's lines; a short leaf line to a load bus (<= 35 m) is the
house's service cable (the house hangs on the section feeding that bus); every load is a
connection (some become apartment buildings with 4-12 meters behind one building cable).
Grids without geodata are laid out as radial trees along streets with every section's
geometry exactly its cable length; SimBench geodata is used, scaled, and sections are
bent where the cable is longer than the straight line.

Usage (from the repository root, in a venv with scripts/corpus/requirements.txt):
  python scripts/corpus/build_corpus.py --out sample-networks/corpus [--only NAME ...]
"""

import argparse
import collections
import csv
import json
import math
import os
import shutil
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus_sim  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

# name, family, sources, place (RD New of the station area), start of the read, options
NETWORKS = [
    dict(name="kerber-land", family="kerber-land", no=1, seed=101, town="Zeerijp", rd=(250600, 596400), pc=9914,
         start="2025-04-14", sources=[("kerber", "create_kerber_landnetz_kabel_1", {}),
                                      ("kerber", "create_kerber_landnetz_kabel_2", {}),
                                      ("kerber", "create_kerber_landnetz_freileitung_1", {}),
                                      ("kerber", "create_kerber_landnetz_freileitung_2", {})],
         prefix="KL", buildings=[1, 0, 1, 0], pv_share=0.40, three_share=0.18, smart_share=1.0,
         extra_feeders=[[], [], [], []]),
    dict(name="kerber-dorf", family="kerber-dorf", no=2, seed=202, town="Dalfsen", rd=(215400, 498900), pc=7721,
         start="2025-06-16", sources=[("kerber", "create_kerber_dorfnetz", {})],
         prefix="KD", buildings=[2], pv_share=0.35, three_share=0.2, smart_share=0.85, extra_feeders=[[]]),
    dict(name="kerber-vorstadt", family="kerber-vorstadt", no=3, seed=303, town="Amersfoort", rd=(157300, 465100),
         pc=3818, start="2025-10-20", sources=[("kerber", "create_kerber_vorstadtnetz_kabel_1", {})],
         prefix="KV", buildings=[5], pv_share=0.25, three_share=0.18, smart_share=1.0, extra_feeders=[[]]),
    dict(name="dickert-cable", family="dickert", no=4, seed=404, town="Zwolle", rd=(203900, 502100), pc=8014,
         start="2025-01-13", sources=[("dickert", "dickert", dict(feeders_range="middle", linetype="cable",
                                                                  customer="multiple", case="bad"))],
         prefix="DC", buildings=[2], pv_share=0.20, three_share=0.15, smart_share=1.0, extra_feeders=[[[1, 18]]]),
    dict(name="dickert-overhead", family="dickert", no=5, seed=505, town="Emmen", rd=(256500, 532900), pc=7824,
         start="2025-08-18", sources=[("dickert", "dickert", dict(feeders_range="long", linetype="C&OHL",
                                                                  customer="multiple", case="average"))],
         prefix="DO", buildings=[1], pv_share=0.35, three_share=0.15, smart_share=1.0,
         extra_feeders=[[[1, 25], [3, 70]]]),
    dict(name="simbench-rural1", family="simbench-rural", no=6, seed=606, town="Wijnjewoude", rd=(209300, 561400),
         pc=8431, start="2025-03-24", sources=[("simbench", "1-LV-rural1--0-sw", dict(copy=k)) for k in range(4)],
         prefix="SA", buildings=[0, 0, 0, 0], pv_share=0.35, three_share=0.20, smart_share=1.0,
         extra_feeders=[[], [], [], []]),
    dict(name="simbench-rural2", family="simbench-rural", no=7, seed=707, town="Westerbork", rd=(236900, 546100),
         pc=9431, start="2025-05-19", sources=[("simbench", "1-LV-rural2--0-sw", {})],
         prefix="SB", buildings=[1], pv_share=0.35, three_share=0.14, smart_share=1.0, extra_feeders=[[]]),
    dict(name="simbench-semiurb4", family="simbench-semiurb", no=8, seed=808, town="Apeldoorn", rd=(194700, 469800),
         pc=7321, start="2025-11-10", sources=[("simbench", "1-LV-semiurb4--0-sw", {})],
         prefix="SU", buildings=[4], pv_share=0.30, three_share=0.12, smart_share=1.0, extra_feeders=[[]]),
]

STREETS = (
    "Dorpsstraat Kerkstraat Molenweg Schoolstraat Beukenlaan Eikenlaan Lindelaan Esdoornstraat Wilgenlaan "
    "Populierenweg Berkenlaan Kastanjelaan Meidoornstraat Vlierstraat Hazelaarstraat Rozenstraat Tulpstraat "
    "Narcisstraat Irisstraat Lelystraat Sportlaan Stationsweg Parallelweg Nieuwstraat Hoofdstraat Brinkweg "
    "Esweg Veldweg Heideweg Boerhaavestraat Vondelstraat Bilderdijkstraat Spinozastraat Erasmusstraat "
    "Rembrandtlaan Vermeerstraat Frans Halsstraat Mesdagstraat Marisstraat Israelsstraat Tollensstraat "
    "Merelstraat Lijsterstraat Spreeuwstraat Mereldreef Koolmeesstraat Zwaluwstraat Kievitstraat Reigerstraat "
    "Ooievaarstraat Havikstraat Valkstraat Zuiderweg Noorderweg Oosterstraat Westerstraat Julianastraat "
    "Beatrixstraat Wilhelminastraat Bernhardlaan Irenestraat Margrietstraat Christinastraat Oranjestraat "
    "Nassaulaan Prinsenweg Gravenstraat Ridderstraat Burgemeester de Vriesstraat Pastoor van Arsstraat "
    "Mr. Troelstralaan Thorbeckestraat Van Heutszstraat De Ruyterstraat Trompstraat Pietheinstraat "
    "Evertsenstraat Tasmanstraat Houtmanstraat Barentszstraat Hudsonstraat Zeemanstraat Kooistraat Dijkweg "
    "Slootweg Zandweg Kampweg Hessenweg Enkweg Koeweg Gaasterweg Meerweg Vaart Wijk Korte Akkers Lange Akkers"
).split(" ")
# multi-word names above were split; rebuild them
_FIX = {"Frans": "Frans Halsstraat", "Burgemeester": "Burgemeester de Vriesstraat", "Pastoor": "Pastoor van Arsstraat",
        "Mr.": "Mr. Troelstralaan", "Van": "Van Heutszstraat", "De": "De Ruyterstraat", "Korte": "Korte Akkers",
        "Lange": "Lange Akkers"}
STREETS = [_FIX.get(s, s) for s in STREETS if s and s not in ("Halsstraat", "de", "Vriesstraat", "van", "Arsstraat",
                                                               "Troelstralaan", "Heutszstraat", "Ruyterstraat",
                                                               "Akkers")]
ROTATIONS = ["L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3"]
SERVICE_MAX_M = 35.0


def ean_with_check_digit(first17):
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(first17)))
    return first17 + str((10 - total % 10) % 10)


# ---------------------------------------------------------------------------------------
# Source grids -> radial tree
# ---------------------------------------------------------------------------------------


def load_source(kind, fn, opts):
    if kind == "simbench":
        import simbench as sb
        return sb.get_simbench_net(fn)
    import pandapower.networks as pn
    if kind == "dickert":
        return pn.create_dickert_lv_network(**opts)
    return getattr(pn, fn)()


def conductor_name(std_type, r):
    t = (std_type or "").upper()
    num = "".join(ch for ch in t.split("4X")[-1] if ch.isdigit()) if "4X" in t else ""
    if t.startswith("NFA2X"):
        return f"4x{num}Al (overhead)"
    if t.startswith("NYY"):
        return f"4x{num}Cu"
    if num:
        return f"4x{num}Al"
    return "4x150Al"


def extract_tree(net):
    """Radial tree of the LV grid: nodes (merged buses), directed main edges, loads."""
    par = {int(b): int(b) for b in net.bus.index}

    def f(x):
        while par[x] != x:
            par[x] = par[par[x]]
            x = par[x]
        return x

    sw = net.switch
    for _, s in sw.iterrows():
        if s.et == "b" and bool(s.closed):
            par[f(int(s.element))] = f(int(s.bus))
    lv = f(int(net.trafo.lv_bus.iloc[0]))
    open_lines = set(int(s.element) for _, s in sw.iterrows() if s.et == "l" and not bool(s.closed))
    adj = collections.defaultdict(list)
    for i, l in net.line.iterrows():
        if not bool(l.in_service) or int(i) in open_lines:
            continue
        a, b = f(int(l.from_bus)), f(int(l.to_bus))
        if a == b:
            continue
        e = dict(length=max(float(l.length_km) * 1000, 1.0), r=float(l.r_ohm_per_km), x=float(l.x_ohm_per_km),
                 conductor=conductor_name(l.get("std_type"), l.r_ohm_per_km), line=int(i))
        adj[a].append((b, e))
        adj[b].append((a, e))
    parent, children, inc = {lv: None}, collections.defaultdict(list), {}
    order = [lv]
    q = collections.deque([lv])
    while q:
        x = q.popleft()
        for y, e in adj[x]:
            if y in parent:
                continue
            parent[y] = x
            inc[y] = e
            children[x].append(y)
            order.append(y)
            q.append(y)
    loads = collections.defaultdict(list)
    for i, ld in net.load.iterrows():
        b = f(int(ld.bus))
        if b in parent:
            loads[b].append(dict(p_kw=float(ld.p_mw) * 1000, profile=str(ld.get("profile", "") or "")))
    geo = {}
    if "geo" in net.bus.columns:
        for b, g in net.bus.geo.items():
            if isinstance(g, str) and g:
                c = json.loads(g)["coordinates"]
                geo.setdefault(f(int(b)), (float(c[0]), float(c[1])))
    kva = float(net.trafo.sn_mva.iloc[0]) * 1000
    return dict(lv=lv, parent=parent, children=children, inc=inc, order=order, loads=loads, geo=geo, kva=kva)


# ---------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------


def rot(v, deg):
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return (v[0] * c - v[1] * s, v[0] * s + v[1] * c)


def poly_len(pts):
    return sum(math.dist(a, b) for a, b in zip(pts[:-1], pts[1:]))


def point_at(pts, s):
    """Point and unit direction at distance s along a polyline."""
    acc = 0.0
    for a, b in zip(pts[:-1], pts[1:]):
        L = math.dist(a, b)
        if L > 0 and acc + L >= s:
            u = (s - acc) / L
            return (a[0] + u * (b[0] - a[0]), a[1] + u * (b[1] - a[1])), ((b[0] - a[0]) / L, (b[1] - a[1]) / L)
        acc += L
    a, b = pts[-2], pts[-1]
    L = max(math.dist(a, b), 1e-9)
    return b, ((b[0] - a[0]) / L, (b[1] - a[1]) / L)


def bent(a, b, length, side):
    """a -> b with a kink so that the polyline is `length` long (straight when shorter)."""
    d = math.dist(a, b)
    if length <= d * 1.02 or d < 1e-6 and length < 2:
        return [a, b]
    if d < 1e-6:
        return [a, (a[0] + length / 2, a[1]), b]
    h = math.sqrt(max((length / 2) ** 2 - (d / 2) ** 2, 0))
    ux, uy = (b[0] - a[0]) / d, (b[1] - a[1]) / d
    m = ((a[0] + b[0]) / 2 - side * uy * h, (a[1] + b[1]) / 2 + side * ux * h)
    return [a, m, b]


def subtree_len(tree, extra):
    tot = {}
    for n in reversed(tree["order"]):
        tot[n] = sum(tot[c] + tree["inc"][c]["length"] for c in tree["children"][n] if c not in extra)
    return tot


def layout(tree, rng, service_leaf):
    """Node coordinates (local metres, station at 0,0) and section polylines."""
    lv, ch = tree["lv"], tree["children"]
    tot = subtree_len(tree, service_leaf)
    xy, geom = {lv: (0.0, 0.0)}, {}
    # SimBench geodata are schematic (3-4 decimals, bus positions not to scale with the cable
    # lengths, feeders often drawn into one sector): each section keeps the turn it makes in
    # the geodata relative to its parent section, feeders keep their order around the
    # station but are spread over the circle, and every section gets its cable length.
    geo_dir = {}
    if tree["geo"]:
        g = tree["geo"]
        lat0 = g[lv][1]
        for n in tree["order"][1:]:
            p = tree["parent"][n]
            if n in g and p in g:
                dx = (g[n][0] - g[p][0]) * math.cos(math.radians(lat0))
                dy = g[n][1] - g[p][1]
                if math.hypot(dx, dy) > 1e-6:
                    geo_dir[n] = math.degrees(math.atan2(dy, dx))
    if True:
        feeders = [c for c in ch[lv] if c not in service_leaf]
        base = rng.uniform(0, 360)
        head = {lv: 0.0}
        tree["root_xy"] = {}
        if geo_dir:
            feeders.sort(key=lambda c: geo_dir.get(c, 0.0))
        else:
            feeders.sort(key=lambda c: -tot[c])
        for i, c in enumerate(feeders):
            head[c] = base + i * 360.0 / max(len(feeders), 1) + rng.normal(0, 8)
        for n in tree["order"]:
            kids = [c for c in ch[n] if c not in service_leaf]
            if n != lv and kids:
                kids.sort(key=lambda c: -(tot[c] + tree["inc"][c]["length"]))
                def geo_turn(c):
                    if c in geo_dir and n in geo_dir:
                        return (geo_dir[c] - geo_dir[n] + 180) % 360 - 180
                    return None
                t0 = geo_turn(kids[0])
                head[kids[0]] = head[n] + (t0 if t0 is not None else rng.normal(0, 3))
                turn = 1 if rng.random() < 0.5 else -1
                for j, c in enumerate(kids[1:]):
                    t = geo_turn(c)
                    if t is None or abs((t - (t0 or 0) + 180) % 360 - 180) < 30:
                        t = turn * 90 * (1 if j % 2 == 0 else -1) + (0 if j < 2 else 40 * turn)
                    head[c] = head[n] + t
            for c in kids:
                v = rot((1.0, 0.0), head[c])
                a = xy[n]
                if n == lv:
                    a = (v[0] * 2.0, v[1] * 2.0)
                    tree["root_xy"][c] = a
                L = tree["inc"][c]["length"]
                xy[c] = (a[0] + v[0] * L, a[1] + v[1] * L)
                geom[c] = [a, xy[c]]
        heading = head
    return xy, geom


# ---------------------------------------------------------------------------------------
# One network
# ---------------------------------------------------------------------------------------


def build_network(spec, out_root, log):
    rng = np.random.default_rng(spec["seed"])
    name = spec["name"]
    out = os.path.join(out_root, name)
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    streets = list(STREETS)
    rng.shuffle(streets)
    street_iter = iter(streets * 3)
    pc_letters = iter([a + b for a in "ABCEGHJKLMNPRTVWXZ" for b in "ABCEGHJKLMNPRTVWXZ"])
    ox, oy = spec["rd"]
    stations, cables, conns, feeders_meta, buildings, st_meta = [], [], [], [], [], []
    ean_serial = [0]

    def next_ean():
        ean_serial[0] += 1
        return ean_with_check_digit(f"871695{spec['no']:02d}{ean_serial[0] * 37 + 1000:09d}")

    station_spacing = 420.0
    for si, (kind, fn, opts) in enumerate(spec["sources"]):
        st_id = f"{spec['prefix']}{si + 1:02d}"
        net = load_source(kind, fn, opts)
        tree = extract_tree(net)
        ch, inc, parent, lv = tree["children"], tree["inc"], tree["parent"], tree["lv"]
        # service leaves: short leaf lines to a load bus (not from the busbar)
        service_leaf = {}
        for n in tree["order"][1:]:
            if not ch[n] and tree["loads"].get(n) and inc[n]["length"] <= SERVICE_MAX_M and parent[n] != lv:
                service_leaf[n] = inc[n]["length"]
        # extra short feeders (added: a commercial connection or a few houses straight from the busbar)
        extra_houses = {}
        nid = max(tree["order"]) + 1
        for k, (n_h, length) in enumerate(spec["extra_feeders"][si]):
            n = nid + k
            parent[n] = lv
            ch[lv].append(n)
            ch[n] = []
            inc[n] = dict(length=float(length), r=0.206, x=0.075, conductor="4x150Al" if n_h > 1 else "4x95Al", line=-1)
            tree["order"].append(n)
            tree["loads"][n] = [dict(p_kw=30.0 if n_h == 1 else 6.0, profile="G1-A" if n_h == 1 else "H0-A")
                                for _ in range(n_h)]
            extra_houses[n] = n_h
        xy, geom = layout(tree, rng, service_leaf)
        # place station area
        sx, sy = ox + (si % 2) * station_spacing * 1.6 + rng.uniform(-20, 20), oy + (si // 2) * station_spacing * 1.3
        rot_deg = 0.0

        def T(p):
            return (round(sx + p[0], 3), round(sy + p[1], 3))

        stations.append(dict(type="Feature", geometry=dict(type="Point", coordinates=list(T((0.0, 0.0)))),
                             properties=dict(station_id=st_id, name=f"{spec['town']} {si + 1}")))
        # feeders and sections
        main_nodes = [n for n in tree["order"][1:] if n not in service_leaf]
        feeder_of, fno = {}, 0
        for c in sorted([c for c in ch[lv] if c not in service_leaf],
                        key=lambda c: math.atan2(geom[c][-1][1], geom[c][-1][0])):
            fno += 1
            feeder_of[c] = f"{st_id}-G{fno:02d}"
        node_name = {lv: None}
        cable_of = {}
        for k, n in enumerate(main_nodes):
            node_name[n] = f"{st_id}-N{k + 1:04d}"
        for n in main_nodes:
            p = parent[n]
            feeder_of.setdefault(n, feeder_of.get(p))
        root_name = {}
        kc = 0
        sec = {}
        for n in main_nodes:
            kc += 1
            cid = f"{st_id}-K{kc:04d}"
            cable_of[n] = cid
            p = parent[n]
            if p == lv:
                from_node = f"{st_id}-R{list(feeder_of).index(n) + 1:02d}" if False else f"{st_id}-B{feeder_of[n][-2:]}"
                root_name[feeder_of[n]] = from_node
            else:
                from_node = node_name[p]
            pts = [T(q) for q in geom[n]]
            e = inc[n]
            sec[n] = dict(cable_id=cid, feeder_id=feeder_of[n], pts=pts, length=e["length"], node=n)
            cables.append(dict(type="Feature", geometry=dict(type="LineString", coordinates=[list(q) for q in pts]),
                               properties=dict(cable_id=cid, station_id=st_id, feeder_id=feeder_of[n],
                                               from_node=from_node, to_node=node_name[n], conductor=e["conductor"],
                                               r_ohm_per_km=round(e["r"], 4), x_ohm_per_km=round(e["x"], 4),
                                               length_m=round(e["length"], 2))))
        for fid, rn in root_name.items():
            feeders_meta.append(dict(station_id=st_id, feeder_id=fid, root_node=rn))
        # streets: chains along the largest subtree
        tot = subtree_len(tree, service_leaf)
        street_of, chain_start, chain_parent = {}, {}, {}
        for n in main_nodes:
            p = parent[n]
            sibs = [c for c in ch[p] if c not in service_leaf]
            cont = p != lv and max(sibs, key=lambda c: tot[c] + inc[c]["length"]) == n
            if cont and p in street_of:
                street_of[n] = street_of[p]
            else:
                sid = len(chain_start)
                chain_start[sid] = n
                chain_parent[sid] = street_of.get(p)
                street_of[n] = sid
        chain_secs = collections.defaultdict(list)
        for n in main_nodes:
            chain_secs[street_of[n]].append(n)
        chain_len = {s: sum(inc[n]["length"] for n in v) for s, v in chain_secs.items()}
        street_name = {}
        for sid in sorted(chain_start):
            if chain_len[sid] < 30 and chain_parent[sid] is not None:
                street_name[sid] = street_name[chain_parent[sid]]
            else:
                street_name[sid] = next(street_iter)
        # houses: per load, attach to the section feeding its main bus
        loads_at = collections.defaultdict(list)
        for b, lds in tree["loads"].items():
            a = parent[b] if b in service_leaf else b
            for ld in lds:
                loads_at[a].append((ld, service_leaf.get(b)))
        n_build = spec["buildings"][si]
        # apartment buildings: loads close to the station (urban: right at the busbar)
        cand = [(math.hypot(*xy[a]), a, j) for a in loads_at if a != lv and a not in extra_houses
                for j in range(len(loads_at[a]))]
        cand.sort()
        chosen = set()
        for _, a, j in cand[: max(n_build * 3, n_build)]:
            if len(chosen) < n_build and rng.random() < 0.7:
                chosen.add((a, j))
        for _, a, j in cand:
            if len(chosen) >= n_build:
                break
            chosen.add((a, j))
        site_list = []
        for a in sorted(loads_at, key=lambda a: tree["order"].index(a)):
            if a == lv:
                continue
            lds = loads_at[a]
            s = sec[a]
            L = poly_len(s["pts"])
            fr = sorted(rng.uniform(0.3, 0.95, len(lds))) if len(lds) > 1 else [rng.uniform(0.35, 0.95)]
            for j, (ld, svc) in enumerate(lds):
                is_bld = (a, j) in chosen
                # A house faces the street of its own section: of up to 12 drawn placements
                # (side, offset, position) keep the first whose own section is the nearest
                # one (within 2 m), else the least ambiguous one. Without this, schematic
                # layouts put houses on top of another feeder's cable near the station.
                best = None
                for attempt in range(12):
                    pos = (fr[j] if attempt == 0 else rng.uniform(0.3, 0.95)) * L
                    (px, py), (dx, dy) = point_at(s["pts"], pos)
                    side = 1 if rng.random() < 0.5 else -1
                    if is_bld:
                        dist = float(rng.uniform(12, 25))
                    elif svc:
                        dist = float(np.clip(svc * rng.uniform(0.8, 1.0), 8, 25))
                    else:
                        dist = float(rng.uniform(8, 25))
                    hx, hy = px - side * dy * dist, py + side * dx * dist
                    d_other = min((seg_dist((hx, hy), t["pts"]) for m, t in sec.items() if m != a), default=1e9)
                    margin = d_other - seg_dist((hx, hy), s["pts"])
                    if best is None or margin > best[0]:
                        best = (margin, pos, side, dist, hx, hy)
                    if margin >= -2.0:
                        break
                _, pos, side, dist, hx, hy = best
                prof = ld["profile"]
                # SimBench profiles: L = agriculture, G = commercial; small ones are (farm)houses
                kind_ = ("farm" if prof.startswith("L") and ld["p_kw"] >= 8 else
                         "commercial" if prof.startswith("G") and ld["p_kw"] >= 4 else "house")
                site_list.append(dict(node=a, sec=s, pos=pos, side=side, xy=(round(hx, 3), round(hy, 3)), dist=dist,
                                      building=is_bld, kind=kind_, p_kw=ld["p_kw"], extra=a in extra_houses))
        # street, number and postcode per site
        for site in site_list:
            n = site["node"]
            sid = street_of[n]
            # distance along the chain
            s_along = 0.0
            for m in chain_secs[sid]:
                if m == n:
                    break
                s_along += inc[m]["length"]
            site["street_chain"] = sid
            site["s"] = s_along + site["pos"]
        # some houses face another street than their cable's (corner houses, back gardens)
        for site in site_list:
            if rng.random() < 0.06:
                best = None
                for n2, s2 in sec.items():
                    if street_name[street_of[n2]] == street_name[site["street_chain"]]:
                        continue
                    d = min(math.dist(site["xy"], q) for q in s2["pts"])
                    if d < 35 and (best is None or d < best[0]):
                        best = (d, n2)
                if best:
                    sid2 = street_of[best[1]]
                    site["street_chain"] = sid2
                    s_along = 0.0
                    for m in chain_secs[sid2]:
                        if m == best[1]:
                            break
                        s_along += inc[m]["length"]
                    site["s"] = s_along + poly_len(sec[best[1]]["pts"]) / 2
        by_street = collections.defaultdict(list)
        for site in site_list:
            by_street[(street_name[site["street_chain"]], site["side"])].append(site)
        postcode = {}
        for (stn, side), lst in sorted(by_street.items()):
            lst.sort(key=lambda z: z["s"])
            num = 1 if side > 0 else 2
            postcode[(stn, side)] = f"{spec['pc'] + si}{next(pc_letters)}"
            for site in lst:
                site["street"] = stn
                site["house_number"] = num
                site["postcode"] = postcode[(stn, side)]
                num += 2 if rng.random() > 0.1 else 4
        # connections
        phase_cycle = int(rng.integers(3))
        for site in site_list:
            meters = []
            if site["building"]:
                nm = int(rng.integers(4, 13))
                bid = f"{st_id}-APP{len(buildings) + 1:02d}"
                risers = []
                for m in range(nm):
                    meters.append(dict(addition=str(m + 1), flat=True))
                    risers.append(round(float(rng.uniform(3, 15)), 1))
            else:
                meters.append(dict(addition=None, flat=False))
            eans = []
            for m in meters:
                ean = next_ean()
                eans.append(ean)
                three = (site["kind"] in ("commercial", "farm")) or (not m["flat"] and rng.random() < spec["three_share"])
                if site["extra"] and site["kind"] == "commercial":
                    three = True
                if three:
                    rotation = "L1L2L3" if rng.random() < 0.55 else ROTATIONS[int(rng.integers(len(ROTATIONS)))]
                    phase = "L123"
                else:
                    phase_cycle = (phase_cycle + (1 if rng.random() < 0.8 else 2)) % 3
                    phase = f"L{phase_cycle + 1}"
                    rotation = ""
                kind_ = site["kind"] if site["kind"] != "house" else ("flat" if m["flat"] else "house")
                if kind_ == "commercial":
                    cap = "3x80A" if site["p_kw"] > 12 else "3x63A"
                elif kind_ == "farm":
                    cap = "3x63A"
                elif three:
                    cap = "3x25A" if rng.random() < 0.7 else "3x35A"
                else:
                    cap = "1x35A" if rng.random() < 0.6 else "1x40A"
                smart = rng.random() < spec["smart_share"]
                conns.append(dict(ean=ean, station_id=st_id, feeder_id=site["sec"]["feeder_id"],
                                  cable_id=site["sec"]["cable_id"], phase=phase, rotation=rotation, xy=site["xy"],
                                  street=site["street"], house_number=site["house_number"],
                                  addition=m["addition"], postcode=site["postcode"], smart=smart, capacity=cap,
                                  kind=kind_, dist=site["dist"], building=site["building"], p_kw=site["p_kw"],
                                  station=st_id))
            if site["building"]:
                buildings.append(dict(id=bid, station_id=st_id, cable_id=site["sec"]["cable_id"], eans=eans,
                                      riser_m=risers, cable_m=round(site["dist"] + 3.0, 1),
                                      conductor="4x50Al" if len(eans) > 7 else "4x35Al",
                                      street=site["street"], house_number=site["house_number"]))
        st_meta.append(dict(station_id=st_id, name=f"{spec['town']} {si + 1}", kva=tree["kva"],
                            source=f"{kind}:{fn}" + (f" {json.dumps(opts)}" if opts else ""),
                            feeders=sorted(set(feeder_of[c] for c in ch[lv] if c not in service_leaf)),
                            cables=len(main_nodes), connections=sum(1 for c in conns if c["station"] == st_id),
                            added_feeders=[dict(houses=h, length_m=inc[n]["length"]) for n, h in extra_houses.items()],
                            sec=sec))
    return finish_network(spec, out, rng, stations, cables, conns, feeders_meta, buildings, st_meta, log)


def seg_dist(p, pts):
    best = float("inf")
    for a, b in zip(pts[:-1], pts[1:]):
        dx, dy = b[0] - a[0], b[1] - a[1]
        L2 = dx * dx + dy * dy
        u = 0 if L2 == 0 else max(0, min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / L2))
        best = min(best, math.hypot(p[0] - a[0] - u * dx, p[1] - a[1] - u * dy))
    return best


def finish_network(spec, out, rng, stations, cables, conns, feeders_meta, buildings, st_meta, log):
    name = spec["name"]
    secs = {}
    for m in st_meta:
        for n, s in m.pop("sec").items():
            secs[s["cable_id"]] = dict(s, station_id=m["station_id"])
    # neighbouring sections (share a node)
    ends = collections.defaultdict(set)
    for c in cables:
        p = c["properties"]
        ends[p["from_node"]].add(p["cable_id"])
        ends[p["to_node"]].add(p["cable_id"])
    nb = collections.defaultdict(set)
    for s in ends.values():
        for a in s:
            nb[a] |= s - {a}
    # ---- devices, PV
    devices, pv = [], []
    for c in conns:
        hp = c["kind"] in ("house", "flat") and rng.random() < (0.12 if c["kind"] == "house" else 0.05)
        ev = c["kind"] == "house" and rng.random() < (0.08 * (2.5 if c["phase"] == "L123" else 1))
        annual = None
        if c["kind"] == "commercial":
            annual = float(round(rng.uniform(15000, 60000) if c["p_kw"] > 12 else rng.uniform(6000, 20000)))
        elif c["kind"] == "farm":
            annual = float(round(rng.uniform(20000, 50000)))
        d = dict(ean=c["ean"], kind=c["kind"], three_phase=c["phase"] == "L123",
                 heat_pump_kw=round(float(rng.uniform(1.2, 2.8)), 2) if hp else None,
                 ev_kw=(11.0 if c["phase"] == "L123" else 3.7) if ev else None, annual_kwh=annual,
                 service_m=round(c["dist"] * float(rng.uniform(1.0, 1.2)) + 2.0, 1),
                 service_conductor="4x10Cu" if c["phase"] == "L123" else ("2x10Cu" if rng.random() < 0.6 else "2x6Cu"))
        if c["kind"] in ("commercial", "farm"):
            d["service_conductor"] = "4x35Al" if c["kind"] == "farm" else "4x50Al"
        devices.append(d)
        kwp = 0.0
        if c["kind"] == "flat":
            if rng.random() < spec["pv_share"] * 0.6:
                kwp = round(float(rng.uniform(0.8, 2.0)), 1)
        elif c["kind"] == "house":
            if rng.random() < spec["pv_share"]:
                kwp = round(float(np.clip(rng.normal(4.2, 1.4), 1.5, 8.5)), 1)
        c["kwp"] = kwp
    # one commercial three-phase system whose output is mostly used on site, per network
    com = [c for c in conns if c["kind"] in ("commercial", "farm") and c["smart"]]
    if com:
        c = max(com, key=lambda c: c["p_kw"])
        dv = next(d for d in devices if d["ean"] == c["ean"])
        dv["annual_kwh"] = max(dv["annual_kwh"], 45000.0)
        c["kwp"] = round(float(rng.uniform(12, 22)), 1)
    else:  # no commercial load in this grid: a shop on three phases gets one
        c = next(c for c in conns if c["phase"] == "L123" and c["kind"] == "house" and c["smart"])
        c["kind"] = "commercial"
        c["capacity"] = "3x63A"
        dv = next(d for d in devices if d["ean"] == c["ean"])
        dv.update(kind="commercial", annual_kwh=45000.0, heat_pump_kw=None, ev_kw=None)
        c["kwp"] = round(float(rng.uniform(12, 20)), 1)
    for c in conns:
        kwp = c["kwp"]
        reg, unreg, off, without = None, False, False, False
        u = rng.random()
        if kwp > 0:
            if u < 0.12:
                unreg = True
            elif u < 0.17:
                reg, off = round(kwp * float(rng.choice([0.5, 1.6])), 1), True
            else:
                reg = kwp
        elif c["kind"] == "house" and u < 0.02:
            reg, without = round(float(rng.uniform(2, 5)), 1), True
        c["pv_reg"] = reg
        if kwp > 0 or reg:
            pv.append(dict(ean=c["ean"], kwp=kwp, registered_kwp=reg, unregistered=unreg, registration_off=off,
                           registered_without_pv=without))
    # ---- GIS errors (as lvtopo simulate injects them)
    for c in conns:
        c.update(gis_feeder=c["feeder_id"], gis_cable=c["cable_id"], gis_phase=c["phase"])
    errors = []
    n = len(conns)
    order = list(rng.permutation(n))
    single = [i for i in order if conns[i]["phase"] != "L123"]
    n_feeder, n_cable = round(0.05 * n), max(1, round(0.015 * n))
    n_phase = round(0.10 * len(single))
    used = set()
    for i in order:
        if sum(e["kind"] == "feeder" for e in errors) >= n_feeder:
            break
        c = conns[i]
        best = None
        for cid, s in secs.items():
            if s["station_id"] != c["station_id"] or s["feeder_id"] == c["feeder_id"]:
                continue
            d = seg_dist(c["xy"], s["pts"])
            if d < 80 and (best is None or d < best[0]):
                best = (d, cid)
        if best:
            c["gis_feeder"], c["gis_cable"] = secs[best[1]]["feeder_id"], best[1]
            used.add(i)
            errors.append(dict(i=i, kind="feeder", distance_m=round(best[0], 1)))
    for i in order:
        if sum(e["kind"] == "cable" for e in errors) >= n_cable:
            break
        if i in used:
            continue
        c = conns[i]
        cand = [(seg_dist(c["xy"], secs[o]["pts"]), o) for o in nb[c["cable_id"]]
                if secs[o]["feeder_id"] == c["feeder_id"]]
        if cand:
            d, o = min(cand)
            c["gis_cable"] = o
            used.add(i)
            errors.append(dict(i=i, kind="cable", distance_m=round(d, 1)))
    k = 0
    for i in single:
        if k >= n_phase:
            break
        if i in used:
            continue
        c = conns[i]
        c["gis_phase"] = f"L{(int(c['phase'][1]) - 1 + int(rng.integers(1, 3))) % 3 + 1}"
        used.add(i)
        k += 1
        errors.append(dict(i=i, kind="phase", distance_m=None))
    gis_errors = []
    for e in sorted(errors, key=lambda e: conns[e["i"]]["ean"]):
        c = conns[e["i"]]
        gis_errors.append(dict(ean=c["ean"], kind=e["kind"], gis_feeder_id=c["gis_feeder"], gis_cable_id=c["gis_cable"],
                               gis_phase=c["gis_phase"], true_feeder_id=c["feeder_id"], true_cable_id=c["cable_id"],
                               true_phase=c["phase"], distance_m=e["distance_m"]))
    # ---- write files
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}

    def write_fc(fname, feats):
        with open(os.path.join(out, fname), "w") as f:
            f.write('{"type":"FeatureCollection","crs":' + json.dumps(crs, separators=(",", ":")) + ',"features":[\n')
            f.write(",\n".join(json.dumps(ft, separators=(",", ":"), sort_keys=True) for ft in feats))
            f.write("\n]}\n")

    write_fc("stations.geojson", stations)
    write_fc("cables.geojson", cables)
    cfeats = []
    for c in conns:
        cfeats.append(dict(type="Feature", geometry=dict(type="Point", coordinates=list(c["xy"])),
                           properties=dict(ean=c["ean"], station_id=c["station_id"], feeder_id=c["gis_feeder"],
                                           cable_id=c["gis_cable"], phase=c["gis_phase"], street=c["street"],
                                           house_number=c["house_number"], house_number_addition=c["addition"],
                                           postcode=c["postcode"], meter="smart" if c["smart"] else "conventional",
                                           pv_kwp_registered=c["pv_reg"], capacity=c["capacity"])))
    write_fc("connections.geojson", cfeats)
    with open(os.path.join(out, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["ean", "station_id", "feeder_id", "cable_id", "phase", "rotation"])
        for c in conns:
            w.writerow([c["ean"], c["station_id"], c["feeder_id"], c["cable_id"], c["phase"], c["rotation"]])
    three = [c for c in conns if c["phase"] == "L123"]
    feeder_sizes = collections.Counter(c["feeder_id"] for c in conns)
    start = spec["start"] + "T00:00:00"
    import zoneinfo
    import datetime as dt
    t0 = dt.datetime.fromisoformat(start).replace(tzinfo=zoneinfo.ZoneInfo("Europe/Amsterdam"))
    scenario = dict(
        generator="scripts/corpus/build_corpus.py",
        network=name, family=spec["family"], seed=spec["seed"],
        config=dict(days=10, rounding_v=0.1, other_rounding_file="voltage_1v.csv.gz", smart_share=spec["smart_share"],
                    pv_share=spec["pv_share"], three_phase_share=spec["three_share"], meter_gain_sigma=0.001,
                    wrong_phase_share=0.1, wrong_feeder_share=0.05, wrong_section_share=0.015, feed_in_days=7),
        town=spec["town"],
        start=t0.isoformat(),
        end=(t0 + dt.timedelta(days=10)).astimezone(zoneinfo.ZoneInfo("Europe/Amsterdam")).isoformat(),
        stations=st_meta,
        feeders=[dict(f, connections=feeder_sizes.get(f["feeder_id"], 0)) for f in feeders_meta],
        counts=dict(stations=len(stations), feeders=len(feeders_meta), cables=len(cables), connections=len(conns),
                    three_phase=len(three), rotated_meters=sum(1 for c in three if c["rotation"] != "L1L2L3"),
                    smart_meters=sum(c["smart"] for c in conns), buildings=len(buildings),
                    building_meters=sum(len(b["eans"]) for b in buildings),
                    pv=sum(1 for p in pv if p["kwp"] > 0), pv_unregistered=sum(p["unregistered"] for p in pv),
                    wrong_phase=sum(e["kind"] == "phase" for e in gis_errors),
                    wrong_feeder=sum(e["kind"] == "feeder" for e in gis_errors),
                    wrong_cable=sum(e["kind"] == "cable" for e in gis_errors)),
        mv=dict(unbalance_kw=float(round(rng.uniform(130, 260))), unbalance_angle_deg=float(round(rng.uniform(0, 360))),
                mv_load_kw=2000.0, source_sk_mva=100.0),
        incidents=[],
        pv=pv,
        gis_errors=gis_errors,
        rotated_meters=[dict(ean=c["ean"], rotation=c["rotation"]) for c in three if c["rotation"] != "L1L2L3"],
        conventional_meters=[c["ean"] for c in conns if not c["smart"]],
        buildings=buildings,
        devices=devices,
    )
    with open(os.path.join(out, "scenario.json"), "w") as f:
        json.dump(scenario, f, indent=1)
        f.write("\n")
    for src, dst in [("district-pgm/voltage.csv.gz.purpose.json", "voltage.csv.gz.purpose.json"),
                     ("street/feed_in.csv.gz.purpose.json", "feed_in.csv.gz.purpose.json"),
                     ("street/pv_registration.purpose.json", "pv_registration.purpose.json")]:
        shutil.copyfile(os.path.join(ROOT, "sample-networks", src), os.path.join(out, dst))
    log(f"{name}: {len(stations)} stations, {len(feeders_meta)} feeders, {len(cables)} sections, {len(conns)} "
        f"connections ({len(three)} three-phase, {len(buildings)} buildings), feeder sizes "
        f"{sorted(feeder_sizes.values())}, errors {scenario['counts']}")
    info = corpus_sim.simulate(out, spec["seed"] * 7 + 1, log=log)
    return scenario, info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "sample-networks", "corpus"))
    ap.add_argument("--only", nargs="*", help="build only these networks")
    args = ap.parse_args()
    t0 = time.time()
    summary = []
    for spec in NETWORKS:
        if args.only and spec["name"] not in args.only:
            continue
        t1 = time.time()
        scenario, info = build_network(spec, args.out, lambda s: print(s, flush=True))
        summary.append(dict(network=spec["name"], family=spec["family"], **scenario["counts"],
                            seconds=round(time.time() - t1, 1)))
    print(json.dumps(summary, indent=1))
    print(f"total {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
