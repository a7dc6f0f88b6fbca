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
