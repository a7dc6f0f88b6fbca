//! Hand-built network pieces for unit tests: plane coordinates (no RD/WGS84
//! conversion), every cable on station "S".

use super::{Cable, GeoPoint};

pub fn pt(x: f64, y: f64) -> GeoPoint {
    GeoPoint { x, y, lon: 0.0, lat: 0.0 }
}

/// A cable of station "S" along `pts`, without type, impedance or nodes.
pub fn cable(id: &str, feeder: &str, pts: &[(f64, f64)]) -> Cable {
    Cable {
        id: id.into(),
        station_id: "S".into(),
        feeder_id: feeder.into(),
        feeder_derived: false,
        from_node: None,
        to_node: None,
        conductor: None,
        r_ohm_per_km: None,
        length_m: None,
        geometry: pts.iter().map(|&(x, y)| pt(x, y)).collect(),
        extra: Default::default(),
    }
}
