//! The independent grid corpus (`sample-networks/corpus`): public LV grids that lvtopo
//! did not draw (Kerber, Dickert, SimBench), converted to the input contract, with
//! voltages from power-grid-model and their truth. The tests assert the inference's
//! targets on it and `lvtopo bench accuracy --corpus` prints its tables.
//!
//! Layout: one folder per network holding the network files, `truth.csv` and one or
//! more reads (`voltage.csv.gz` at 0.1 V, `voltage_1v.csv.gz` at 1 V). A network's
//! family is its folder name up to the first `-` (`kerber-dorf` -> `kerber`).

use super::metrics::{self, Accuracy};
use super::{AnalysisOptions, analyze};
use crate::progress::NoProgress;
use std::path::{Path, PathBuf};

/// One read of one corpus network.
#[derive(Clone, Debug)]
pub struct CorpusRead {
    /// Folder name, e.g. `kerber-dorf`.
    pub network: String,
    /// Grid family, e.g. `kerber`.
    pub family: String,
    pub dir: PathBuf,
    /// The read's file name in `dir`.
    pub voltage_file: String,
    /// `0.1 V` or `1 V` (from the file name: `voltage_1v*` is the 1 V read).
    pub rounding: &'static str,
}

/// The reads of every network in `root` (sorted by network, then 0.1 V before 1 V).
pub fn list(root: &Path) -> anyhow::Result<Vec<CorpusRead>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .map_err(|e| anyhow::anyhow!("reading the corpus folder {}: {e}", root.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("truth.csv").is_file())
        .collect();
    dirs.sort();
    let mut reads = Vec::new();
    for dir in dirs {
        let network = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let family = network.split('-').next().unwrap_or(&network).to_string();
        for (file, rounding) in [("voltage.csv.gz", "0.1 V"), ("voltage_1v.csv.gz", "1 V")] {
            if dir.join(file).is_file() {
                reads.push(CorpusRead {
                    network: network.clone(),
                    family: family.clone(),
                    dir: dir.clone(),
                    voltage_file: file.into(),
                    rounding,
                });
            }
        }
    }
    if reads.is_empty() {
        anyhow::bail!("{}: no network folder with truth.csv and voltage.csv.gz", root.display());
    }
    Ok(reads)
}

/// Loads one read with its network and truth, analyses it and scores it.
pub fn evaluate(read: &CorpusRead, opts: &AnalysisOptions) -> anyhow::Result<Accuracy> {
    let loaded = crate::io::load_network(&read.dir, &NoProgress).map_err(|_| anyhow::anyhow!("cancelled"))?;
    let mut report = loaded.report;
    let path = read.dir.join(&read.voltage_file);
    let voltage = crate::io::voltage::read_voltage(&path, Some(&loaded.network), &mut report, &NoProgress)
        .map_err(|_| anyhow::anyhow!("cancelled"))?
        .ok_or_else(|| anyhow::anyhow!("{}: no voltage table\n{report}", path.display()))?;
    let truth = crate::io::measurements::read_truth(&read.dir.join("truth.csv"), Some(&loaded.network), &mut report);
    if report.has_errors() {
        anyhow::bail!("{}: import errors\n{report}", read.dir.display());
    }
    let res =
        analyze(&loaded.network, &loaded.topology, &voltage, opts, &NoProgress).map_err(|_| anyhow::anyhow!("cancelled"))?;
    Ok(metrics::evaluate(&loaded.network, &res, &truth))
}

/// Every read of the corpus scored, in the order of [`list`].
pub fn evaluate_all(root: &Path, opts: &AnalysisOptions) -> anyhow::Result<Vec<(CorpusRead, Accuracy)>> {
    list(root)?.into_iter().map(|r| evaluate(&r, opts).map(|a| (r, a))).collect()
}

/// PV detection (use case 6) on one corpus network's week of feed-in, against the true
/// systems in its `scenario.json` (`pv[].kwp > 0`), over smart meters with feed-in.
#[derive(Clone, Debug, Default)]
pub struct PvScore {
    pub true_positive: usize,
    pub false_positive: usize,
    pub missed: usize,
    /// Found systems whose estimated kWp is within 25% of the true one.
    pub kwp_within_25: usize,
    /// Found only as a midday dip in consumption (no export).
    pub dip_only: usize,
    /// EANs of the missed systems with their true kWp.
    pub missed_systems: Vec<(String, f64)>,
}

impl PvScore {
    pub fn add(&mut self, o: &PvScore) {
        self.true_positive += o.true_positive;
        self.false_positive += o.false_positive;
        self.missed += o.missed;
        self.kwp_within_25 += o.kwp_within_25;
        self.dip_only += o.dip_only;
        self.missed_systems.extend(o.missed_systems.iter().cloned());
    }
    pub fn precision(&self) -> f64 {
        self.true_positive as f64 / (self.true_positive + self.false_positive).max(1) as f64
    }
    pub fn recall(&self) -> f64 {
        self.true_positive as f64 / (self.true_positive + self.missed).max(1) as f64
    }
}

/// Scores PV detection on the network in `dir` (`feed_in.csv.gz` + `scenario.json`);
/// `None` when the network has no feed-in.
pub fn evaluate_pv(dir: &Path, settings: &crate::quality::solar::SolarSettings) -> anyhow::Result<Option<PvScore>> {
    let feed_path = dir.join("feed_in.csv.gz");
    if !feed_path.is_file() {
        return Ok(None);
    }
    let loaded = crate::io::load_network(dir, &NoProgress).map_err(|_| anyhow::anyhow!("cancelled"))?;
    let mut report = loaded.report;
    let feed = crate::io::measurements::read_feed_in(&feed_path, Some(&loaded.network), &mut report)
        .ok_or_else(|| anyhow::anyhow!("{}: no feed-in table\n{report}", feed_path.display()))?;
    let scenario: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("scenario.json"))?)?;
    let truth: std::collections::HashMap<String, f64> = scenario["pv"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| Some((p["ean"].as_str()?.to_string(), p["kwp"].as_f64().unwrap_or(0.0)))).collect())
        .unwrap_or_default();
    let analysis = crate::quality::solar::analyse(&loaded.network, &feed, settings);
    let mut score = PvScore::default();
    for r in &analysis.results {
        let ean = &loaded.network.connections[r.connection].ean;
        let true_kwp = truth.get(ean).copied().unwrap_or(0.0);
        match (r.pv_found, true_kwp > 0.0) {
            (true, true) => {
                score.true_positive += 1;
                score.dip_only += r.dip_only as usize;
                if r.estimated_kwp.is_some_and(|k| (k - true_kwp).abs() <= 0.25 * true_kwp) {
                    score.kwp_within_25 += 1;
                }
            }
            (true, false) => score.false_positive += 1,
            (false, true) => {
                score.missed += 1;
                score.missed_systems.push((ean.clone(), true_kwp));
            }
            (false, false) => {}
        }
    }
    Ok(Some(score))
}
