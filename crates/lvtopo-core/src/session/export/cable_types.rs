//! Electrical parameters of Dutch LV cable types, for the power-grid-model export.
//!
//! Phase resistance: IEC 60228 class 2 conductors at 20 °C. Reactance ~0.08 Ω/km
//! for four-core LV cables. Zero sequence with the (full-size) neutral as return:
//! r0 = r1 + 3·r_neutral = 4·r1 and x0 ≈ 4·x1 (e.g. 4x150Al: r0 0.82, x0 0.32 Ω/km,
//! in line with common Dutch network-calculation libraries). Ratings: buried,
//! typical manufacturer values. Good enough for planning load flows; a GIS that
//! registers `r_ohm_per_km` overrides the resistance.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CableType {
    /// Positive-sequence resistance, Ω/km.
    pub r1: f64,
    /// Positive-sequence reactance, Ω/km.
    pub x1: f64,
    /// Zero-sequence resistance, Ω/km.
    pub r0: f64,
    /// Zero-sequence reactance, Ω/km.
    pub x0: f64,
    /// Positive-sequence capacitance, F/km.
    pub c1: f64,
    /// Zero-sequence capacitance, F/km.
    pub c0: f64,
    /// Rated current, A.
    pub i_n: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Material {
    Al,
    Cu,
}

/// (cross-section mm², r1 Ω/km, rated current A)
const AL: [(u32, f64, f64); 10] = [
    (16, 1.91, 80.0),
    (25, 1.20, 100.0),
    (35, 0.868, 120.0),
    (50, 0.641, 145.0),
    (70, 0.443, 175.0),
    (95, 0.320, 210.0),
    (120, 0.253, 240.0),
    (150, 0.206, 270.0),
    (185, 0.164, 305.0),
    (240, 0.125, 355.0),
];
const CU: [(u32, f64, f64); 12] = [
    (6, 3.08, 60.0),
    (10, 1.83, 80.0),
    (16, 1.15, 105.0),
    (25, 0.727, 135.0),
    (35, 0.524, 160.0),
    (50, 0.387, 190.0),
    (70, 0.268, 235.0),
    (95, 0.193, 280.0),
    (120, 0.153, 320.0),
    (150, 0.124, 360.0),
    (185, 0.0991, 405.0),
    (240, 0.0754, 470.0),
];

const X1: f64 = 0.08;
const C1: f64 = 0.5e-6;
const C0: f64 = 0.3e-6;

impl CableType {
    fn from_r(r1: f64, i_n: f64) -> CableType {
        CableType { r1, x1: X1, r0: 4.0 * r1, x0: 4.0 * X1, c1: C1, c0: C0, i_n }
    }

    /// The type of a standard conductor, e.g. (150, Al).
    pub fn standard(mm2: u32, material: Material) -> Option<CableType> {
        let table: &[(u32, f64, f64)] = match material {
            Material::Al => &AL,
            Material::Cu => &CU,
        };
        table.iter().find(|(s, _, _)| *s == mm2).map(|&(_, r, i)| CableType::from_r(r, i))
    }

    /// Parses conductor descriptions as GIS holds them: `4x150Al`, `4 x 150 mm2 AL`,
    /// `150Al`, `3x95Al+50Cu` (the phase conductors count). `None` when not understood.
    pub fn parse(conductor: &str) -> Option<CableType> {
        let t = conductor.trim().to_ascii_lowercase().replace(' ', "");
        let phase_part = t.split(['+', '/']).next()?;
        let after_x = match phase_part.split_once(['x', '*']) {
            Some((cores, rest)) if cores.chars().all(|c| c.is_ascii_digit()) => rest,
            _ => phase_part,
        };
        let digits: String = after_x.chars().take_while(|c| c.is_ascii_digit()).collect();
        let mm2: u32 = digits.parse().ok()?;
        let rest = after_x[digits.len()..].trim_start_matches("mm2").trim_start_matches("mm²").trim_start_matches("mm");
        let material = if rest.starts_with("al") {
            Material::Al
        } else if rest.starts_with("cu") {
            Material::Cu
        } else {
            return None;
        };
        CableType::standard(mm2, material)
    }

    /// A type for a registered resistance without a known conductor: the
    /// aluminium type of nearest resistance gives rating and reactance.
    pub fn from_resistance(r_ohm_per_km: f64) -> CableType {
        let &(_, _, i_n) =
            AL.iter().min_by(|a, b| (a.1 - r_ohm_per_km).abs().total_cmp(&(b.1 - r_ohm_per_km).abs())).unwrap_or(&AL[7]);
        CableType::from_r(r_ohm_per_km, i_n)
    }

    /// The same type with a registered phase resistance (zero sequence scaled along).
    pub fn with_r1(self, r1: f64) -> CableType {
        CableType { r1, r0: 4.0 * r1, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_gis_conductor_notations() {
        assert_eq!(CableType::parse("4x150Al").unwrap().r1, 0.206);
        assert_eq!(CableType::parse("4 x 95 mm2 AL").unwrap().r1, 0.320);
        assert_eq!(CableType::parse("150al").unwrap().i_n, 270.0);
        assert_eq!(CableType::parse("3x95Al+50Cu").unwrap().r1, 0.320);
        assert_eq!(CableType::parse("4x16Cu").unwrap().r1, 1.15);
        assert!(CableType::parse("4x151Al").is_none());
        assert!(CableType::parse("GPLK").is_none());
        assert!(CableType::parse("").is_none());
    }

    #[test]
    fn zero_sequence_follows_the_neutral_return() {
        let t = CableType::parse("4x150Al").unwrap();
        assert!((t.r0 - 0.824).abs() < 1e-9 && (t.x0 - 0.32).abs() < 1e-9);
        let r = CableType::from_resistance(0.3);
        assert_eq!(r.i_n, 210.0);
        assert_eq!(r.r1, 0.3);
    }
}
