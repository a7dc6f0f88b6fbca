//! GeoJSON network layers (`stations.geojson`, `cables.geojson`,
//! `connections.geojson`, optional `nodes.geojson`).
//!
//! CRS: WGS84 (RFC 7946) unless the legacy `crs` member names EPSG:28992
//! (`urn:ogc:def:crs:EPSG::28992`, `EPSG:28992`, `http://www.opengis.net/def/crs/EPSG/0/28992`).
//! EPSG:4326 / CRS84 spelled out are WGS84 too; anything else is refused.
//! Geometries: Point, LineString, and a MultiLineString of exactly one part.
//! The attribute checks of the data contract are in [`super::network`].

use super::layer::{RawFeature, RawGeom, RawLayer, describe};
use crate::model::Crs;
use serde_json::{Map, Value};
use std::path::Path;

/// Maps a CRS name to RD New or WGS84; `None` for anything else.
pub fn crs_from_name(name: &str) -> Option<Crs> {
    let n = name.trim().to_ascii_uppercase();
    if n.ends_with("CRS84") || n.ends_with("CRS:84") {
        return Some(Crs::Wgs84);
    }
    if !n.contains("EPSG") {
        return None;
    }
    let code: String = n.chars().rev().take_while(|c| c.is_ascii_digit()).collect::<Vec<_>>().into_iter().rev().collect();
    match code.as_str() {
        "28992" => Some(Crs::RdNew),
        "4326" => Some(Crs::Wgs84),
        _ => None,
    }
}

/// CRS of a FeatureCollection from its legacy `crs` member; the `String` says how it was found.
fn collection_crs(doc: &Map<String, Value>) -> Result<(Crs, String), String> {
    let Some(crs) = doc.get("crs").filter(|v| !v.is_null()) else {
        return Ok((Crs::Wgs84, "no crs member, so WGS84 as GeoJSON prescribes".into()));
    };
    let name = crs.get("properties").and_then(|p| p.get("name")).and_then(Value::as_str);
    match name {
        Some(n) => match crs_from_name(n) {
            Some(c) => Ok((c, format!("crs member {n:?}"))),
            None => {
                Err(format!("unsupported CRS {n:?}: expected EPSG:28992 (RD New, e.g. \"urn:ogc:def:crs:EPSG::28992\") or WGS84"))
            }
        },
        None => Err(format!(
            "unsupported crs member {}: expected {{\"type\":\"name\",\"properties\":{{\"name\":\"urn:ogc:def:crs:EPSG::28992\"}}}}",
            crs
        )),
    }
}

fn position(v: &Value) -> Result<[f64; 2], String> {
    let a = v.as_array().ok_or_else(|| format!("invalid geometry: expected a position [x, y], found {}", describe(v)))?;
    if a.len() < 2 {
        return Err(format!("invalid geometry: a position needs 2 numbers, found {}", a.len()));
    }
    let num = |x: &Value| x.as_f64().filter(|f| f.is_finite());
    match (num(&a[0]), num(&a[1])) {
        (Some(x), Some(y)) => Ok([x, y]),
        _ => Err(format!("invalid geometry: expected numeric coordinates, found {}", v)),
    }
}

fn line(v: &Value, what: &str) -> Result<Vec<[f64; 2]>, String> {
    let a = v.as_array().ok_or_else(|| format!("invalid geometry: {what} coordinates must be a list of positions"))?;
    if a.is_empty() {
        return Err(format!("empty geometry: {what} without coordinates"));
    }
    let pts = a.iter().map(position).collect::<Result<Vec<_>, _>>()?;
    if pts.len() < 2 {
        return Err(format!("invalid geometry: a {what} needs at least 2 positions, found {}", pts.len()));
    }
    Ok(pts)
}

/// Reads a GeoJSON geometry object into a [`RawGeom`].
pub fn parse_geometry(g: Option<&Value>) -> Result<RawGeom, String> {
    let g = match g {
        None | Some(Value::Null) => return Err("empty geometry: the feature has no geometry".into()),
        Some(Value::Object(o)) => o,
        Some(other) => return Err(format!("invalid geometry: expected a geometry object, found {}", describe(other))),
    };
    let ty = g.get("type").and_then(Value::as_str).unwrap_or("");
    let coords = g.get("coordinates").unwrap_or(&Value::Null);
    let empty = coords.is_null() || coords.as_array().is_some_and(|a| a.is_empty());
    match ty {
        "Point" if empty => Err("empty geometry: Point without coordinates".into()),
        "Point" => position(coords).map(RawGeom::Point),
        "LineString" => line(coords, "LineString").map(RawGeom::Line),
        "MultiLineString" => {
            let parts = coords.as_array().map(Vec::as_slice).unwrap_or(&[]);
            match parts.len() {
                0 => Err("empty geometry: MultiLineString without parts".into()),
                1 => line(&parts[0], "LineString").map(RawGeom::Line),
                n => Err(format!("invalid geometry: MultiLineString with {n} parts; expected a single connected line")),
            }
        }
        "" => Err("invalid geometry: the geometry has no \"type\"".into()),
        other => Err(format!("unsupported geometry type {other}: expected Point or LineString")),
    }
}

/// Reads one layer file. `Err` is a file-level problem (missing, unreadable,
/// not a FeatureCollection, unsupported CRS, coordinates of the wrong CRS).
pub fn read_geojson_layer(path: &Path, file_label: &str) -> Result<RawLayer, String> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("file not found: {}", path.display()),
        _ => format!("cannot read {}: {e}", path.display()),
    })?;
    parse_geojson_layer(&bytes, file_label)
}

/// [`read_geojson_layer`] on bytes already in memory.
pub fn parse_geojson_layer(bytes: &[u8], file_label: &str) -> Result<RawLayer, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("the file is empty; expected a GeoJSON FeatureCollection".into());
    }
    // A UTF-8 byte order mark (Windows editors write one) is not part of the JSON.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Object(doc) = doc else {
        return Err("expected a GeoJSON FeatureCollection object".into());
    };
    match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {}
        other => {
            return Err(format!(
                "expected \"type\": \"FeatureCollection\", found {}",
                other.map(|s| format!("{s:?}")).unwrap_or("none".into())
            ));
        }
    }
    let (crs, how) = collection_crs(&doc)?;
    let feats = match doc.get("features") {
        Some(Value::Array(a)) => a,
        _ => return Err("expected a \"features\" list".into()),
    };
    let mut features = Vec::with_capacity(feats.len());
    for (i, f) in feats.iter().enumerate() {
        let number = i + 1;
        let Value::Object(f) = f else {
            features.push(RawFeature {
                number,
                props: Map::new(),
                geom: Err(format!("expected a Feature object, found {}", describe(f))),
            });
            continue;
        };
        let props = match f.get("properties") {
            Some(Value::Object(p)) => p.clone(),
            _ => Map::new(),
        };
        features.push(RawFeature { number, props, geom: parse_geometry(f.get("geometry")) });
    }
    let mut layer = RawLayer { file: file_label.to_string(), crs, features };
    layer.check_crs(&how)?;
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crs_spellings() {
        assert_eq!(crs_from_name("urn:ogc:def:crs:EPSG::28992"), Some(Crs::RdNew));
        assert_eq!(crs_from_name("EPSG:28992"), Some(Crs::RdNew));
        assert_eq!(crs_from_name("http://www.opengis.net/def/crs/EPSG/0/28992"), Some(Crs::RdNew));
        assert_eq!(crs_from_name("urn:ogc:def:crs:OGC:1.3:CRS84"), Some(Crs::Wgs84));
        assert_eq!(crs_from_name("EPSG:4326"), Some(Crs::Wgs84));
        assert_eq!(crs_from_name("EPSG:3857"), None);
    }

    #[test]
    fn geometries() {
        use serde_json::json;
        assert_eq!(parse_geometry(Some(&json!({"type":"Point","coordinates":[5.1,52.1]}))).unwrap(), RawGeom::Point([5.1, 52.1]));
        assert_eq!(
            parse_geometry(Some(&json!({"type":"MultiLineString","coordinates":[[[5.1,52.1],[5.2,52.2]]]}))).unwrap(),
            RawGeom::Line(vec![[5.1, 52.1], [5.2, 52.2]])
        );
        assert_eq!(parse_geometry(None).unwrap_err(), "empty geometry: the feature has no geometry");
        assert_eq!(
            parse_geometry(Some(&json!({"type":"Point","coordinates":[]}))).unwrap_err(),
            "empty geometry: Point without coordinates"
        );
        assert_eq!(
            parse_geometry(Some(&json!({"type":"LineString","coordinates":[[5.1,52.1]]}))).unwrap_err(),
            "invalid geometry: a LineString needs at least 2 positions, found 1"
        );
        assert!(
            parse_geometry(Some(&json!({"type":"Point","coordinates":["a",1]}))).unwrap_err().starts_with("invalid geometry")
        );
        assert!(
            parse_geometry(Some(&json!({"type":"Polygon","coordinates":[]})))
                .unwrap_err()
                .starts_with("unsupported geometry type Polygon")
        );
    }

    #[test]
    fn unsupported_crs_is_a_file_error() {
        let doc = br#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"features":[]}"#;
        let e = parse_geojson_layer(doc, "stations.geojson").unwrap_err();
        assert!(e.starts_with("unsupported CRS \"EPSG:3857\""), "{e}");
    }
}
