//! Voltage quality and solar (use cases 2, 3, 5, 6, 12): event counters per
//! quarter, the 10-day analysis against the 207–253 V band and the operator's
//! inverter limit, before/after an intervention, the broken-neutral hint and
//! PV found vs registered. Pure functions over `model` types; no I/O, no UI.

pub mod band;
pub mod compare;
pub mod events;
pub mod export;
pub mod neutral;
pub mod solar;
pub mod stats;
pub mod sun;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Lower limit of the legal band (V).
pub const BAND_LOW_V: f64 = 207.0;
/// Upper limit of the legal band (V).
pub const BAND_HIGH_V: f64 = 253.0;

/// Dutch DSOs and the PV inverter overvoltage setting each prescribes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operator {
    Enexis,
    Stedin,
    Liander,
}

impl Operator {
    /// The inverter trip setting the operator prescribes (V).
    pub fn inverter_limit_v(self) -> f64 {
        match self {
            Operator::Enexis => 248.0,
            Operator::Stedin => 249.0,
            Operator::Liander => 250.0,
        }
    }
}

impl FromStr for Operator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "enexis" => Ok(Operator::Enexis),
            "stedin" => Ok(Operator::Stedin),
            "liander" | "alliander" => Ok(Operator::Liander),
            o => Err(format!("unknown operator {o:?}: expected liander, enexis or stedin")),
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operator::Enexis => "Enexis",
            Operator::Stedin => "Stedin",
            Operator::Liander => "Liander",
        })
    }
}

/// Limits the voltage analysis checks against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VoltageSettings {
    pub band_low_v: f64,
    pub band_high_v: f64,
    /// PV inverters disconnect above this (the operator's setting).
    pub inverter_limit_v: f64,
    /// A 10-minute mean this close below the limit counts as "at the limit":
    /// the mean hides the short peaks that actually trip the inverter.
    pub at_limit_margin_v: f64,
}

impl Default for VoltageSettings {
    fn default() -> Self {
        Self::for_operator(Operator::Liander)
    }
}

impl VoltageSettings {
    pub fn for_operator(op: Operator) -> Self {
        VoltageSettings {
            band_low_v: BAND_LOW_V,
            band_high_v: BAND_HIGH_V,
            inverter_limit_v: op.inverter_limit_v(),
            at_limit_margin_v: 1.0,
        }
    }
    pub fn with_inverter_limit(v: f64) -> Self {
        VoltageSettings { inverter_limit_v: v, ..Self::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_limits() {
        assert_eq!("Enexis".parse::<Operator>().unwrap().inverter_limit_v(), 248.0);
        assert_eq!("stedin".parse::<Operator>().unwrap().inverter_limit_v(), 249.0);
        assert_eq!(VoltageSettings::default().inverter_limit_v, 250.0);
        assert!("eneco".parse::<Operator>().is_err());
    }
}
