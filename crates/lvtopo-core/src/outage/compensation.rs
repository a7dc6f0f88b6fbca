//! Outage compensation per the ACM rules (Tarievencode Elektriciteit, LV net up
//! to 1 kV): nothing under 4 h; a base amount for 4 h up to and including 8 h;
//! then an extra amount for each *started* further 4-hour period (13 h for a
//! 3x25A connection: 35 + 20 + 20 = EUR 75). Planned interruptions pay nothing.
//! Amounts are whole euros, so they are held as integers.

use crate::model::Capacity;
use serde::{Deserialize, Serialize};
use std::fmt;

/// 4 hours in seconds: the threshold and the length of each further period.
pub const PERIOD_S: i64 = 4 * 3600;
/// The base amount covers interruptions up to and including 8 h.
pub const BASE_COVERS_S: i64 = 8 * 3600;

/// Compensation class by connection capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CompensationClass {
    /// Up to and including 1x10A: EUR 10, then EUR 5.
    UpTo1x10A,
    /// Above 1x10A up to and including 3x25A (total 75 A): EUR 35, then EUR 20.
    UpTo3x25A,
    /// Above 3x25A on the LV net: EUR 195, then EUR 100.
    Above3x25A,
}

impl CompensationClass {
    /// Class of a connection. Capacities compare by total current (phases x amps),
    /// so `1x35A` falls in the 3x25A class and `3x35A` above it.
    pub fn of(capacity: Capacity) -> CompensationClass {
        let total = capacity.phases as u32 * capacity.amps as u32;
        if capacity.phases == 1 && capacity.amps <= 10 {
            CompensationClass::UpTo1x10A
        } else if total <= 75 {
            CompensationClass::UpTo3x25A
        } else {
            CompensationClass::Above3x25A
        }
    }

    /// (amount for 4-8 h, amount per further started 4 h), EUR.
    pub fn amounts_eur(self) -> (u32, u32) {
        match self {
            CompensationClass::UpTo1x10A => (10, 5),
            CompensationClass::UpTo3x25A => (35, 20),
            CompensationClass::Above3x25A => (195, 100),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CompensationClass::UpTo1x10A => "<=1x10A",
            CompensationClass::UpTo3x25A => "<=3x25A",
            CompensationClass::Above3x25A => ">3x25A",
        }
    }
}

impl fmt::Display for CompensationClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an amount is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompensationReason {
    /// Planned work: customers were told in advance; no compensation.
    Planned,
    /// Shorter than 4 h.
    UnderFourHours,
    /// 4 h up to and including 8 h: the base amount.
    Base,
    /// Over 8 h: base plus `extra_periods` started 4-hour periods.
    Extended { extra_periods: u32 },
}

impl fmt::Display for CompensationReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompensationReason::Planned => f.write_str("planned interruption"),
            CompensationReason::UnderFourHours => f.write_str("under 4 h"),
            CompensationReason::Base => f.write_str("4-8 h"),
            CompensationReason::Extended { extra_periods } => write!(f, "over 8 h: base + {extra_periods} started 4 h period(s)"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensation {
    pub class: CompensationClass,
    pub amount_eur: u32,
    pub reason: CompensationReason,
}

/// Compensation for one continuous interruption of `duration_s` seconds.
pub fn compensation(capacity: Capacity, duration_s: i64, planned: bool) -> Compensation {
    let class = CompensationClass::of(capacity);
    let (base, extra) = class.amounts_eur();
    let (amount_eur, reason) = if planned {
        (0, CompensationReason::Planned)
    } else if duration_s < PERIOD_S {
        (0, CompensationReason::UnderFourHours)
    } else if duration_s <= BASE_COVERS_S {
        (base, CompensationReason::Base)
    } else {
        // Started periods: ceil((d - 8 h) / 4 h); d > 8 h so this is at least 1.
        let periods = ((duration_s - BASE_COVERS_S + PERIOD_S - 1) / PERIOD_S) as u32;
        (base + extra * periods, CompensationReason::Extended { extra_periods: periods })
    };
    Compensation { class, amount_eur, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(s: &str) -> Capacity {
        s.parse().unwrap()
    }

    #[test]
    fn classes_by_capacity() {
        assert_eq!(CompensationClass::of(cap("1x6A")), CompensationClass::UpTo1x10A);
        assert_eq!(CompensationClass::of(cap("1x10A")), CompensationClass::UpTo1x10A);
        assert_eq!(CompensationClass::of(cap("1x35A")), CompensationClass::UpTo3x25A);
        assert_eq!(CompensationClass::of(cap("3x25A")), CompensationClass::UpTo3x25A);
        assert_eq!(CompensationClass::of(cap("3x35A")), CompensationClass::Above3x25A);
        assert_eq!(CompensationClass::of(cap("3x80A")), CompensationClass::Above3x25A);
    }

    #[test]
    fn amounts_at_the_boundaries() {
        let h = 3600;
        // (capacity, duration, amount) written out by hand from the ACM table.
        let table: &[(&str, i64, u32)] = &[
            ("3x25A", 4 * h - 1, 0),
            ("3x25A", 4 * h, 35),
            ("3x25A", 8 * h, 35),
            ("3x25A", 8 * h + 1, 55),
            ("3x25A", 12 * h, 55),
            ("3x25A", 12 * h + 1, 75),
            ("3x25A", 13 * h, 75),
            ("3x25A", 16 * h, 75),
            ("3x25A", 16 * h + 60, 95),
            ("1x10A", 3 * h, 0),
            ("1x10A", 4 * h, 10),
            ("1x10A", 8 * h, 10),
            ("1x10A", 13 * h, 20),
            ("3x35A", 4 * h, 195),
            ("3x35A", 8 * h, 195),
            ("3x35A", 13 * h, 395),
        ];
        for &(c, d, eur) in table {
            assert_eq!(compensation(cap(c), d, false).amount_eur, eur, "{c} for {d} s");
        }
        assert_eq!(compensation(cap("3x25A"), 13 * h, true).amount_eur, 0);
        assert_eq!(compensation(cap("3x25A"), 13 * h, true).reason, CompensationReason::Planned);
    }
}
