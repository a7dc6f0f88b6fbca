//! EV charging sessions from quarter-hour import data (use case 13): a
//! sustained step of 3.7–11 kW (16 A single-phase to 16 A three-phase) above
//! the household's own base load.
//!
//! Sessions of one connection never leave this crate: they exist only to be
//! summed per area ([`super::aggregate`]), which is all use case 13 allows.

/// Detection settings.
#[derive(Clone, Debug, PartialEq)]
pub struct EvDetection {
    /// Smallest charging power (kW): 16 A on one phase.
    pub min_kw: f64,
    /// Largest charging power (kW) of a private charger: 16 A on three phases.
    pub max_kw: f64,
    /// Relative tolerance on the band (metering, partial quarters, losses).
    pub tolerance: f64,
    /// A step must last at least this many intervals (45 min at 15 min).
    pub min_steps: usize,
    /// Base load: the lowest of this many intervals before the step.
    pub baseline_steps: usize,
    /// How far the level may wander inside one session (kW, or 20 % of the level if more).
    pub max_level_deviation_kw: f64,
}

impl Default for EvDetection {
    fn default() -> Self {
        EvDetection { min_kw: 3.7, max_kw: 11.0, tolerance: 0.12, min_steps: 3, baseline_steps: 4, max_level_deviation_kw: 1.5 }
    }
}

/// One charging session of one connection, in interval indices `[start, end)`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Session {
    pub start: usize,
    pub end: usize,
    /// Mean charging power above the base load (kW).
    pub kw: f64,
}

impl EvDetection {
    fn in_band(&self, step_kw: f64) -> bool {
        step_kw >= self.min_kw * (1.0 - self.tolerance) && step_kw <= self.max_kw * (1.0 + self.tolerance)
    }

    /// Sessions in one connection's import energy per interval (kWh, NaN = missing).
    pub(crate) fn detect(&self, import_kwh: &[f32], step_s: i64) -> Vec<Session> {
        let to_kw = 3600.0 / step_s as f64;
        let kw: Vec<f64> = import_kwh.iter().map(|&e| e as f64 * to_kw).collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < kw.len() {
            if kw[i].is_nan() {
                i += 1;
                continue;
            }
            let before: Vec<f64> = kw[..i].iter().rev().filter(|v| !v.is_nan()).take(self.baseline_steps).copied().collect();
            if before.len() < self.baseline_steps {
                i += 1;
                continue;
            }
            let base = before.iter().copied().fold(f64::INFINITY, f64::min);
            if !self.in_band(kw[i] - base) {
                i += 1;
                continue;
            }
            let (mut j, mut sum) = (i, 0.0);
            while j < kw.len() && !kw[j].is_nan() {
                let step = kw[j] - base;
                if !self.in_band(step) {
                    break;
                }
                if j > i {
                    let mean = sum / (j - i) as f64;
                    if (step - mean).abs() > self.max_level_deviation_kw.max(0.2 * mean) {
                        break;
                    }
                }
                sum += step;
                j += 1;
            }
            if j - i >= self.min_steps {
                out.push(Session { start: i, end: j, kw: sum / (j - i) as f64 });
                i = j;
            } else {
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A household at ~0.4 kW with a little variation, in kWh per quarter.
    fn house(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((0.4 + 0.15 * ((i * 7 % 5) as f64 / 4.0)) / 4.0) as f32).collect()
    }

    fn add_kw(v: &mut [f32], from: usize, to: usize, kw: f64) {
        for x in &mut v[from..to] {
            *x += (kw / 4.0) as f32;
        }
    }

    #[test]
    fn finds_a_sustained_charging_step() {
        let mut v = house(96);
        add_kw(&mut v, 72, 84, 7.4); // 18:00-21:00 at 7.4 kW
        let s = EvDetection::default().detect(&v, 900);
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!((s[0].start, s[0].end), (72, 84));
        assert!((s[0].kw - 7.4).abs() < 0.3, "{s:?}");
    }

    #[test]
    fn ignores_heat_pump_cooking_and_gaps() {
        let mut v = house(96);
        add_kw(&mut v, 10, 40, 2.0); // heat pump: below the band
        add_kw(&mut v, 70, 72, 5.0); // cooking: too short
        add_kw(&mut v, 80, 90, 25.0); // far above a private charger
        assert!(EvDetection::default().detect(&v, 900).is_empty());
        let mut g = house(96);
        add_kw(&mut g, 50, 60, 11.0);
        g[52] = f32::NAN;
        let s = EvDetection::default().detect(&g, 900);
        assert_eq!(
            s.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
            vec![(53, 60)],
            "a gap splits; the short part before it is no session"
        );
    }
}
