//! Topology inference (use case 7): phase, meter rotation, feeder and cable
//! section of every connection from a short voltage read.
//!
//! Pipeline: preprocessing per meter channel ([`prep`]), spatial candidates
//! ([`candidates`]), leave-one-out references per station / phase / feeder and a
//! joint posterior over (feeder, phase or rotation) re-estimated a few times
//! ([`engine`], [`refs`]), then calibrated decisions ([`decide`]).

pub mod cable;
pub mod candidates;
mod clock;
pub mod cluster;
pub mod corpus;
pub mod decide;
pub mod engine;
pub mod meters;
pub mod metrics;
pub mod output;
pub mod prep;
pub mod refs;
pub mod replicate;
pub mod result;
pub mod sweep;

pub use result::{Assignment, Evidence, InferredPhase, Status};

use crate::model::time::{Timestamp, amsterdam_seconds_of_day};
use crate::model::{Network, Topology, VoltageTable};
use crate::progress::{Cancelled, Progress};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::AtomicUsize;

/// Settings of the inference (defaults are what the accuracy tests use).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct AnalysisOptions {
    /// Re-estimations of the references from the posteriors (soft EM passes).
    pub iterations: usize,
    /// Fewer valid 10-minute points than this: `insufficient_data`.
    pub min_points: usize,
    /// Centred moving-average high-pass in steps (0: only the mean is removed).
    pub highpass_steps: usize,
    /// Prewhitening `x_t - rho x_(t-1)` of every series (0: off), when most series of the
    /// read are finer than 0.5 V ([`prep::prewhiten`]). The residual of a good fit is the
    /// house's own load drop, slow and strongly autocorrelated (lag-1 0.8-0.95 near the
    /// station); weighing it as if its 1,440 points were few (the AR(1) effective count)
    /// threw most of the evidence away. On the 0.1 V sweep (3 seeds) recall went
    /// 87.3% -> 92.4%, 3 d / 0.1 V 77.7% -> 92.4%, with one wrong suggestion fewer. With
    /// 1 V rounding the white rounding noise dominates the differenced series: on
    /// power-grid-model streets at 1 V it made 5 of 6 suggestions wrong, and even rho 0.2
    /// made 9 of 12 wrong on the quiet 1 V street, so coarse reads are left as they are.
    pub prewhiten_rho: f64,
    /// Weight of 17:00-23:00 local time (evening peak) relative to the rest.
    pub evening_weight: f64,
    /// Weight of 10:00-16:00 local time (PV midday).
    pub midday_weight: f64,
    /// Correlation gain a one-step lag must show before a meter's clock is corrected.
    pub clock_shift_margin: f64,
    /// Cables within this distance of a connection are candidates (m).
    pub search_radius_m: f64,
    pub max_candidate_feeders: usize,
    /// Prior belief in the GIS registration.
    pub gis_feeder_prior: f64,
    pub gis_phase_prior: f64,
    pub gis_cable_prior: f64,
    /// How far (m) along the street a service cable's joint may sit from the foot of the
    /// perpendicular from the house (standard deviation); see `candidates::along_street_weights`.
    pub cable_along_sigma_m: f64,
    /// Length scale (m) of the phase references' weights: a meter d metres further from
    /// the station (along the cables) than the station's nearest meter counts
    /// exp(-d / length) in `S_p`, so that `S_p` follows the busbar voltage of phase p.
    /// With every meter counting the same (0), `S_p` carried the feeders' drops too, and
    /// a house near the station fitted whichever feeder's reference looked most like the
    /// busbar: on the 0.1 V sweep (6 seeds x 3 stations, no near-station rule) 12 wrong
    /// suggestions, with 20 m 4, and feeder accuracy 99.6% -> 99.9%.
    pub busbar_length_m: f64,
    /// Calibration: log-likelihoods are divided by this before the posterior.
    pub temperature: f64,
    /// A reference with less total weight (after leaving the scored meter out) is unused.
    pub min_ref_weight: f64,
    /// Divides the voltage evidence between cable sections of one feeder (sections in
    /// series share most of their drop, so the fit is far less decisive than it looks);
    /// 0 leaves the cable to geography and the GIS prior.
    pub cable_voltage_temperature: f64,
    /// Decision temperatures: the engine's posteriors are tempered (p^(1/T), renormalised)
    /// before they become confidences. Measured on generated networks so that a stated
    /// confidence of 0.99 is right at least 99 times in 100 (`lvtopo bench accuracy`).
    pub feeder_decision_temperature: f64,
    /// Street evidence on the feeder ([`candidates::NetworkIndex::feeder_street_evidence`]:
    /// the same street and neighbour model that picks the cable section) multiplies each
    /// feeder's odds by its share of the best, never by less than this; 1 leaves it out.
    /// It is not tempered: it does not come from the voltage fit. 0.1: on the 0.1 V sweep
    /// recall 84.4% -> 86.2% with one wrong suggestion fewer (0.03 gave 86.9%; 0.1 is
    /// kept because real streets are less regular than the generator's, where a house
    /// always hangs on its own street's cable).
    pub feeder_street_floor: f64,
    pub phase_decision_temperature: f64,
    pub cable_decision_temperature: f64,
    /// The same for meters whose readings are rounded to 0.5 V or more. The phase
    /// temperature (20) was set on power-grid-model data of streets without heat pumps or
    /// EVs at 1 V with meters 0.1% off (docs/independent-check.md): at 10, 24 of 26
    /// suggestions over four load seeds were right, at 20 all 21.
    pub coarse_feeder_decision_temperature: f64,
    pub coarse_phase_decision_temperature: f64,
    /// Close to the station (closer than this along the cables, both on its GIS cable and
    /// on the inferred one) every feeder carries nearly the busbar voltage, the feeders'
    /// own drops are small next to the house's own load, and the engine can be
    /// confidently wrong. There a feeder change is only suggested when the street agrees
    /// (`near_station_street_ratio`). Measured: on the 0.1 V sweep (6 seeds x 3 stations)
    /// without the rule 11 wrong suggestions, with it at 60 m 1; on power-grid-model data
    /// of a quiet street at 0.1 V the rule at 15 m still let 2 wrong ones through.
    /// The same distance holds for 0.1 V and 1 V readings.
    pub feeder_min_station_distance_m: f64,
    /// Near the station a feeder change needs the street evidence for the new feeder
    /// ([`candidates::NetworkIndex::feeder_street_evidence`]) to be at least this many
    /// times that for the registered one (0: never). 10 with `feeder_street_floor` 0.1:
    /// the new feeder is the street's, and the registered one gets the least weight the
    /// street evidence gives. On the sweep this finds as many near-station errors as
    /// no rule at all (0.1 V: recall 79.6% -> 86.2%, no wrong suggestion more), and
    /// all stress runs on power-grid-model data stay right.
    pub near_station_street_ratio: f64,
    /// Posterior a changed value needs before lvtopo suggests the change.
    pub suggest_threshold: f64,
    /// A phase change is only suggested when the feeder (registered or inferred) is at
    /// least this certain: with the feeder in doubt, so are the references the phase was
    /// judged against.
    pub phase_change_min_feeder_confidence: f64,
    /// Without busbar references, a phase change needs the new phase's feeder reference to
    /// weigh at least this much (in meters, the scored one left out). A reference of a
    /// single meter is a neighbour rather than a phase: on the 70%-smart sweep a house
    /// moved to L1 at p = 1.0 because the one meter on its new feeder's "L1" reference was
    /// an L3 neighbour registered L1. With 2 that wrong suggestion goes and no right one.
    pub phase_change_min_ref_weight: f64,
    /// Posterior the cable section on the new feeder needs when a feeder change is
    /// suggested. The registered section is then certainly wrong (it belongs to the old
    /// feeder), so the question is only which section of the new feeder replaces it.
    /// 0.8: on generated and power-grid-model data the sections stated at 0.8-0.95 after
    /// a certain feeder change were right 127 times in 129 (session 5, `docs/inference.md`).
    pub new_feeder_cable_threshold: f64,
    /// Posterior below which a confirmed value is reported as ambiguous.
    pub ok_threshold: f64,
    /// Share of three-phase meters wired L1L2L3 (terminal k on grid phase k): how much a
    /// three-phase meter says about which group of single-phase meters is which phase,
    /// when their phases are filled in from scratch ([`cluster`]). 0.6 is the
    /// generator's share; real installations are wired right more often.
    pub three_phase_identity_prior: f64,
    /// Cap the feeder and phase evidence by its day-by-day replication
    /// ([`replicate`]): a hypothesis is only as much better as its advantage shows on
    /// every day of the read.
    pub replication_check: bool,
    /// Length (m, along the cables from the station) over which a feeder becomes
    /// identifiable from the voltage: the evidence between two feeders is scaled by
    /// `min(1, d / this)` with `d` the larger distance at which the connection would join
    /// them ([`decide::shrink_near_station`]). 0: off.
    pub feeder_identifiable_m: f64,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            iterations: 3,
            min_points: 144,
            highpass_steps: 0,
            prewhiten_rho: 0.65,
            evening_weight: 1.0,
            midday_weight: 1.0,
            clock_shift_margin: 0.15,
            search_radius_m: 60.0,
            max_candidate_feeders: 4,
            gis_feeder_prior: 0.9,
            gis_phase_prior: 0.85,
            gis_cable_prior: 0.9,
            cable_along_sigma_m: 4.0,
            busbar_length_m: 20.0,
            temperature: 1.0,
            min_ref_weight: 1.0,
            cable_voltage_temperature: 0.0,
            feeder_decision_temperature: 5.0,
            feeder_street_floor: 0.1,
            phase_decision_temperature: 3.0,
            cable_decision_temperature: 1.5,
            coarse_feeder_decision_temperature: 10.0,
            coarse_phase_decision_temperature: 20.0,
            feeder_min_station_distance_m: 60.0,
            near_station_street_ratio: 10.0,
            suggest_threshold: 0.99,
            phase_change_min_feeder_confidence: 0.9,
            phase_change_min_ref_weight: 2.0,
            new_feeder_cable_threshold: 0.8,
            ok_threshold: 0.5,
            three_phase_identity_prior: 0.6,
            replication_check: true,
            feeder_identifiable_m: 60.0,
        }
    }
}

impl AnalysisOptions {
    /// Weight of one time step (weighted least squares).
    pub fn time_weight(&self, t: Timestamp) -> f64 {
        let h = amsterdam_seconds_of_day(t - 300) / 3600;
        match h {
            17..=22 => self.evening_weight,
            10..=15 => self.midday_weight,
            _ => 1.0,
        }
    }
    /// Prior probabilities of candidate feeders: geography (a service cable is short:
    /// every 15 m further from a feeder's nearest cable makes it e times less likely)
    /// times the prior odds of the GIS registration.
    pub fn feeder_priors(&self, gis: Option<usize>, cands: &[usize], dist_m: &[f64]) -> Vec<f64> {
        let odds = self.gis_feeder_prior / (1.0 - self.gis_feeder_prior).max(1e-9);
        let dmin = dist_m.iter().cloned().fold(f64::INFINITY, f64::min);
        let mut w: Vec<f64> = cands
            .iter()
            .zip(dist_m)
            .map(|(&f, &d)| (-(d - dmin) / 15.0).exp() * if gis == Some(f) { odds } else { 1.0 })
            .collect();
        let t: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= t);
        w
    }
}

/// Everything one run of the inference produces.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnalysisResult {
    /// One per connection, in `Network::connections` order.
    pub assignments: Vec<Assignment>,
}

/// Infers phase/rotation, feeder and cable section of every connection.
pub fn analyze(
    net: &Network,
    topology: &Topology,
    voltage: &VoltageTable,
    options: &AnalysisOptions,
    progress: &dyn Progress,
) -> Result<AnalysisResult, Cancelled> {
    progress.set(0.0, "indexing the network");
    let mut span = Span::start();
    let index = candidates::NetworkIndex::build(net);
    span.lap("network index (R-tree)");
    let engine = engine::Engine::new(net, voltage, options, &index);
    let (mut buckets, at) = meters::meters(net, topology, voltage, &index, options);
    span.lap("meters + candidate feeders");
    // Phases the GIS does not know: seeded by clustering (no-op when all are registered).
    cluster::seed_phases(&engine, &mut buckets, options);
    for b in buckets.iter_mut() {
        for m in b.iter_mut() {
            m.contribs = engine.gis_contribs(m);
        }
    }
    if progress.is_cancelled() {
        return Err(Cancelled);
    }
    let total: usize = buckets.iter().map(Vec::len).sum();
    let passes = options.iterations.max(1);
    let mut refs = engine.build_refs(&buckets);
    span.lap("references from the GIS");
    let mut results = Vec::new();
    for it in 0..passes {
        if progress.is_cancelled() {
            return Err(Cancelled);
        }
        let done = AtomicUsize::new(0);
        let stage = format!("inference pass {} of {passes}", it + 1);
        let scaled = crate::progress::SubProgress::part(progress, it, passes);
        // Each pass also builds the next pass's references from its new shares.
        let last = it + 1 == passes;
        let (r, next) = engine.pass(&mut buckets, &refs, it == 0, !last, &scaled, &stage, &done, total)?;
        results = r;
        if let Some(next) = next {
            refs = next;
        }
        span.lap(&format!("pass {}: scoring + next references", it + 1));
    }
    progress.set(0.95, "cable sections");
    let cables = cable::infer_cables(net, topology, &index, options, &engine, &buckets, &results, &refs, progress)?;
    span.lap("cable sections");
    progress.set(1.0, "decisions");
    // Each decision is independent (and queries the R-tree for the street evidence).
    let assignments = (0..net.connections.len())
        .into_par_iter()
        .map(|ci| match at[ci] {
            Some((b, j)) => decide::decide(net, topology, &index, options, &buckets[b][j], &results[b][j], cables[ci].as_deref()),
            None => decide::no_data(net, ci),
        })
        .collect();
    span.lap("decisions");
    Ok(AnalysisResult { assignments })
}

/// Wall and process CPU time of the pipeline's stages, printed to stderr when the
/// environment variable `LVTOPO_PROFILE` is set (for `lvtopo bench speed`).
pub struct Span {
    on: bool,
    wall: std::time::Instant,
    cpu: f64,
}

impl Span {
    pub fn start() -> Span {
        let on = std::env::var_os("LVTOPO_PROFILE").is_some();
        Span { on, wall: std::time::Instant::now(), cpu: if on { process_cpu_seconds().unwrap_or(0.0) } else { 0.0 } }
    }
    /// Prints the time since the previous lap (an empty label only restarts the clock).
    pub fn lap(&mut self, label: &str) {
        if !self.on {
            return;
        }
        let cpu = process_cpu_seconds().unwrap_or(0.0);
        if !label.is_empty() {
            eprintln!("[profile] {label:<32} wall {:7.3} s  cpu {:7.3} s", self.wall.elapsed().as_secs_f64(), cpu - self.cpu);
        }
        self.wall = std::time::Instant::now();
        self.cpu = cpu;
    }
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`; `None` elsewhere).
pub fn process_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    // The kernel reports USER_HZ ticks, 100 per second on every Linux ABI in use.
    Some(ticks / 100.0)
}

#[cfg(test)]
mod tests;
