//! Voltage series prepared for plotting: which grid phase each meter channel
//! sits on (as registered, or with the inference's answer / the review's
//! corrections), feeder phase references, and per-connection values at a
//! moment or averaged over the evening peak. Display arithmetic only: the
//! inference itself lives in `analysis`.

use lvtopo_core::analysis::InferredPhase;
use lvtopo_core::model::{Network, Phase, PhaseConnection, Rotation, VoltageTable, time};

/// How a connection's meter channels map onto grid phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wiring {
    /// Single-phase meter (reports `L1`) on this grid phase.
    Single(Phase),
    /// Three-phase meter with this terminal rotation.
    Three(Rotation),
    /// Phase not known in GIS and not (or only as an unnamed group) filled in: the meter
    /// is left out of the phase references.
    Unknown,
}

impl Wiring {
    pub fn registered(p: Option<PhaseConnection>) -> Wiring {
        match p {
            Some(PhaseConnection::Single(p)) => Wiring::Single(p),
            Some(PhaseConnection::Three) => Wiring::Three(Rotation::IDENTITY),
            None => Wiring::Unknown,
        }
    }
    pub fn inferred(registered: Option<PhaseConnection>, inferred: Option<InferredPhase>) -> Wiring {
        match (registered, inferred) {
            (Some(PhaseConnection::Single(_)) | None, Some(InferredPhase::Single(p))) => Wiring::Single(p),
            (Some(PhaseConnection::Three) | None, Some(InferredPhase::Rotation(r))) => Wiring::Three(r),
            _ => Wiring::registered(registered),
        }
    }
    /// (meter channel, grid phase) pairs.
    pub fn channels(self) -> Vec<(Phase, Phase)> {
        match self {
            Wiring::Single(p) => vec![(Phase::L1, p)],
            Wiring::Three(r) => Phase::ALL.iter().map(|&t| (t, r.grid_phase(t))).collect(),
            Wiring::Unknown => Vec::new(),
        }
    }
}

/// Which time steps to average: one moment, or the evening peak of every day.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Moment {
    /// One step of the time grid.
    At(usize),
    /// Every step whose end lies in [from, to) seconds of the Dutch civil day.
    DailyWindow { from_s: u32, to_s: u32 },
}

impl Moment {
    pub const EVENING_PEAK: Moment = Moment::DailyWindow { from_s: 17 * 3600, to_s: 21 * 3600 };
}

/// Indices of the grid steps a [`Moment`] covers.
pub fn steps(table: &VoltageTable, m: Moment) -> Vec<usize> {
    match m {
        Moment::At(i) => (i < table.grid.len).then_some(i).into_iter().collect(),
        Moment::DailyWindow { from_s, to_s } => (0..table.grid.len)
            .filter(|&i| {
                let s = time::amsterdam_seconds_of_day(table.grid.time(i));
                s >= from_s && s < to_s
            })
            .collect(),
    }
}

/// Mean of the finite values at `steps` (NaN when there are none).
pub fn mean_at(series: &[f32], steps: &[usize]) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for &i in steps {
        if let Some(v) = series.get(i).filter(|v| v.is_finite()) {
            sum += *v as f64;
            n += 1;
        }
    }
    if n == 0 { f64::NAN } else { sum / n as f64 }
}

/// Per grid phase, the mean voltage over the connections in `members` (each
/// with its wiring), leaving out `exclude`. NaN where no member reports.
pub fn phase_references(
    net: &Network,
    table: &VoltageTable,
    members: impl Iterator<Item = (usize, Wiring)>,
    exclude: Option<usize>,
) -> [Vec<f32>; 3] {
    let n = table.grid.len;
    let mut sum = [vec![0f64; n], vec![0f64; n], vec![0f64; n]];
    let mut count = [vec![0u32; n], vec![0u32; n], vec![0u32; n]];
    for (conn, wiring) in members {
        if Some(conn) == exclude {
            continue;
        }
        let chans = table.channels(&net.connections[conn].ean);
        for (terminal, grid) in wiring.channels() {
            let Some(si) = chans[terminal.index()] else { continue };
            for (k, v) in table.series(si).iter().enumerate() {
                if v.is_finite() {
                    sum[grid.index()][k] += *v as f64;
                    count[grid.index()][k] += 1;
                }
            }
        }
    }
    std::array::from_fn(|p| {
        sum[p].iter().zip(&count[p]).map(|(s, &c)| if c == 0 { f32::NAN } else { (s / c as f64) as f32 }).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvtopo_core::model::{SeriesKey, TimeGrid};

    #[test]
    fn rotated_meter_maps_terminals_to_grid_phases() {
        let w = Wiring::Three("L2L3L1".parse().unwrap());
        assert_eq!(w.channels(), vec![(Phase::L1, Phase::L2), (Phase::L2, Phase::L3), (Phase::L3, Phase::L1)]);
        let inferred = Wiring::inferred(Some(PhaseConnection::Single(Phase::L1)), Some(InferredPhase::Single(Phase::L3)));
        assert_eq!(inferred, Wiring::Single(Phase::L3));
    }

    #[test]
    fn evening_peak_uses_dutch_civil_time() {
        // 2025-01-15 00:10 UTC, 10-minute steps for one day: 17:00-21:00 CET = 16:00-20:00 UTC.
        let start = time::parse_timestamp("2025-01-15T00:10:00Z").unwrap();
        let t = VoltageTable::new(
            TimeGrid { start, step_s: 600, len: 144 },
            vec![SeriesKey { ean: "a".into(), channel: Phase::L1 }],
            vec![230.0; 144],
        );
        let s = steps(&t, Moment::EVENING_PEAK);
        assert_eq!(s.len(), 24);
        assert_eq!(time::format_amsterdam(t.grid.time(s[0])), "2025-01-15T17:00:00+01:00");
        assert!(mean_at(&[f32::NAN, 2.0, 4.0], &[0, 1, 2]) == 3.0);
        assert!(mean_at(&[f32::NAN], &[0]).is_nan());
    }
}
