//! Accuracy of an analysis against `truth.csv` (sample and generated networks).

use super::{AnalysisResult, InferredPhase, Status};
use crate::model::{Network, PhaseConnection, TruthRow};
use serde::Serialize;
use std::collections::HashMap;

/// Figures of one run. Accuracies count every connection that got an inferred
/// value (also `insufficient_data` rows that carry a best guess); connections
/// without voltage data have none and are only counted in `insufficient_share`.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Accuracy {
    pub connections: usize,
    pub with_data: usize,
    pub phase_n: usize,
    pub phase_ok: usize,
    pub rotation_n: usize,
    pub rotation_ok: usize,
    pub feeder_n: usize,
    pub feeder_ok: usize,
    pub cable_n: usize,
    pub cable_ok: usize,
    /// Of the `feeder_n` / `cable_n` connections: how many the GIS registers right. The
    /// inference must never be worse than the registration it corrects.
    pub gis_feeder_ok: usize,
    pub gis_cable_ok: usize,
    pub suggestions: usize,
    pub suggestions_right: usize,
    /// Connections with data whose GIS registration is wrong (phase, feeder or cable).
    pub gis_errors: usize,
    /// Of those: flagged `suggest_change` with every changed value right.
    pub gis_errors_found: usize,
    pub insufficient: usize,
    /// `insufficient_data` among connections with voltage data.
    pub insufficient_with_data: usize,
    /// Reliability of the stated confidences: per bin of [`CONF_BINS`], the values
    /// (phase, feeder and cable of every connection with data) stated with a confidence in
    /// that bin and how many of them are right.
    pub conf_n: [usize; 4],
    pub conf_ok: [usize; 4],
    /// Connections with data and at least one value the GIS did not know (or status
    /// `fill_in`), and of those the ones whose every changed or filled-in value is right.
    pub fill_ins: usize,
    pub fill_ins_right: usize,
    /// Single-phase phases stated with a confidence of at least 0.99, and right among them.
    pub phase_sure_n: usize,
    pub phase_sure_ok: usize,
    /// Every wrong suggestion: EAN, what was suggested with which confidences, the truth.
    pub wrong_suggestions: Vec<String>,
}

/// Lower edges of the confidence bins of the reliability check.
pub const CONF_BINS: [f64; 4] = [0.0, 0.9, 0.99, 0.999];

fn conf_bin(c: f64) -> usize {
    CONF_BINS.iter().rposition(|&e| c >= e).unwrap_or(0)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { f64::NAN } else { a as f64 / b as f64 }
}

impl Accuracy {
    pub fn phase(&self) -> f64 {
        ratio(self.phase_ok, self.phase_n)
    }
    pub fn rotation(&self) -> f64 {
        ratio(self.rotation_ok, self.rotation_n)
    }
    pub fn feeder(&self) -> f64 {
        ratio(self.feeder_ok, self.feeder_n)
    }
    pub fn cable(&self) -> f64 {
        ratio(self.cable_ok, self.cable_n)
    }
    pub fn gis_feeder(&self) -> f64 {
        ratio(self.gis_feeder_ok, self.feeder_n)
    }
    pub fn gis_cable(&self) -> f64 {
        ratio(self.gis_cable_ok, self.cable_n)
    }
    /// Share right of the values stated with a confidence of at least 0.99 (bins
    /// [0.99, 0.999) and [0.999, 1]); NaN when there are none.
    pub fn reliability_above_099(&self) -> f64 {
        ratio(self.conf_ok[2] + self.conf_ok[3], self.conf_n[2] + self.conf_n[3])
    }
    /// Share right of the values stated in [0.9, 0.99).
    pub fn reliability_090_099(&self) -> f64 {
        ratio(self.conf_ok[1], self.conf_n[1])
    }
    pub fn precision(&self) -> f64 {
        ratio(self.suggestions_right, self.suggestions)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.gis_errors_found, self.gis_errors)
    }
    pub fn insufficient_share(&self) -> f64 {
        ratio(self.insufficient, self.connections)
    }
    pub fn add(&mut self, o: &Accuracy) {
        self.connections += o.connections;
        self.with_data += o.with_data;
        self.phase_n += o.phase_n;
        self.phase_ok += o.phase_ok;
        self.rotation_n += o.rotation_n;
        self.rotation_ok += o.rotation_ok;
        self.feeder_n += o.feeder_n;
        self.feeder_ok += o.feeder_ok;
        self.cable_n += o.cable_n;
        self.cable_ok += o.cable_ok;
        self.gis_feeder_ok += o.gis_feeder_ok;
        self.gis_cable_ok += o.gis_cable_ok;
        self.suggestions += o.suggestions;
        self.suggestions_right += o.suggestions_right;
        self.gis_errors += o.gis_errors;
        self.gis_errors_found += o.gis_errors_found;
        self.insufficient += o.insufficient;
        self.insufficient_with_data += o.insufficient_with_data;
        for b in 0..4 {
            self.conf_n[b] += o.conf_n[b];
            self.conf_ok[b] += o.conf_ok[b];
        }
        self.fill_ins += o.fill_ins;
        self.fill_ins_right += o.fill_ins_right;
        self.phase_sure_n += o.phase_sure_n;
        self.phase_sure_ok += o.phase_sure_ok;
        self.wrong_suggestions.extend(o.wrong_suggestions.iter().cloned());
    }
    /// Share right of the single-phase phases stated at >= 0.99 (1 when there are none).
    pub fn phase_sure(&self) -> f64 {
        if self.phase_sure_n == 0 { 1.0 } else { ratio(self.phase_sure_ok, self.phase_sure_n) }
    }
    fn stated(&mut self, confidence: f64, right: bool) {
        let b = conf_bin(confidence);
        self.conf_n[b] += 1;
        self.conf_ok[b] += right as usize;
    }
    /// "n right of m" per confidence bin, for the reliability line of the sweep.
    pub fn reliability(&self) -> String {
        let mut parts = Vec::new();
        for b in 0..4 {
            let hi = CONF_BINS.get(b + 1).map_or("1".to_string(), |v| format!("{v}"));
            let share = ratio(self.conf_ok[b], self.conf_n[b]);
            let s = if share.is_nan() { "-".to_string() } else { format!("{:.2}%", 100.0 * share) };
            parts.push(format!("[{}, {hi}): {s} of {}", CONF_BINS[b], self.conf_n[b]));
        }
        parts.join("; ")
    }
}

pub fn evaluate(net: &Network, result: &AnalysisResult, truth: &[TruthRow]) -> Accuracy {
    let by_ean: HashMap<&str, &TruthRow> = truth.iter().map(|t| (t.ean.as_str(), t)).collect();
    let mut acc = Accuracy::default();
    for a in &result.assignments {
        let c = &net.connections[a.connection];
        let Some(t) = by_ean.get(c.ean.as_str()) else { continue };
        acc.connections += 1;
        if a.status == Status::InsufficientData {
            acc.insufficient += 1;
        }
        let Some(ip) = a.inferred_phase else { continue };
        acc.with_data += 1;
        if a.status == Status::InsufficientData {
            acc.insufficient_with_data += 1;
        }
        let phase_right = match (t.phase, ip) {
            (PhaseConnection::Single(tp), InferredPhase::Single(p)) => {
                acc.phase_n += 1;
                acc.phase_ok += (tp == p) as usize;
                if a.phase_confidence >= 0.99 {
                    acc.phase_sure_n += 1;
                    acc.phase_sure_ok += (tp == p) as usize;
                }
                tp == p
            }
            (PhaseConnection::Three, InferredPhase::Rotation(r)) => {
                acc.rotation_n += 1;
                let ok = t.rotation.is_none_or(|tr| tr == r);
                acc.rotation_ok += ok as usize;
                ok
            }
            (PhaseConnection::Single(_), _) => {
                acc.phase_n += 1;
                false
            }
            (PhaseConnection::Three, _) => {
                acc.rotation_n += 1;
                false
            }
        };
        let feeder_right = a.inferred_feeder.as_deref() == Some(t.feeder_id.as_str());
        if a.inferred_feeder.is_some() {
            acc.feeder_n += 1;
            acc.feeder_ok += feeder_right as usize;
            acc.gis_feeder_ok += (c.feeder() == t.feeder_id) as usize;
        }
        let cable_right = a.inferred_cable.as_deref() == Some(t.cable_id.as_str());
        if a.inferred_cable.is_some() {
            acc.cable_n += 1;
            acc.cable_ok += cable_right as usize;
            acc.gis_cable_ok += (c.cable() == t.cable_id) as usize;
        }
        acc.stated(a.phase_confidence, phase_right);
        if a.inferred_feeder.is_some() {
            acc.stated(a.feeder_confidence, feeder_right);
        }
        if a.inferred_cable.is_some() {
            acc.stated(a.cable_confidence, cable_right);
        }
        // Unknown GIS values are not errors: they are filled in (`fill_in`), counted apart.
        let gis_phase_wrong = c.phase.is_some_and(|p| p != t.phase);
        let gis_wrong = gis_phase_wrong
            || c.feeder_id.as_ref().is_some_and(|f| *f != t.feeder_id)
            || c.cable_id.as_ref().is_some_and(|f| *f != t.cable_id);
        // A suggestion is right when every value it changes or fills in is the true one.
        let phase_changed = match (c.phase, ip) {
            (None, _) => true,
            (Some(g), InferredPhase::Single(p)) => g != PhaseConnection::Single(p),
            (Some(g), InferredPhase::Rotation(_)) => !g.is_three_phase(),
            (Some(_), InferredPhase::Group(_)) => true,
        };
        let right = (!phase_changed || phase_right)
            && (a.inferred_feeder.is_some() && a.inferred_feeder == c.feeder_id || feeder_right)
            && (a.inferred_cable.is_some() && a.inferred_cable == c.cable_id || cable_right);
        if a.status == Status::FillIn || c.phase.is_none() || c.feeder_id.is_none() || c.cable_id.is_none() {
            acc.fill_ins += 1;
            acc.fill_ins_right += right as usize;
        }
        if a.status == Status::SuggestChange {
            acc.suggestions += 1;
            acc.suggestions_right += (right && gis_wrong) as usize;
            if !(right && gis_wrong) {
                let truth_phase = t.rotation.map_or(t.phase.to_string(), |r| r.to_string());
                acc.wrong_suggestions.push(format!(
                    "{}: {} (feeder p={:.4}, cable p={:.4}, phase p={:.4}); truth {} {} {truth_phase}",
                    c.ean,
                    a.reason.as_deref().unwrap_or(""),
                    a.feeder_confidence,
                    a.cable_confidence,
                    a.phase_confidence,
                    t.feeder_id,
                    t.cable_id
                ));
            }
        }
        if gis_wrong {
            acc.gis_errors += 1;
            acc.gis_errors_found += (a.status == Status::SuggestChange && right) as usize;
        }
    }
    acc
}

/// One line of the accuracy table.
pub fn table_header() -> String {
    format!(
        "| {:<34} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} |",
        "scenario", "phase", "rotat.", "feeder", "cable", "prec.", "recall", "insuf."
    )
}

pub fn table_row(name: &str, a: &Accuracy) -> String {
    let pct = |v: f64| if v.is_nan() { "-".to_string() } else { format!("{:.1}%", 100.0 * v) };
    format!(
        "| {:<34} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} | {:>6} |",
        name,
        pct(a.phase()),
        pct(a.rotation()),
        pct(a.feeder()),
        pct(a.cable()),
        pct(a.precision()),
        pct(a.recall()),
        pct(a.insufficient_share())
    )
}
