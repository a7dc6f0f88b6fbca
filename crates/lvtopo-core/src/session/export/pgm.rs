//! power-grid-model (LF Energy) JSON input of a network, so planners can run
//! asymmetric load flows on the corrected topology.
//!
//! Model:
//! - one node per cable end (as the topology snapped them), 400 V;
//! - one LV busbar node per station with a `source` on it, linked (`link`, no
//!   impedance) to the start node of each feeder;
//! - each cable a `line` (r1/x1/r0/x0, c1/c0, tan1/tan0 = 0, i_n from the cable
//!   type), split at the tap-off points of its connections;
//! - per connection a node at the meter, fed from its tap-off point by a service
//!   `line` (length: the distance to the cable, at least 1 m);
//! - single-phase connections an `asym_load` on their (corrected) phase,
//!   three-phase ones a `sym_load`;
//! - ids unique int32 across all components, numbered from 1; a mapping file
//!   (CSV `pgm_id,component,gis_layer,gis_id,detail`) leads back to GIS ids.

use super::cable_types::CableType;
use crate::model::{Network, PhaseConnection, Topology};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::io;
use std::path::Path;

/// Settings of the export. Loads are placeholders of a stated size: planners set
/// real profiles with power-grid-model batch update data keyed by the load ids.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgmOptions {
    /// Rated line-to-line voltage of the nodes, V.
    pub u_rated_v: f64,
    /// Source voltage, p.u.
    pub u_ref: f64,
    /// Short-circuit power behind each busbar, VA (10 MVA: a 400 kVA transformer with 4 % impedance).
    pub source_sk_va: f64,
    /// R/X of the source impedance.
    pub source_rx_ratio: f64,
    /// Active power of every load, W (total over the phases for three-phase loads).
    pub load_p_w: f64,
    /// Power factor of every load (inductive).
    pub load_power_factor: f64,
    /// Used when a cable has neither a known conductor nor a registered resistance.
    pub default_conductor: String,
    /// Service cable from the tap-off point to the meter.
    pub service_conductor: String,
}

impl Default for PgmOptions {
    fn default() -> Self {
        PgmOptions {
            u_rated_v: 400.0,
            u_ref: 1.0,
            source_sk_va: 10e6,
            source_rx_ratio: 0.25,
            load_p_w: 1000.0,
            load_power_factor: 0.97,
            default_conductor: "4x150Al".into(),
            service_conductor: "4x10Cu".into(),
        }
    }
}

/// One row of the mapping file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PgmMapping {
    pub pgm_id: i32,
    pub component: &'static str,
    /// `stations`, `cables`, `connections` or `nodes`.
    pub gis_layer: &'static str,
    pub gis_id: String,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeRow {
    pub id: i32,
    pub u_rated: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineRow {
    pub id: i32,
    pub from_node: i32,
    pub to_node: i32,
    pub from_status: i8,
    pub to_status: i8,
    pub r1: f64,
    pub x1: f64,
    pub c1: f64,
    pub tan1: f64,
    pub r0: f64,
    pub x0: f64,
    pub c0: f64,
    pub tan0: f64,
    pub i_n: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LinkRow {
    pub id: i32,
    pub from_node: i32,
    pub to_node: i32,
    pub from_status: i8,
    pub to_status: i8,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceRow {
    pub id: i32,
    pub node: i32,
    pub status: i8,
    pub u_ref: f64,
    pub sk: f64,
    pub rx_ratio: f64,
    pub z01_ratio: f64,
}

/// `type` 0: constant power.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SymLoadRow {
    pub id: i32,
    pub node: i32,
    pub status: i8,
    #[serde(rename = "type")]
    pub load_type: i8,
    pub p_specified: f64,
    pub q_specified: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AsymLoadRow {
    pub id: i32,
    pub node: i32,
    pub status: i8,
    #[serde(rename = "type")]
    pub load_type: i8,
    pub p_specified: [f64; 3],
    pub q_specified: [f64; 3],
}

/// A built model: the components, the id mapping, and what was assumed or left out.
#[derive(Clone, Debug, Default)]
pub struct PgmModel {
    pub node: Vec<NodeRow>,
    pub line: Vec<LineRow>,
    pub link: Vec<LinkRow>,
    pub source: Vec<SourceRow>,
    pub sym_load: Vec<SymLoadRow>,
    pub asym_load: Vec<AsymLoadRow>,
    pub mapping: Vec<PgmMapping>,
    /// Assumptions and omissions, one line each (never silent).
    pub warnings: Vec<String>,
}

fn write_component<T: Serialize>(w: &mut dyn io::Write, name: &str, rows: &[T], first: &mut bool) -> io::Result<()> {
    if rows.is_empty() {
        return Ok(()); // power-grid-model takes absent components as none
    }
    if !*first {
        w.write_all(b",\n")?;
    }
    *first = false;
    write!(w, "\"{name}\":[")?;
    for (i, r) in rows.iter().enumerate() {
        w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *w, r).map_err(io::Error::other)?;
    }
    w.write_all(b"\n]")
}

impl PgmModel {
    pub fn count(&self, component: &str) -> usize {
        match component {
            "node" => self.node.len(),
            "line" => self.line.len(),
            "link" => self.link.len(),
            "source" => self.source.len(),
            "sym_load" => self.sym_load.len(),
            "asym_load" => self.asym_load.len(),
            _ => 0,
        }
    }

    /// Writes the power-grid-model serialisation format 1.0 (row-based input),
    /// one component row per line.
    pub fn write_json(&self, w: &mut dyn io::Write) -> io::Result<()> {
        w.write_all(b"{\"version\":\"1.0\",\"type\":\"input\",\"is_batch\":false,\"attributes\":{},\"data\":{\n")?;
        let mut first = true;
        write_component(w, "node", &self.node, &mut first)?;
        write_component(w, "line", &self.line, &mut first)?;
        write_component(w, "link", &self.link, &mut first)?;
        write_component(w, "source", &self.source, &mut first)?;
        write_component(w, "sym_load", &self.sym_load, &mut first)?;
        write_component(w, "asym_load", &self.asym_load, &mut first)?;
        w.write_all(b"\n}}\n")
    }

    /// The document as a JSON value (for inspection and tests).
    pub fn to_json(&self) -> Value {
        let mut buf = Vec::new();
        self.write_json(&mut buf).expect("writing to memory");
        serde_json::from_slice(&buf).expect("own output is JSON")
    }
}

struct Builder {
    next_id: i64,
    m: PgmModel,
    u_rated: f64,
}

impl Builder {
    fn id(&mut self, component: &'static str, gis_layer: &'static str, gis_id: &str, detail: String) -> i32 {
        let id = self.next_id as i32;
        self.next_id += 1;
        self.m.mapping.push(PgmMapping { pgm_id: id, component, gis_layer, gis_id: gis_id.to_string(), detail });
        id
    }
    fn node(&mut self, gis_layer: &'static str, gis_id: &str, detail: String) -> i32 {
        let id = self.id("node", gis_layer, gis_id, detail);
        self.m.node.push(NodeRow { id, u_rated: self.u_rated });
        id
    }
    #[allow(clippy::too_many_arguments)]
    fn line(&mut self, from: i32, to: i32, t: &CableType, length_m: f64, gis_layer: &'static str, gis_id: &str, detail: String) {
        let id = self.id("line", gis_layer, gis_id, detail);
        let km = length_m / 1000.0;
        self.m.line.push(LineRow {
            id,
            from_node: from,
            to_node: to,
            from_status: 1,
            to_status: 1,
            r1: t.r1 * km,
            x1: t.x1 * km,
            c1: t.c1 * km,
            tan1: 0.0,
            r0: t.r0 * km,
            x0: t.x0 * km,
            c0: t.c0 * km,
            tan0: 0.0,
            i_n: t.i_n,
        });
    }
}

/// The electrical type of a cable, with a warning when it had to be assumed.
fn cable_type(c: &crate::model::Cable, default: &CableType, default_name: &str) -> (CableType, Option<String>) {
    let parsed = c.conductor.as_deref().and_then(CableType::parse);
    match (parsed, c.r_ohm_per_km.filter(|r| r.is_finite() && *r > 0.0)) {
        (Some(t), Some(r)) => (t.with_r1(r), None),
        (Some(t), None) => (t, None),
        (None, Some(r)) => (CableType::from_resistance(r), None),
        (None, None) => (
            *default,
            Some(match &c.conductor {
                Some(k) => {
                    format!("cable {}: conductor {k:?} not recognised and no r_ohm_per_km: modelled as {default_name}", c.id)
                }
                None => format!("cable {}: no conductor and no r_ohm_per_km: modelled as {default_name}", c.id),
            }),
        ),
    }
}

/// Tap-off points closer than this (m, along the cable) share one node.
const MERGE_M: f64 = 0.1;
/// Tap-offs this close to a cable end use the end node.
const END_M: f64 = 0.5;
/// Shortest service line, m (a zero-length line has no impedance).
const MIN_SERVICE_M: f64 = 1.0;

/// Builds the model of `net` (pass the session's corrected network) on its topology.
pub fn build_pgm(net: &Network, topo: &Topology, opts: &PgmOptions) -> PgmModel {
    let mut b = Builder { next_id: 1, m: PgmModel::default(), u_rated: opts.u_rated_v };
    let default_type = CableType::parse(&opts.default_conductor)
        .unwrap_or_else(|| CableType::standard(150, super::cable_types::Material::Al).expect("150Al in table"));
    let service_type = CableType::parse(&opts.service_conductor)
        .unwrap_or_else(|| CableType::standard(10, super::cable_types::Material::Cu).expect("10Cu in table"));

    // Cable end nodes.
    let mut end_node: Vec<i32> = Vec::with_capacity(topo.nodes.len());
    for (k, n) in topo.nodes.iter().enumerate() {
        let detail = format!("cable end at RD {:.2}, {:.2}", n.pos.x, n.pos.y);
        let gis_id = n.id.clone().unwrap_or_else(|| format!("snapped-{k}"));
        end_node.push(b.node("nodes", &gis_id, detail));
    }

    // Station busbars with a source, linked to each feeder's start node(s).
    let mut busbar: HashMap<&str, i32> = HashMap::new();
    for s in &net.stations {
        let id = b.node("stations", &s.id, "LV busbar".into());
        busbar.insert(&s.id, id);
        let src = b.id("source", "stations", &s.id, "supply at the LV busbar".into());
        b.m.source.push(SourceRow {
            id: src,
            node: id,
            status: 1,
            u_ref: opts.u_ref,
            sk: opts.source_sk_va,
            rx_ratio: opts.source_rx_ratio,
            z01_ratio: 1.0,
        });
    }
    let mut linked: std::collections::HashSet<(i32, i32)> = Default::default();
    for (ci, c) in net.cables.iter().enumerate() {
        let Some(route) = topo.routes.get(ci).copied().flatten() else { continue };
        if route.parent.is_some() {
            continue;
        }
        let Some(&bus) = busbar.get(c.station_id.as_str()) else { continue };
        let start = topo.cable_nodes[ci][if route.first_point_upstream { 0 } else { 1 }];
        if linked.insert((bus, end_node[start])) {
            let id = b.id("link", "stations", &c.station_id, format!("busbar to feeder {}", c.feeder_id));
            b.m.link.push(LinkRow { id, from_node: bus, to_node: end_node[start], from_status: 1, to_status: 1 });
        }
    }
    for p in &topo.problems {
        b.m.warnings.push(format!("topology: {p} (not energised in the model)"));
    }

    // Connections per cable, ordered along it.
    let mut on_cable: Vec<Vec<(f64, usize)>> = vec![Vec::new(); net.cables.len()];
    for (i, conn) in net.connections.iter().enumerate() {
        match topo.attachments.get(i).copied().flatten() {
            Some(a) => on_cable[a.cable].push((a.along_m, i)),
            None => {
                b.m.warnings.push(format!("connection {}: cable {} does not exist: no load in the model", conn.ean, conn.cable()))
            }
        }
    }
    let (q_per_p, p) = {
        let pf = opts.load_power_factor.clamp(0.01, 1.0);
        ((1.0 - pf * pf).sqrt() / pf, opts.load_p_w)
    };
    let mut assumed = 0usize;
    for (ci, cable) in net.cables.iter().enumerate() {
        let (t, warn) = cable_type(cable, &default_type, &opts.default_conductor);
        if let Some(w) = warn {
            assumed += 1;
            if assumed <= 20 {
                b.m.warnings.push(w);
            }
        }
        let len = cable.length_m();
        let [n0, n1] = topo.cable_nodes[ci];
        let list = &mut on_cable[ci];
        list.sort_by(|a, b| a.0.total_cmp(&b.0));
        // Points along the cable: (position m, pgm node), first and last the end nodes.
        let mut points: Vec<(f64, i32)> = vec![(0.0, end_node[n0])];
        let mut tap_of: Vec<(usize, i32, f64)> = Vec::with_capacity(list.len());
        for &(along, i) in list.iter() {
            let along = along.clamp(0.0, len);
            let node = if along <= END_M {
                end_node[n0]
            } else if len - along <= END_M {
                end_node[n1]
            } else if let Some(&(pos, node)) = points.last().filter(|(pos, _)| along - pos <= MERGE_M && *pos > 0.0) {
                let _ = pos;
                node
            } else {
                let node = b.node("cables", &cable.id, format!("tap-off at {along:.1} m"));
                points.push((along, node));
                node
            };
            tap_of.push((i, node, along));
        }
        points.push((len, end_node[n1]));
        let segments = points.len() - 1;
        for (k, w) in points.windows(2).enumerate() {
            let (a, b_) = (w[0], w[1]);
            if a.1 == b_.1 {
                if segments == 1 {
                    b.m.warnings.push(format!("cable {}: both ends on one node: left out of the model", cable.id));
                }
                continue;
            }
            let seg_len = (b_.0 - a.0).max(0.01);
            let detail = if segments == 1 {
                format!("{:.1} m", len)
            } else {
                format!("segment {} of {segments}, {:.1}-{:.1} m", k + 1, a.0, b_.0)
            };
            b.line(a.1, b_.1, &t, seg_len, "cables", &cable.id, detail);
        }
        // Service lines and loads.
        for (i, tap, _) in tap_of {
            let conn = &net.connections[i];
            let offset = topo.attachments[i].map_or(0.0, |a| a.offset_m);
            let meter = b.node("connections", &conn.ean, "meter".into());
            let svc_len = offset.max(MIN_SERVICE_M);
            b.line(
                tap,
                meter,
                &service_type,
                svc_len,
                "connections",
                &conn.ean,
                format!("service cable {svc_len:.1} m (estimated)"),
            );
            if conn.phase.is_none() {
                b.m.warnings
                    .push(format!("connection {}: phase unknown in GIS: modelled as a balanced three-phase load", conn.ean));
            }
            match conn.phase {
                Some(PhaseConnection::Single(ph)) => {
                    let id = b.id("asym_load", "connections", &conn.ean, format!("single-phase on {ph}"));
                    let mut pv = [0.0; 3];
                    let mut qv = [0.0; 3];
                    pv[ph.index()] = p;
                    qv[ph.index()] = p * q_per_p;
                    b.m.asym_load.push(AsymLoadRow {
                        id,
                        node: meter,
                        status: 1,
                        load_type: 0,
                        p_specified: pv,
                        q_specified: qv,
                    });
                }
                Some(PhaseConnection::Three) | None => {
                    let id = b.id("sym_load", "connections", &conn.ean, "three-phase".into());
                    b.m.sym_load.push(SymLoadRow {
                        id,
                        node: meter,
                        status: 1,
                        load_type: 0,
                        p_specified: p,
                        q_specified: p * q_per_p,
                    });
                }
            }
        }
    }
    if assumed > 20 {
        b.m.warnings.push(format!("... {} more cable(s) modelled as {}", assumed - 20, opts.default_conductor));
    }
    if b.next_id > i32::MAX as i64 {
        b.m.warnings.push("more components than int32 ids: the model is not valid".into());
    }
    b.m
}

/// Writes the mapping as CSV.
pub fn write_mapping(w: &mut dyn io::Write, mapping: &[PgmMapping]) -> io::Result<()> {
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(w);
    csv.write_record(["pgm_id", "component", "gis_layer", "gis_id", "detail"]).map_err(io::Error::other)?;
    for m in mapping {
        csv.write_record([m.pgm_id.to_string().as_str(), m.component, m.gis_layer, &m.gis_id, &m.detail])
            .map_err(io::Error::other)?;
    }
    csv.flush()
}

/// Writes the model JSON and its id mapping, both atomically.
pub fn write_pgm(model: &PgmModel, json_path: &Path, mapping_path: &Path) -> io::Result<()> {
    crate::session::atomic::write_atomic(json_path, |w| model.write_json(w))?;
    crate::session::atomic::write_atomic(mapping_path, |w| write_mapping(w, &model.mapping))
}
