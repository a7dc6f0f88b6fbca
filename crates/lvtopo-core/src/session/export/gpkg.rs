//! GeoPackage (OGC 1.3) export of a network: layers `stations` (Point), `cables`
//! (LineString) and `connections` (Point), in the network's source CRS, with
//! every contract field and every original attribute (`extra`) as columns.
//!
//! Written with rusqlite: the three required metadata tables
//! (`gpkg_spatial_ref_sys`, `gpkg_contents`, `gpkg_geometry_columns`), the
//! `GPKG` application id, and geometries as GeoPackage binary (header + WKB).
//! The file is built under a temp name and renamed into place (atomic).

use crate::model::{Crs, ExtraAttributes, GeoPoint, MeterKind, Network};
use crate::session::atomic::write_atomic_via_path;
use rusqlite::types::Value as Sql;
use std::collections::BTreeMap;
use std::io;
use std::path::Path;

const RD_NEW_WKT: &str = r#"PROJCS["Amersfoort / RD New",GEOGCS["Amersfoort",DATUM["Amersfoort",SPHEROID["Bessel 1841",6377397.155,299.1528128,AUTHORITY["EPSG","7004"]],TOWGS84[565.417,50.3319,465.552,-0.398957,0.343988,-1.8774,4.0725],AUTHORITY["EPSG","6289"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4289"]],PROJECTION["Oblique_Stereographic"],PARAMETER["latitude_of_origin",52.1561605555556],PARAMETER["central_meridian",5.38763888888889],PARAMETER["scale_factor",0.9999079],PARAMETER["false_easting",155000],PARAMETER["false_northing",463000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","28992"]]"#;
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColType {
    Text,
    Integer,
    Real,
}

impl ColType {
    fn sql(self) -> &'static str {
        match self {
            ColType::Text => "TEXT",
            ColType::Integer => "INTEGER",
            ColType::Real => "REAL",
        }
    }
}

struct Layer {
    name: &'static str,
    geometry_type: &'static str,
    columns: Vec<(String, ColType)>,
    rows: Vec<(Vec<[f64; 2]>, Vec<Sql>)>,
}

fn xy(p: &GeoPoint, crs: Crs) -> [f64; 2] {
    match crs {
        Crs::RdNew => [p.x, p.y],
        Crs::Wgs84 => [p.lon, p.lat],
    }
}

fn text(s: &str) -> Sql {
    Sql::Text(s.to_string())
}
fn opt_text(s: &Option<String>) -> Sql {
    s.as_ref().map_or(Sql::Null, |v| Sql::Text(v.clone()))
}
fn opt_real(v: Option<f64>) -> Sql {
    v.filter(|x| x.is_finite()).map_or(Sql::Null, Sql::Real)
}

/// Column type that holds every value of an extra attribute across the layer.
fn extra_type<'a>(values: impl Iterator<Item = &'a serde_json::Value>) -> ColType {
    let mut t: Option<ColType> = None;
    for v in values {
        let this = match v {
            serde_json::Value::Null => continue,
            serde_json::Value::Bool(_) => ColType::Integer,
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => ColType::Integer,
            serde_json::Value::Number(_) => ColType::Real,
            _ => ColType::Text,
        };
        t = Some(match (t, this) {
            (None, x) => x,
            (Some(a), b) if a == b => a,
            (Some(ColType::Integer), ColType::Real) | (Some(ColType::Real), ColType::Integer) => ColType::Real,
            _ => ColType::Text,
        });
    }
    t.unwrap_or(ColType::Text)
}

fn extra_value(v: Option<&serde_json::Value>, t: ColType) -> Sql {
    match (v, t) {
        (None | Some(serde_json::Value::Null), _) => Sql::Null,
        (Some(serde_json::Value::Bool(b)), ColType::Integer) => Sql::Integer(*b as i64),
        (Some(serde_json::Value::Number(n)), ColType::Integer) => {
            n.as_i64().map_or_else(|| Sql::Real(n.as_f64().unwrap_or(f64::NAN)), Sql::Integer)
        }
        (Some(serde_json::Value::Number(n)), ColType::Real) => n.as_f64().map_or(Sql::Null, Sql::Real),
        (Some(serde_json::Value::String(s)), _) => Sql::Text(s.clone()),
        (Some(other), _) => Sql::Text(other.to_string()),
    }
}

/// Adds the extra attributes of a layer as columns after the contract ones
/// (a name that clashes with a contract column, `fid` or `geom` is left out of the extras).
fn with_extras<'a>(mut layer: Layer, extras: impl Iterator<Item = &'a ExtraAttributes> + Clone) -> Layer {
    let mut names: BTreeMap<String, ()> = BTreeMap::new();
    for e in extras.clone() {
        for k in e.keys() {
            names.insert(k.clone(), ());
        }
    }
    let taken: Vec<String> =
        layer.columns.iter().map(|(c, _)| c.to_ascii_lowercase()).chain(["fid".into(), "geom".into()]).collect();
    let cols: Vec<(String, ColType)> = names
        .into_keys()
        .filter(|k| !taken.contains(&k.to_ascii_lowercase()))
        .map(|k| {
            let t = extra_type(extras.clone().filter_map(|e| e.get(&k)));
            (k, t)
        })
        .collect();
    for ((_, vals), e) in layer.rows.iter_mut().zip(extras) {
        for (k, t) in &cols {
            vals.push(extra_value(e.get(k), *t));
        }
    }
    layer.columns.extend(cols);
    layer
}

fn layers(net: &Network) -> Vec<Layer> {
    let crs = net.source_crs;
    let cols = |names: &[(&str, ColType)]| names.iter().map(|(n, t)| (n.to_string(), *t)).collect::<Vec<_>>();
    use ColType::*;
    let stations = Layer {
        name: "stations",
        geometry_type: "POINT",
        columns: cols(&[("station_id", Text), ("name", Text)]),
        rows: net.stations.iter().map(|s| (vec![xy(&s.pos, crs)], vec![text(&s.id), opt_text(&s.name)])).collect(),
    };
    let cables = Layer {
        name: "cables",
        geometry_type: "LINESTRING",
        columns: cols(&[
            ("cable_id", Text),
            ("station_id", Text),
            ("feeder_id", Text),
            ("from_node", Text),
            ("to_node", Text),
            ("conductor", Text),
            ("r_ohm_per_km", Real),
            ("length_m", Real),
        ]),
        rows: net
            .cables
            .iter()
            .map(|c| {
                (
                    c.geometry.iter().map(|p| xy(p, crs)).collect(),
                    vec![
                        text(&c.id),
                        text(&c.station_id),
                        text(&c.feeder_id),
                        opt_text(&c.from_node),
                        opt_text(&c.to_node),
                        opt_text(&c.conductor),
                        opt_real(c.r_ohm_per_km),
                        opt_real(c.length_m),
                    ],
                )
            })
            .collect(),
    };
    let connections = Layer {
        name: "connections",
        geometry_type: "POINT",
        columns: cols(&[
            ("ean", Text),
            ("station_id", Text),
            ("feeder_id", Text),
            ("cable_id", Text),
            ("phase", Text),
            ("street", Text),
            ("house_number", Integer),
            ("house_number_addition", Text),
            ("postcode", Text),
            ("meter", Text),
            ("pv_kwp_registered", Real),
            ("capacity", Text),
        ]),
        rows: net
            .connections
            .iter()
            .map(|c| {
                (
                    vec![xy(&c.pos, crs)],
                    vec![
                        text(&c.ean),
                        text(&c.station_id),
                        opt_text(&c.feeder_id),
                        opt_text(&c.cable_id),
                        opt_text(&c.phase.map(|p| p.to_string())),
                        opt_text(&c.street),
                        c.house_number.map_or(Sql::Null, |n| Sql::Integer(n as i64)),
                        opt_text(&c.house_number_addition),
                        opt_text(&c.postcode),
                        text(match c.meter {
                            MeterKind::Smart => "smart",
                            MeterKind::Conventional => "conventional",
                        }),
                        opt_real(c.pv_kwp_registered),
                        text(&c.capacity.to_string()),
                    ],
                )
            })
            .collect(),
    };
    vec![
        with_extras(stations, net.stations.iter().map(|s| &s.extra)),
        with_extras(cables, net.cables.iter().map(|c| &c.extra)),
        with_extras(connections, net.connections.iter().map(|c| &c.extra)),
    ]
}

/// GeoPackage binary geometry: header (magic, version, flags, srs id, envelope
/// for lines) followed by little-endian WKB. `None` for an empty geometry.
fn gpkg_geometry(srs_id: i32, coords: &[[f64; 2]], line: bool) -> Option<Vec<u8>> {
    if coords.is_empty() || (line && coords.len() < 2) || coords.iter().flatten().any(|v| !v.is_finite()) {
        return None;
    }
    let mut b = Vec::with_capacity(48 + 16 * coords.len());
    b.extend_from_slice(b"GP");
    b.push(0); // version 1
    let envelope: u8 = if line { 1 } else { 0 }; // [minx, maxx, miny, maxy] for lines
    b.push((envelope << 1) | 1); // little endian
    b.extend_from_slice(&srs_id.to_le_bytes());
    if line {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for [x, y] in coords {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        for v in [x0, x1, y0, y1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.push(1); // WKB little endian
    if line {
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&(coords.len() as u32).to_le_bytes());
    } else {
        b.extend_from_slice(&1u32.to_le_bytes());
    }
    for [x, y] in coords.iter().take(if line { usize::MAX } else { 1 }) {
        b.extend_from_slice(&x.to_le_bytes());
        b.extend_from_slice(&y.to_le_bytes());
    }
    Some(b)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn write_db(db: &rusqlite::Connection, net: &Network) -> rusqlite::Result<()> {
    let srs_id = net.source_crs.epsg() as i32;
    db.execute_batch(
        "PRAGMA application_id = 1196444487; PRAGMA user_version = 10300; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;",
    )?;
    let tx = db.unchecked_transaction()?;
    tx.execute_batch(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system');
         INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');",
    )?;
    tx.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')", [WGS84_WKT])?;
    if srs_id == 28992 {
        tx.execute(
            "INSERT INTO gpkg_spatial_ref_sys VALUES ('Amersfoort / RD New', 28992, 'EPSG', 28992, ?1, 'Dutch national grid')",
            [RD_NEW_WKT],
        )?;
    }
    for layer in layers(net) {
        let line = layer.geometry_type == "LINESTRING";
        let mut ddl = format!(
            "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {}",
            quote(layer.name),
            layer.geometry_type
        );
        for (c, t) in &layer.columns {
            ddl.push_str(&format!(", {} {}", quote(c), t.sql()));
        }
        ddl.push(')');
        tx.execute(&ddl, [])?;
        let placeholders: Vec<String> = (1..=layer.columns.len() + 1).map(|i| format!("?{i}")).collect();
        let names: Vec<String> = std::iter::once("geom".to_string()).chain(layer.columns.iter().map(|(c, _)| quote(c))).collect();
        let sql = format!("INSERT INTO {} ({}) VALUES ({})", quote(layer.name), names.join(", "), placeholders.join(", "));
        let mut ins = tx.prepare(&sql)?;
        let (mut x0, mut y0, mut x1, mut y1) = (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY);
        for (coords, vals) in &layer.rows {
            for [x, y] in coords.iter().filter(|c| c[0].is_finite() && c[1].is_finite()) {
                x0 = x0.min(*x);
                y0 = y0.min(*y);
                x1 = x1.max(*x);
                y1 = y1.max(*y);
            }
            let geom = gpkg_geometry(srs_id, coords, line).map_or(Sql::Null, Sql::Blob);
            ins.execute(rusqlite::params_from_iter(std::iter::once(&geom).chain(vals.iter())))?;
        }
        let ext = |v: f64| if v.is_finite() { Sql::Real(v) } else { Sql::Null };
        tx.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?1, 'features', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![layer.name, format!("lvtopo corrected {}", layer.name), ext(x0), ext(y0), ext(x1), ext(y1), srs_id],
        )?;
        tx.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
            rusqlite::params![layer.name, layer.geometry_type, srs_id],
        )?;
    }
    tx.commit()
}

/// Writes `net` as a GeoPackage at `path` (atomically) in `net.source_crs`.
pub fn write_network_gpkg(path: &Path, net: &Network) -> io::Result<()> {
    write_atomic_via_path(path, |tmp| write_network_gpkg_file(tmp, net, path))
}

/// Writes `net` into the new, empty database file `tmp` that will become `target`
/// (named in errors); for a caller that renames it into place itself.
pub fn write_network_gpkg_file(tmp: &Path, net: &Network, target: &Path) -> io::Result<()> {
    let db = rusqlite::Connection::open(tmp).map_err(io::Error::other)?;
    write_db(&db, net).map_err(|e| io::Error::other(format!("writing GeoPackage {}: {e}", target.display())))?;
    db.close().map_err(|(_, e)| io::Error::other(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a GeoPackage point or line blob written above (little endian).
    fn decode(b: &[u8]) -> (i32, Vec<[f64; 2]>) {
        assert_eq!(&b[..3], b"GP\0");
        let env = match (b[3] >> 1) & 7 {
            0 => 0,
            1 => 32,
            e => panic!("envelope {e}"),
        };
        let f = |o: usize| f64::from_le_bytes(b[o..o + 8].try_into().unwrap());
        let u = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let srs = i32::from_le_bytes(b[4..8].try_into().unwrap());
        let w = 8 + env;
        assert_eq!(b[w], 1);
        match u(w + 1) {
            1 => (srs, vec![[f(w + 5), f(w + 13)]]),
            2 => (srs, (0..u(w + 5) as usize).map(|k| [f(w + 9 + 16 * k), f(w + 17 + 16 * k)]).collect()),
            t => panic!("type {t}"),
        }
    }

    #[test]
    fn reads_back_geometry_attributes_and_metadata() {
        let s = crate::session::tests::session();
        let net = s.corrected_network();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.gpkg");
        write_network_gpkg(&path, &net).unwrap();
        let db = rusqlite::Connection::open(&path).unwrap();
        let app: i64 = db.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
        assert_eq!(app, 0x4750_4B47);
        let srs: i64 =
            db.query_row("SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = 'cables'", [], |r| r.get(0)).unwrap();
        assert_eq!(srs, 28992);
        let mut q = db.prepare("SELECT geom, ean, phase, house_number, owner_ref FROM connections ORDER BY fid").unwrap();
        let rows: Vec<(Vec<u8>, String, String, i64, String)> = q
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), net.connections.len());
        for (row, c) in rows.iter().zip(&net.connections) {
            let (srs, pts) = decode(&row.0);
            assert_eq!((srs, pts), (28992, vec![[c.pos.x, c.pos.y]]));
            assert_eq!((&row.1, &row.2, row.3), (&c.ean, &c.phase_text(), c.house_number.unwrap() as i64));
            assert_eq!(serde_json::json!(row.4), c.extra["owner_ref"]);
        }
        let line: Vec<u8> = db.query_row("SELECT geom FROM cables WHERE cable_id = 'C2'", [], |r| r.get(0)).unwrap();
        let (_, pts) = decode(&line);
        let c2 = &net.cables[1];
        assert_eq!(pts, c2.geometry.iter().map(|p| [p.x, p.y]).collect::<Vec<_>>());
    }

    #[test]
    fn wgs84_network_is_written_in_degrees_and_extra_types_are_inferred() {
        let mut net = crate::session::tests::network();
        net.source_crs = Crs::Wgs84;
        net.connections[0].extra.insert("n".into(), serde_json::json!(3));
        net.connections[1].extra.insert("n".into(), serde_json::json!(2.5));
        net.connections[2].extra.insert("flag".into(), serde_json::json!(true));
        net.connections[3].extra.insert("phase".into(), serde_json::json!("clash"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.gpkg");
        write_network_gpkg(&path, &net).unwrap();
        let db = rusqlite::Connection::open(&path).unwrap();
        let geom: Vec<u8> = db.query_row("SELECT geom FROM connections WHERE fid = 1", [], |r| r.get(0)).unwrap();
        let (srs, pts) = decode(&geom);
        assert_eq!((srs, pts), (4326, vec![[net.connections[0].pos.lon, net.connections[0].pos.lat]]));
        let types: Vec<(String, String)> = db
            .prepare("SELECT name, type FROM pragma_table_info('connections')")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(types.contains(&("n".into(), "REAL".into())), "{types:?}");
        assert!(types.contains(&("flag".into(), "INTEGER".into())), "{types:?}");
        assert_eq!(types.iter().filter(|(n, _)| n == "phase").count(), 1, "a clashing extra does not shadow the contract column");
        let phase: String = db.query_row("SELECT phase FROM connections WHERE fid = 4", [], |r| r.get(0)).unwrap();
        assert_eq!(phase, "L1");
    }
}
