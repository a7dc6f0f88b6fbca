//! Stations, cable sections and connections as registered in GIS.

use super::phase::{Capacity, PhaseConnection};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A point kept in both reference systems: RD New metres and WGS84 degrees.
#[derive(Clone, Copy, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct GeoPoint {
    /// RD New (EPSG:28992) easting, metres.
    pub x: f64,
    /// RD New (EPSG:28992) northing, metres.
    pub y: f64,
    /// WGS84 longitude, degrees.
    pub lon: f64,
    /// WGS84 latitude, degrees.
    pub lat: f64,
}

impl GeoPoint {
    pub fn rd(&self) -> geo::Coord<f64> {
        geo::Coord { x: self.x, y: self.y }
    }
    pub fn distance_m(&self, other: &GeoPoint) -> f64 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// Coordinate reference system of an input (and so of the exports made from it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Crs {
    /// EPSG:28992
    #[default]
    RdNew,
    /// EPSG:4326
    Wgs84,
}

impl Crs {
    pub fn epsg(self) -> u32 {
        match self {
            Crs::RdNew => 28992,
            Crs::Wgs84 => 4326,
        }
    }
}

/// Attributes of a GIS feature that lvtopo does not interpret; kept so exports
/// hand every column back to the GIS unchanged.
pub type ExtraAttributes = BTreeMap<String, serde_json::Value>;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub id: String,
    pub name: Option<String>,
    pub pos: GeoPoint,
    #[serde(default)]
    pub extra: ExtraAttributes,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cable {
    pub id: String,
    pub station_id: String,
    /// Outgoing feeder at the station. When the GIS left it unknown, the loader derives
    /// it from the connectivity to the station and sets `feeder_derived`.
    pub feeder_id: String,
    /// `true` when `feeder_id` was not in the GIS but derived from the connectivity.
    #[serde(default)]
    pub feeder_derived: bool,
    pub from_node: Option<String>,
    pub to_node: Option<String>,
    pub conductor: Option<String>,
    /// Phase conductor resistance as registered; `None` when the GIS has none.
    pub r_ohm_per_km: Option<f64>,
    /// Length as registered; `None` means: take it from the geometry.
    pub length_m: Option<f64>,
    /// Vertices from the first to the last point of the line string.
    pub geometry: Vec<GeoPoint>,
    #[serde(default)]
    pub extra: ExtraAttributes,
}

impl Cable {
    /// Length along the geometry in metres (RD New).
    pub fn geometric_length_m(&self) -> f64 {
        self.geometry.windows(2).map(|w| w[0].distance_m(&w[1])).sum()
    }
    /// Registered length, or the geometric one.
    pub fn length_m(&self) -> f64 {
        self.length_m.unwrap_or_else(|| self.geometric_length_m())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum MeterKind {
    #[default]
    Smart,
    Conventional,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Connection {
    /// 18-digit EAN code.
    pub ean: String,
    pub station_id: String,
    /// Feeder as registered; `None` when the GIS does not know it (placed from geometry
    /// and voltage instead).
    pub feeder_id: Option<String>,
    /// Cable section as registered; `None` when unknown.
    pub cable_id: Option<String>,
    /// Phase as registered; `None` when never registered (filled in from the voltages).
    pub phase: Option<PhaseConnection>,
    pub street: Option<String>,
    pub house_number: Option<u32>,
    pub house_number_addition: Option<String>,
    pub postcode: Option<String>,
    pub meter: MeterKind,
    /// kWp registered in CERES; `None` or 0 means none registered.
    pub pv_kwp_registered: Option<f64>,
    pub capacity: Capacity,
    pub pos: GeoPoint,
    /// Where the service line meets the cable, when the GIS draws connections as service
    /// lines (the line's end away from the house); `None` for a point.
    #[serde(default)]
    pub service_joint: Option<GeoPoint>,
    #[serde(default)]
    pub extra: ExtraAttributes,
}

/// Text an operator's GIS uses for "not known": empty, `?`, `onbekend`, `unknown`, `0`
/// (case-insensitive, surrounding blanks ignored).
pub fn is_unknown_marker(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "?" || t == "0" || t.eq_ignore_ascii_case("onbekend") || t.eq_ignore_ascii_case("unknown")
}

impl Connection {
    /// Registered feeder id, `""` when unknown (for display and comparisons with ids).
    pub fn feeder(&self) -> &str {
        self.feeder_id.as_deref().unwrap_or("")
    }
    /// Registered feeder id for grouping and display: `(unknown)` when the GIS has none.
    pub fn feeder_label(&self) -> String {
        self.feeder_id.clone().unwrap_or_else(|| "(unknown)".into())
    }
    /// Registered cable id, `""` when unknown.
    pub fn cable(&self) -> &str {
        self.cable_id.as_deref().unwrap_or("")
    }
    /// Registered phase as written in GIS (`L1`, `L123`), `""` when unknown.
    pub fn phase_text(&self) -> String {
        self.phase.map(|p| p.to_string()).unwrap_or_default()
    }
    /// The point where the connection meets its cable as far as the GIS says: the
    /// service line's joint, or the connection's own point.
    pub fn tap_point(&self) -> &GeoPoint {
        self.service_joint.as_ref().unwrap_or(&self.pos)
    }

    /// "Dorpsstraat 12A, 6811AB" or whatever part of it is known.
    pub fn address(&self) -> String {
        let mut s = self.street.clone().unwrap_or_default();
        if let Some(n) = self.house_number {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&n.to_string());
            if let Some(a) = &self.house_number_addition {
                s.push_str(a);
            }
        }
        if let Some(pc) = &self.postcode {
            if !s.is_empty() {
                s.push_str(", ");
            }
            s.push_str(pc);
        }
        s
    }
    pub fn has_registered_pv(&self) -> bool {
        self.pv_kwp_registered.is_some_and(|k| k > 0.0)
    }
}

/// A whole LV network as loaded from GIS. Indices into the vectors are the
/// stable handles used everywhere else (analysis results, UI selection).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Network {
    pub stations: Vec<Station>,
    pub cables: Vec<Cable>,
    pub connections: Vec<Connection>,
    /// CRS the network was read in; exports are written in it too.
    pub source_crs: Crs,
    #[serde(skip)]
    index: NetworkIndex,
}

#[derive(Clone, Debug, Default)]
struct NetworkIndex {
    station: HashMap<String, usize>,
    cable: HashMap<String, usize>,
    connection: HashMap<String, usize>,
}

impl Network {
    pub fn new(stations: Vec<Station>, cables: Vec<Cable>, connections: Vec<Connection>, source_crs: Crs) -> Self {
        let mut n = Network { stations, cables, connections, source_crs, index: NetworkIndex::default() };
        n.reindex();
        n
    }

    /// Rebuilds the id lookups; call after changing the vectors directly.
    pub fn reindex(&mut self) {
        self.index.station = self.stations.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        self.index.cable = self.cables.iter().enumerate().map(|(i, c)| (c.id.clone(), i)).collect();
        self.index.connection = self.connections.iter().enumerate().map(|(i, c)| (c.ean.clone(), i)).collect();
    }

    pub fn station_index(&self, id: &str) -> Option<usize> {
        self.index.station.get(id).copied()
    }
    pub fn cable_index(&self, id: &str) -> Option<usize> {
        self.index.cable.get(id).copied()
    }
    pub fn connection_index(&self, ean: &str) -> Option<usize> {
        self.index.connection.get(ean).copied()
    }

    /// Feeder ids in first-seen order, with their station id.
    pub fn feeders(&self) -> Vec<(String, String)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for c in &self.cables {
            if seen.insert(c.feeder_id.clone()) {
                out.push((c.feeder_id.clone(), c.station_id.clone()));
            }
        }
        out
    }
}

/// GS1 mod-10 check of an EAN-18 (GSRN). `false` for anything not 18 digits.
pub fn ean_check_digit_ok(ean: &str) -> bool {
    let b = ean.as_bytes();
    if b.len() != 18 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17].iter().rev().enumerate().map(|(i, d)| (d - b'0') as u32 * if i % 2 == 0 { 3 } else { 1 }).sum();
    (10 - sum % 10) % 10 == (b[17] - b'0') as u32
}

/// Appends the GS1 check digit to 17 digits.
pub fn ean_with_check_digit(first17: &str) -> String {
    let sum: u32 = first17.bytes().rev().enumerate().map(|(i, d)| (d - b'0') as u32 * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{first17}{}", (10 - sum % 10) % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ean_check_digit() {
        let e = ean_with_check_digit("87100000000000001");
        assert_eq!(e.len(), 18);
        assert!(ean_check_digit_ok(&e));
        let mut bad = e.clone().into_bytes();
        bad[17] = if bad[17] == b'9' { b'0' } else { bad[17] + 1 };
        assert!(!ean_check_digit_ok(std::str::from_utf8(&bad).unwrap()));
        assert!(!ean_check_digit_ok("12345"));
    }
}
