//! GeoJSON network folder writer: `stations.geojson`, `cables.geojson`,
//! `connections.geojson`. In RD New (with the legacy `crs` member the data
//! contract names) or WGS84. Every contract field is written; attributes lvtopo
//! does not interpret (`extra`) are handed back unchanged.

use super::atomic::write_atomic;
use crate::model::{Crs, GeoPoint, Network};
use serde_json::{Map, Value, json};
use std::io;
use std::path::Path;

fn coord(p: &GeoPoint, crs: Crs) -> Value {
    match crs {
        // Millimetres in RD, ~1 cm in degrees is plenty.
        Crs::RdNew => json!([(p.x * 1000.0).round() / 1000.0, (p.y * 1000.0).round() / 1000.0]),
        Crs::Wgs84 => json!([(p.lon * 1e8).round() / 1e8, (p.lat * 1e8).round() / 1e8]),
    }
}

fn opt<T: Into<Value>>(v: Option<T>) -> Value {
    v.map(Into::into).unwrap_or(Value::Null)
}

fn write_collection(path: &Path, crs: Crs, features: impl Iterator<Item = Value>) -> io::Result<()> {
    write_atomic(path, |w| {
        w.write_all(b"{\"type\":\"FeatureCollection\",")?;
        if crs == Crs::RdNew {
            w.write_all(br#""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::28992"}},"#)?;
        }
        w.write_all(b"\"features\":[\n")?;
        for (i, f) in features.enumerate() {
            if i > 0 {
                w.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *w, &f).map_err(io::Error::other)?;
        }
        w.write_all(b"\n]}\n")
    })
}

fn feature(geometry: Value, mut props: Map<String, Value>, extra: &crate::model::ExtraAttributes) -> Value {
    for (k, v) in extra {
        props.entry(k.clone()).or_insert_with(|| v.clone());
    }
    json!({"type": "Feature", "properties": props, "geometry": geometry})
}

/// Writes the network as a GeoJSON folder in `crs`.
pub fn write_network_geojson(dir: &Path, net: &Network, crs: Crs) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_collection(
        &dir.join("stations.geojson"),
        crs,
        net.stations.iter().map(|s| {
            let mut p = Map::new();
            p.insert("station_id".into(), s.id.clone().into());
            p.insert("name".into(), opt(s.name.clone()));
            feature(json!({"type": "Point", "coordinates": coord(&s.pos, crs)}), p, &s.extra)
        }),
    )?;
    write_collection(
        &dir.join("cables.geojson"),
        crs,
        net.cables.iter().map(|c| {
            let mut p = Map::new();
            p.insert("cable_id".into(), c.id.clone().into());
            p.insert("station_id".into(), c.station_id.clone().into());
            p.insert("feeder_id".into(), c.feeder_id.clone().into());
            p.insert("from_node".into(), opt(c.from_node.clone()));
            p.insert("to_node".into(), opt(c.to_node.clone()));
            p.insert("conductor".into(), opt(c.conductor.clone()));
            p.insert("r_ohm_per_km".into(), opt(c.r_ohm_per_km));
            p.insert("length_m".into(), opt(c.length_m));
            let coords: Vec<Value> = c.geometry.iter().map(|q| coord(q, crs)).collect();
            feature(json!({"type": "LineString", "coordinates": coords}), p, &c.extra)
        }),
    )?;
    write_collection(
        &dir.join("connections.geojson"),
        crs,
        net.connections.iter().map(|c| {
            let mut p = Map::new();
            p.insert("ean".into(), c.ean.clone().into());
            p.insert("station_id".into(), c.station_id.clone().into());
            p.insert("feeder_id".into(), c.feeder_id.clone().into());
            p.insert("cable_id".into(), c.cable_id.clone().into());
            p.insert("phase".into(), c.phase.map(|p| p.to_string()).into());
            p.insert("street".into(), opt(c.street.clone()));
            p.insert("house_number".into(), opt(c.house_number));
            p.insert("house_number_addition".into(), opt(c.house_number_addition.clone()));
            p.insert("postcode".into(), opt(c.postcode.clone()));
            let meter = match c.meter {
                crate::model::MeterKind::Smart => "smart",
                crate::model::MeterKind::Conventional => "conventional",
            };
            p.insert("meter".into(), meter.into());
            p.insert("pv_kwp_registered".into(), opt(c.pv_kwp_registered));
            p.insert("capacity".into(), c.capacity.to_string().into());
            feature(json!({"type": "Point", "coordinates": coord(&c.pos, crs)}), p, &c.extra)
        }),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    #[test]
    fn rd_files_carry_the_legacy_crs_member_and_every_field() {
        let pt = crate::crs::point_from_rd(155_000.0, 463_000.0);
        let st = Station { id: "S1".into(), name: None, pos: pt, extra: Default::default() };
        let conn = Connection {
            ean: "871687120000000007".into(),
            station_id: "S1".into(),
            feeder_id: Some("S1-G01".into()),
            cable_id: Some("K1".into()),
            phase: Some(PhaseConnection::Single(Phase::L2)),
            street: Some("Kerkstraat".into()),
            house_number: Some(12),
            house_number_addition: Some("A".into()),
            postcode: Some("3811AB".into()),
            meter: MeterKind::Smart,
            pv_kwp_registered: Some(3.2),
            capacity: Capacity { phases: 1, amps: 35 },
            pos: pt,
            service_joint: None,
            extra: Default::default(),
        };
        let net = Network::new(vec![st], vec![], vec![conn], Crs::RdNew);
        let dir = tempfile::tempdir().unwrap();
        write_network_geojson(dir.path(), &net, Crs::RdNew).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("connections.geojson")).unwrap()).unwrap();
        assert_eq!(v["crs"]["properties"]["name"], "urn:ogc:def:crs:EPSG::28992");
        let p = &v["features"][0]["properties"];
        assert_eq!(p["phase"], "L2");
        assert_eq!(p["capacity"], "1x35A");
        assert_eq!(p["house_number"], 12);
        assert_eq!(v["features"][0]["geometry"]["coordinates"][0], 155000.0);
        write_network_geojson(dir.path(), &net, Crs::Wgs84).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("stations.geojson")).unwrap()).unwrap();
        assert!(v.get("crs").is_none());
        assert!((v["features"][0]["geometry"]["coordinates"][1].as_f64().unwrap() - 52.155).abs() < 0.01);
    }
}
