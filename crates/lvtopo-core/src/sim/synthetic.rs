//! A generated network *layout* (no measurements, no physics) of any size:
//! stations on a grid, feeders running out along streets, connections on both
//! sides with odd and even house numbers. It feeds `lvtopo bench ui` (frame
//! time over 100k connections) and the app's fallback when no sample network
//! can be found. The physics-true sample networks come from `sim`.

use crate::crs::point_from_rd;
use crate::model::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const STREETS: [&str; 16] = [
    "Dorpsstraat",
    "Kerkstraat",
    "Molenweg",
    "Schoolstraat",
    "Beukenlaan",
    "Eikenlaan",
    "Julianastraat",
    "Wilhelminalaan",
    "Stationsweg",
    "Prinses Beatrixstraat",
    "Lindelaan",
    "Meidoornstraat",
    "Esdoornweg",
    "Populierenlaan",
    "Hoofdstraat",
    "Parallelweg",
];

/// Generates about `connections` connections in stations of ~`per_station`.
pub fn layout(connections: usize, per_station: usize, seed: u64) -> Network {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_stations = connections.div_ceil(per_station.max(12)).max(1);
    let cols = (n_stations as f64).sqrt().ceil() as usize;
    let (x0, y0) = (187_000.0, 443_000.0); // Arnhem area, RD New
    let pitch = 8.0; // m between houses along a street
    let (mut stations, mut cables, mut conns) = (Vec::new(), Vec::new(), Vec::new());
    let mut made = 0usize;
    for s in 0..n_stations {
        let sx = x0 + (s % cols) as f64 * 620.0 + rng.gen_range(-40.0..40.0);
        let sy = y0 + (s / cols) as f64 * 620.0 + rng.gen_range(-40.0..40.0);
        let station_id = format!("S{:03}", s + 1);
        stations.push(Station {
            id: station_id.clone(),
            name: Some(format!("Station {}", s + 1)),
            pos: point_from_rd(sx, sy),
            extra: Default::default(),
        });
        let here = per_station.min(connections - made);
        let n_feeders = 6usize;
        let base_angle: f64 = rng.gen_range(0.0..std::f64::consts::TAU);
        for f in 0..n_feeders {
            let feeder_id = format!("{station_id}-F{}", f + 1);
            let street = STREETS[(s * 7 + f) % STREETS.len()];
            let postcode =
                format!("{}{}{}", 6800 + (s % 199), (b'A' + (f % 26) as u8) as char, (b'A' + ((s / 199) % 26) as u8) as char);
            let pairs = (here / n_feeders + usize::from(f < here % n_feeders)).div_ceil(2);
            let angle = base_angle + f as f64 * std::f64::consts::TAU / n_feeders as f64;
            let (dx, dy) = (angle.cos(), angle.sin());
            let (nx, ny) = (-dy, dx);
            let along = |d: f64, off: f64| (sx + dx * (d + 15.0) + nx * off, sy + dy * (d + 15.0) + ny * off);
            // Sections of 2, 2, 1 house pairs: ~0.3 sections per connection, as in real LV grids.
            let mut pair = 0usize;
            let mut k = 0usize;
            let mut from = (sx, sy);
            while pair < pairs {
                let take = [2, 2, 1][k % 3].min(pairs - pair);
                let end = along((pair + take) as f64 * pitch, 0.0);
                let mid = along((pair as f64 + take as f64 / 2.0) * pitch, rng.gen_range(-0.8..0.8));
                let cable_id = format!("{feeder_id}-C{}", k + 1);
                cables.push(Cable {
                    id: cable_id.clone(),
                    station_id: station_id.clone(),
                    feeder_id: feeder_id.clone(),
                    feeder_derived: false,
                    from_node: None,
                    to_node: None,
                    conductor: Some(if k < 3 { "4x150Al" } else { "4x95Al" }.into()),
                    r_ohm_per_km: None,
                    length_m: None,
                    geometry: [from, mid, end].iter().map(|&(x, y)| point_from_rd(x, y)).collect(),
                    extra: Default::default(),
                });
                for p in pair..pair + take {
                    for side in 0..2 {
                        if made >= connections {
                            break;
                        }
                        let number = (2 * p + 1 + side) as u32;
                        let off = if side == 0 { 11.0 } else { -11.0 };
                        let (x, y) = along(p as f64 * pitch + pitch / 2.0, off);
                        let phase = if rng.gen_bool(0.1) {
                            PhaseConnection::Three
                        } else {
                            PhaseConnection::Single(Phase::from_index(rng.gen_range(0..3)))
                        };
                        conns.push(Connection {
                            ean: ean_with_check_digit(&format!("871687{:011}", made + 1)),
                            station_id: station_id.clone(),
                            feeder_id: Some(feeder_id.clone()),
                            cable_id: Some(cable_id.clone()),
                            phase: Some(phase),
                            street: Some(street.into()),
                            house_number: Some(number),
                            house_number_addition: None,
                            postcode: Some(postcode.clone()),
                            meter: if rng.gen_bool(0.05) { MeterKind::Conventional } else { MeterKind::Smart },
                            pv_kwp_registered: rng.gen_bool(0.3).then(|| rng.gen_range(2.0..8.0)),
                            capacity: if phase.is_three_phase() {
                                Capacity { phases: 3, amps: 25 }
                            } else {
                                Capacity { phases: 1, amps: 35 }
                            },
                            pos: point_from_rd(x, y),
                            service_joint: None,
                            extra: Default::default(),
                        });
                        made += 1;
                    }
                }
                from = end;
                pair += take;
                k += 1;
            }
        }
        if made >= connections {
            break;
        }
    }
    Network::new(stations, cables, conns, Crs::RdNew)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_requested_size_and_valid_references() {
        let net = layout(1_000, 300, 7);
        assert_eq!(net.connections.len(), 1_000);
        assert!(net.cables.len() > 250, "{}", net.cables.len());
        for c in &net.connections {
            assert!(net.cable_index(c.cable()).is_some());
            assert!(ean_check_digit_ok(&c.ean));
        }
        let topo = Topology::build(&net);
        assert!(topo.problems.is_empty(), "{:?}", topo.problems);
    }
}
