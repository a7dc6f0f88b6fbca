//! Loading a network (a `.gpkg` file or a folder of GeoJSON files) and checking
//! it against the data contract.
//!
//! Policy, so nothing disappears silently:
//! - A feature with a missing required field, a value that does not parse
//!   (phase, number, capacity, meter), or an unusable geometry is **rejected**
//!   with an error naming file, feature, column and what was expected.
//! - A duplicate `station_id` / `cable_id` / `ean` is rejected; the message names
//!   the feature that already holds the id.
//! - Broken references are **kept and flagged** as errors: a cable whose station
//!   does not exist, and a connection whose cable does not exist. Dropping them
//!   would lose the very GIS errors lvtopo is meant to correct; the topology
//!   leaves such a connection unattached (`Topology::attachments[i] == None`)
//!   and the inference can still place it by its voltages.
//! - "Not known" is a value, not an error: a connection's `phase`, `feeder_id`
//!   and `cable_id` and a cable's `feeder_id` may be empty or an unknown marker
//!   ([`crate::model::is_unknown_marker`]); they are counted per column in the
//!   report and filled in later (a cable's feeder from the connectivity to its
//!   station, [`super::unknown`]; the rest by the inference).
//! - A connection whose station or feeder disagrees with its cable's, an EAN
//!   whose check digit does not verify, and topology problems (disconnected
//!   sections, a feeder far from its station) are warnings.

use super::geojson::read_geojson_layer;
use super::layer::{RawFeature, RawGeom, RawLayer, as_real, as_text, as_uint};
use super::report::{ImportReport, Location};
use crate::model::{
    Cable, Capacity, Connection, Crs, ExtraAttributes, GeoPoint, MeterKind, Network, PhaseConnection, Station, Topology,
    ean_check_digit_ok,
};
use crate::progress::{Cancelled, Progress};
use std::collections::HashMap;
use std::path::Path;

/// A loaded network with its topology and what the import found.
#[derive(Debug)]
pub struct LoadedNetwork {
    pub network: Network,
    pub topology: Topology,
    pub report: ImportReport,
}

/// The layers of a network as read from the files; `Err` = file-level problem.
pub struct RawNetwork {
    pub stations: (String, Result<RawLayer, String>),
    pub cables: (String, Result<RawLayer, String>),
    pub connections: (String, Result<RawLayer, String>),
    /// Optional `nodes` layer.
    pub nodes: Option<(String, Result<RawLayer, String>)>,
}

/// Loads a `.gpkg` file or a folder with `stations.geojson`, `cables.geojson`,
/// `connections.geojson` (and optionally `nodes.geojson`, or a single `.gpkg`).
/// Problems of any kind end up in the report; only cancelling returns `Err`.
pub fn load_network(path: &Path, progress: &dyn Progress) -> Result<LoadedNetwork, Cancelled> {
    progress.set(0.0, "reading network");
    let raw = match read_raw_network(path) {
        Ok(r) => r,
        Err(msg) => {
            let mut report = ImportReport::default();
            let label = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
            report.begin_file(&label);
            report.error(&label, Location::File, None, msg);
            return Ok(LoadedNetwork { network: Network::default(), topology: Topology::default(), report });
        }
    };
    if progress.is_cancelled() {
        return Err(Cancelled);
    }
    progress.set(0.5, "checking network");
    let mut report = ImportReport::default();
    let network = build_network(raw, &mut report);
    if progress.is_cancelled() {
        return Err(Cancelled);
    }
    progress.set(0.8, "building topology");
    let topology = Topology::build(&network);
    let cables_file =
        report.files.iter().find(|f| f.file.ends_with("cables.geojson") || f.file.ends_with(":cables")).map(|f| f.file.clone());
    for p in &topology.problems {
        // Unknown stations were already reported per cable as errors.
        if matches!(p, crate::model::topology::TopologyProblem::UnknownStation { .. }) {
            continue;
        }
        report.warning(cables_file.as_deref().unwrap_or("cables"), Location::File, None, p.to_string());
    }
    progress.set(1.0, "network loaded");
    Ok(LoadedNetwork { network, topology, report })
}

/// Finds and reads the layer files of `path` (a `.gpkg` or a folder).
pub fn read_raw_network(path: &Path) -> Result<RawNetwork, String> {
    let is_gpkg = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gpkg"));
    if path.is_file() {
        if is_gpkg(path) {
            return super::gpkg::read_gpkg_layers(path);
        }
        return Err(format!(
            "expected a .gpkg file or a folder with stations.geojson, cables.geojson and connections.geojson, found {}",
            path.display()
        ));
    }
    if !path.is_dir() {
        return Err(format!("not found: {}", path.display()));
    }
    if !path.join("stations.geojson").exists() && !path.join("connections.geojson").exists() {
        let gpkgs: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read folder {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_gpkg(p))
            .collect();
        match gpkgs.len() {
            1 => return super::gpkg::read_gpkg_layers(&gpkgs[0]),
            0 => {
                return Err(format!(
                    "no network in {}: expected stations.geojson, cables.geojson and connections.geojson, or one .gpkg file",
                    path.display()
                ));
            }
            n => return Err(format!("{n} .gpkg files in {}; name the one to load", path.display())),
        }
    }
    let layer = |name: &str| {
        let label = format!("{name}.geojson");
        let r = read_geojson_layer(&path.join(&label), &label);
        (label, r)
    };
    let nodes = path.join("nodes.geojson").exists().then(|| layer("nodes"));
    Ok(RawNetwork { stations: layer("stations"), cables: layer("cables"), connections: layer("connections"), nodes })
}

fn point(crs: Crs, c: [f64; 2]) -> GeoPoint {
    match crs {
        Crs::RdNew => crate::crs::point_from_rd(c[0], c[1]),
        Crs::Wgs84 => crate::crs::point_from_wgs84(c[0], c[1]),
    }
}

/// Checks of one feature; collects every problem before deciding to reject.
struct Checker<'a> {
    file: &'a str,
    f: &'a RawFeature,
    id: Option<String>,
    errors: Vec<(Option<&'static str>, String)>,
    known: &'static [&'static str],
}

impl<'a> Checker<'a> {
    fn new(file: &'a str, f: &'a RawFeature, id_col: &'static str, known: &'static [&'static str]) -> Self {
        let id = as_text(f.props.get(id_col)).ok().flatten();
        Checker { file, f, id, errors: Vec::new(), known }
    }
    fn loc(&self) -> Location {
        Location::Feature { number: self.f.number, id: self.id.clone() }
    }
    fn text(&mut self, col: &'static str, required: bool) -> Option<String> {
        match as_text(self.f.props.get(col)) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                if required {
                    self.errors.push((Some(col), "required value is missing".into()));
                }
                None
            }
            Err(e) => {
                self.errors.push((Some(col), e));
                None
            }
        }
    }
    /// A column the GIS may not know: `None` for empty or an unknown marker, counted
    /// in `unknown` so the report says how many values are to be filled in.
    fn known_text(&mut self, col: &'static str, unknown: &mut Vec<&'static str>) -> Option<String> {
        let v = self.text(col, false).filter(|v| !crate::model::is_unknown_marker(v));
        if v.is_none() {
            unknown.push(col);
        }
        v
    }
    fn real(&mut self, col: &'static str, min_exclusive: Option<f64>) -> Option<f64> {
        match as_real(self.f.props.get(col)) {
            Ok(Some(v)) => match min_exclusive {
                Some(m) if v <= m => {
                    self.errors.push((Some(col), format!("expected a number > {m}, found {v}")));
                    None
                }
                _ => Some(v),
            },
            Ok(None) => None,
            Err(e) => {
                self.errors.push((Some(col), e));
                None
            }
        }
    }
    fn parsed<T: std::str::FromStr<Err = String>>(&mut self, col: &'static str, required: bool) -> Option<T> {
        let s = self.text(col, required)?;
        match s.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push((Some(col), e));
                None
            }
        }
    }
    fn point(&mut self, crs: Crs) -> Option<GeoPoint> {
        match &self.f.geom {
            Ok(RawGeom::Point(c)) => Some(point(crs, *c)),
            Ok(RawGeom::Line(_)) => {
                self.errors.push((None, "expected a Point geometry, found a LineString".into()));
                None
            }
            Err(e) => {
                self.errors.push((None, e.clone()));
                None
            }
        }
    }
    /// A connection's geometry: its point, or a service line (LineString) whose end
    /// nearer a cable is the joint; the house is then at the other end ([`super::unknown`]).
    fn point_or_line(&mut self, crs: Crs) -> Option<(GeoPoint, Option<Vec<GeoPoint>>)> {
        match &self.f.geom {
            Ok(RawGeom::Line(v)) if v.len() >= 2 => {
                let pts: Vec<GeoPoint> = v.iter().map(|c| point(crs, *c)).collect();
                Some((*pts.last().expect("two points"), Some(pts)))
            }
            Ok(RawGeom::Line(_)) => {
                self.errors.push((None, "expected a Point or a service line of at least two points".into()));
                None
            }
            _ => self.point(crs).map(|p| (p, None)),
        }
    }
    fn line(&mut self, crs: Crs) -> Option<Vec<GeoPoint>> {
        match &self.f.geom {
            Ok(RawGeom::Line(v)) => Some(v.iter().map(|c| point(crs, *c)).collect()),
            Ok(RawGeom::Point(_)) => {
                self.errors.push((None, "expected a LineString geometry, found a Point".into()));
                None
            }
            Err(e) => {
                self.errors.push((None, e.clone()));
                None
            }
        }
    }
    fn extra(&self) -> ExtraAttributes {
        // Nulls are dropped: a layer's column that is empty for this feature is no attribute of it.
        self.f
            .props
            .iter()
            .filter(|(k, v)| !v.is_null() && !self.known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    /// Reports the collected errors; `true` when the feature is accepted.
    fn finish(self, report: &mut ImportReport) -> bool {
        let loc = self.loc();
        let ok = self.errors.is_empty();
        for (col, msg) in self.errors {
            report.error(self.file, loc.clone(), col, msg);
        }
        ok
    }
}

const STATION_COLS: &[&str] = &["station_id", "name"];
const CABLE_COLS: &[&str] =
    &["cable_id", "station_id", "feeder_id", "from_node", "to_node", "conductor", "r_ohm_per_km", "length_m"];
const CONNECTION_COLS: &[&str] = &[
    "ean",
    "station_id",
    "feeder_id",
    "cable_id",
    "phase",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "meter",
    "pv_kwp_registered",
    "capacity",
];

/// Opens the summary of a layer; `None` (with the error reported) when the file could not be read.
fn begin(report: &mut ImportReport, layer: (String, Result<RawLayer, String>)) -> Option<(usize, RawLayer)> {
    let (label, r) = layer;
    let fi = report.begin_file(&label);
    match r {
        Ok(l) => {
            report.file_mut(fi).rows_read = l.features.len();
            Some((fi, l))
        }
        Err(msg) => {
            report.error(&label, Location::File, None, msg);
            None
        }
    }
}

fn count(report: &mut ImportReport, fi: usize, accepted: bool) {
    let s = report.file_mut(fi);
    if accepted {
        s.accepted += 1;
    } else {
        s.rejected += 1;
    }
}

/// Checks the layers against the contract and builds the network (see the module docs for the policy).
pub fn build_network(raw: RawNetwork, report: &mut ImportReport) -> Network {
    let mut stations = Vec::new();
    let mut cables: Vec<Cable> = Vec::new();
    let mut connections = Vec::new();
    let mut source_crs = None;

    // stations
    let mut station_feature: HashMap<String, usize> = HashMap::new();
    if let Some((fi, layer)) = begin(report, raw.stations) {
        source_crs.get_or_insert(layer.crs);
        for f in &layer.features {
            let mut c = Checker::new(&layer.file, f, "station_id", STATION_COLS);
            let id = c.text("station_id", true);
            let name = c.text("name", false);
            let pos = c.point(layer.crs);
            if let Some(id) = &id
                && let Some(first) = station_feature.get(id)
            {
                c.errors.push((
                    Some("station_id"),
                    format!("duplicate station_id {id:?}: already used by feature {first}; this feature is rejected"),
                ));
            }
            let extra = c.extra();
            let ok = c.finish(report);
            if let (true, Some(id), Some(pos)) = (ok, id, pos) {
                station_feature.insert(id.clone(), f.number);
                stations.push(Station { id, name, pos, extra });
            }
            count(report, fi, ok);
        }
    }

    // nodes (optional): ids cables may refer to
    let mut node_ids: Option<HashMap<String, usize>> = None;
    if let Some((fi, layer)) = raw.nodes.and_then(|l| begin(report, l)) {
        let mut ids = HashMap::new();
        for f in &layer.features {
            let mut c = Checker::new(&layer.file, f, "node_id", &[]);
            let id = c.text("node_id", true);
            c.point(layer.crs);
            if let Some(id) = &id
                && let Some(first) = ids.get(id)
            {
                c.errors.push((
                    Some("node_id"),
                    format!("duplicate node_id {id:?}: already used by feature {first}; this feature is rejected"),
                ));
            }
            let ok = c.finish(report);
            if let (true, Some(id)) = (ok, id) {
                ids.insert(id, f.number);
            }
            count(report, fi, ok);
        }
        node_ids = Some(ids);
    }

    // cables
    let mut cable_feature: HashMap<String, usize> = HashMap::new();
    let mut feeder_station: HashMap<String, (String, usize)> = HashMap::new();
    let mut cables_label = String::from("cables");
    if let Some((fi, layer)) = begin(report, raw.cables) {
        cables_label = layer.file.clone();
        source_crs.get_or_insert(layer.crs);
        for f in &layer.features {
            let mut c = Checker::new(&layer.file, f, "cable_id", CABLE_COLS);
            let id = c.text("cable_id", true);
            let station_id = c.text("station_id", true);
            let mut unknown = Vec::new();
            let feeder_id = c.known_text("feeder_id", &mut unknown);
            let from_node = c.text("from_node", false);
            let to_node = c.text("to_node", false);
            let conductor = c.text("conductor", false);
            let r = c.real("r_ohm_per_km", Some(0.0));
            // A zero or negative registered length is unusable but not fatal: the geometry gives one.
            let mut len_warning = None;
            let len = match c.real("length_m", None) {
                Some(l) if l <= 0.0 => {
                    len_warning = Some(format!("expected a length > 0 m, found {l}; the length is taken from the geometry"));
                    None
                }
                l => l,
            };
            let geometry = c.line(layer.crs);
            if let Some(id) = &id
                && let Some(first) = cable_feature.get(id)
            {
                c.errors.push((
                    Some("cable_id"),
                    format!("duplicate cable_id {id:?}: already used by feature {first}; this feature is rejected"),
                ));
            }
            if let (Some(fd), Some(st)) = (&feeder_id, &station_id)
                && let Some((other, first)) = feeder_station.get(fd).filter(|(s, _)| s != st)
            {
                c.errors.push((
                        Some("feeder_id"),
                        format!("feeder_id {fd:?} already belongs to station {other:?} (feature {first}); feeder ids must be unique across stations"),
                    ));
            }
            let extra = c.extra();
            let loc = c.loc();
            let ok = c.finish(report);
            count(report, fi, ok);
            let (true, Some(id), Some(station_id), Some(geometry)) = (ok, id, station_id, geometry) else {
                continue;
            };
            super::unknown::count(report, fi, &unknown);
            if let Some(w) = len_warning {
                report.warning(&layer.file, loc.clone(), Some("length_m"), w);
            }
            if !station_feature.contains_key(&station_id) {
                report.error(
                    &layer.file,
                    loc.clone(),
                    Some("station_id"),
                    format!(
                        "station {station_id:?} does not exist in the stations layer; cable kept but not connected to a station"
                    ),
                );
            }
            if let Some(nodes) = &node_ids {
                for (col, n) in [("from_node", &from_node), ("to_node", &to_node)] {
                    if let Some(n) = n.as_ref().filter(|n| !nodes.contains_key(*n)) {
                        report.warning(
                            &layer.file,
                            loc.clone(),
                            Some(col),
                            format!("node {n:?} does not exist in the nodes layer"),
                        );
                    }
                }
            }
            cable_feature.insert(id.clone(), f.number);
            if let Some(fd) = &feeder_id {
                feeder_station.entry(fd.clone()).or_insert((station_id.clone(), f.number));
            }
            cables.push(Cable {
                id,
                station_id,
                feeder_derived: feeder_id.is_none(),
                feeder_id: feeder_id.unwrap_or_default(),
                from_node,
                to_node,
                conductor,
                r_ohm_per_km: r,
                length_m: len,
                geometry,
                extra,
            });
        }
    }
    for msg in super::unknown::derive_cable_feeders(&stations, &mut cables) {
        report.warning(&cables_label, Location::File, Some("feeder_id"), msg);
    }
    let cable_by_id: HashMap<&str, &Cable> = cables.iter().map(|c| (c.id.as_str(), c)).collect();

    // connections
    let mut ean_feature: HashMap<String, usize> = HashMap::new();
    let mut segments: Option<super::unknown::SegmentIndex> = None;
    if let Some((fi, layer)) = begin(report, raw.connections) {
        // The connections layer is what corrections are exported from: its CRS wins.
        source_crs = Some(layer.crs);
        if layer.features.is_empty() {
            report.error(
                &layer.file,
                Location::File,
                None,
                "the connections layer has no features; expected at least one customer connection",
            );
        }
        for f in &layer.features {
            let mut c = Checker::new(&layer.file, f, "ean", CONNECTION_COLS);
            let ean = c.text("ean", true);
            let station_id = c.text("station_id", true);
            let mut unknown = Vec::new();
            let feeder_id = c.known_text("feeder_id", &mut unknown);
            let cable_id = c.known_text("cable_id", &mut unknown);
            let phase = match c.known_text("phase", &mut unknown).map(|p| p.parse::<PhaseConnection>()) {
                Some(Ok(p)) => Some(p),
                Some(Err(e)) => {
                    c.errors.push((Some("phase"), e));
                    None
                }
                None => None,
            };
            let street = c.text("street", false);
            let house_number = match as_uint(f.props.get("house_number")) {
                Ok(v) => v,
                Err(e) => {
                    c.errors.push((Some("house_number"), e));
                    None
                }
            };
            let house_number_addition = c.text("house_number_addition", false);
            let postcode = c.text("postcode", false);
            let meter = match c.text("meter", false).map(|m| m.to_ascii_lowercase()) {
                None => Some(MeterKind::Smart),
                Some(m) if m == "smart" => Some(MeterKind::Smart),
                Some(m) if m == "conventional" => Some(MeterKind::Conventional),
                Some(m) => {
                    c.errors.push((Some("meter"), format!("expected smart or conventional, found {m:?}")));
                    None
                }
            };
            let pv = match c.real("pv_kwp_registered", None) {
                Some(v) if v < 0.0 => {
                    c.errors.push((Some("pv_kwp_registered"), format!("expected kWp >= 0, found {v}")));
                    None
                }
                v => v,
            };
            let capacity = c.parsed::<Capacity>("capacity", false);
            let capacity_given = as_text(f.props.get("capacity")).ok().flatten().is_some();
            let geom = c.point_or_line(layer.crs);
            if let Some(e) = &ean
                && let Some(first) = ean_feature.get(e)
            {
                c.errors.push((
                    Some("ean"),
                    format!("duplicate EAN {e:?}: already used by feature {first}; this feature is rejected"),
                ));
            }
            let extra = c.extra();
            let loc = c.loc();
            let ok = c.finish(report) && !(capacity_given && capacity.is_none());
            count(report, fi, ok);
            let (true, Some(ean), Some(station_id), Some(meter), Some((pos, service_line))) = (ok, ean, station_id, meter, geom)
            else {
                continue;
            };
            super::unknown::count(report, fi, &unknown);
            let b = ean.as_bytes();
            if b.len() != 18 || !b.iter().all(u8::is_ascii_digit) {
                report.warning(&layer.file, loc.clone(), Some("ean"), format!("expected an 18-digit EAN code, found {ean:?}"));
            } else if !ean_check_digit_ok(&ean) {
                report.warning(&layer.file, loc.clone(), Some("ean"), "EAN check digit does not verify (GS1 mod 10)");
            }
            match cable_id.as_deref().map(|id| cable_by_id.get(id)) {
                None => {}
                Some(None) => report.error(
                    &layer.file,
                    loc.clone(),
                    Some("cable_id"),
                    format!(
                        "cable {:?} does not exist in {cables_label}; connection kept without a cable",
                        cable_id.as_deref().unwrap_or_default()
                    ),
                ),
                Some(Some(cable)) => {
                    if cable.station_id != station_id {
                        report.warning(
                            &layer.file,
                            loc.clone(),
                            Some("station_id"),
                            format!(
                                "station {station_id:?} differs from station {:?} of its cable {:?}",
                                cable.station_id, cable.id
                            ),
                        );
                    }
                    if let Some(fd) = feeder_id.as_ref().filter(|fd| **fd != cable.feeder_id) {
                        report.warning(
                            &layer.file,
                            loc.clone(),
                            Some("feeder_id"),
                            format!("feeder {fd:?} differs from feeder {:?} of its cable {:?}", cable.feeder_id, cable.id),
                        );
                    }
                }
            }
            ean_feature.insert(ean.clone(), f.number);
            // A service line: the house at the end away from the cables, the joint at the other.
            let (pos, service_joint) = match service_line {
                Some(l) => {
                    let idx = segments.get_or_insert_with(|| super::unknown::SegmentIndex::new(&cables));
                    let (house, joint) = idx.split_service_line(&l);
                    (house, Some(joint))
                }
                None => (pos, None),
            };
            connections.push(Connection {
                ean,
                station_id,
                feeder_id,
                cable_id,
                phase,
                street,
                house_number,
                house_number_addition,
                postcode,
                meter,
                pv_kwp_registered: pv,
                capacity: capacity.unwrap_or_default(),
                service_joint,
                pos,
                extra,
            });
        }
    }
    Network::new(stations, cables, connections, source_crs.unwrap_or_default())
}
