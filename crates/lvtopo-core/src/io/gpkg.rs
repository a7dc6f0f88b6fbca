//! GeoPackage reading and writing (rusqlite, bundled SQLite).
//!
//! Reading: the layers `stations`, `cables`, `connections` (and `nodes` when
//! present); each layer's CRS from `gpkg_geometry_columns` + `gpkg_spatial_ref_sys`
//! (EPSG 28992 or 4326, anything else is refused). Geometries are GeoPackage
//! binary (header + WKB); Point, LineString and a one-part MultiLineString are read.
//!
//! Writing: [`write_network_gpkg`] writes a whole network; [`write_gpkg`] writes
//! any set of [`GpkgLayer`]s, and [`write_point_layer`] is the short form for one
//! point layer with given columns. The review session exports the corrected
//! connections layer with it:
//!
//! ```no_run
//! use lvtopo_core::io::gpkg::{write_point_layer, ColumnType};
//! use lvtopo_core::model::Crs;
//! # let net = lvtopo_core::model::Network::default();
//! let columns = [("ean", ColumnType::Text), ("phase", ColumnType::Text), ("house_number", ColumnType::Integer)];
//! let rows = net.connections.iter().map(|c| {
//!     (c.pos, vec![c.ean.clone().into(), c.phase_text().into(), c.house_number.into()])
//! });
//! write_point_layer(std::path::Path::new("corrected.gpkg"), "connections", net.source_crs, &columns, rows).unwrap();
//! ```
//! Values are `serde_json::Value`s (null, number, text; bools become 0/1).
//! The file is written to a temporary file next to the target and renamed over
//! it when complete. The result carries `application_id` 'GPKG', `user_version`
//! 10300, the 28992/4326 definitions, `gpkg_contents` with extents and an
//! integer primary key `fid` per table, which GDAL/QGIS open as-is.

use super::layer::{RawFeature, RawGeom, RawLayer};
use super::network::RawNetwork;
use crate::model::{Crs, GeoPoint, MeterKind, Network};
use rusqlite::{Connection as Db, OpenFlags, params, types::ValueRef};
use serde_json::{Map, Value};
use std::path::Path;

// ---------------------------------------------------------------- reading

/// Reads the network layers of a GeoPackage. `Err` when the file itself cannot be opened.
pub fn read_gpkg_layers(path: &Path) -> Result<RawNetwork, String> {
    if !path.exists() {
        return Err(format!("file not found: {}", path.display()));
    }
    let _side = SideFiles::note(path);
    let db = Db::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| format!("cannot open {} as GeoPackage: {e}", path.display()))?;
    let has_table = |name: &str| -> Result<bool, String> {
        db.query_row("SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name = ?1", [name], |r| {
            r.get::<_, i64>(0)
        })
        .map(|n| n > 0)
        .map_err(|e| format!("not a GeoPackage (SQLite) file: {e}"))
    };
    if !has_table("gpkg_geometry_columns")? || !has_table("gpkg_spatial_ref_sys")? {
        return Err("not a GeoPackage: the tables gpkg_geometry_columns and gpkg_spatial_ref_sys are missing".into());
    }
    let base = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let layer = |name: &str| {
        let label = format!("{base}:{name}");
        let r = read_layer(&db, name, &label);
        (label, r)
    };
    let nodes = matches!(find_layer(&db, "nodes"), Ok(Some(_))).then(|| layer("nodes"));
    Ok(RawNetwork { stations: layer("stations"), cables: layer("cables"), connections: layer("connections"), nodes })
}

/// (table name as stored, geometry column, srs_id) of a layer, matched case-insensitively.
fn find_layer(db: &Db, name: &str) -> Result<Option<(String, String, i64)>, String> {
    let mut st = db
        .prepare("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns WHERE lower(table_name) = lower(?1)")
        .map_err(|e| format!("cannot read gpkg_geometry_columns: {e}"))?;
    let mut rows = st.query([name]).map_err(|e| format!("cannot read gpkg_geometry_columns: {e}"))?;
    match rows.next().map_err(|e| format!("cannot read gpkg_geometry_columns: {e}"))? {
        Some(r) => Ok(Some((
            r.get(0).map_err(|e| e.to_string())?,
            r.get(1).map_err(|e| e.to_string())?,
            r.get(2).map_err(|e| e.to_string())?,
        ))),
        None => Ok(None),
    }
}

fn layer_crs(db: &Db, srs_id: i64) -> Result<Crs, String> {
    let (org, code): (String, i64) = db
        .query_row("SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys WHERE srs_id = ?1", [srs_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(|_| format!("srs_id {srs_id} is not defined in gpkg_spatial_ref_sys"))?;
    match (org.to_ascii_uppercase().as_str(), code) {
        ("EPSG", 28992) => Ok(Crs::RdNew),
        ("EPSG", 4326) => Ok(Crs::Wgs84),
        _ => Err(format!("unsupported CRS {org}:{code}: expected EPSG:28992 (RD New) or EPSG:4326 (WGS84)")),
    }
}

/// SQLite's `-wal` / `-shm` files of a GeoPackage in WAL mode that a read-only open
/// created: removed again when reading is done (declared after the connection, so
/// dropped after it is closed). Files that were there before (another program has
/// the GeoPackage open) and a `-wal` holding data are left alone.
struct SideFiles {
    created: Vec<std::path::PathBuf>,
}

impl SideFiles {
    fn side(path: &Path, s: &str) -> std::path::PathBuf {
        let mut p = path.as_os_str().to_owned();
        p.push(s);
        p.into()
    }
    fn note(path: &Path) -> SideFiles {
        SideFiles { created: ["-wal", "-shm"].iter().map(|s| Self::side(path, s)).filter(|p| !p.exists()).collect() }
    }
}

impl Drop for SideFiles {
    fn drop(&mut self) {
        let wal = self.created.iter().find(|p| p.to_string_lossy().ends_with("-wal"));
        if wal.is_some_and(|w| std::fs::metadata(w).is_ok_and(|m| m.len() > 0)) {
            return;
        }
        for p in &self.created {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn read_layer(db: &Db, name: &str, label: &str) -> Result<RawLayer, String> {
    let Some((table, geom_col, srs_id)) = find_layer(db, name)? else {
        let present: Vec<String> = db
            .prepare("SELECT table_name FROM gpkg_geometry_columns ORDER BY table_name")
            .and_then(|mut st| st.query_map([], |r| r.get::<_, String>(0))?.collect())
            .unwrap_or_default();
        let list = if present.is_empty() { "none".to_string() } else { present.join(", ") };
        return Err(format!(
            "layer {name:?} not found (no entry in gpkg_geometry_columns); the GeoPackage has the layers: {list}"
        ));
    };
    let crs = layer_crs(db, srs_id)?;
    let sql = format!("SELECT * FROM {}", quote_ident(&table));
    let mut st = db.prepare(&sql).map_err(|e| format!("cannot read layer {table:?}: {e}"))?;
    let cols: Vec<String> = st.column_names().map(|s| s.to_string()).collect();
    let pk: Option<String> = db
        .prepare(&format!("PRAGMA table_info({})", quote_ident(&table)))
        .and_then(|mut s| {
            let v: Vec<(String, i64)> = s.query_map([], |r| Ok((r.get(1)?, r.get(5)?)))?.filter_map(Result::ok).collect();
            Ok(v.into_iter().find(|(_, pk)| *pk == 1).map(|(n, _)| n))
        })
        .unwrap_or(None);
    let mut rows = st.query([]).map_err(|e| format!("cannot read layer {table:?}: {e}"))?;
    let mut features = Vec::new();
    let mut number = 0;
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => return Err(format!("cannot read layer {table:?} after feature {number}: {e}")),
        };
        number += 1;
        let mut props = Map::new();
        let mut geom = Err("empty geometry: the feature has no geometry".to_string());
        for (i, c) in cols.iter().enumerate() {
            let v = match row.get_ref(i) {
                Ok(v) => v,
                Err(e) => return Err(format!("cannot read column {c:?} of feature {number}: {e}")),
            };
            if c.eq_ignore_ascii_case(&geom_col) {
                geom = match v {
                    ValueRef::Null => Err("empty geometry: the feature has no geometry".into()),
                    ValueRef::Blob(b) => parse_gpkg_geometry(b),
                    _ => Err("invalid geometry: expected a GeoPackage geometry blob".into()),
                };
                continue;
            }
            if pk.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(c)) {
                continue;
            }
            let jv = match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::from(i),
                ValueRef::Real(f) => serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::String(format!("<{} bytes>", b.len())),
            };
            props.insert(c.clone(), jv);
        }
        features.push(RawFeature { number, props, geom });
    }
    let mut layer = RawLayer { file: label.to_string(), crs, features };
    layer.check_crs(&format!("srs_id {srs_id} in gpkg_geometry_columns"))?;
    Ok(layer)
}

/// Little reader over a byte slice that never panics.
struct Bytes<'a> {
    b: &'a [u8],
    pos: usize,
    le: bool,
}

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or("invalid geometry: truncated geometry blob")?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        let a: [u8; 4] = self.take(4)?.try_into().map_err(|_| "invalid geometry")?;
        Ok(if self.le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) })
    }
    fn f64(&mut self) -> Result<f64, String> {
        let a: [u8; 8] = self.take(8)?.try_into().map_err(|_| "invalid geometry")?;
        Ok(if self.le { f64::from_le_bytes(a) } else { f64::from_be_bytes(a) })
    }
}

/// WKB geometry type and its coordinate dimension (ISO and EWKB-style Z/M flags).
fn wkb_type(t: u32) -> (u32, usize) {
    let base = t & 0x0fff_ffff;
    let (z, m) = (t & 0x8000_0000 != 0 || (1000..2000).contains(&base) || base >= 3000, t & 0x4000_0000 != 0 || base >= 2000);
    let dims = 2 + z as usize + m as usize;
    (base % 1000, dims)
}

fn wkb_point(r: &mut Bytes, dims: usize) -> Result<[f64; 2], String> {
    let x = r.f64()?;
    let y = r.f64()?;
    for _ in 2..dims {
        r.f64()?;
    }
    Ok([x, y])
}

fn wkb_geometry(r: &mut Bytes, depth: u32) -> Result<RawGeom, String> {
    r.le = r.u8()? == 1;
    let (ty, dims) = wkb_type(r.u32()?);
    match ty {
        1 => {
            let p = wkb_point(r, dims)?;
            if p[0].is_nan() && p[1].is_nan() {
                return Err("empty geometry: Point without coordinates".into());
            }
            if !p[0].is_finite() || !p[1].is_finite() {
                return Err("invalid geometry: non-finite coordinates".into());
            }
            Ok(RawGeom::Point(p))
        }
        2 => {
            let n = r.u32()? as usize;
            if n == 0 {
                return Err("empty geometry: LineString without coordinates".into());
            }
            if n.saturating_mul(16) > r.b.len() {
                return Err("invalid geometry: truncated geometry blob".into());
            }
            let pts = (0..n).map(|_| wkb_point(r, dims)).collect::<Result<Vec<_>, _>>()?;
            if pts.len() < 2 {
                return Err(format!("invalid geometry: a LineString needs at least 2 positions, found {}", pts.len()));
            }
            if pts.iter().any(|p| !p[0].is_finite() || !p[1].is_finite()) {
                return Err("invalid geometry: non-finite coordinates".into());
            }
            Ok(RawGeom::Line(pts))
        }
        5 if depth == 0 => {
            let n = r.u32()?;
            match n {
                0 => Err("empty geometry: MultiLineString without parts".into()),
                1 => match wkb_geometry(r, 1)? {
                    g @ RawGeom::Line(_) => Ok(g),
                    RawGeom::Point(_) => Err("invalid geometry: MultiLineString holding a Point".into()),
                },
                n => Err(format!("invalid geometry: MultiLineString with {n} parts; expected a single connected line")),
            }
        }
        other => Err(format!("unsupported geometry type (WKB type {other}): expected Point or LineString")),
    }
}

/// Parses a GeoPackage geometry blob (header `GP`, version, flags, srs_id, envelope, WKB).
pub fn parse_gpkg_geometry(b: &[u8]) -> Result<RawGeom, String> {
    if b.len() < 8 || &b[0..2] != b"GP" {
        return Err("invalid geometry: not a GeoPackage geometry blob".into());
    }
    let flags = b[3];
    if flags & 0x10 != 0 {
        return Err("empty geometry".into());
    }
    let env_len = match (flags >> 1) & 0x07 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        _ => return Err("invalid geometry: bad envelope code in GeoPackage header".into()),
    };
    let start = 8 + env_len;
    if b.len() <= start {
        return Err("invalid geometry: truncated geometry blob".into());
    }
    let mut r = Bytes { b: &b[start..], pos: 0, le: true };
    wkb_geometry(&mut r, 0)
}

// ---------------------------------------------------------------- writing

/// Geometry type of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeometryType {
    Point,
    LineString,
}

/// SQLite type of an attribute column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    Text,
    Real,
    Integer,
}

impl ColumnType {
    fn sql(self) -> &'static str {
        match self {
            ColumnType::Text => "TEXT",
            ColumnType::Real => "REAL",
            ColumnType::Integer => "INTEGER",
        }
    }
}

/// One feature table to write: columns, and per feature its geometry and one value per column.
pub struct GpkgLayer {
    pub name: String,
    pub geometry_type: GeometryType,
    pub columns: Vec<(String, ColumnType)>,
    /// Geometry (one point for Point layers) and the column values in column order.
    pub features: Vec<(Vec<GeoPoint>, Vec<Value>)>,
}

const WKT_28992: &str = r#"PROJCS["Amersfoort / RD New",GEOGCS["Amersfoort",DATUM["Amersfoort",SPHEROID["Bessel 1841",6377397.155,299.1528128,AUTHORITY["EPSG","7004"]],AUTHORITY["EPSG","6289"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4289"]],PROJECTION["Oblique_Stereographic"],PARAMETER["latitude_of_origin",52.1561605555556],PARAMETER["central_meridian",5.38763888888889],PARAMETER["scale_factor",0.9999079],PARAMETER["false_easting",155000],PARAMETER["false_northing",463000],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","28992"]]"#;
const WKT_4326: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

const SCHEMA: &str = r#"
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
"#;

fn xy(p: &GeoPoint, crs: Crs) -> (f64, f64) {
    match crs {
        Crs::RdNew => (p.x, p.y),
        Crs::Wgs84 => (p.lon, p.lat),
    }
}

/// GeoPackage binary geometry: header (little endian, envelope for lines) + WKB.
fn gpkg_blob(ty: GeometryType, pts: &[GeoPoint], crs: Crs) -> Vec<u8> {
    let coords: Vec<(f64, f64)> = pts.iter().map(|p| xy(p, crs)).collect();
    let mut b = Vec::with_capacity(64 + coords.len() * 16);
    b.extend_from_slice(b"GP");
    b.push(0);
    let with_env = ty == GeometryType::LineString;
    b.push(if with_env { 0b0000_0011 } else { 0b0000_0001 });
    b.extend_from_slice(&(crs.epsg() as i32).to_le_bytes());
    if with_env {
        let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
        for &(x, y) in &coords {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        for v in [x0, x1, y0, y1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
    }
    b.push(1);
    match ty {
        GeometryType::Point => {
            b.extend_from_slice(&1u32.to_le_bytes());
            let (x, y) = coords.first().copied().unwrap_or((f64::NAN, f64::NAN));
            b.extend_from_slice(&x.to_le_bytes());
            b.extend_from_slice(&y.to_le_bytes());
        }
        GeometryType::LineString => {
            b.extend_from_slice(&2u32.to_le_bytes());
            b.extend_from_slice(&(coords.len() as u32).to_le_bytes());
            for (x, y) in coords {
                b.extend_from_slice(&x.to_le_bytes());
                b.extend_from_slice(&y.to_le_bytes());
            }
        }
    }
    b
}

fn sql_value(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Bool(b) => S::Integer(*b as i64),
        Value::Number(n) => n.as_i64().map(S::Integer).or_else(|| n.as_f64().map(S::Real)).unwrap_or(S::Null),
        Value::String(s) => S::Text(s.clone()),
        other => S::Text(other.to_string()),
    }
}

fn write_layers(db: &mut Db, crs: Crs, layers: &[GpkgLayer]) -> rusqlite::Result<()> {
    db.execute_batch(SCHEMA)?;
    let tx = db.transaction()?;
    {
        let mut srs = tx.prepare("INSERT INTO gpkg_spatial_ref_sys VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        srs.execute(params![
            "Undefined cartesian SRS",
            -1,
            "NONE",
            -1,
            "undefined",
            "undefined cartesian coordinate reference system"
        ])?;
        srs.execute(params![
            "Undefined geographic SRS",
            0,
            "NONE",
            0,
            "undefined",
            "undefined geographic coordinate reference system"
        ])?;
        srs.execute(params![
            "WGS 84 geodetic",
            4326,
            "EPSG",
            4326,
            WKT_4326,
            "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
        ])?;
        srs.execute(params![
            "Amersfoort / RD New",
            28992,
            "EPSG",
            28992,
            WKT_28992,
            "Dutch national grid (Rijksdriehoeksstelsel)"
        ])?;
        for l in layers {
            let mut ddl = format!(
                "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {}",
                quote_ident(&l.name),
                match l.geometry_type {
                    GeometryType::Point => "POINT",
                    GeometryType::LineString => "LINESTRING",
                }
            );
            for (c, t) in &l.columns {
                ddl.push_str(&format!(", {} {}", quote_ident(c), t.sql()));
            }
            ddl.push(')');
            tx.execute_batch(&ddl)?;
            let placeholders: String = (0..=l.columns.len()).map(|i| format!("?{}", i + 1)).collect::<Vec<_>>().join(", ");
            let cols: String = std::iter::once("geom".to_string())
                .chain(l.columns.iter().map(|(c, _)| quote_ident(c)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut ins = tx.prepare(&format!("INSERT INTO {} ({cols}) VALUES ({placeholders})", quote_ident(&l.name)))?;
            let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
            for (pts, vals) in &l.features {
                for p in pts {
                    let (x, y) = xy(p, crs);
                    x0 = x0.min(x);
                    x1 = x1.max(x);
                    y0 = y0.min(y);
                    y1 = y1.max(y);
                }
                let mut args: Vec<rusqlite::types::Value> = Vec::with_capacity(vals.len() + 1);
                args.push(if pts.is_empty() {
                    rusqlite::types::Value::Null
                } else {
                    rusqlite::types::Value::Blob(gpkg_blob(l.geometry_type, pts, crs))
                });
                args.extend(
                    l.columns.iter().enumerate().map(|(i, _)| vals.get(i).map(sql_value).unwrap_or(rusqlite::types::Value::Null)),
                );
                ins.execute(rusqlite::params_from_iter(args))?;
            }
            let ext = |v: f64| if v.is_finite() { Some(v) } else { None };
            tx.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) VALUES (?1, 'features', ?1, '', ?2, ?3, ?4, ?5, ?6)",
                params![l.name, ext(x0), ext(y0), ext(x1), ext(y1), crs.epsg()],
            )?;
            tx.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, ?3, 0, 0)",
                params![
                    l.name,
                    match l.geometry_type {
                        GeometryType::Point => "POINT",
                        GeometryType::LineString => "LINESTRING",
                    },
                    crs.epsg()
                ],
            )?;
        }
    }
    tx.commit()
}

/// Writes the layers to a new GeoPackage at `path` in `crs`, atomically ([`super::atomic`]).
pub fn write_gpkg(path: &Path, crs: Crs, layers: &[GpkgLayer]) -> std::io::Result<()> {
    super::atomic::write_atomic_via_path(path, |tmp| write_gpkg_file(tmp, crs, layers))
}

/// Writes the layers into the new, empty database file `tmp` (no journal: the file is
/// only renamed into place once complete).
pub fn write_gpkg_file(tmp: &Path, crs: Crs, layers: &[GpkgLayer]) -> std::io::Result<()> {
    let mut db = Db::open(tmp).map_err(std::io::Error::other)?;
    db.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;").map_err(std::io::Error::other)?;
    write_layers(&mut db, crs, layers).map_err(std::io::Error::other)?;
    db.close().map_err(|(_, e)| std::io::Error::other(e))
}

/// Writes one point layer `name` with the given columns; each row is a point and
/// one value per column. See the module docs for an example.
pub fn write_point_layer(
    path: &Path,
    name: &str,
    crs: Crs,
    columns: &[(&str, ColumnType)],
    rows: impl IntoIterator<Item = (GeoPoint, Vec<Value>)>,
) -> std::io::Result<()> {
    let layer = GpkgLayer {
        name: name.to_string(),
        geometry_type: GeometryType::Point,
        columns: columns.iter().map(|(c, t)| (c.to_string(), *t)).collect(),
        features: rows.into_iter().map(|(p, v)| (vec![p], v)).collect(),
    };
    write_gpkg(path, crs, &[layer])
}

/// Extra attributes as extra columns: type from the first non-null value.
fn extra_columns<'a>(
    extras: impl Iterator<Item = &'a crate::model::ExtraAttributes>,
    known: &[&str],
) -> Vec<(String, ColumnType)> {
    let mut cols: Vec<(String, ColumnType)> = Vec::new();
    for e in extras {
        for (k, v) in e {
            if known.contains(&k.as_str()) || k.eq_ignore_ascii_case("fid") || k.eq_ignore_ascii_case("geom") {
                continue;
            }
            let t = match v {
                Value::Number(n) if n.is_i64() => ColumnType::Integer,
                Value::Number(_) => ColumnType::Real,
                _ => ColumnType::Text,
            };
            match cols.iter_mut().find(|(c, _)| c == k) {
                Some((_, ct)) if *ct != t && !v.is_null() => *ct = ColumnType::Text,
                Some(_) => {}
                None if !v.is_null() => cols.push((k.clone(), t)),
                None => {}
            }
        }
    }
    cols
}

fn with_extra(mut vals: Vec<Value>, extra_cols: &[(String, ColumnType)], extra: &crate::model::ExtraAttributes) -> Vec<Value> {
    vals.extend(extra_cols.iter().map(|(c, _)| extra.get(c).cloned().unwrap_or(Value::Null)));
    vals
}

/// Writes the whole network (layers `stations`, `cables`, `connections`) in `crs`.
/// Attributes lvtopo does not interpret (`extra`) are written as extra columns.
pub fn write_network_gpkg(path: &Path, net: &Network, crs: Crs) -> std::io::Result<()> {
    use ColumnType::*;
    let opt = |v: Option<String>| v.map(Value::from).unwrap_or(Value::Null);
    let st_known = ["station_id", "name"];
    let st_extra = extra_columns(net.stations.iter().map(|s| &s.extra), &st_known);
    let stations = GpkgLayer {
        name: "stations".into(),
        geometry_type: GeometryType::Point,
        columns: [("station_id".to_string(), Text), ("name".to_string(), Text)]
            .into_iter()
            .chain(st_extra.iter().cloned())
            .collect(),
        features: net
            .stations
            .iter()
            .map(|s| (vec![s.pos], with_extra(vec![s.id.clone().into(), opt(s.name.clone())], &st_extra, &s.extra)))
            .collect(),
    };
    let cb_known = ["cable_id", "station_id", "feeder_id", "from_node", "to_node", "conductor", "r_ohm_per_km", "length_m"];
    let cb_extra = extra_columns(net.cables.iter().map(|c| &c.extra), &cb_known);
    let cables = GpkgLayer {
        name: "cables".into(),
        geometry_type: GeometryType::LineString,
        columns: [
            ("cable_id", Text),
            ("station_id", Text),
            ("feeder_id", Text),
            ("from_node", Text),
            ("to_node", Text),
            ("conductor", Text),
            ("r_ohm_per_km", Real),
            ("length_m", Real),
        ]
        .into_iter()
        .map(|(c, t)| (c.to_string(), t))
        .chain(cb_extra.iter().cloned())
        .collect(),
        features: net
            .cables
            .iter()
            .map(|c| {
                let v = vec![
                    c.id.clone().into(),
                    c.station_id.clone().into(),
                    c.feeder_id.clone().into(),
                    opt(c.from_node.clone()),
                    opt(c.to_node.clone()),
                    opt(c.conductor.clone()),
                    c.r_ohm_per_km.into(),
                    c.length_m.into(),
                ];
                (c.geometry.clone(), with_extra(v, &cb_extra, &c.extra))
            })
            .collect(),
    };
    let cn_known = [
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
    let cn_extra = extra_columns(net.connections.iter().map(|c| &c.extra), &cn_known);
    let connections = GpkgLayer {
        name: "connections".into(),
        geometry_type: GeometryType::Point,
        columns: [
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
        ]
        .into_iter()
        .map(|(c, t)| (c.to_string(), t))
        .chain(cn_extra.iter().cloned())
        .collect(),
        features: net
            .connections
            .iter()
            .map(|c| {
                let v = vec![
                    c.ean.clone().into(),
                    c.station_id.clone().into(),
                    c.feeder_id.clone().into(),
                    c.cable_id.clone().into(),
                    c.phase.map(|p| p.to_string()).into(),
                    opt(c.street.clone()),
                    c.house_number.into(),
                    opt(c.house_number_addition.clone()),
                    opt(c.postcode.clone()),
                    match c.meter {
                        MeterKind::Smart => "smart",
                        MeterKind::Conventional => "conventional",
                    }
                    .into(),
                    c.pv_kwp_registered.into(),
                    c.capacity.to_string().into(),
                ];
                (vec![c.pos], with_extra(v, &cn_extra, &c.extra))
            })
            .collect(),
    };
    write_gpkg(path, crs, &[stations, cables, connections])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_blob_round_trip() {
        let pts = [crate::crs::point_from_rd(155_000.0, 463_000.0), crate::crs::point_from_rd(155_010.0, 463_020.0)];
        let b = gpkg_blob(GeometryType::LineString, &pts, Crs::RdNew);
        assert_eq!(parse_gpkg_geometry(&b).unwrap(), RawGeom::Line(vec![[155_000.0, 463_000.0], [155_010.0, 463_020.0]]));
        let b = gpkg_blob(GeometryType::Point, &pts[..1], Crs::Wgs84);
        let RawGeom::Point(p) = parse_gpkg_geometry(&b).unwrap() else { panic!() };
        assert!((p[0] - pts[0].lon).abs() < 1e-12);
    }

    #[test]
    fn broken_blobs_are_errors_not_panics() {
        let pts = [crate::crs::point_from_rd(155_000.0, 463_000.0), crate::crs::point_from_rd(155_010.0, 463_020.0)];
        let b = gpkg_blob(GeometryType::LineString, &pts, Crs::RdNew);
        for n in 0..b.len() {
            assert!(parse_gpkg_geometry(&b[..n]).is_err());
        }
        let mut big = b.clone();
        big[8 + 32 + 5..8 + 32 + 9].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(parse_gpkg_geometry(&big).is_err());
    }
}
