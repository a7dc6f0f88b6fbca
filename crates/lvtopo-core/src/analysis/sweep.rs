//! The accuracy sweep's scenarios on generated networks: generate a network with the
//! simulator, analyse it and score it against its truth. The tests assert on it and
//! `lvtopo bench accuracy` prints it.

use super::metrics::{self, Accuracy};
use super::{AnalysisOptions, analyze};
use crate::model::Topology;
use crate::progress::NoProgress;
use crate::sim::{self, SimConfig};

/// One scenario of the sweep: a name and how it changes the base configuration.
pub struct Scenario {
    pub name: &'static str,
    pub apply: fn(&mut SimConfig),
}

pub fn scenarios() -> Vec<Scenario> {
    /// No heat pumps or EVs, meters 0.3% off: the weakest phase signal.
    fn quiet(c: &mut SimConfig) {
        c.heat_pump_share = 0.0;
        c.ev_share = 0.0;
        c.meter_gain_sigma = 0.003;
    }
    fn summer(c: &mut SimConfig) {
        let _ = c.set_season("summer");
        c.pv_share = 0.55;
    }
    vec![
        Scenario { name: "10 d, 0.1 V, 100% smart, winter", apply: |_| {} },
        Scenario { name: "10 d, 1 V, 100% smart, winter", apply: |c| c.rounding_v = 1.0 },
        Scenario { name: "7 d, 0.1 V, 100% smart, winter", apply: |c| c.days = 7 },
        Scenario {
            name: "7 d, 1 V, 100% smart, winter",
            apply: |c| {
                c.days = 7;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "3 d, 0.1 V, 100% smart, winter", apply: |c| c.days = 3 },
        Scenario {
            name: "3 d, 1 V, 100% smart, winter",
            apply: |c| {
                c.days = 3;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "10 d, 0.1 V, 70% smart, winter", apply: |c| c.smart_share = 0.7 },
        Scenario {
            name: "10 d, 1 V, 70% smart, winter",
            apply: |c| {
                c.smart_share = 0.7;
                c.rounding_v = 1.0
            },
        },
        Scenario { name: "10 d, 0.1 V, 100% smart, summer PV", apply: summer },
        Scenario {
            name: "10 d, 0.1 V, 100% smart, summer no PV",
            apply: |c| {
                let _ = c.set_season("summer");
                c.pv_share = 0.0;
            },
        },
        Scenario {
            name: "10 d, 1 V, 100% smart, summer PV",
            apply: |c| {
                summer(c);
                c.rounding_v = 1.0
            },
        },
        Scenario {
            name: "10 d, 1 V, quiet, meters 0.3%",
            apply: |c| {
                quiet(c);
                c.rounding_v = 1.0;
            },
        },
        Scenario { name: "10 d, 0.1 V, quiet, meters 0.3%", apply: quiet },
    ]
}

/// The base configuration of the sweep (full smart-meter coverage, winter, 0.1 V,
/// meter gain error 0.1%).
pub fn base_config(stations: usize, connections_per_station: usize) -> SimConfig {
    let mut c = SimConfig::preset("street").expect("street preset exists");
    c.preset = "bench".into();
    c.stations = stations;
    c.connections_per_station = connections_per_station;
    c.town = None;
    c.smart_share = 1.0;
    // Real meters are calibrated to a few tenths of a percent: at 1 V rounding that
    // decides which meters cross a rounding threshold together (docs/independent-check.md).
    c.meter_gain_sigma = 0.001;
    c.feed_in = false;
    c.outages = false;
    c
}

/// Generates and analyses one network; returns its accuracy.
pub fn run_one(cfg: &SimConfig, seed: u64, opts: &AnalysisOptions) -> anyhow::Result<Accuracy> {
    Ok(run_many(cfg, seed, std::slice::from_ref(opts))?.remove(0))
}

/// Generates one network and analyses it once per options set.
pub fn run_many(cfg: &SimConfig, seed: u64, opts: &[AnalysisOptions]) -> anyhow::Result<Vec<Accuracy>> {
    run_and_dump(cfg, seed, opts, None)
}

/// [`run_many`], also writing the generated network to `dump` when given.
pub fn run_and_dump(
    cfg: &SimConfig,
    seed: u64,
    opts: &[AnalysisOptions],
    dump: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Accuracy>> {
    let out = sim::generate(cfg, seed, &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(dir) = dump {
        sim::write::write(&out, dir, &Default::default()).map_err(|e| anyhow::anyhow!("writing {}: {e}", dir.display()))?;
    }
    let voltage = out.measurements.voltage.as_ref().ok_or_else(|| anyhow::anyhow!("the generator produced no voltage table"))?;
    let topo = Topology::build(&out.network);
    opts.iter()
        .map(|o| {
            let res = analyze(&out.network, &topo, voltage, o, &NoProgress).map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(metrics::evaluate(&out.network, &res, &out.truth))
        })
        .collect()
}
