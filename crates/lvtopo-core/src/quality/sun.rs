//! Position of the sun and clear-sky irradiance: the yardstick for PV output
//! and for telling sunny from cloudy days.

use crate::model::time::Timestamp;

/// Sine of the sun's elevation at UTC instant `t` seen from `lat_deg`, `lon_deg`
/// (Cooper's declination, equation of time after Spencer; accurate to ~0.5°).
pub fn sin_elevation(t: Timestamp, lat_deg: f64, lon_deg: f64) -> f64 {
    let g = std::f64::consts::TAU * (day_of_year(t) - 1.0) / 365.0;
    let decl = 0.006918 - 0.399912 * g.cos() + 0.070257 * g.sin() - 0.006758 * (2.0 * g).cos() + 0.000907 * (2.0 * g).sin()
        - 0.002697 * (3.0 * g).cos()
        + 0.00148 * (3.0 * g).sin();
    let eot_min =
        229.18 * (0.000075 + 0.001868 * g.cos() - 0.032077 * g.sin() - 0.014615 * (2.0 * g).cos() - 0.040849 * (2.0 * g).sin());
    let utc_h = t.rem_euclid(86_400) as f64 / 3600.0;
    let solar_h = utc_h + lon_deg / 15.0 + eot_min / 60.0;
    let omega = ((solar_h - 12.0) * 15.0).to_radians();
    let lat = lat_deg.to_radians();
    lat.sin() * decl.sin() + lat.cos() * decl.cos() * omega.cos()
}

/// Day of the (UTC) year, 1-based.
fn day_of_year(t: Timestamp) -> f64 {
    use chrono::{Datelike, TimeZone, Utc};
    Utc.timestamp_opt(t, 0).single().map(|d| d.ordinal()).unwrap_or(1) as f64
}

/// Clear-sky global horizontal irradiance (Haurwitz), W/m².
pub fn clear_sky_ghi(sin_elev: f64) -> f64 {
    if sin_elev <= 0.01 { 0.0 } else { 1098.0 * sin_elev * (-0.057 / sin_elev).exp() }
}

/// Clear-sky AC output of 1 kWp on a *reference roof* (W per kWp).
///
/// Dutch roofs face every way (south pitched roofs, east–west, flat roofs with
/// low tilt), so the reference is horizontal irradiance with an empirical gain
/// for a low sun (tilted panels catch relatively more of it) and a performance
/// ratio of 0.85 (temperature, inverter, wiring). Absolute scale errors of this
/// model are taken out by calibrating against the register (see `solar`).
pub fn reference_w_per_kwp(sin_elev: f64) -> f64 {
    let ghi = clear_sky_ghi(sin_elev);
    let tilt_gain = 1.0 + 0.35 * (1.0 - sin_elev).max(0.0);
    (ghi * tilt_gain * 0.85).min(1000.0)
}

/// Mean of [`reference_w_per_kwp`] over the interval `(end - step_s, end]` (5 samples).
pub fn reference_over_interval(end: Timestamp, step_s: i64, lat: f64, lon: f64) -> f64 {
    let n = 5;
    (0..n)
        .map(|k| {
            let t = end - step_s + (step_s * (2 * k + 1)) / (2 * n);
            reference_w_per_kwp(sin_elevation(t, lat, lon))
        })
        .sum::<f64>()
        / n as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::time::parse_timestamp;

    #[test]
    fn sun_high_at_june_noon_and_down_at_night() {
        // Solar noon at 5.4 E is ~11:40 UTC; elevation there on 21 June ~61.3°.
        let noon = parse_timestamp("2025-06-21T11:40:00Z").unwrap();
        let s = sin_elevation(noon, 52.1, 5.4);
        assert!((s.asin().to_degrees() - 61.3).abs() < 0.7, "{}", s.asin().to_degrees());
        assert!(sin_elevation(parse_timestamp("2025-06-21T23:40:00Z").unwrap(), 52.1, 5.4) < 0.0);
        let dec = sin_elevation(parse_timestamp("2025-12-21T11:45:00Z").unwrap(), 52.1, 5.4);
        assert!((dec.asin().to_degrees() - 14.5).abs() < 0.7, "{}", dec.asin().to_degrees());
        assert!(reference_w_per_kwp(s) > 700.0 && reference_w_per_kwp(dec) < 400.0);
    }
}
