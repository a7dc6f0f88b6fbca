//! Phases, three-phase meter rotations and connection capacities.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A grid phase (or a meter terminal, which the meter also labels L1..L3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Phase {
    L1,
    L2,
    L3,
}

impl Phase {
    pub const ALL: [Phase; 3] = [Phase::L1, Phase::L2, Phase::L3];

    /// 0, 1 or 2.
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn from_index(i: usize) -> Phase {
        Phase::ALL[i % 3]
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::L1 => "L1",
            Phase::L2 => "L2",
            Phase::L3 => "L3",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "L1" | "1" | "R" => Ok(Phase::L1),
            "L2" | "2" | "S" => Ok(Phase::L2),
            "L3" | "3" | "T" => Ok(Phase::L3),
            other => Err(format!("expected L1, L2 or L3, found {other:?}")),
        }
    }
}

/// How a connection is registered in GIS: on one phase, or on all three (`L123`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PhaseConnection {
    Single(Phase),
    Three,
}

impl PhaseConnection {
    pub fn is_three_phase(self) -> bool {
        matches!(self, PhaseConnection::Three)
    }
    pub fn single(self) -> Option<Phase> {
        match self {
            PhaseConnection::Single(p) => Some(p),
            PhaseConnection::Three => None,
        }
    }
}

impl fmt::Display for PhaseConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhaseConnection::Single(p) => p.fmt(f),
            PhaseConnection::Three => f.write_str("L123"),
        }
    }
}

impl FromStr for PhaseConnection {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        match t.as_str() {
            "L123" | "123" | "3P" | "RST" => Ok(PhaseConnection::Three),
            _ => t
                .parse::<Phase>()
                .map(PhaseConnection::Single)
                .map_err(|_| format!("expected L1, L2, L3 or L123, found {:?}", s.trim())),
        }
    }
}

/// Grid phase seen on meter terminals L1, L2, L3 of a three-phase meter.
/// `Rotation([L2, L3, L1])` is written `L2L3L1`: terminal L1 sits on grid phase L2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rotation(pub [Phase; 3]);

impl Rotation {
    pub const IDENTITY: Rotation = Rotation([Phase::L1, Phase::L2, Phase::L3]);

    /// All six permutations (three cyclic rotations and three swaps).
    pub fn all() -> [Rotation; 6] {
        use Phase::*;
        [
            Rotation([L1, L2, L3]),
            Rotation([L2, L3, L1]),
            Rotation([L3, L1, L2]),
            Rotation([L1, L3, L2]),
            Rotation([L3, L2, L1]),
            Rotation([L2, L1, L3]),
        ]
    }

    /// Grid phase on the given meter terminal.
    pub fn grid_phase(self, terminal: Phase) -> Phase {
        self.0[terminal.index()]
    }

    /// Meter terminal that sits on the given grid phase.
    pub fn terminal_of(self, grid: Phase) -> Phase {
        let i = self.0.iter().position(|p| *p == grid).expect("rotation is a permutation");
        Phase::from_index(i)
    }
}

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}{}", self.0[0], self.0[1], self.0[2])
    }
}

impl FromStr for Rotation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let err = || format!("expected a rotation such as L1L2L3 or L2L3L1, found {:?}", s.trim());
        if t.len() != 6 {
            return Err(err());
        }
        let mut out = [Phase::L1; 3];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = t[i * 2..i * 2 + 2].parse().map_err(|_| err())?;
        }
        let r = Rotation(out);
        if Rotation::all().contains(&r) { Ok(r) } else { Err(err()) }
    }
}

/// Connection capacity, e.g. `1x35A` or `3x25A`. Sets the outage compensation class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Capacity {
    pub phases: u8,
    pub amps: u16,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity { phases: 3, amps: 25 }
    }
}

impl fmt::Display for Capacity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}A", self.phases, self.amps)
    }
}

impl FromStr for Capacity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase().replace(' ', "");
        let err = || format!("expected a capacity such as 1x35A or 3x25A, found {:?}", s.trim());
        let t = t.strip_suffix('A').unwrap_or(&t);
        let (p, a) = t.split_once(['X', '*']).ok_or_else(err)?;
        let phases: u8 = p.parse().map_err(|_| err())?;
        let amps: u16 = a.parse().map_err(|_| err())?;
        if !(phases == 1 || phases == 3) || amps == 0 {
            return Err(err());
        }
        Ok(Capacity { phases, amps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_round_trip_and_lookup() {
        let r: Rotation = "L2L3L1".parse().unwrap();
        assert_eq!(r.to_string(), "L2L3L1");
        assert_eq!(r.grid_phase(Phase::L1), Phase::L2);
        assert_eq!(r.terminal_of(Phase::L1), Phase::L3);
        assert!("L1L1L2".parse::<Rotation>().is_err());
    }

    #[test]
    fn phase_connection_parses_contract_values() {
        assert_eq!("L123".parse::<PhaseConnection>().unwrap(), PhaseConnection::Three);
        assert_eq!("l2".parse::<PhaseConnection>().unwrap(), PhaseConnection::Single(Phase::L2));
        assert!("L4".parse::<PhaseConnection>().is_err());
    }

    #[test]
    fn capacity_parses() {
        assert_eq!("3x25A".parse::<Capacity>().unwrap(), Capacity { phases: 3, amps: 25 });
        assert_eq!("1x10A".parse::<Capacity>().unwrap().amps, 10);
        assert!("2x25A".parse::<Capacity>().is_err());
    }
}
