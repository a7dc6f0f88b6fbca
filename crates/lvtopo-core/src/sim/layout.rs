//! Dutch-like LV networks: stations, feeders along streets with houses on both
//! sides, cable sections as GIS splits them, and the electrical tree the load
//! flow solves. Everything here is the *real* network (truth); GIS errors are
//! injected later.

use super::c64::C64;
use super::loadflow::Tree;
use crate::model::{Phase, Rotation};
use rand::Rng;
use rand::seq::SliceRandom;

/// Conductor data (ohm/km at operating temperature, phase and neutral).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CableType {
    pub name: &'static str,
    pub r: f64,
    pub x: f64,
    pub r_neutral: f64,
    pub x_neutral: f64,
}

pub const AL150: CableType = CableType { name: "4x150Al", r: 0.206, x: 0.072, r_neutral: 0.206, x_neutral: 0.072 };
pub const AL95: CableType = CableType { name: "4x95Al", r: 0.320, x: 0.075, r_neutral: 0.320, x_neutral: 0.075 };
pub const AL50: CableType = CableType { name: "4x50Al", r: 0.641, x: 0.080, r_neutral: 0.641, x_neutral: 0.080 };
pub const CU35: CableType = CableType { name: "4x35Cu", r: 0.524, x: 0.080, r_neutral: 0.524, x_neutral: 0.080 };
/// Paper-insulated (GPLK) cable with a reduced neutral, common in older streets.
pub const CU70_OLD: CableType = CableType { name: "3x70Cu+35Cu", r: 0.268, x: 0.075, r_neutral: 0.524, x_neutral: 0.080 };
pub const SERVICE_3P: CableType = CableType { name: "4x10Cu", r: 1.83, x: 0.09, r_neutral: 1.83, x_neutral: 0.09 };
pub const SERVICE_1P: CableType = CableType { name: "2x10Cu", r: 1.83, x: 0.09, r_neutral: 1.83, x_neutral: 0.09 };

impl CableType {
    pub fn z_phase(&self, len_m: f64) -> C64 {
        C64::new(self.r, self.x).scale(len_m / 1000.0)
    }
    pub fn z_neutral(&self, len_m: f64) -> C64 {
        C64::new(self.r_neutral, self.x_neutral).scale(len_m / 1000.0)
    }
}

pub type Xy = (f64, f64);

/// A real Dutch town to place the networks in (RD New centre, postcode area).
#[derive(Clone, Copy, Debug)]
pub struct Town {
    pub name: &'static str,
    pub code: &'static str,
    pub x: f64,
    pub y: f64,
    pub postcode: u32,
}

pub const TOWNS: [Town; 6] = [
    Town { name: "Deventer", code: "DEV", x: 208_300.0, y: 473_900.0, postcode: 7411 },
    Town { name: "Amersfoort", code: "AMF", x: 155_400.0, y: 463_300.0, postcode: 3811 },
    Town { name: "Arnhem", code: "ARN", x: 190_600.0, y: 444_100.0, postcode: 6811 },
    Town { name: "Zwolle", code: "ZWO", x: 203_200.0, y: 502_700.0, postcode: 8011 },
    Town { name: "Apeldoorn", code: "APD", x: 194_300.0, y: 469_200.0, postcode: 7311 },
    Town { name: "Ede", code: "EDE", x: 174_600.0, y: 448_600.0, postcode: 6711 },
];

const STREETS: [&str; 48] = [
    "Dorpsstraat",
    "Kerkstraat",
    "Molenweg",
    "Schoolstraat",
    "Julianastraat",
    "Beatrixstraat",
    "Wilhelminastraat",
    "Emmastraat",
    "Prins Bernhardstraat",
    "Oranjestraat",
    "Nieuwstraat",
    "Stationsweg",
    "Parkweg",
    "Lindelaan",
    "Eikenlaan",
    "Beukenlaan",
    "Berkenlaan",
    "Kastanjelaan",
    "Populierenlaan",
    "Esdoornstraat",
    "Rozenstraat",
    "Tulpstraat",
    "Narcisstraat",
    "Irisstraat",
    "Sportlaan",
    "Vondelstraat",
    "Bilderdijkstraat",
    "Rembrandtstraat",
    "Vermeerstraat",
    "Frans Halsstraat",
    "Mozartlaan",
    "Beethovenstraat",
    "Merelstraat",
    "Lijsterstraat",
    "Spreeuwenstraat",
    "Zwaluwstraat",
    "Meeuwenlaan",
    "Reigerstraat",
    "Hoofdstraat",
    "Burgemeester de Vlugtlaan",
    "Jan Steenstraat",
    "Van Goghstraat",
    "Thorbeckestraat",
    "Dr. Schaepmanstraat",
    "Anjerstraat",
    "Graaf Ottoweg",
    "Kamperfoeliestraat",
    "Boterbloemstraat",
];
const ADDITIONS: [&str; 6] = ["A", "B", "bis", "1hg", "2hg", "a"];

/// A GIS cable section of the real network.
#[derive(Clone, Debug)]
pub struct Section {
    pub id: String,
    /// Index of the feeder within its station.
    pub feeder: usize,
    pub conductor: CableType,
    pub geometry: Vec<Xy>,
    pub from_node: String,
    pub to_node: String,
    pub length_m: f64,
    /// Section that feeds this one (station-local index).
    pub parent: Option<usize>,
}

/// A connection (house) of the real network.
#[derive(Clone, Debug)]
pub struct House {
    pub street: String,
    pub number: u32,
    pub addition: Option<String>,
    pub postcode: String,
    pub pos: Xy,
    pub feeder: usize,
    /// Station-local section index.
    pub section: usize,
    pub three_phase: bool,
    /// Grid phase of a single-phase connection.
    pub phase: Phase,
    /// Meter wiring of a three-phase connection.
    pub rotation: Rotation,
    /// Load-flow node of the meter.
    pub meter_node: u32,
    /// Resistance of phase and neutral from the source to the meter (ohm).
    pub r_phase: f64,
    pub r_neutral: f64,
    pub service_len_m: f64,
}

#[derive(Clone, Debug)]
pub struct StationLayout {
    pub id: String,
    pub name: String,
    pub pos: Xy,
    pub kva: f64,
    pub uk: f64,
    pub feeder_ids: Vec<String>,
    pub sections: Vec<Section>,
    pub houses: Vec<House>,
    pub tree: Tree,
    /// Transformer impedance (ohm, referred to LV, per phase).
    pub z_transformer: C64,
}

/// How one station's area is laid out.
#[derive(Clone, Copy, Debug)]
pub struct LayoutParams {
    pub connections: usize,
    pub three_phase_share: f64,
    /// Force one long rural feeder (a weak end of the network).
    pub long_feeder: bool,
}

struct Street {
    name: String,
    /// Centre line start and unit direction.
    origin: Xy,
    dir: Xy,
    len: f64,
    pitch: f64,
    setback: f64,
    postcode_base: String,
    houses: usize,
}

fn add(a: Xy, b: Xy) -> Xy {
    (a.0 + b.0, a.1 + b.1)
}
fn mul(a: Xy, k: f64) -> Xy {
    (a.0 * k, a.1 * k)
}
fn dist(a: Xy, b: Xy) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}
/// Left normal of a unit direction.
fn left(d: Xy) -> Xy {
    (-d.1, d.0)
}

/// A polyline with cumulative lengths.
#[derive(Clone, Debug)]
struct Polyline {
    pts: Vec<Xy>,
    cum: Vec<f64>,
}

impl Polyline {
    fn new(pts: Vec<Xy>) -> Polyline {
        let mut cum = vec![0.0];
        for w in pts.windows(2) {
            cum.push(cum.last().unwrap() + dist(w[0], w[1]));
        }
        Polyline { pts, cum }
    }
    fn len(&self) -> f64 {
        *self.cum.last().unwrap()
    }
    fn at(&self, s: f64) -> Xy {
        let s = s.clamp(0.0, self.len());
        for i in 1..self.pts.len() {
            if s <= self.cum[i] || i == self.pts.len() - 1 {
                let seg = self.cum[i] - self.cum[i - 1];
                let u = if seg > 0.0 { (s - self.cum[i - 1]) / seg } else { 0.0 };
                let (a, b) = (self.pts[i - 1], self.pts[i]);
                return (a.0 + u * (b.0 - a.0), a.1 + u * (b.1 - a.1));
            }
        }
        self.pts[0]
    }
    /// Distance along the line of the nearest point to `p`, and the distance to it.
    fn project(&self, p: Xy) -> (f64, f64) {
        let mut best = (0.0, f64::INFINITY);
        for i in 1..self.pts.len() {
            let (a, b) = (self.pts[i - 1], self.pts[i]);
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let l2 = dx * dx + dy * dy;
            let u = if l2 > 0.0 { (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2).clamp(0.0, 1.0) } else { 0.0 };
            let q = (a.0 + u * dx, a.1 + u * dy);
            let d = dist(p, q);
            if d < best.1 {
                best = (self.cum[i - 1] + u * l2.sqrt(), d);
            }
        }
        best
    }
    /// The part of the line between two distances.
    fn slice(&self, s0: f64, s1: f64) -> Vec<Xy> {
        let mut out = vec![self.at(s0)];
        for i in 1..self.pts.len() - 1 {
            if self.cum[i] > s0 + 1e-6 && self.cum[i] < s1 - 1e-6 {
                out.push(self.pts[i]);
            }
        }
        out.push(self.at(s1));
        out
    }
}

/// Distance from a point to a polyline given as vertices.
pub fn point_polyline_distance(p: Xy, pts: &[Xy]) -> f64 {
    if pts.len() == 1 {
        return dist(p, pts[0]);
    }
    Polyline::new(pts.to_vec()).project(p).1
}

/// One cable run along a street (the main cable or a branch).
struct Run {
    line: Polyline,
    conductor: CableType,
    /// Index of the parent run and the distance along it where this one tees off.
    parent: Option<(usize, f64)>,
    street: usize,
    /// Distance along this run's line where the street part begins (houses project beyond it).
    street_start: f64,
}

/// Lays out one station's area around `pos`.
pub fn build_station<R: Rng>(
    rng: &mut R,
    id: &str,
    name: &str,
    pos: Xy,
    postcode_area: u32,
    street_offset: usize,
    params: &LayoutParams,
) -> StationLayout {
    let n_target = params.connections.max(8);
    let n_feeders = ((n_target as f64 / 45.0).round() as usize).clamp(4, 8);
    let kva = if n_target > 180 { 630.0 } else { 400.0 };
    let uk = 0.04;
    // Copper losses ~1.1% of rating; the rest of uk is reactance.
    let r_pu: f64 = if kva > 500.0 { 0.0103 } else { 0.0115 };
    let z_base = 400.0 * 400.0 / (kva * 1000.0);
    let z_transformer = C64::new(r_pu * z_base, (uk * uk - r_pu * r_pu).sqrt() * z_base);

    // Houses per feeder: uneven, as real feeders are.
    let weights: Vec<f64> = (0..n_feeders).map(|_| rng.gen_range(0.6..1.4)).collect();
    let wsum: f64 = weights.iter().sum();
    let long_feeder = if params.long_feeder { Some(rng.gen_range(0..n_feeders)) } else { None };
    // A rural cable feeds a handful of farms and detached houses, not a neighbourhood:
    // the other feeders take the rest.
    let mut targets: Vec<usize> = weights.iter().map(|w| ((n_target as f64 * w / wsum).round() as usize).max(3)).collect();
    if let Some(l) = long_feeder {
        let excess = targets[l].saturating_sub(18);
        targets[l] -= excess;
        for k in 0..excess {
            let f = (l + 1 + k % (n_feeders - 1)) % n_feeders;
            targets[f] += 1;
        }
    }
    let base_angle = rng.gen_range(0.0..std::f64::consts::TAU);
    let spacing = std::f64::consts::TAU / n_feeders as f64;

    let mut streets: Vec<Street> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    let mut feeder_of_run: Vec<usize> = Vec::new();
    let mut street_names: Vec<usize> = (0..STREETS.len()).collect();
    street_names.shuffle(rng);
    let mut next_name = 0usize;
    let mut name_street = |rng: &mut R| {
        let n = STREETS[street_names[(next_name + street_offset) % STREETS.len()]];
        next_name += 1;
        let _ = rng;
        n.to_string()
    };
    let mut postcode_letter = 0u32;
    let mut postcode = |rng: &mut R| {
        postcode_letter += rng.gen_range(1..4);
        let l = postcode_letter % (26 * 26);
        format!("{:04}{}{}", postcode_area.min(9999), (b'A' + (l / 26) as u8) as char, (b'A' + (l % 26) as u8) as char)
    };

    for f in 0..n_feeders {
        let is_long = long_feeder == Some(f);
        let mut h_left = targets[f];
        let angle = base_angle + f as f64 * spacing + rng.gen_range(-0.12..0.12);
        let dir = (angle.cos(), angle.sin());
        let pitch = if is_long { rng.gen_range(18.0..30.0) } else { rng.gen_range(6.0..11.0) };
        let setback = rng.gen_range(9.0..14.0);
        // Half the houses on the main street, the rest on side streets.
        let main_houses = if is_long { h_left } else { (h_left / 2).max(3) };
        // A rural road has farms and detached houses on one side only.
        let main_len = if is_long {
            (main_houses as f64 * pitch + 10.0).clamp(250.0, 750.0)
        } else {
            (main_houses as f64 * pitch / 2.0 + 10.0).clamp(60.0, 420.0)
        };
        let main_start = 25.0;
        let main_conductor = if is_long {
            AL95
        } else if rng.gen_bool(0.7) {
            AL150
        } else if rng.gen_bool(0.7) {
            AL95
        } else {
            CU70_OLD
        };
        streets.push(Street {
            name: name_street(rng),
            origin: add(pos, mul(dir, main_start)),
            dir,
            len: main_len,
            pitch,
            setback,
            postcode_base: postcode(rng),
            houses: main_houses,
        });
        let cable_off = 2.5;
        let feeder_start = add(pos, mul(dir, 2.0));
        let line_start = add(add(pos, mul(dir, main_start)), mul(left(dir), cable_off));
        let line_end = add(line_start, mul(dir, main_len));
        let main_run = runs.len();
        runs.push(Run {
            line: Polyline::new(vec![feeder_start, line_start, line_end]),
            conductor: main_conductor,
            parent: None,
            street: streets.len() - 1,
            street_start: dist(feeder_start, line_start),
        });
        feeder_of_run.push(f);
        if is_long {
            // The far half of a rural feeder is a thinner extension.
            let split = runs[main_run].street_start + main_len * 0.55;
            let full = runs[main_run].line.clone();
            runs[main_run].line = Polyline::new(full.slice(0.0, split));
            runs.push(Run {
                line: Polyline::new(full.slice(split, full.len())),
                conductor: AL50,
                parent: Some((main_run, runs[main_run].line.len())),
                street: streets.len() - 1,
                street_start: 0.0,
            });
            feeder_of_run.push(f);
        }
        h_left = h_left.saturating_sub(main_houses);
        // Side streets, alternating sides, until the feeder has its houses.
        let mut k = 0;
        while h_left > 0 {
            let along = main_len * (0.2 + 0.7 * ((k as f64 + rng.gen_range(0.2..0.8)) / ((h_left / 20 + k + 1) as f64)).min(1.0));
            let side = if k % 2 == 0 { 1.0 } else { -1.0 };
            let bdir = mul(left(dir), side);
            let d_station = main_start + along;
            // Keep clear of the neighbouring feeders' streets.
            let room = (d_station * (spacing / 2.0).sin() * 0.75).max(45.0);
            let bpitch = rng.gen_range(6.0..11.0);
            let bh = h_left.min(((room - 15.0) * 2.0 / bpitch) as usize).max(2).min(h_left);
            let blen = (bh as f64 * bpitch / 2.0 + 8.0).min(room);
            let borigin = add(add(pos, mul(dir, d_station)), mul(bdir, 8.0));
            streets.push(Street {
                name: name_street(rng),
                origin: borigin,
                dir: bdir,
                len: blen,
                pitch: bpitch,
                setback: rng.gen_range(8.0..12.0),
                postcode_base: postcode(rng),
                houses: bh,
            });
            let boff = 2.0;
            let tap_along = runs[main_run].street_start + along;
            let (parent_run, tap_at) = if runs[main_run].line.len() >= tap_along || runs.len() == main_run + 1 {
                (main_run, tap_along.min(runs[main_run].line.len()))
            } else {
                (main_run + 1, tap_along - runs[main_run].line.len())
            };
            let tee = runs[parent_run].line.at(tap_at);
            let bstart = add(borigin, mul(left(bdir), boff));
            let bend = add(bstart, mul(bdir, blen));
            runs.push(Run {
                line: Polyline::new(vec![tee, bstart, bend]),
                conductor: if rng.gen_bool(0.6) { AL50 } else { CU35 },
                parent: Some((parent_run, tap_at)),
                street: streets.len() - 1,
                street_start: dist(tee, bstart),
            });
            feeder_of_run.push(f);
            h_left -= bh;
            k += 1;
        }
    }

    // Houses along each street: odd numbers on the left, even on the right.
    struct Placed {
        street: usize,
        number: u32,
        addition: Option<String>,
        postcode: String,
        pos: Xy,
    }
    let mut placed: Vec<Placed> = Vec::new();
    for (si, st) in streets.iter().enumerate() {
        let one_sided = st.len > 1.2 * st.houses as f64 * st.pitch / 2.0 + 20.0;
        let per_side = if one_sided { st.houses } else { st.houses.div_ceil(2) };
        let sides: &[f64] = if one_sided { &[1.0] } else { &[1.0, -1.0] };
        let mut count = 0;
        for i in 0..per_side {
            for &side in sides {
                if count >= st.houses {
                    break;
                }
                let s = (i as f64 + 0.5) * st.pitch + rng.gen_range(-0.15..0.15) * st.pitch;
                let centre = add(st.origin, mul(st.dir, s.min(st.len)));
                let p = add(centre, mul(left(st.dir), side * st.setback));
                let number = if side > 0.0 { 2 * i as u32 + 1 } else { 2 * i as u32 + 2 };
                let letter = if side > 0.0 { 'A' } else { 'B' };
                // Postcodes change every ~20 numbers and differ between the sides.
                let pc = format!(
                    "{}{}",
                    &st.postcode_base[..5],
                    (st.postcode_base.as_bytes()[5] + (number / 40) as u8).min(b'Z') as char
                );
                let pc = if letter == 'A' { pc } else { format!("{}{}", &pc[..4], next_letters(&pc[4..])) };
                placed.push(Placed { street: si, number, addition: None, postcode: pc.clone(), pos: p });
                count += 1;
                // Now and then a house split into flats or with an annex.
                if count < st.houses && rng.gen_bool(0.04) {
                    let add_name = ADDITIONS[rng.gen_range(0..ADDITIONS.len())];
                    let (first, second) = match add_name {
                        "1hg" | "2hg" => ("1hg", "2hg"),
                        "A" | "B" => ("A", "B"),
                        other => (other, other),
                    };
                    if first != second {
                        placed.last_mut().unwrap().addition = Some(first.to_string());
                    }
                    placed.push(Placed {
                        street: si,
                        number,
                        addition: Some(second.to_string()),
                        postcode: pc,
                        pos: add(p, mul(st.dir, 0.8)),
                    });
                    count += 1;
                }
            }
        }
    }

    // Which run each house hangs on: the run of its own street.
    let run_of_street: Vec<usize> = {
        let mut v = vec![usize::MAX; streets.len()];
        for (ri, r) in runs.iter().enumerate() {
            if v[r.street] == usize::MAX {
                v[r.street] = ri;
            }
        }
        v
    };
    // Events along every run: section cuts, tees and house taps.
    #[derive(Clone, Copy, PartialEq)]
    enum Ev {
        House(usize),
        Tee(usize),
        Cut,
    }
    let mut events: Vec<Vec<(f64, Ev)>> = vec![Vec::new(); runs.len()];
    let mut house_run = vec![0usize; placed.len()];
    for (hi, h) in placed.iter().enumerate() {
        // A rural street's run may be split in two: pick the nearer part.
        let mut best = (usize::MAX, 0.0, f64::INFINITY);
        for (ri, r) in runs.iter().enumerate() {
            if r.street != h.street {
                continue;
            }
            let (s, d) = r.line.project(h.pos);
            let s = s.max(r.street_start.min(r.line.len()));
            if d < best.2 {
                best = (ri, s, d);
            }
        }
        let ri = if best.0 == usize::MAX { run_of_street[h.street] } else { best.0 };
        house_run[hi] = ri;
        events[ri].push((best.1, Ev::House(hi)));
    }
    for (ri, r) in runs.iter().enumerate() {
        if let Some((p, at)) = r.parent {
            events[p].push((at, Ev::Tee(ri)));
        }
    }
    for (ri, r) in runs.iter().enumerate() {
        let len = r.line.len();
        let tees: Vec<f64> = events[ri].iter().filter(|e| matches!(e.1, Ev::Tee(_))).map(|e| e.0).collect();
        let mut s = rng.gen_range(30.0..80.0);
        while s < len - 15.0 {
            if tees.iter().all(|t| (t - s).abs() > 10.0) {
                events[ri].push((s, Ev::Cut));
            }
            s += rng.gen_range(30.0..80.0);
        }
        // Sections also split at every tee.
        for t in tees {
            if t > 1e-6 && t < len - 1e-6 {
                events[ri].push((t, Ev::Cut));
            }
        }
        // Cut first, then the tee and houses at the same point belong downstream.
        events[ri].sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| rank(a.1).cmp(&rank(b.1))));
        fn rank(e: Ev) -> u8 {
            match e {
                Ev::Cut => 0,
                Ev::Tee(_) => 1,
                Ev::House(_) => 2,
            }
        }
    }

    // Walk the runs in creation order (parents first) building sections and the tree.
    let mut tree = Tree::with_transformer(z_transformer);
    let mut sections: Vec<Section> = Vec::new();
    let mut node_seq = 0usize;
    let new_node_id = |node_seq: &mut usize| {
        *node_seq += 1;
        format!("{id}-N{:04}", *node_seq)
    };
    // Start of each run: (tree node, GIS node id, parent section).
    let mut run_start: Vec<Option<(usize, String, Option<usize>)>> = vec![None; runs.len()];
    let mut houses: Vec<Option<House>> = (0..placed.len()).map(|_| None).collect();
    let feeder_ids: Vec<String> = (0..n_feeders).map(|f| format!("{id}-G{:02}", f + 1)).collect();
    let mut phase_counter: Vec<usize> = (0..n_feeders).map(|_| rng.gen_range(0..3)).collect();
    for ri in 0..runs.len() {
        let r = &runs[ri];
        let (mut node, mut gis_node, parent_section) = match r.parent {
            None => (1usize, new_node_id(&mut node_seq), None),
            Some(_) => run_start[ri].clone().expect("parent run processed first"),
        };
        let end_id = new_node_id(&mut node_seq);
        let mut s_prev = 0.0;
        let mut sec_start = 0.0;
        let mut cur_section = sections.len();
        let open_section = |sections: &mut Vec<Section>, from: String, parent: Option<usize>| {
            sections.push(Section {
                id: String::new(),
                feeder: feeder_of_run[ri],
                conductor: r.conductor,
                geometry: Vec::new(),
                from_node: from,
                to_node: String::new(),
                length_m: 0.0,
                parent,
            });
        };
        open_section(&mut sections, gis_node.clone(), parent_section);
        let close_section = |sections: &mut Vec<Section>, idx: usize, s0: f64, s1: f64, to: String| {
            let sec = &mut sections[idx];
            sec.geometry = r.line.slice(s0, s1);
            sec.length_m = s1 - s0;
            sec.to_node = to;
        };
        let evs = std::mem::take(&mut events[ri]);
        for (s, ev) in evs {
            if s > s_prev + 1e-6 {
                node = tree.add(node, r.conductor.z_phase(s - s_prev), r.conductor.z_neutral(s - s_prev));
                s_prev = s;
            }
            match ev {
                Ev::Cut => {
                    let id_here = new_node_id(&mut node_seq);
                    close_section(&mut sections, cur_section, sec_start, s, id_here.clone());
                    gis_node = id_here;
                    let parent = Some(cur_section);
                    cur_section = sections.len();
                    open_section(&mut sections, gis_node.clone(), parent);
                    sec_start = s;
                }
                Ev::Tee(child) => {
                    // Every tee inside a run has a cut at the same point, so the child hangs on
                    // the section that ends here; a tee at the run's end on its last section.
                    let start = if s >= r.line.len() - 1e-6 {
                        (node, end_id.clone(), Some(cur_section))
                    } else {
                        (node, gis_node.clone(), sections[cur_section].parent)
                    };
                    run_start[child] = Some(start);
                }
                Ev::House(hi) => {
                    let h = &placed[hi];
                    let tap = r.line.at(s);
                    let service_len = dist(tap, h.pos).max(3.0) * 1.1;
                    let f = feeder_of_run[ri];
                    let three_phase = rng.gen_bool(params.three_phase_share);
                    let service = if three_phase { SERVICE_3P } else { SERVICE_1P };
                    let meter = tree.add(node, service.z_phase(service_len), service.z_neutral(service_len));
                    // Installers spread houses over the phases in turn, with exceptions.
                    phase_counter[f] += 1;
                    let phase = if rng.gen_bool(0.7) {
                        Phase::from_index(phase_counter[f])
                    } else {
                        Phase::from_index(rng.gen_range(0..3))
                    };
                    let rotation =
                        if !three_phase || rng.gen_bool(0.6) { Rotation::IDENTITY } else { Rotation::all()[rng.gen_range(1..6)] };
                    let (rp, rn) = tree.path_resistance(meter);
                    houses[hi] = Some(House {
                        street: streets[h.street].name.clone(),
                        number: h.number,
                        addition: h.addition.clone(),
                        postcode: h.postcode.clone(),
                        pos: h.pos,
                        feeder: f,
                        section: cur_section,
                        three_phase,
                        phase,
                        rotation,
                        meter_node: meter as u32,
                        r_phase: rp,
                        r_neutral: rn,
                        service_len_m: service_len,
                    });
                }
            }
        }
        let len = r.line.len();
        if len > s_prev + 1e-6 {
            node = tree.add(node, r.conductor.z_phase(len - s_prev), r.conductor.z_neutral(len - s_prev));
        }
        // The PEN conductor is earthed at the cable end.
        tree.g_earth[node] = 1.0 / rng.gen_range(8.0..30.0);
        close_section(&mut sections, cur_section, sec_start, len, end_id);
    }
    // Drop zero-length sections (a cut at a tee at the very end); keep indices stable by merging none: just guard.
    for (i, s) in sections.iter_mut().enumerate() {
        s.id = format!("{id}-K{:04}", i + 1);
        if s.geometry.len() < 2 {
            s.geometry = vec![s.geometry.first().copied().unwrap_or(pos), s.geometry.first().copied().unwrap_or(pos)];
        }
    }
    let _ = house_run;
    let mut houses: Vec<House> = houses.into_iter().flatten().collect();
    // Small networks still show the wiring problem the tool must find.
    let three: Vec<usize> = (0..houses.len()).filter(|&h| houses[h].three_phase).collect();
    if three.len() >= 2 && three.iter().all(|&h| houses[h].rotation == Rotation::IDENTITY) {
        let h = three[rng.gen_range(0..three.len())];
        houses[h].rotation = Rotation::all()[rng.gen_range(1..6)];
    }
    StationLayout { id: id.to_string(), name: name.to_string(), pos, kva, uk, feeder_ids, sections, houses, tree, z_transformer }
}

/// The postcode letters two steps further (the even side of a street).
fn next_letters(l: &str) -> String {
    let b = l.as_bytes();
    let v = (b[0] - b'A') as u32 * 26 + (b[1] - b'A') as u32 + 2;
    let v = v % (26 * 26);
    format!("{}{}", (b'A' + (v / 26) as u8) as char, (b'A' + (v % 26) as u8) as char)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn station(n: usize, long: bool) -> StationLayout {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        build_station(
            &mut rng,
            "DEV001",
            "Deventer 1",
            (208_300.0, 473_900.0),
            7411,
            0,
            &LayoutParams { connections: n, three_phase_share: 0.1, long_feeder: long },
        )
    }

    #[test]
    fn station_has_feeders_sections_and_houses_near_target() {
        let s = station(200, true);
        assert!((4..=8).contains(&s.feeder_ids.len()));
        assert!(s.houses.len() >= 180 && s.houses.len() <= 240, "{} houses", s.houses.len());
        // Sections are 30-80 m typically, never absurd.
        for sec in &s.sections {
            assert!(sec.length_m < 130.0, "{} is {} m", sec.id, sec.length_m);
            assert!(sec.geometry.len() >= 2);
        }
        // Every house sits near its section (service cable length).
        for h in &s.houses {
            let d = point_polyline_distance(h.pos, &s.sections[h.section].geometry);
            assert!(d < 40.0, "house {} {} is {d} m from its cable", h.street, h.number);
            assert_eq!(s.sections[h.section].feeder, h.feeder);
        }
        // Tree is topologically ordered.
        for (k, p) in s.tree.parent.iter().enumerate().skip(1) {
            assert!((*p as usize) < k);
        }
    }

    #[test]
    fn sections_chain_by_node_ids() {
        let s = station(120, false);
        for sec in &s.sections {
            if let Some(p) = sec.parent {
                assert_eq!(sec.from_node, s.sections[p].to_node, "{} hangs on {}", sec.id, s.sections[p].id);
                let a = sec.geometry[0];
                let b = *s.sections[p].geometry.last().unwrap();
                // A branch tees off where its parent section ends (the tee splits sections).
                assert!(dist(a, b) < 1e-6, "{} starts {} m from {}", sec.id, dist(a, b), s.sections[p].id);
            }
        }
    }
}
