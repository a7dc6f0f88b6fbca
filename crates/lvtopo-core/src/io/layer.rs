//! A network layer as read from a file, before validation: features with their
//! attributes as JSON values and their geometry in the layer's CRS. The GeoJSON
//! and GeoPackage readers both produce this, so the validation of the data
//! contract ([`super::network`]) is written once.

use crate::model::Crs;
use serde_json::{Map, Value};

/// A geometry as found in the file, coordinates in the layer's CRS.
#[derive(Clone, Debug, PartialEq)]
pub enum RawGeom {
    Point([f64; 2]),
    Line(Vec<[f64; 2]>),
}

impl RawGeom {
    pub fn coords(&self) -> &[[f64; 2]] {
        match self {
            RawGeom::Point(p) => std::slice::from_ref(p),
            RawGeom::Line(v) => v,
        }
    }
}

#[derive(Clone, Debug)]
pub struct RawFeature {
    /// 1-based position in the file or layer.
    pub number: usize,
    pub props: Map<String, Value>,
    /// The geometry, or why it cannot be used (empty, wrong type, invalid).
    pub geom: Result<RawGeom, String>,
}

#[derive(Clone, Debug)]
pub struct RawLayer {
    /// File name as shown in the report (`cables.geojson`, `net.gpkg:cables`).
    pub file: String,
    pub crs: Crs,
    pub features: Vec<RawFeature>,
}

fn crs_name(crs: Crs) -> &'static str {
    match crs {
        Crs::RdNew => "RD New (EPSG:28992) metres",
        Crs::Wgs84 => "WGS84 (EPSG:4326) longitude/latitude degrees",
    }
}

fn plausible(crs: Crs, c: [f64; 2]) -> bool {
    match crs {
        Crs::RdNew => crate::crs::is_plausible_rd(c[0], c[1]),
        Crs::Wgs84 => crate::crs::is_plausible_wgs84(c[0], c[1]),
    }
}

impl RawLayer {
    /// Checks the coordinates against the declared CRS. When coordinates look
    /// like the *other* CRS, the declaration is wrong and the whole layer is
    /// refused (returns the message). Single features that fit neither CRS get
    /// their geometry replaced by an error, so they are rejected one by one.
    pub fn check_crs(&mut self, how_declared: &str) -> Result<(), String> {
        let other = match self.crs {
            Crs::RdNew => Crs::Wgs84,
            Crs::Wgs84 => Crs::RdNew,
        };
        for f in &self.features {
            let Ok(g) = &f.geom else { continue };
            if let Some(c) = g.coords().iter().find(|c| !plausible(self.crs, **c) && plausible(other, **c)) {
                return Err(format!(
                    "coordinates look like {} (feature {}: {}, {}), but the file is read as {} ({how_declared})",
                    crs_name(other),
                    f.number,
                    c[0],
                    c[1],
                    crs_name(self.crs)
                ));
            }
        }
        // Every coordinate outside but inside once its axes are swapped: one diagnosis for the file.
        let outside: Vec<[f64; 2]> = self
            .features
            .iter()
            .filter_map(|f| f.geom.as_ref().ok())
            .filter_map(|g| g.coords().iter().find(|c| !plausible(self.crs, **c)).copied())
            .collect();
        if let Some(c) = outside.first()
            && outside.iter().all(|c| plausible(self.crs, [c[1], c[0]]))
        {
            return Err(format!(
                "the coordinates look swapped: ({}, {}) lies outside the Netherlands for {}, but ({}, {}) inside; \
                 expected x (longitude, or RD x) first, then y (latitude, or RD y); {} feature(s) affected",
                c[0],
                c[1],
                crs_name(self.crs),
                c[1],
                c[0],
                outside.len()
            ));
        }
        for f in &mut self.features {
            let Ok(g) = &f.geom else { continue };
            if let Some(c) = g.coords().iter().find(|c| !plausible(self.crs, **c)) {
                let swapped = if plausible(self.crs, [c[1], c[0]]) { " (axes swapped?)" } else { "" };
                f.geom = Err(format!(
                    "coordinate ({}, {}) lies outside the Netherlands for {}{swapped}",
                    c[0],
                    c[1],
                    crs_name(self.crs)
                ));
            }
        }
        Ok(())
    }
}

/// Short description of a JSON value for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

/// A text attribute: strings as they are (trimmed; empty = absent), numbers as
/// their decimal text (ids are often numeric in GIS exports).
pub fn as_text(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            Ok((!t.is_empty()).then(|| t.to_string()))
        }
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(format!("expected text, found {}", describe(other))),
    }
}

/// A real attribute: numbers, or text holding a number (`"3.5"`).
pub fn as_real(v: Option<&Value>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| format!("expected a number, found {n}")),
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            match t.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(format!("expected a number, found {s:?}")),
            }
        }
        Some(other) => Err(format!("expected a number, found {}", describe(other))),
    }
}

/// A non-negative integer attribute: numbers without fraction, or text holding one.
pub fn as_uint(v: Option<&Value>) -> Result<Option<u32>, String> {
    let err = |found: String| format!("expected a whole number, found {found}");
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_u64() {
                return u32::try_from(i).map(Some).map_err(|_| err(n.to_string()));
            }
            match n.as_f64() {
                Some(f) if f.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&f) => Ok(Some(f as u32)),
                _ => Err(err(n.to_string())),
            }
        }
        Some(Value::String(s)) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<u32>().map(Some).map_err(|_| err(format!("{s:?}")))
        }
        Some(other) => Err(err(describe(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_text_and_text_as_numbers() {
        assert_eq!(as_text(Some(&json!(12))).unwrap().as_deref(), Some("12"));
        assert_eq!(as_text(Some(&json!("  K1 "))).unwrap().as_deref(), Some("K1"));
        assert_eq!(as_text(Some(&json!(""))).unwrap(), None);
        assert!(as_text(Some(&json!(true))).is_err());
        assert_eq!(as_real(Some(&json!("0.206"))).unwrap(), Some(0.206));
        assert_eq!(as_real(Some(&json!(3))).unwrap(), Some(3.0));
        assert_eq!(as_real(Some(&json!("2x0"))).unwrap_err(), "expected a number, found \"2x0\"");
        assert_eq!(as_uint(Some(&json!("12"))).unwrap(), Some(12));
        assert_eq!(as_uint(Some(&json!(12.0))).unwrap(), Some(12));
        assert!(as_uint(Some(&json!(12.5))).is_err());
        assert!(as_uint(Some(&json!(-1))).is_err());
    }

    #[test]
    fn rd_numbers_in_a_wgs84_layer_refuse_the_layer() {
        let mut l = RawLayer {
            file: "stations.geojson".into(),
            crs: Crs::Wgs84,
            features: vec![RawFeature { number: 1, props: Map::new(), geom: Ok(RawGeom::Point([155000.0, 463000.0])) }],
        };
        let e = l.check_crs("no crs member").unwrap_err();
        assert!(e.starts_with("coordinates look like RD New (EPSG:28992) metres (feature 1: 155000, 463000)"), "{e}");
        let mut l = RawLayer {
            file: "stations.geojson".into(),
            crs: Crs::Wgs84,
            features: vec![RawFeature { number: 1, props: Map::new(), geom: Ok(RawGeom::Point([-40.0, 10.0])) }],
        };
        l.check_crs("no crs member").unwrap();
        assert!(l.features[0].geom.as_ref().unwrap_err().contains("outside the Netherlands"));
    }
}
